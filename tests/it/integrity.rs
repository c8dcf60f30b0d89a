//! Proof of every byte: the server's hash compared with ours, kept modification times, and
//! the rate limit (a loose, benchmark-style check rather than a tight timed test).

use crate::common;
use crate::fake_server;

use std::time::{Duration, Instant, SystemTime};

use common::{ftp, names, TestServer};
use fake_server::FakeServer;
use sha2::Digest;

const FEAT_XSHA256: &str = "211-Features:\r\n EPSV\r\n SIZE\r\n XSHA256\r\n XMD5\r\n211 End\r\n";

fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn a_matching_server_hash_proves_the_download() {
    let content = b"proven bytes".repeat(1000);
    let server = FakeServer::new()
        .size(content.len() as u64)
        .login_feat(FEAT_XSHA256)
        .retr(&content)
        .reply(
            "XSHA256",
            format!("250 {}\r\n", sha256_hex(&content).to_uppercase()),
        )
        .start();
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .args(["-v", "cp", &server.url("/f.bin"), "f.bin"])
        .output()
        .unwrap();
    let t = server.finish();
    assert!(
        out.status.success(),
        "{}\n{t:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("verified: the server's SHA-256 matches"));
    assert_eq!(std::fs::read(home.path().join("f.bin")).unwrap(), content);
}

#[test]
fn a_mismatching_hash_fails_the_download_and_leaves_nothing() {
    let content = b"the real bytes".repeat(500);
    let server = FakeServer::new()
        .size(content.len() as u64)
        .login_feat(FEAT_XSHA256)
        .retr(&content)
        .reply("XSHA256", format!("250 {}\r\n", sha256_hex(b"other bytes")))
        .start();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("keep.bin"), b"old").unwrap();
    let out = ftp(home.path())
        .args(["mv", &server.url("/f.bin"), "keep.bin"])
        .output()
        .unwrap();
    let t = server.finish();
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("SHA-256"));
    assert_eq!(std::fs::read(home.path().join("keep.bin")).unwrap(), b"old");
    assert_eq!(names(home.path()), ["keep.bin"]);
    assert!(
        !t.commands.iter().any(|c| c.starts_with("DELE")),
        "mv deleted the source: {t:?}"
    );
}

#[test]
fn a_mismatching_hash_fails_the_upload_and_mv_keeps_the_source() {
    let server = FakeServer::new()
        .login_feat(FEAT_XSHA256)
        .reply("STOR", "150 go ahead\r\n")
        .data_recv()
        .send("226 stored\r\n")
        .reply(
            "XSHA256",
            format!("250 {}\r\n", sha256_hex(b"not what was sent")),
        )
        .start();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("src.bin"), b"precious content").unwrap();
    let out = ftp(home.path())
        .args(["mv", "src.bin", &server.url("/dst.bin")])
        .output()
        .unwrap();
    let t = server.finish();
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}\n{t:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(home.path().join("src.bin")).unwrap(),
        b"precious content"
    );
}

#[test]
fn verify_hash_refuses_a_server_without_one_and_verify_none_skips_size() {
    let s = TestServer::start();
    s.put("/x.bin", b"xyz");
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .args(["--verify=hash", "cp", &s.url("/x.bin"), "x.bin"])
        .assert()
        .code(5);
    assert!(!home.path().join("x.bin").exists());
    let out = ftp(home.path())
        .args(["-v", "--verify", "none", "cp", &s.url("/x.bin"), "x.bin"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("> SIZE"));
    let out = ftp(home.path())
        .args(["-v", "cp", &s.url("/x.bin"), "y.bin"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("verified by size (3 bytes)"));
}

#[test]
fn preserve_keeps_the_modification_time_of_a_download() {
    let s = TestServer::start();
    s.put("/old.txt", b"from the past");
    let past = SystemTime::UNIX_EPOCH + Duration::from_secs(1_500_000_000);
    std::fs::File::options()
        .write(true)
        .open(s.file("/old.txt"))
        .unwrap()
        .set_modified(past)
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .args(["cp", "-p", &s.url("/old.txt"), "old.txt"])
        .assert()
        .success();
    let got = std::fs::metadata(home.path().join("old.txt"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(got, past);
    // Without -p the file is new.
    ftp(home.path())
        .args(["cp", &s.url("/old.txt"), "new.txt"])
        .assert()
        .success();
    let fresh = std::fs::metadata(home.path().join("new.txt"))
        .unwrap()
        .modified()
        .unwrap();
    assert!(fresh > past + Duration::from_secs(86_400));
}

#[test]
fn preserve_on_upload_sets_the_remote_time_or_says_it_cannot() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let src = home.path().join("up.txt");
    std::fs::write(&src, b"u").unwrap();
    let past = SystemTime::UNIX_EPOCH + Duration::from_secs(1_400_000_000);
    std::fs::File::options()
        .write(true)
        .open(&src)
        .unwrap()
        .set_modified(past)
        .unwrap();
    let out = ftp(home.path())
        .args(["-v", "cp", "-p", "up.txt", &s.url("/up.txt")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let remote = std::fs::metadata(s.file("/up.txt"))
        .unwrap()
        .modified()
        .unwrap();
    let said_cannot =
        String::from_utf8_lossy(&out.stderr).contains("cannot set modification times");
    assert!(remote == past || said_cannot, "remote time {remote:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("> MFMT 20140513165320 /up.txt"));
}

#[test]
fn limit_rate_holds_a_transfer_near_the_cap() {
    let s = TestServer::start();
    let size = 600 * 1024;
    s.put("/slow.bin", &vec![7u8; size]);
    let home = tempfile::tempdir().unwrap();
    let start = Instant::now();
    ftp(home.path())
        .args(["cp", &s.url("/slow.bin"), "fast.bin"])
        .assert()
        .success();
    let unlimited = start.elapsed().as_secs_f64();
    let start = Instant::now();
    ftp(home.path())
        .args([
            "--limit-rate",
            "300K",
            "cp",
            &s.url("/slow.bin"),
            "slow.bin",
        ])
        .assert()
        .success();
    let limited = start.elapsed().as_secs_f64();
    // 600 KiB at 300 KiB/s is about 2 s (the first tenth of a second is free): well above
    // the unlimited time, and not wildly above the cap.
    assert!(limited > 1.4 && limited < 6.0, "limited {limited:.2} s");
    assert!(
        limited > unlimited * 2.0,
        "limited {limited:.2} s vs unlimited {unlimited:.2} s"
    );
    assert_eq!(
        std::fs::read(home.path().join("slow.bin")).unwrap().len(),
        size
    );
}

/// Starts 3700ftp in `home` with `args`, its output discarded (the test signals it).
fn spawn_in(home: &std::path::Path, args: &[&str]) -> std::process::Child {
    common::command(home)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Sends SIGINT (what Ctrl-C sends) to `child` after `after`, and returns its exit code and
/// how long it took to exit after the signal (it is killed after 10 s).
fn interrupt(child: std::process::Child, after: Duration) -> (Option<i32>, Duration) {
    common::signal(child, after, "-INT")
}

#[test]
fn ctrl_c_stops_a_rate_limited_download_and_upload_at_once() {
    let s = TestServer::start();
    let size = 8 << 20;
    s.put("/big.bin", &vec![9u8; size]);
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("up.bin"), vec![3u8; size]).unwrap();
    for (what, src, dst) in [
        ("download", s.url("/big.bin"), "down.bin".to_string()),
        ("upload", "up.bin".to_string(), s.url("/up.bin")),
    ] {
        // Data is always waiting under the cap, so no read or write ever blocks: the cancel
        // flag must be seen between them.
        let child = spawn_in(home.path(), &["--limit-rate", "1M", "cp", &src, &dst]);
        let (code, took) = interrupt(child, Duration::from_millis(1500));
        assert_eq!(code, Some(130), "{what}: exit code after Ctrl-C");
        assert!(
            took < Duration::from_secs(3),
            "{what}: took {took:?} to stop"
        );
    }
    assert!(!home.path().join("down.bin").exists());
    assert_eq!(
        names(home.path()),
        ["up.bin"],
        "no partial download is left"
    );
    let kept = std::fs::metadata(s.file("/up.bin")).map_or(0, |m| m.len() as usize);
    assert!(kept < size, "the upload stopped: {kept} of {size} bytes");
}

#[test]
fn an_interrupted_continue_download_keeps_its_part_and_the_next_continue_finishes_it() {
    let s = TestServer::start();
    let content: Vec<u8> = (0..6u32 << 20).map(|i| (i % 251) as u8).collect();
    s.put("/part.bin", &content);
    let home = tempfile::tempdir().unwrap();
    let child = spawn_in(
        home.path(),
        &[
            "--limit-rate",
            "1M",
            "cp",
            "-c",
            &s.url("/part.bin"),
            "part.bin",
        ],
    );
    let (code, _) = interrupt(child, Duration::from_millis(1500));
    assert_eq!(code, Some(130));
    let kept = std::fs::read(home.path().join("part.bin")).unwrap();
    assert!(
        !kept.is_empty() && kept.len() < content.len(),
        "kept {} bytes",
        kept.len()
    );
    assert_eq!(kept[..], content[..kept.len()]);
    assert_eq!(
        names(home.path()),
        ["part.bin"],
        "only the part, no temporary file"
    );
    let out = ftp(home.path())
        .args(["-v", "cp", "-c", &s.url("/part.bin"), "part.bin"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("> REST {}", kept.len())));
    assert_eq!(
        std::fs::read(home.path().join("part.bin")).unwrap(),
        content
    );
}

#[test]
fn sigterm_stops_a_download_cleanly_and_mv_keeps_its_source() {
    let s = TestServer::start();
    let size = 8 << 20;
    s.put("/big.bin", &vec![5u8; size]);
    let home = tempfile::tempdir().unwrap();
    // What `timeout 2 3700ftp mv ...` does: SIGTERM in the middle of the transfer.
    let child = spawn_in(
        home.path(),
        &["--limit-rate", "1M", "mv", &s.url("/big.bin"), "big.bin"],
    );
    let (code, took) = common::signal(child, Duration::from_millis(1500), "-TERM");
    assert_eq!(code, Some(130), "exit code after SIGTERM");
    assert!(took < Duration::from_secs(3), "took {took:?} to stop");
    assert_eq!(
        names(home.path()),
        Vec::<String>::new(),
        "no temporary file left"
    );
    assert_eq!(
        std::fs::metadata(s.file("/big.bin")).unwrap().len() as usize,
        size
    );
}

#[test]
fn a_second_sigterm_during_the_unwind_of_the_first_leaves_no_temporary_file() {
    // The data stalls, so the first SIGTERM is seen at the next 200 ms poll; the second
    // comes before that, as timeout(1)'s signal to the process group can.
    let server = FakeServer::new()
        .size(1000)
        .login()
        .reply("RETR", "150 Opening BINARY mode data connection\r\n")
        .data_write(vec![1u8; 100])
        .stall(5)
        .start();
    let home = tempfile::tempdir().unwrap();
    let child = common::command(home.path())
        .args(["cp", &server.url("/file.bin"), "file.bin"])
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let (code, _) = common::signal(child, Duration::from_millis(20), "-TERM");
    drop(server);
    assert_eq!(code, Some(130));
    assert_eq!(
        names(home.path()),
        Vec::<String>::new(),
        "no temporary file left"
    );
}
