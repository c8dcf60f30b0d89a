//! The real `3700ftp` binary against a scripted, misbehaving FTP server.
//!
//! Each test plays one way a server (or a URL) can go wrong and checks what a
//! user would check: the exit code, the one `3700ftp: ` line on stderr, the
//! bytes on disk (a failed download leaves neither the destination changed nor
//! a temp file beside it), and what the client sent or did not send.
//!
//! Exit codes (the client's contract): 0 ok, 2 usage or bad URL, 3 connection,
//! timeout or protocol violation, 4 login failed, 5 command refused, 6 local
//! I/O, 7 transfer not confirmed.

use crate::common;
use crate::fake_server;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::path::Path;
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use fake_server::{FakeServer, Step, Transcript};

/// A client still running after this long is killed and the test fails.
const CLIENT_KILL_AFTER: Duration = Duration::from_secs(20);
/// "At once": well under the `--timeout 10` these tests pass, so no timeout was involved.
const AT_ONCE: Duration = Duration::from_secs(5);
/// With `--timeout 2`, the client must give up within this.
const WITHIN_TIMEOUT: Duration = Duration::from_secs(7);

const LISTING: &str = "-rw-r--r--    1 ftp      ftp          1234 Jan 01  2024 readme.txt\r\n\
                       drwxr-xr-x    2 ftp      ftp          4096 Jan 01  2024 pub\r\n";

/// One finished run of the client.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
    /// Peak resident memory (VmHWM) last seen in /proc, where there is one.
    peak_rss_kb: Option<u64>,
}

/// Run `3700ftp ARGS` with a blank HOME, no stdin, and a hard time limit.
fn ftp(args: &[&str]) -> Run {
    ftp_with_input(args, None)
}

/// Run `3700ftp ARGS` with `input` on stdin (a batch script), or no stdin.
fn ftp_with_input(args: &[&str], input: Option<&str>) -> Run {
    let home = tempfile::tempdir().expect("temp HOME");
    let mut child = common::command(home.path())
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn 3700ftp");
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(text.as_bytes())
            .expect("write the batch script");
    }
    let start = Instant::now();
    let stdout = read_in_thread(child.stdout.take().expect("stdout"));
    let stderr = read_in_thread(child.stderr.take().expect("stderr"));
    let mut peak_rss_kb = None;
    let code = loop {
        if let Some(kb) = peak_rss(child.id()) {
            peak_rss_kb = Some(kb);
        }
        if let Some(status) = child.try_wait().expect("wait for 3700ftp") {
            break status.code();
        }
        if start.elapsed() > CLIENT_KILL_AFTER {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(2));
    };
    let elapsed = start.elapsed();
    let run = Run {
        code,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
        elapsed,
        peak_rss_kb,
    };
    assert!(
        elapsed <= CLIENT_KILL_AFTER,
        "3700ftp {args:?} hung and was killed: {run:#?}"
    );
    run
}

fn read_in_thread(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// VmHWM of a live process, in kB (Linux only; `None` elsewhere or once it exited).
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    line.trim().trim_end_matches("kB").trim().parse().ok()
}

/// Panics with the whole run and transcript unless the exit code is `expected`.
fn assert_exit(run: &Run, expected: i32, transcript: &Transcript) {
    assert_eq!(
        run.code,
        Some(expected),
        "expected exit {expected}\nrun: {run:#?}\nserver: {transcript:#?}"
    );
}

/// Panics unless the exit code is one of `expected`.
fn assert_exit_in(run: &Run, expected: &[i32], transcript: &Transcript) {
    assert!(
        run.code.is_some_and(|c| expected.contains(&c)),
        "expected exit in {expected:?}\nrun: {run:#?}\nserver: {transcript:#?}"
    );
}

/// Stderr is exactly one line starting `3700ftp: `; returns it lower-cased.
fn error_line(run: &Run) -> String {
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(
        lines.len() == 1 && lines[0].starts_with("3700ftp: "),
        "stderr should be one line starting `3700ftp: `, got {:?}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("RUST_BACKTRACE"),
        "the client panicked: {:?}",
        run.stderr
    );
    lines[0].to_lowercase()
}

/// The names in `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read temp dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// Panics unless `dir` is empty: no destination, no temp file.
fn assert_no_leftovers(dir: &Path) {
    let names = entries(dir);
    assert!(
        names.is_empty(),
        "left behind in the destination directory: {names:?}"
    );
}

/// `n` bytes that are not all alike, so a shifted or partial copy shows.
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

// ---------------------------------------------------------------------------
// The fake server itself, driven by a tiny std client (no 3700ftp needed).
// ---------------------------------------------------------------------------

#[test]
fn fake_server_plays_script_answers_table_and_records_commands() {
    let server = FakeServer::new().login().list(LISTING).start();
    let mut control = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    control
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(control.try_clone().unwrap());
    let mut line = String::new();
    let mut exchange = |command: &str, line: &mut String| {
        if !command.is_empty() {
            control
                .write_all(format!("{command}\r\n").as_bytes())
                .unwrap();
        }
        line.clear();
        reader.read_line(line).unwrap();
        line.clone()
    };
    assert!(exchange("", &mut line).starts_with("220 "));
    assert!(exchange("USER anonymous", &mut line).starts_with("331 "));
    assert!(exchange("PASS guest", &mut line).starts_with("230 "));
    assert!(exchange("TYPE A", &mut line).starts_with("200 "));
    let epsv = exchange("EPSV", &mut line);
    let port: u16 = epsv
        .split("|||")
        .nth(1)
        .and_then(|rest| rest.split('|').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("bad 229: {epsv:?}"));
    let mut data = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    data.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert!(exchange("LIST /", &mut line).starts_with("150 "));
    let mut listing = String::new();
    data.read_to_string(&mut listing).unwrap();
    assert_eq!(listing, LISTING);
    assert!(exchange("", &mut line).starts_with("226 "));
    assert!(exchange("QUIT", &mut line).starts_with("221 "));
    let t = server.finish();
    t.assert_clean();
    assert_eq!(
        t.commands,
        [
            "USER anonymous",
            "PASS guest",
            "TYPE A",
            "EPSV",
            "LIST /",
            "QUIT"
        ]
    );
    assert_eq!((t.connections, t.data_connections), (1, 1));
}

#[test]
fn fake_server_bytewise_bare_lf_and_no_connection() {
    let server = FakeServer::new()
        .bytewise()
        .bare_lf()
        .send("220-a\r\n220 b\r\n")
        .start();
    let mut control = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    control
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut greeting = vec![0; 12];
    control.read_exact(&mut greeting).unwrap();
    assert_eq!(greeting, b"220-a\n220 b\n");
    drop(control);
    let t = server.finish();
    t.assert_clean();

    let idle = FakeServer::new().login().start();
    let started = Instant::now();
    let t = idle.finish();
    assert_eq!(t.connections, 0);
    assert!(started.elapsed() < Duration::from_secs(2));
}

// ---------------------------------------------------------------------------
// 1-3. Replies that are legal but awkward.
// ---------------------------------------------------------------------------

#[test]
fn multiline_reply_with_free_text_lines_then_ls_works() {
    let server = FakeServer::new()
        .send("220 ready\r\n")
        .reply("USER", "331 Password required\r\n")
        .reply(
            "PASS",
            "230-Welcome\r\n 230 not the end\r\n123 digits line\r\n230 done\r\n",
        )
        .list(LISTING)
        .start();
    let run = ftp(&["ls", "-l", &server.url("/")]);
    let t = server.finish();
    assert_exit(&run, 0, &t);
    assert!(run.stdout.contains("readme.txt"), "{run:#?}");
    t.assert_clean();
}

#[test]
fn replies_split_into_single_bytes_still_work() {
    let server = FakeServer::new()
        .bytewise()
        .send("220 ready\r\n")
        .reply("USER", "331 Password required\r\n")
        .reply("PASS", "230-Welcome\r\n230 Logged in\r\n")
        .list(LISTING)
        .start();
    let run = ftp(&["ls", "-l", &server.url("/pub")]);
    let t = server.finish();
    assert_exit(&run, 0, &t);
    assert!(run.stdout.contains("readme.txt"), "{run:#?}");
    t.assert_clean();
}

#[test]
fn bare_lf_line_endings_throughout_still_work() {
    let content = pattern(5000);
    let server = FakeServer::new()
        .bare_lf()
        .size(content.len() as u64)
        .send("220-Hello\r\n220 ready\r\n")
        .reply("USER", "331 Password required\r\n")
        .reply("PASS", "230 Logged in\r\n")
        .retr(&content)
        .start();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("file.bin");
    let run = ftp(&["cp", &server.url("/file.bin"), s(&dest)]);
    let t = server.finish();
    assert_exit(&run, 0, &t);
    assert_eq!(std::fs::read(&dest).unwrap(), content);
    assert_eq!(entries(dir.path()), ["file.bin"]);
    t.assert_clean();
}

// ---------------------------------------------------------------------------
// 4-5. Not an FTP server, or one that floods.
// ---------------------------------------------------------------------------

fn assert_bogus_greeting_refused(greeting: &str) {
    let server = FakeServer::new().send(greeting).stall(12).start();
    let run = ftp(&["--timeout", "10", "ls", &server.url("/")]);
    let t = server.finish();
    assert_exit(&run, 3, &t);
    error_line(&run);
    assert!(run.elapsed < AT_ONCE, "took {:?}", run.elapsed);
    assert!(!t.sent("USER") && !t.sent("PASS"), "{t:#?}");
}

#[test]
fn ssh_banner_greeting_fails_at_once_without_sending_user() {
    assert_bogus_greeting_refused("SSH-2.0-OpenSSH_9.2\r\n");
}

#[test]
fn html_page_greeting_fails_at_once_without_sending_user() {
    assert_bogus_greeting_refused(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n\
         <!DOCTYPE html>\r\n<html><body><h1>It works!</h1></body></html>\r\n",
    );
}

#[test]
fn megabyte_multiline_greeting_is_refused_quickly() {
    let mut greeting = String::from("220-Welcome\r\n");
    while greeting.len() < 1024 * 1024 {
        greeting.push_str("220-");
        greeting.push_str(&"x".repeat(74));
        greeting.push_str("\r\n");
    }
    greeting.push_str("220 ready\r\n");
    let server = FakeServer::new().send(greeting).stall(12).start();
    let run = ftp(&["--timeout", "10", "ls", &server.url("/")]);
    let t = server.finish();
    assert_exit(&run, 3, &t);
    error_line(&run);
    assert!(run.elapsed < AT_ONCE, "took {:?}", run.elapsed);
    assert!(!t.sent("USER"), "{t:#?}");
}

#[test]
fn greeting_line_that_never_ends_is_refused_with_bounded_memory() {
    const OFFERED: usize = 64 * 1024 * 1024;
    let server = FakeServer::new()
        .send_endless("220 ", OFFERED)
        .stall(12)
        .start();
    let run = ftp(&["--timeout", "10", "ls", &server.url("/")]);
    let t = server.finish();
    assert_exit(&run, 3, &t);
    error_line(&run);
    assert!(run.elapsed < AT_ONCE, "took {:?}", run.elapsed);
    assert!(!t.sent("USER"), "{t:#?}");
    let (written, hung_up) = t.endless.expect("endless step ran");
    assert!(
        hung_up && written < OFFERED,
        "the client swallowed {written} bytes of one line (hung up: {hung_up})"
    );
    if let Some(kb) = run.peak_rss_kb {
        assert!(
            kb < 40 * 1024,
            "peak RSS {kb} kB while reading one long line"
        );
    }
}

// ---------------------------------------------------------------------------
// 6-7. The server goes away mid-session.
// ---------------------------------------------------------------------------

#[test]
fn reply_421_to_epsv_exits_3_and_sends_nothing_more() {
    let server = FakeServer::new()
        .login()
        .reply(
            "EPSV",
            "421 Service not available, closing control connection\r\n",
        )
        .close()
        .start();
    let run = ftp(&["--timeout", "10", "ls", &server.url("/")]);
    let t = server.finish();
    assert_exit(&run, 3, &t);
    let line = error_line(&run);
    assert!(
        line.contains("421") || line.contains("service not available"),
        "{line:?}"
    );
    assert!(run.elapsed < AT_ONCE, "took {:?}", run.elapsed);
    assert!(t.after("EPSV").is_empty(), "{t:#?}");
}

#[test]
fn reply_421_to_mkd_sends_nothing_more_even_if_connection_stays_open() {
    let server = FakeServer::new()
        .login()
        .reply("MKD", "421 Too many users, closing control connection\r\n")
        .stall(12)
        .start();
    let run = ftp(&["--timeout", "10", "mkdir", &server.url("/newdir")]);
    let t = server.finish();
    assert_exit(&run, 3, &t);
    let line = error_line(&run);
    assert!(
        line.contains("421") || line.contains("too many users"),
        "{line:?}"
    );
    assert!(run.elapsed < AT_ONCE, "took {:?}", run.elapsed);
    assert!(t.after("MKD").is_empty(), "{t:#?}");
}

#[test]
fn connection_closed_right_after_pass_exits_3() {
    let server = FakeServer::new()
        .send("220 ready\r\n")
        .reply("USER", "331 Password required\r\n")
        .expect("PASS")
        .close()
        .start();
    let run = ftp(&["--timeout", "10", "mkdir", &server.url("/newdir")]);
    let t = server.finish();
    assert_exit(&run, 3, &t);
    error_line(&run);
    assert!(run.elapsed < AT_ONCE, "took {:?}", run.elapsed);
    t.assert_clean();
}

// ---------------------------------------------------------------------------
// 8-9. Passive mode.
// ---------------------------------------------------------------------------

// The 227 names 127.0.0.2, where nothing listens: a client that believed it would get
// "connection refused". (Another loopback address, so no test traffic can leave the host.)
const ELSEWHERE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

#[test]
fn pasv_reply_naming_another_address_connects_to_control_peer() {
    let server = FakeServer::new()
        .login()
        .reply("EPSV", "502 EPSV not implemented\r\n")
        .expect("PASV")
        .pasv(ELSEWHERE)
        .list(LISTING)
        .start();
    let run = ftp(&["ls", "-l", &server.url("/")]);
    let t = server.finish();
    assert_exit(&run, 0, &t);
    assert!(run.stdout.contains("readme.txt"), "{run:#?}");
    assert_eq!(t.data_connections, 1);
    t.assert_clean();
}

#[test]
fn use_pasv_address_flag_connects_to_the_advertised_address() {
    let server = FakeServer::new()
        .login()
        .reply("EPSV", "502 EPSV not implemented\r\n")
        .expect("PASV")
        .pasv(ELSEWHERE)
        .list(LISTING)
        .start();
    let run = ftp(&[
        "--timeout",
        "5",
        "--use-pasv-address",
        "ls",
        "-l",
        &server.url("/"),
    ]);
    let t = server.finish();
    assert!(run.code.is_some_and(|c| c != 0), "{run:#?}\n{t:#?}");
    let line = error_line(&run);
    assert!(
        line.contains("127.0.0.2"),
        "the error should name the address tried: {line:?}"
    );
    assert_eq!(t.data_connections, 0, "{t:#?}");
}

#[test]
fn epsv_refused_with_500_falls_back_to_pasv_for_ls() {
    let server = FakeServer::new()
        .login()
        .reply("EPSV", "500 Unknown command\r\n")
        .expect("PASV")
        .pasv(Ipv4Addr::LOCALHOST)
        .list(LISTING)
        .start();
    let run = ftp(&["ls", "-l", &server.url("/")]);
    let t = server.finish();
    assert_exit(&run, 0, &t);
    assert!(run.stdout.contains("readme.txt"), "{run:#?}");
    t.assert_clean();
    let (epsv, pasv, list) = (t.position("EPSV"), t.position("PASV"), t.position("LIST"));
    assert!(epsv < pasv && pasv < list, "{t:#?}");
}

#[test]
fn epsv_refused_with_502_falls_back_to_pasv_for_download() {
    let content = pattern(70_000);
    let server = FakeServer::new()
        .size(content.len() as u64)
        .login()
        .reply("EPSV", "502 Command not implemented\r\n")
        .expect("PASV")
        .pasv(Ipv4Addr::LOCALHOST)
        .retr(&content)
        .start();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("file.bin");
    let run = ftp(&["cp", &server.url("/file.bin"), s(&dest)]);
    let t = server.finish();
    assert_exit(&run, 0, &t);
    assert_eq!(std::fs::read(&dest).unwrap(), content);
    t.assert_clean();
    assert!(t.position("PASV") < t.position("RETR"), "{t:#?}");
}

// ---------------------------------------------------------------------------
// 10-12. Transfers that are short, early or refused.
// ---------------------------------------------------------------------------

#[test]
fn short_download_with_226_exits_7_and_leaves_no_file() {
    let server = FakeServer::new()
        .size(1000)
        .login()
        .retr(pattern(500))
        .start();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("file.bin");
    let run = ftp(&["cp", &server.url("/file.bin"), s(&dest)]);
    let t = server.finish();
    assert_exit(&run, 7, &t);
    error_line(&run);
    assert_no_leftovers(dir.path());
}

#[test]
fn short_download_with_426_exits_7_and_leaves_no_file() {
    let server = FakeServer::new()
        .login()
        .reply("RETR", "150 Opening BINARY mode data connection\r\n")
        .data_send(pattern(500))
        .send("426 Connection closed; transfer aborted\r\n")
        .start();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("file.bin");
    let run = ftp(&["cp", &server.url("/file.bin"), s(&dest)]);
    let t = server.finish();
    assert_exit(&run, 7, &t);
    error_line(&run);
    assert_no_leftovers(dir.path());
}

#[test]
fn short_download_leaves_existing_destination_untouched() {
    let server = FakeServer::new()
        .size(1000)
        .login()
        .retr(pattern(500))
        .start();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("file.bin");
    std::fs::write(&dest, b"old contents\n").unwrap();
    let run = ftp(&["cp", &server.url("/file.bin"), s(&dest)]);
    let t = server.finish();
    assert_exit(&run, 7, &t);
    error_line(&run);
    assert_eq!(std::fs::read(&dest).unwrap(), b"old contents\n");
    assert_eq!(entries(dir.path()), ["file.bin"]);
}

#[test]
fn mv_of_short_download_never_deletes_the_remote_file() {
    let server = FakeServer::new()
        .size(1000)
        .login()
        .retr(pattern(500))
        .start();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("file.bin");
    let run = ftp(&["mv", &server.url("/file.bin"), s(&dest)]);
    let t = server.finish();
    assert_exit(&run, 7, &t);
    error_line(&run);
    assert!(!t.sent("DELE"), "{t:#?}");
    assert_no_leftovers(dir.path());
}

#[test]
fn mv_with_a_size_reply_that_is_not_a_size_never_deletes_the_remote_file() {
    for size in ["99999999999999999999", "abc", "-1"] {
        let server = FakeServer::new()
            .login()
            .reply("SIZE", format!("213 {size}\r\n"))
            .start();
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("file.bin");
        let run = ftp(&["mv", &server.url("/file.bin"), s(&dest)]);
        let t = server.finish();
        assert_exit(&run, 7, &t);
        assert!(error_line(&run).contains("not a size"), "{size}");
        assert!(!t.sent("RETR") && !t.sent("DELE"), "{t:#?}");
        assert_no_leftovers(dir.path());
    }
}

#[test]
fn pasv_reply_with_port_zero_is_malformed_and_nothing_is_retrieved() {
    let server = FakeServer::new()
        .login()
        .reply("EPSV", "500 no\r\n")
        .reply("PASV", "227 Entering Passive Mode (127,0,0,1,0,0)\r\n")
        .start();
    let dir = tempfile::tempdir().unwrap();
    let run = ftp(&["cp", &server.url("/file.bin"), s(&dir.path().join("f"))]);
    let t = server.finish();
    assert_exit(&run, 3, &t);
    assert!(error_line(&run).contains("malformed pasv reply"));
    assert!(!t.sent("RETR"), "{t:#?}");
    assert_no_leftovers(dir.path());
}

#[test]
fn an_unsolicited_extra_reply_is_not_taken_for_the_next_commands_reply() {
    let content = pattern(5000);
    let server = FakeServer::new()
        .size(content.len() as u64)
        .login()
        .reply(
            "TYPE",
            "200 Switching to Binary mode.\r\n200 unsolicited extra\r\n",
        )
        .retr(&content)
        .start();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("file.bin");
    let run = ftp(&["-v", "cp", &server.url("/file.bin"), s(&dest)]);
    let t = server.finish();
    assert_exit(&run, 0, &t);
    assert!(run.stdout.contains("unasked"), "{}", run.stdout);
    assert_eq!(std::fs::read(&dest).unwrap(), content);
}

#[test]
fn upload_the_server_stops_reading_times_out_on_the_data_sends_abor_and_keeps_the_source() {
    let server = FakeServer::new()
        .login()
        .reply("STOR", "150 Ok to send data.\r\n")
        .step(Step::DataAccept)
        .stall(8)
        .start();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big.bin");
    std::fs::write(&src, pattern(32 << 20)).unwrap();
    let run = ftp(&["--timeout", "2", "mv", s(&src), &server.url("/big.bin")]);
    let t = server.finish();
    assert_exit(&run, 3, &t);
    assert!(
        error_line(&run).contains("data connection stalled"),
        "{}",
        run.stderr
    );
    assert!(t.sent("ABOR"), "{t:#?}");
    assert_eq!(std::fs::read(&src).unwrap().len(), 32 << 20);
}

#[test]
fn final_226_arriving_before_the_data_still_gets_the_whole_file() {
    let content = pattern(300_000);
    let server = FakeServer::new()
        .size(content.len() as u64)
        .login()
        .reply(
            "RETR",
            "150 Opening BINARY mode data connection\r\n226 Transfer complete\r\n",
        )
        .sleep_ms(200)
        .data_send(&content)
        .start();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("file.bin");
    let run = ftp(&["cp", &server.url("/file.bin"), s(&dest)]);
    let t = server.finish();
    assert_exit(&run, 0, &t);
    assert_eq!(std::fs::read(&dest).unwrap(), content);
    assert_eq!(entries(dir.path()), ["file.bin"]);
    t.assert_clean();
}

#[test]
fn mv_upload_refused_with_552_after_data_keeps_local_source() {
    let content = pattern(20_000);
    let server = FakeServer::new()
        .login()
        .reply("STOR", "150 Ok to send data\r\n")
        .data_recv()
        .send("552 Requested file action aborted. Exceeded storage allocation\r\n")
        .start();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("up.bin");
    std::fs::write(&src, &content).unwrap();
    let run = ftp(&["mv", s(&src), &server.url("/up.bin")]);
    let t = server.finish();
    assert_exit_in(&run, &[5, 7], &t);
    error_line(&run);
    assert_eq!(std::fs::read(&src).unwrap(), content);
    assert_eq!(entries(dir.path()), ["up.bin"]);
}

#[test]
fn mv_upload_refused_at_once_with_552_keeps_local_source() {
    let content = pattern(20_000);
    let server = FakeServer::new()
        .login()
        .reply("STOR", "552 Insufficient storage space\r\n")
        .start();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("up.bin");
    std::fs::write(&src, &content).unwrap();
    let run = ftp(&["mv", s(&src), &server.url("/up.bin")]);
    let t = server.finish();
    assert_exit_in(&run, &[5, 7], &t);
    error_line(&run);
    assert_eq!(std::fs::read(&src).unwrap(), content);
    assert_eq!(entries(dir.path()), ["up.bin"]);
}

// ---------------------------------------------------------------------------
// 13. Silence.
// ---------------------------------------------------------------------------

#[test]
fn server_that_never_answers_times_out_with_exit_3() {
    let server = FakeServer::new().stall(12).start();
    let run = ftp(&["--timeout", "2", "ls", &server.url("/")]);
    let t = server.finish();
    assert_exit(&run, 3, &t);
    error_line(&run);
    assert!(run.elapsed < WITHIN_TIMEOUT, "took {:?}", run.elapsed);
    assert!(t.commands.is_empty(), "{t:#?}");
}

#[test]
fn download_stalling_mid_data_times_out_and_leaves_no_file() {
    let server = FakeServer::new()
        .size(1000)
        .login()
        .reply("RETR", "150 Opening BINARY mode data connection\r\n")
        .data_write(pattern(100))
        .stall(12)
        .start();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("file.bin");
    let run = ftp(&["--timeout", "2", "cp", &server.url("/file.bin"), s(&dest)]);
    let t = server.finish();
    assert_exit(&run, 3, &t);
    error_line(&run);
    assert!(run.elapsed < WITHIN_TIMEOUT, "took {:?}", run.elapsed);
    assert_no_leftovers(dir.path());
}

// ---------------------------------------------------------------------------
// 14-17. Login variations.
// ---------------------------------------------------------------------------

#[test]
fn login_accepted_after_user_sends_no_password() {
    let server = FakeServer::new()
        .send("220 ready\r\n")
        .reply("USER alice", "230 No password needed\r\n")
        .reply("MKD", "257 \"/newdir\" created\r\n")
        .start();
    let run = ftp(&["mkdir", &server.url_as("alice:secret", "/newdir")]);
    let t = server.finish();
    assert_exit(&run, 0, &t);
    assert!(!t.sent("PASS"), "{t:#?}");
    t.assert_clean();
}

#[test]
fn greeting_120_then_220_is_accepted() {
    let server = FakeServer::new()
        .send("120 Service ready in a moment\r\n")
        .sleep_ms(300)
        .login()
        .reply("MKD", "257 \"/newdir\" created\r\n")
        .start();
    let run = ftp(&["mkdir", &server.url("/newdir")]);
    let t = server.finish();
    assert_exit(&run, 0, &t);
    t.assert_clean();
}

#[test]
fn wrong_password_530_exits_4_with_login_message() {
    let server = FakeServer::new()
        .send("220 ready\r\n")
        .reply("USER", "331 Password required\r\n")
        .reply("PASS", "530 Login incorrect.\r\n")
        .start();
    let run = ftp(&["mkdir", &server.url_as("alice:wrong", "/newdir")]);
    let t = server.finish();
    assert_exit(&run, 4, &t);
    let line = error_line(&run);
    assert!(line.contains("login"), "{line:?}");
    assert!(!t.sent("MKD"), "{t:#?}");
}

#[test]
fn account_required_332_exits_4_with_clear_message() {
    let server = FakeServer::new()
        .send("220 ready\r\n")
        .reply("USER", "331 Password required\r\n")
        .reply("PASS", "332 Need account for login.\r\n")
        .start();
    let run = ftp(&["mkdir", &server.url_as("alice:pw", "/newdir")]);
    let t = server.finish();
    assert_exit(&run, 4, &t);
    let line = error_line(&run);
    assert!(
        line.contains("account") || line.contains("acct"),
        "{line:?}"
    );
    assert!(!t.sent("MKD"), "{t:#?}");
}

// ---------------------------------------------------------------------------
// 18-19. What the client puts on the wire.
// ---------------------------------------------------------------------------

// See: ANCHORS.md on suppaftp (a CR/LF in a path became a second command).
#[test]
fn crlf_or_nul_in_url_is_refused_before_connecting() {
    let cases: [(&str, &str, &str); 5] = [
        ("rm", "", "/a%0D%0ADELE%20x"),
        ("rm", "", "/a%0ADELE%20x"),
        ("ls", "", "/dir%00x"),
        ("mkdir", "", "/a%0d%0aRMD%20%2F"),
        ("ls", "anonymous:x%0D%0ADELE%20y", "/"),
    ];
    for (op, userinfo, path) in cases {
        let server = FakeServer::new().login().start();
        let url = if userinfo.is_empty() {
            server.url(path)
        } else {
            server.url_as(userinfo, path)
        };
        let run = ftp(&[op, &url]);
        let t = server.finish();
        assert_exit(&run, 2, &t);
        error_line(&run);
        assert_eq!(t.connections, 0, "{op} {url}: {t:#?}");
    }
}

#[test]
fn verbose_shows_dialogue_and_masks_password() {
    let server = FakeServer::new()
        .send("220 ready\r\n")
        .reply("USER alice", "331 Password required\r\n")
        .reply("PASS s3cret-pw", "230 Logged in\r\n")
        .reply("MKD", "257 \"/newdir\" created\r\n")
        .start();
    let run = ftp(&["-v", "mkdir", &server.url_as("alice:s3cret-pw", "/newdir")]);
    let t = server.finish();
    assert_exit(&run, 0, &t);
    t.assert_clean();
    for expected in [
        "> USER alice",
        "< 331",
        "PASS ****",
        "< 230",
        "> MKD /newdir",
    ] {
        assert!(run.stdout.contains(expected), "no {expected:?} in {run:#?}");
    }
    assert!(
        !run.stdout.contains("s3cret-pw") && !run.stderr.contains("s3cret-pw"),
        "the password leaked: {run:#?}"
    );
}

// ---------------------------------------------------------------------------
// Deadlines, not idle ticks: a peer that is never quite silent.
// ---------------------------------------------------------------------------

/// A byte every 150 ms for 15 s: each read returns before an idle tick would notice.
const TRICKLE_MS: u64 = 150;

fn never_ending(prefix: &[u8]) -> Vec<u8> {
    let mut bytes = prefix.to_vec();
    bytes.resize(100, b'A');
    bytes
}

#[test]
fn a_greeting_trickled_a_byte_at_a_time_ends_by_the_timeout() {
    let server = FakeServer::new()
        .trickle(never_ending(b"220-"), TRICKLE_MS)
        .start();
    let run = ftp(&["--timeout", "2", "ls", &server.url("/")]);
    let t = server.finish();
    assert_exit(&run, 3, &t);
    assert!(error_line(&run).contains("timed out"), "{}", run.stderr);
    assert!(run.elapsed < WITHIN_TIMEOUT, "took {:?}", run.elapsed);
    assert!(t.commands.is_empty(), "{t:#?}");
}

#[test]
fn a_reply_trickled_a_byte_at_a_time_ends_by_the_timeout() {
    let server = FakeServer::new()
        .login()
        .expect("EPSV")
        .trickle(never_ending(b"229-"), TRICKLE_MS)
        .start();
    let run = ftp(&["--timeout", "2", "ls", &server.url("/")]);
    let t = server.finish();
    assert_exit(&run, 3, &t);
    assert!(run.elapsed < WITHIN_TIMEOUT, "took {:?}", run.elapsed);
}

#[test]
fn a_quit_reply_trickled_a_byte_at_a_time_ends_by_the_timeout() {
    let server = FakeServer::new()
        .login()
        .reply("MKD", "257 \"/d\" created\r\n")
        .expect("QUIT")
        .trickle(never_ending(b"221-"), TRICKLE_MS)
        .start();
    let run = ftp(&["--timeout", "2", "mkdir", &server.url("/d")]);
    let t = server.finish();
    assert_exit(&run, 0, &t);
    assert!(run.elapsed < WITHIN_TIMEOUT, "took {:?}", run.elapsed);
}

#[test]
fn a_one_shot_command_sends_quit_and_waits_for_its_reply_only_with_v() {
    // Nobody reads the 221 of a command run without -v: QUIT is sent and the connection
    // closed at once, not a round trip later (nor, from a server that never answers QUIT,
    // after QUIT's own 5 s deadline).
    let server = FakeServer::new()
        .login()
        .reply("MKD", "257 \"/d\" created\r\n")
        .expect("QUIT")
        .stall(10)
        .start();
    let run = ftp(&["--timeout", "30", "mkdir", &server.url("/d")]);
    let t = server.finish();
    assert_exit(&run, 0, &t);
    assert_eq!(t.count("QUIT"), 1, "{:?}", t.commands);
    assert!(
        run.elapsed < Duration::from_secs(3),
        "took {:?}",
        run.elapsed
    );
    // With -v the conversation is shown to its end: the 221 is waited for.
    let server = FakeServer::new()
        .login()
        .reply("MKD", "257 \"/d\" created\r\n")
        .reply("QUIT", "221 Goodbye from the script.\r\n")
        .start();
    let run = ftp(&["-v", "mkdir", &server.url("/d")]);
    let t = server.finish();
    assert_exit(&run, 0, &t);
    assert!(
        run.stdout.contains("221 Goodbye from the script."),
        "{}",
        run.stdout
    );
}

#[test]
fn a_tls_handshake_trickled_a_byte_at_a_time_ends_by_the_timeout() {
    // A TLS record header announcing 16 KiB, then its body a byte every 150 ms.
    let mut record = vec![0x16, 0x03, 0x03, 0x40, 0x00];
    record.resize(100, 0x02);
    let server = FakeServer::new()
        .send("220 ready\r\n")
        .reply("AUTH TLS", "234 Proceed with negotiation\r\n")
        .sleep_ms(300)
        .trickle(record, TRICKLE_MS)
        .start();
    let run = ftp(&[
        "--timeout",
        "2",
        "--tls",
        "--insecure",
        "ls",
        &server.url("/"),
    ]);
    let t = server.finish();
    assert_exit(&run, 3, &t);
    assert!(run.stderr.contains("timed out"), "{}", run.stderr);
    assert!(run.elapsed < WITHIN_TIMEOUT, "took {:?}", run.elapsed);
    assert!(!t.sent("USER"), "{t:#?}");
}

#[test]
fn clear_text_after_234_is_refused_before_the_tls_handshake() {
    let server = FakeServer::new()
        .send("220 ready\r\n")
        .reply("AUTH TLS", "234 Proceed\r\n230 injected: logged in\r\n")
        .start();
    let run = ftp(&[
        "--timeout",
        "5",
        "--tls",
        "--insecure",
        "ls",
        &server.url("/"),
    ]);
    let t = server.finish();
    assert_exit(&run, 3, &t);
    assert!(run.stderr.contains("clear text"), "{}", run.stderr);
    assert!(!t.sent("USER"), "{t:#?}");
}

#[test]
fn an_upload_whose_data_connection_the_server_keeps_writing_to_ends_by_the_timeout() {
    let content = pattern(50_000);
    let server = FakeServer::new()
        .size(content.len() as u64)
        .login()
        .reply("STOR", "150 Ok to send data\r\n")
        .step(Step::DataChatter(Duration::from_secs(12)))
        .send("226 Transfer complete\r\n")
        // Uploads go to a temporary name and are renamed into place once proven.
        .reply("RNFR", "350 Ready for RNTO\r\n")
        .reply("RNTO", "250 Rename successful\r\n")
        .start();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("up.bin");
    std::fs::write(&src, &content).unwrap();
    let run = ftp(&[
        "--timeout",
        "2",
        "--verify",
        "size",
        "cp",
        s(&src),
        &server.url("/up.bin"),
    ]);
    let t = server.finish();
    assert_exit(&run, 0, &t);
    assert!(run.elapsed < WITHIN_TIMEOUT, "took {:?}", run.elapsed);
    assert_eq!(t.uploads, vec![content]);
}

// ---------------------------------------------------------------------------
// Staying in step: every reply read is the one the command asked for.
// ---------------------------------------------------------------------------

#[test]
fn abor_reads_the_transfers_226_and_its_own_so_the_next_command_gets_its_reply() {
    let server = FakeServer::new()
        .size(1000)
        .login()
        .reply("RETR", "150 Opening BINARY mode data connection\r\n")
        .data_write(pattern(100))
        .expect("ABOR")
        .send("226 Transfer complete\r\n")
        .sleep_ms(300)
        .send("226 ABOR successful\r\n")
        .reply("DELE", "550 No such file\r\n")
        .start();
    let dir = tempfile::tempdir().unwrap();
    let script = format!(
        "-get /file.bin {}\nrm /missing.txt\n",
        s(&dir.path().join("file.bin"))
    );
    let run = ftp_with_input(
        &["--timeout", "1", "--verify", "size", &server.url("/")],
        Some(&script),
    );
    let t = server.finish();
    assert!(t.sent("ABOR"), "{t:#?}");
    assert!(t.sent("DELE"), "{t:#?}");
    assert_eq!(
        run.code,
        Some(5),
        "rm must fail with the 550: {run:#?}\n{t:#?}"
    );
    assert!(run.stderr.contains("550"), "{}", run.stderr);
}

#[test]
fn an_extra_226_after_a_transfer_does_not_shift_the_replies_of_later_commands() {
    let first = pattern(4000);
    let second: Vec<u8> = pattern(4001)[1..].to_vec();
    let server = FakeServer::new()
        .size(first.len() as u64)
        .login()
        .retr(&first)
        .sleep_ms(500)
        .send("226 Transfer complete (said twice)\r\n")
        .reply("DELE", "550 No such file\r\n")
        .reply("SIZE", format!("213 {}\r\n", second.len()))
        .retr(&second)
        .start();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.bin"), dir.path().join("b.bin"));
    let script = format!(
        "get /a.bin {}\n-rm /missing.txt\nget /b.bin {}\n",
        s(&a),
        s(&b)
    );
    let run = ftp_with_input(&["-v", "--verify", "size", &server.url("/")], Some(&script));
    let t = server.finish();
    assert!(
        run.stderr.contains("550"),
        "rm must fail with the 550: {run:#?}\n{t:#?}"
    );
    assert!(run.stdout.contains("cannot answer"), "{}", run.stdout);
    assert_eq!(std::fs::read(&a).unwrap(), first);
    assert_eq!(std::fs::read(&b).unwrap(), second, "{run:#?}\n{t:#?}");
    t.assert_clean();
}

#[test]
fn an_unreachable_passive_port_suggests_active_mode_at_the_edge() {
    // Port 1 on loopback: nothing listens, the connect is refused at once.
    let server = FakeServer::new()
        .login()
        .reply("EPSV", "229 Entering Extended Passive Mode (|||1|)\r\n")
        .expect("LIST")
        .stall(4)
        .start();
    let run = ftp(&["--timeout", "5", "ls", &server.url("/")]);
    let t = server.finish();
    assert_exit(&run, 3, &t);
    let line = error_line(&run);
    assert!(line.contains("cannot open the data connection"), "{line}");
    assert!(line.contains("try --active"), "{line}");
}

#[test]
fn a_230_greeting_is_logged_in_without_user_or_pass() {
    let server = FakeServer::new()
        .send("230 Welcome, no login needed\r\n")
        .reply("MKD", "257 \"/newdir\" created\r\n")
        .start();
    let run = ftp(&["mkdir", &server.url_as("alice:secret", "/newdir")]);
    let t = server.finish();
    assert_exit(&run, 0, &t);
    assert!(!t.sent("USER") && !t.sent("PASS"), "{t:#?}");
    t.assert_clean();
}

// ---------------------------------------------------------------------------
// Nothing lost: proofs, atomic uploads, resumes a server can lie about.
// ---------------------------------------------------------------------------

#[test]
fn mv_upload_whose_size_fails_after_226_keeps_the_local_file() {
    // FEAT lists SIZE, STOR is confirmed, but SIZE of the stored file fails: not proven.
    let server = FakeServer::new()
        .login()
        .reply("STOR", "150 Ok to send data.\r\n")
        .data_recv()
        .send("226 Transfer complete\r\n")
        .reply("SIZE", "550 Could not get file size\r\n")
        .start();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("up.bin");
    std::fs::write(&src, pattern(5000)).unwrap();
    let run = ftp(&["mv", s(&src), &server.url("/up.bin")]);
    let t = server.finish();
    assert_exit(&run, 7, &t);
    assert!(error_line(&run).contains("not proven"), "{}", run.stderr);
    assert!(src.exists(), "the local source must be kept");
    assert!(
        !t.sent("RNTO"),
        "an unproven upload is never renamed into place: {t:#?}"
    );
    assert!(t.sent("DELE /.up.bin.3700ftp-part"), "{t:#?}");
}

#[test]
fn a_failed_upload_never_stores_onto_the_final_name_and_removes_its_part() {
    let server = FakeServer::new()
        .login()
        .reply("STOR", "150 Ok to send data.\r\n")
        .data_recv()
        .send("451 Local error in processing\r\n")
        .reply("DELE", "250 Deleted\r\n")
        .start();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big.bin");
    std::fs::write(&src, pattern(100_000)).unwrap();
    let run = ftp(&["cp", s(&src), &server.url("/big.bin")]);
    let t = server.finish();
    assert_exit_in(&run, &[5, 7], &t);
    error_line(&run);
    assert!(t.sent("STOR /.big.bin.3700ftp-part"), "{t:#?}");
    assert!(!t.sent("STOR /big.bin"), "{t:#?}");
    assert!(t.sent("DELE /.big.bin.3700ftp-part"), "{t:#?}");
    assert!(!t.sent("RNTO"), "{t:#?}");
}

#[test]
fn a_server_refusing_to_rename_onto_a_file_gets_dele_then_rnto() {
    let server = FakeServer::new()
        .login()
        .reply("STOR", "150 Ok to send data.\r\n")
        .data_recv()
        .send("226 Transfer complete\r\n")
        .reply("RNFR", "350 Ready\r\n")
        .reply("RNTO", "553 File exists\r\n")
        .reply("SIZE /up.bin", "213 9\r\n")
        .reply("DELE /up.bin", "250 Deleted\r\n")
        .reply("RNFR", "350 Ready\r\n")
        .reply("RNTO", "250 Renamed\r\n")
        .start();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("up.bin");
    std::fs::write(&src, pattern(3000)).unwrap();
    let run = ftp(&["cp", s(&src), &server.url("/up.bin")]);
    let t = server.finish();
    assert_exit(&run, 0, &t);
    assert!(
        run.stderr.contains("deleting /up.bin first"),
        "{}",
        run.stderr
    );
    let dele = t.position("DELE /up.bin").expect("DELE of the old file");
    assert!(t.position("STOR").unwrap() < dele, "{t:#?}");
}

#[test]
fn a_server_that_ignores_rest_is_caught_and_the_partial_file_is_kept_as_it_was() {
    let content = pattern(1000);
    let server = FakeServer::new()
        .size(1000)
        .login()
        .reply("REST 400", "350 Restarting at 400\r\n")
        // ...but sends the whole file from byte 0.
        .retr(&content)
        .start();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("file.bin");
    let partial = content[..400].to_vec();
    std::fs::write(&dest, &partial).unwrap();
    let run = ftp(&["cp", "-c", &server.url("/file.bin"), s(&dest)]);
    let t = server.finish();
    assert_exit(&run, 7, &t);
    assert!(error_line(&run).contains("rest"), "{}", run.stderr);
    assert_eq!(std::fs::read(&dest).unwrap(), partial);
}

#[test]
fn a_resumed_download_is_proven_over_the_whole_file_by_the_servers_hash() {
    // The partial file is of an older version: its 400 bytes differ from the server's.
    let content = pattern(1000);
    let digest = sha256_hex(&content);
    let server = FakeServer::new()
        .size(1000)
        .login_feat("211-Features:\r\n EPSV\r\n SIZE\r\n XSHA256\r\n211 End\r\n")
        .reply("REST 400", "350 Restarting at 400\r\n")
        .retr(&content[400..])
        .reply("XSHA256", format!("250 {digest}\r\n"))
        .start();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("file.bin");
    std::fs::write(&dest, vec![b'o'; 400]).unwrap();
    let run = ftp(&["cp", "-c", &server.url("/file.bin"), s(&dest)]);
    let t = server.finish();
    assert_exit(&run, 7, &t);
    assert!(error_line(&run).contains("sha-256"), "{}", run.stderr);
    assert!(
        std::fs::read(&dest).map_or(true, |b| b
            != [vec![b'o'; 400], content[400..].to_vec()].concat()),
        "old bytes + new bytes must not stand as the file"
    );
}

#[test]
fn a_listing_with_one_name_twice_writes_it_once() {
    let listing = "-rw-r--r-- 1 ftp ftp 5 Jan 01 2024 a.txt\r\n\
                   -rw-r--r-- 1 ftp ftp 5 Jan 01 2024 a.txt\r\n";
    let server = FakeServer::new()
        .login()
        .reply("MLSD", "500 no\r\n")
        .list(listing)
        .retr(b"first")
        .start();
    let dir = tempfile::tempdir().unwrap();
    let run = ftp(&["cp", &server.url("/d/*.txt"), s(dir.path())]);
    let t = server.finish();
    assert!(run.stderr.contains("listed twice"), "{run:#?}\n{t:#?}");
    assert_eq!(t.count("RETR"), 1, "{t:#?}");
    assert_eq!(std::fs::read(dir.path().join("a.txt")).unwrap(), b"first");
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn cat_with_a_mismatching_server_hash_exits_7() {
    let content = b"streamed bytes".repeat(100);
    let server = FakeServer::new()
        .size(content.len() as u64)
        .login_feat("211-Features:\r\n EPSV\r\n SIZE\r\n XSHA256\r\n211 End\r\n")
        .retr(&content)
        .reply("XSHA256", format!("250 {}\r\n", sha256_hex(b"other")))
        .start();
    let run = ftp(&["cat", &server.url("/f.bin")]);
    let t = server.finish();
    assert_exit(&run, 7, &t);
    assert!(error_line(&run).contains("sha-256"), "{}", run.stderr);
}

#[test]
fn chmod_sends_site_chmod_and_quote_shows_a_multi_line_reply() {
    let server = FakeServer::new()
        .login()
        .reply(
            "SITE CHMOD 644 /pub/f.txt",
            "200 SITE CHMOD command successful\r\n",
        )
        .reply(
            "STAT",
            "211-Status of fake\r\n Connected\r\n211 End of status\r\n",
        )
        .start();
    let home = tempfile::tempdir().unwrap();
    let out = common::ftp(home.path())
        .arg(server.url("/"))
        .write_stdin("chmod 644 /pub/f.txt\nquote STAT\n")
        .output()
        .unwrap();
    let t = server.finish();
    assert!(
        out.status.success(),
        "{}\n{t:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "211-Status of fake\n Connected\n211 End of status\n"
    );
    assert!(
        t.commands
            .contains(&"SITE CHMOD 644 /pub/f.txt".to_string()),
        "{t:?}"
    );
}

#[test]
fn mv_keeps_a_local_source_that_changed_during_its_upload() {
    let server = FakeServer::new()
        .login()
        .reply("STOR", "150 Ok to send data.\r\n")
        .data_recv()
        // The file is written to while the client waits for the final reply.
        .sleep_ms(1500)
        .send("226 Transfer complete\r\n")
        .reply("SIZE", "213 5000\r\n")
        .reply("RNFR", "350 Ready\r\n")
        .reply("RNTO", "250 Renamed\r\n")
        .start();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("log.txt");
    std::fs::write(&src, pattern(5000)).unwrap();
    let url = server.url("/log.txt");
    let args = ["mv".to_string(), s(&src).to_string(), url];
    let run = thread::spawn(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ftp(&args)
    });
    thread::sleep(Duration::from_millis(600));
    let mut f = std::fs::OpenOptions::new().append(true).open(&src).unwrap();
    f.write_all(b"one more line\n").unwrap();
    drop(f);
    let run = run.join().unwrap();
    let t = server.finish();
    assert_exit(&run, 6, &t);
    assert!(
        error_line(&run).contains("changed during the upload"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::metadata(&src).unwrap().len(),
        5000 + 14,
        "the source is kept"
    );
}

#[test]
fn opts_utf8_is_sent_when_feat_lists_utf8_and_a_refusal_is_no_error() {
    let server = FakeServer::new()
        .size(5)
        .login_feat("211-Features:\r\n EPSV\r\n SIZE\r\n UTF8\r\n211 End\r\n")
        .reply("OPTS UTF8 ON", "501 not here\r\n")
        .retr(b"hello")
        .start();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("f.txt");
    let run = ftp(&["cp", &server.url("/f.txt"), s(&dest)]);
    let t = server.finish();
    assert_exit(&run, 0, &t);
    assert_eq!(std::fs::read(&dest).unwrap(), b"hello");
    assert!(t.sent("OPTS UTF8 ON"), "{t:#?}");
}

#[test]
fn no_opts_utf8_when_feat_does_not_list_it() {
    let server = FakeServer::new()
        .size(5)
        .login_feat("211-Features:\r\n EPSV\r\n SIZE\r\n211 End\r\n")
        .retr(b"hello")
        .start();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("f.txt");
    let run = ftp(&["cp", &server.url("/f.txt"), s(&dest)]);
    let t = server.finish();
    assert_exit(&run, 0, &t);
    assert!(!t.sent("OPTS"), "{t:#?}");
}
