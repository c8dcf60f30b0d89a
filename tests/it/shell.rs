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
    assert!(!ok && stderr.contains("-o and a second operand"), "{stderr}");
    let (ok, _, stderr) = batch(&s, home.path(), "get -O nosuch pub/a.txt\n");
    assert!(!ok && stderr.contains("no such local directory"), "{stderr}");
    assert!(!home.path().join("nosuch").exists(), "no file named after the directory");
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
        lines[0].contains(" s (") && lines[0].contains("/s)") && lines[0].ends_with("verified by size"),
        "{out}"
    );
    assert!(lines[1].starts_with("pub/up.dat: 3 B in "), "{out}");
    assert!(
        lines[2].starts_with("done: 2 files, 7 B in ") && lines[2].ends_with("2 by size"),
        "{out}"
    );
    assert_eq!(std::fs::read(home.path().join("quiet.txt")).unwrap(), b"bb");
    assert_eq!(std::fs::read(home.path().join("many/b.txt")).unwrap(), b"bb");
}
