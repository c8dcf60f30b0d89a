//! Batch mode: command files piped into the real binary against the embedded server.

use crate::common;

use common::{ftp, TestServer};
use predicates::prelude::*;
use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

#[test]
fn every_command_in_one_file() {
    let s = TestServer::start();
    s.put("/pub/readme.txt", b"read me");
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("up.bin"), b"\x00\x01\r\n\xff").unwrap();
    std::fs::create_dir(home.path().join("sub")).unwrap();
    let script = "\
# a comment, then a blank line

pwd
cd pub
pwd
ls
get readme.txt
get readme.txt 'copy of readme.txt'
mkdir new
put up.bin new/up.bin
cp up.bin FTPURL/pub/new/cp.bin
cp FTPURL/pub/new/cp.bin sub/
mv sub/cp.bin FTPURL/pub/moved.bin
lcd sub
lpwd
get new/up.bin
mv FTPURL/pub/moved.bin here.bin
rm new/up.bin
rm new/cp.bin
rmdir new
verbose on
verbose off
help
quit
ls this-is-never-run
"
    .replace("FTPURL", &s.url(""));
    let out = ftp(home.path())
        .arg(s.url("/"))
        .write_stdin(script)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(stderr, "");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "/");
    assert_eq!(lines[1], "/pub");
    assert!(lines[2].contains("readme.txt"));
    assert!(stdout.contains(&home.path().join("sub").display().to_string()));
    assert!(stdout.contains("verbose on") && stdout.contains("verbose off"));
    assert!(stdout.contains("mkdir [-p] URL|PATH"), "help is printed");
    assert_eq!(
        std::fs::read(home.path().join("readme.txt")).unwrap(),
        b"read me"
    );
    assert_eq!(
        std::fs::read(home.path().join("copy of readme.txt")).unwrap(),
        b"read me"
    );
    assert_eq!(
        std::fs::read(home.path().join("sub/up.bin")).unwrap(),
        b"\x00\x01\r\n\xff"
    );
    assert_eq!(
        std::fs::read(home.path().join("sub/here.bin")).unwrap(),
        b"\x00\x01\r\n\xff"
    );
    assert!(
        !home.path().join("sub/cp.bin").exists(),
        "mv removed the local source"
    );
    assert!(
        !s.file("/pub/moved.bin").exists(),
        "mv removed the remote source"
    );
    assert!(!s.file("/pub/new").exists());
    assert_eq!(s.logins(), 1);
}

#[test]
fn quoting_handles_spaces_and_quotes() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("a b.txt"), b"spaces").unwrap();
    std::fs::write(home.path().join("it's.txt"), b"quote").unwrap();
    let script = "put \"a b.txt\" 'remote a b.txt'\nput it\\'s.txt\nmkdir \"dir with space\"\n";
    ftp(home.path())
        .arg(s.url("/"))
        .write_stdin(script)
        .assert()
        .success();
    assert_eq!(std::fs::read(s.file("/remote a b.txt")).unwrap(), b"spaces");
    assert_eq!(std::fs::read(s.file("/it's.txt")).unwrap(), b"quote");
    assert!(s.file("/dir with space").is_dir());
}

#[test]
fn the_first_failure_stops_the_run_with_its_code_and_line_number() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let script = "mkdir one\n\n# comment\nrm no-such-file\nmkdir two\n";
    ftp(home.path())
        .arg(s.url("/"))
        .write_stdin(script)
        .assert()
        .code(5)
        .stderr(predicate::str::starts_with(
            "3700ftp: line 4: rm no-such-file: server said 550",
        ));
    assert!(s.file("/one").is_dir());
    assert!(!s.file("/two").exists(), "the run stopped at the failure");
}

#[test]
fn a_dash_prefixed_line_reports_its_failure_and_goes_on() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let script = "-rm no-such-file\nmkdir two\n";
    ftp(home.path())
        .arg(s.url("/"))
        .write_stdin(script)
        .assert()
        .success()
        .stderr(predicate::str::contains("line 1: rm no-such-file"));
    assert!(s.file("/two").is_dir());
}

#[test]
fn exit_codes_follow_the_failing_command() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .arg(s.url("/"))
        .write_stdin("get missing.txt\n")
        .assert()
        .code(5);
    ftp(home.path())
        .arg(s.url("/"))
        .write_stdin("put missing.txt\n")
        .assert()
        .code(6);
    ftp(home.path())
        .arg(s.url("/"))
        .write_stdin("frobnicate\n")
        .assert()
        .code(2);
    ftp(home.path())
        .arg(s.url("/"))
        .write_stdin("cd a b\n")
        .assert()
        .code(2);
    ftp(home.path())
        .arg(s.url("/"))
        .write_stdin("put 'unterminated\n")
        .assert()
        .code(2);
}

#[test]
fn unconnected_session_with_open_and_close() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let script = format!("open {}\nmkdir opened\nclose\nls\n", s.url("/"));
    ftp(home.path())
        .write_stdin(script)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("line 4: ").and(predicate::str::contains("not connected")),
        );
    assert!(s.file("/opened").is_dir());
}

#[test]
fn starting_url_sets_the_remote_directory() {
    let s = TestServer::start();
    s.put("/deep/dir/f.txt", b"f");
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .arg(s.url("/deep/dir"))
        .write_stdin("pwd\nget f.txt\n")
        .assert()
        .success()
        .stdout("/deep/dir\n");
    assert_eq!(std::fs::read(home.path().join("f.txt")).unwrap(), b"f");
}

#[test]
fn a_url_on_another_server_gets_its_own_login() {
    let a = TestServer::start();
    let b = TestServer::start();
    b.put("/other.txt", b"from b");
    let home = tempfile::tempdir().unwrap();
    let script = format!("cp {} got.txt\nmkdir still-on-a\n", b.url("/other.txt"));
    ftp(home.path())
        .arg(a.url("/"))
        .write_stdin(script)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(home.path().join("got.txt")).unwrap(),
        b"from b"
    );
    assert!(a.file("/still-on-a").is_dir());
    assert_eq!((a.logins(), b.logins()), (1, 1));
}

#[test]
fn two_hundred_commands_use_a_single_login() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let mut script = String::new();
    for i in 0..100 {
        script.push_str(&format!("mkdir d{i}\nrmdir d{i}\n"));
    }
    ftp(home.path())
        .arg(s.url("/"))
        .write_stdin(script)
        .assert()
        .success();
    assert_eq!(s.logins(), 1);
    assert_eq!(common::names(s.root.path()), Vec::<String>::new());
}

#[test]
fn verbose_toggle_shows_the_protocol_in_between() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .arg(s.url("/"))
        .write_stdin("mkdir a\nverbose on\nmkdir b\nverbose\nmkdir c\n")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("> MKD a"));
    assert!(text.contains("> MKD b"));
    assert!(!text.contains("> MKD c"));
}

#[test]
fn the_idle_connection_dropped_by_the_server_is_reopened() {
    let s = TestServer::start_with_idle_timeout(Some(1));
    s.put("/d/f.txt", b"f");
    let home = tempfile::tempdir().unwrap();
    // `lpwd` is local; the sleep happens in a local command that takes no connection.
    let script = "cd d\nlcd .\n";
    let mut child = common::command(home.path())
        .arg(s.url("/"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(script.as_bytes()).unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_secs(3));
    stdin.write_all(b"get f.txt\npwd\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("logged in again"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "/d\n");
    assert_eq!(std::fs::read(home.path().join("f.txt")).unwrap(), b"f");
    assert_eq!(s.logins(), 2);
}

#[test]
fn bare_cd_returns_to_the_login_directory() {
    let s = TestServer::start();
    s.put("/deep/er/x", b"x");
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .arg(s.url("/"))
        .write_stdin("cd deep/er\npwd\ncd\npwd\n")
        .assert()
        .success()
        .stdout("/deep/er\n/\n");
}

#[test]
fn rename_in_a_session_works_on_paths_relative_to_the_working_directory() {
    let s = TestServer::start();
    s.put("/work/old name.txt", b"data");
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .arg(s.url("/"))
        .write_stdin("cd work\nrename \"old name.txt\" new.txt\nmkdir sub\nren new.txt sub/\n")
        .assert()
        .success();
    assert!(!s.file("/work/old name.txt").exists());
    assert_eq!(std::fs::read(s.file("/work/sub/new.txt")).unwrap(), b"data");
}

/// Entries of `dir` other than the data directory the launcher points at.
fn left_in(dir: &std::path::Path) -> Vec<String> {
    common::names(dir)
        .into_iter()
        .filter(|n| n != "data")
        .collect()
}

#[test]
fn a_signal_stops_the_batch_even_on_a_line_allowed_to_fail() {
    let s = TestServer::start();
    s.put("/big.bin", &vec![7u8; 8 << 20]);
    for sig in ["-TERM", "-HUP", "-INT"] {
        let home = tempfile::tempdir().unwrap();
        let mut child = common::command(home.path())
            .args(["--limit-rate", "1M", &s.url("/")])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let script = "-get big.bin a.bin\n-get big.bin b.bin\nmkdir after\n";
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let (code, took) = common::signal(child, Duration::from_millis(1500), sig);
        assert_eq!(code, Some(130), "{sig}: exit code");
        assert!(took < Duration::from_secs(3), "{sig}: took {took:?}");
        assert!(!s.file("/after").exists(), "{sig}: the run went on");
        assert_eq!(left_in(home.path()), Vec::<String>::new(), "{sig}");
    }
}

#[test]
fn a_signal_while_waiting_for_the_next_line_stops_the_batch() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let mut child = common::command(home.path())
        .arg(s.url("/"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"pwd\n").unwrap();
    // stdin stays open: the batch waits for a line that never comes.
    let (code, took) = common::signal(child, Duration::from_millis(1000), "-TERM");
    drop(stdin);
    assert_eq!(code, Some(130));
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

#[test]
fn coreutils_timeout_signalling_twice_still_unwinds_without_a_temporary_file() {
    let s = TestServer::start();
    s.put("/big.bin", &vec![7u8; 8 << 20]);
    let home = tempfile::tempdir().unwrap();
    // timeout sends SIGTERM to the program and then to its process group: two at once.
    let mut timeout = std::process::Command::new("timeout");
    common::clean_env(&mut timeout, home.path());
    let out = timeout
        .args(["--preserve-status", "1.5", common::BIN])
        .args(["--limit-rate", "1M", "cp", &s.url("/big.bin"), "big.bin"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    assert_eq!(left_in(home.path()), Vec::<String>::new());
}

#[test]
fn cd_dot_dot_shows_the_normalised_directory() {
    let s = TestServer::start();
    s.put("/pub/docs/a.txt", b"a");
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .arg(s.url("/"))
        .write_stdin("cd pub/docs\ncd ..\npwd\ncd ./docs/../..\npwd\n")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "/pub\n/\n");
}

#[test]
fn commands_people_reach_for() {
    let s = TestServer::start();
    s.put("/pub/a.txt", b"12345");
    s.put("/pub/b.txt", b"bb");
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("up1.dat"), b"1").unwrap();
    std::fs::write(home.path().join("up2.dat"), b"2").unwrap();
    let script = "\
cd pub
size a.txt
modtime a.txt
binary
ascii
mget *.txt
lmkdir made
mput *.dat
mdelete up*.dat
lls
lls -d ./made ./up1.dat
quote NOOP
status
";
    let out = ftp(home.path())
        .arg(s.url("/"))
        .write_stdin(script)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "5", "{stdout}");
    assert!(
        lines[1].ends_with(" UTC") && lines[1].starts_with("20"),
        "{stdout}"
    );
    assert!(lines[2].contains("binary") && lines[3].contains("always transfers in binary"));
    assert_eq!(std::fs::read(home.path().join("b.txt")).unwrap(), b"bb");
    assert!(home.path().join("made").is_dir());
    assert!(!s.file("/pub/up1.dat").exists() && !s.file("/pub/up2.dat").exists());
    assert!(
        stdout.contains("\nmade\n") && stdout.contains("up1.dat"),
        "lls: {stdout}"
    );
    assert!(
        stdout.contains("./made\n./up1.dat\n"),
        "lls -d with two operands: {stdout}"
    );
    assert!(
        stdout.contains("\n200"),
        "quote NOOP shows the reply: {stdout}"
    );
    for want in [
        "server: ",
        "user: alice",
        "TLS: off",
        "mode: passive",
        "remote directory: /pub",
        "local directory: ",
    ] {
        assert!(stdout.contains(want), "status lacks {want}: {stdout}");
    }
    let fails = |line: &str, message: &str| {
        let out = ftp(home.path())
            .arg(s.url("/"))
            .write_stdin(format!("{line}\n"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{line}");
        assert!(stderr.contains(message), "{line}: {stderr}");
    };
    fails("quote PASV", "quote: PASV is refused");
    fails("quote retr pub/a.txt", "quote: RETR is refused");
    fails("quote TYPE A", "quote: TYPE is refused");
    fails("site", "usage: site ARGS");
    fails("chmod abc pub/a.txt", "'abc' is not an octal mode");
    fails("lsl", "lsl: unknown command; did you mean ls?");
    fails("size pub/missing", "size pub/missing: server said 550");
}
