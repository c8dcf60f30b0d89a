//! The shell's habits from lftp, ftp and sftp, in batch mode and through the prompt loop
//! (no terminal): `get -o`/`-O`, the one line a transfer says at the prompt, and the
//! commands people reach for.

use crate::common;

use std::cell::RefCell;

use common::{ftp, TestServer};
use ftp3700::ctx::Ctx;
use ftp3700::frontend::repl::{run_loop, Input, LineSource};
use ftp3700::ftp::connection::Options;
use ftp3700::output::{Output, SharedBuf};

/// Runs `script` as a batch over one login at `/`; (success, stdout, stderr).
fn batch(s: &TestServer, home: &std::path::Path, script: &str) -> (bool, String, String) {
    let out = ftp(home)
        .arg(s.url("/"))
        .write_stdin(script.to_string())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

struct Lines(Vec<String>);

impl LineSource for Lines {
    fn read(&mut self, _prompt: &str) -> Input {
        if self.0.is_empty() {
            Input::Eof
        } else {
            Input::Line(self.0.remove(0))
        }
    }
}

/// Runs `lines` through the prompt loop on a session at `/`, reporting transfers as the
/// prompt does; (stdout, stderr).
fn prompt(s: &TestServer, home: &std::path::Path, lines: &[&str]) -> (String, String) {
    let (out, err) = (SharedBuf::default(), SharedBuf::default());
    let mut ctx = Ctx::new(
        Options::default(),
        false,
        Output::buffers(out.clone(), err.clone()),
    );
    ctx.in_session = true;
    ctx.report = true;
    ctx.local_dir = home.to_path_buf();
    ctx.open(ftp3700::url::FtpUrl::parse(&s.url("/")).unwrap(), false)
        .unwrap();
    let ctx = RefCell::new(ctx);
    let mut source = Lines(lines.iter().map(|l| l.to_string()).collect());
    run_loop(&ctx, &mut source, &mut || {}).unwrap();
    (out.text(), err.text())
}

#[test]
fn get_and_put_take_lftps_o_and_big_o() {
    let s = TestServer::start();
    s.put("/pub/a.txt", b"12345");
    s.put("/pub/b.txt", b"bb");
    std::fs::create_dir_all(s.file("/pub/in")).unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("up1.dat"), b"1").unwrap();
    std::fs::write(home.path().join("up2.dat"), b"22").unwrap();
    std::fs::create_dir(home.path().join("dl")).unwrap();
    std::fs::create_dir(home.path().join("many")).unwrap();
    let script = "\
get -o copy.txt pub/a.txt
get -O dl pub/a.txt
get -O dl -o renamed.txt pub/b.txt
mget -O many pub/*.txt
put -o pub/up-renamed.dat up1.dat
put -O pub/in up1.dat
mput -O pub/in/ *.dat
";
    let (ok, stdout, stderr) = batch(&s, home.path(), script);
    assert!(ok, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let read = |p: &str| std::fs::read(home.path().join(p)).unwrap();
    assert_eq!(read("copy.txt"), b"12345");
    assert_eq!(read("dl/a.txt"), b"12345");
    assert_eq!(read("dl/renamed.txt"), b"bb");
    assert_eq!(read("many/a.txt"), b"12345");
    assert_eq!(read("many/b.txt"), b"bb");
    assert_eq!(std::fs::read(s.file("/pub/up-renamed.dat")).unwrap(), b"1");
    assert_eq!(std::fs::read(s.file("/pub/in/up1.dat")).unwrap(), b"1");
    assert_eq!(std::fs::read(s.file("/pub/in/up2.dat")).unwrap(), b"22");
    // A batch says nothing about a single transfer that worked.
    assert!(!stdout.contains("verified"), "{stdout}");

    let (ok, _, stderr) = batch(&s, home.path(), "get -o x.txt pub/a.txt y.txt\n");
    assert!(
        !ok && stderr.contains("-o and a second operand"),
        "{stderr}"
    );
    let (ok, _, stderr) = batch(&s, home.path(), "get -O nosuch pub/a.txt\n");
    assert!(
        !ok && stderr.contains("no such local directory"),
        "{stderr}"
    );
    assert!(
        !home.path().join("nosuch").exists(),
        "no file named after the directory"
    );
    assert!(!home.path().join("x.txt").exists() && !home.path().join("y.txt").exists());
}

#[test]
fn at_the_prompt_a_transfer_says_one_line_and_many_say_a_summary() {
    let s = TestServer::start();
    s.put("/pub/a.txt", b"12345");
    s.put("/pub/b.txt", b"bb");
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("up.dat"), b"xyz").unwrap();
    let (out, err) = prompt(
        &s,
        home.path(),
        &[
            "get pub/a.txt",
            "get -q -o quiet.txt pub/b.txt",
            "put up.dat pub/",
            "lmkdir many",
            "mget -O many pub/*.txt",
            "mget -q -O many pub/*.txt",
        ],
    );
    assert_eq!(err, "", "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    // name, size, time, rate, and how it was proven (libunftp has SIZE, no hash).
    assert!(lines[0].starts_with("a.txt: 5 B in "), "{out}");
    assert!(
        lines[0].contains(" s (")
            && lines[0].contains("/s)")
            && lines[0].ends_with("verified by size"),
        "{out}"
    );
    assert!(lines[1].starts_with("pub/up.dat: 3 B in "), "{out}");
    assert!(
        lines[2].starts_with("done: 2 files, 7 B in ") && lines[2].ends_with("2 by size"),
        "{out}"
    );
    assert_eq!(std::fs::read(home.path().join("quiet.txt")).unwrap(), b"bb");
    assert_eq!(
        std::fs::read(home.path().join("many/b.txt")).unwrap(),
        b"bb"
    );
}

#[test]
fn bang_runs_a_local_shell_command_in_the_local_directory() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join("sub")).unwrap();
    let (ok, stdout, stderr) = batch(
        &s,
        home.path(),
        "lcd sub\n!echo hi > made-by-shell.txt\n! -n x\n",
    );
    // `-n x` went to the shell as typed (not to an option parser), which failed on it.
    assert!(
        !ok && stderr.contains("!-n x: exited with status"),
        "{stdout}{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(home.path().join("sub/made-by-shell.txt")).unwrap(),
        "hi\n"
    );
    let (ok, stdout, stderr) = batch(
        &s,
        home.path(),
        "!printf '%s\\n' \"two words\"\n!exit 3\npwd\n",
    );
    assert!(!ok, "{stdout}");
    assert_eq!(stdout, "two words\n");
    assert!(stderr.contains("!exit 3: exited with status 3"), "{stderr}");
}

#[test]
fn more_pipes_a_remote_file_through_the_pager() {
    let s = TestServer::start();
    s.put("/pub/a.txt", b"line one\nline two\n");
    s.put("/pub/big.bin", &vec![b'x'; 4 << 20]);
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .arg(s.url("/"))
        .env("PAGER", "cat > paged.txt")
        .write_stdin("less pub/a.txt\n")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(home.path().join("paged.txt")).unwrap(),
        b"line one\nline two\n"
    );
    // A pager quit before the end (here: at once) is not a failure, and the session goes on.
    let out = ftp(home.path())
        .arg(s.url("/"))
        .env("PAGER", "true")
        .write_stdin("more pub/big.bin\npwd\n")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "/\n");
}

#[test]
fn user_logs_in_again_and_a_refused_login_keeps_the_old_session() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let script = format!(
        "-user alice wrong-password\nstatus\nuser alice {}\nstatus\nmkdir by-alice\n",
        common::PASSWORD
    );
    let out = ftp(home.path())
        .arg(s.anon_url("/"))
        .write_stdin(script)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("user alice:") && stderr.contains("still logged in as anonymous"),
        "{stderr}"
    );
    let first = stdout.find("user: anonymous").expect("status before");
    let second = stdout.find("user: alice").expect("status after");
    assert!(
        first < second && stdout.contains("logged in as alice"),
        "{stdout}"
    );
    assert!(s.file("/by-alice").is_dir());
    // Without a password and no terminal to ask on: a clear error, nothing changed.
    let (ok, _, stderr) = batch(&s, home.path(), "user bob\n");
    assert!(!ok && stderr.contains("no password given"), "{stderr}");
}

/// BSD ftp's and lftp's m-commands take several operands: each is a file or a pattern of
/// its own (`mget a b` used to be `get a b`, writing `a` to a local file named `b`). A
/// failure is said and the others still run; the exit code is the failure's.
#[test]
fn mget_mput_and_mdelete_take_several_operands_and_go_on_after_a_failure() {
    let s = TestServer::start();
    s.put("/pub/a.txt", b"aa");
    s.put("/pub/b.log", b"bbb");
    s.put("/pub/c.log", b"c");
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("u1.txt"), b"1").unwrap();
    std::fs::write(home.path().join("u2.md"), b"22").unwrap();
    let (ok, _, stderr) = batch(
        &s,
        home.path(),
        "mget pub/a.txt pub/nosuch.txt pub/*.log\nmput u1.txt u2.md\n",
    );
    assert!(!ok, "the missing file fails the batch: {stderr}");
    assert!(stderr.contains("nosuch.txt"), "{stderr}");
    for (name, bytes) in [("a.txt", &b"aa"[..]), ("b.log", b"bbb"), ("c.log", b"c")] {
        assert_eq!(
            std::fs::read(home.path().join(name)).unwrap(),
            bytes,
            "{name}"
        );
    }
    assert!(!home.path().join("pub").exists());
    // The batch stopped at the failed mget; mput on its own line, after it.
    let (ok, _, stderr) = batch(
        &s,
        home.path(),
        "mput u1.txt u2.md\nmdelete pub/a.txt pub/*.log\n",
    );
    assert!(ok, "{stderr}");
    assert_eq!(std::fs::read(s.file("/u1.txt")).unwrap(), b"1");
    assert_eq!(std::fs::read(s.file("/u2.md")).unwrap(), b"22");
    assert!(!s.file("/pub/a.txt").exists());
    assert!(!s.file("/pub/b.log").exists() && !s.file("/pub/c.log").exists());
}
