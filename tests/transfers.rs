//! Issue 5 features against the embedded server: resume, progress suppression, and more.

mod common;

use std::time::{Duration, SystemTime};

use common::{ftp, TestServer};

fn sample(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(7919) >> 3) as u8)
        .collect()
}

fn set_mtime(path: &std::path::Path, when: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(when)
        .unwrap();
}

#[test]
fn resumed_download_is_byte_identical_and_sends_rest() {
    let s = TestServer::start();
    let full = sample(1_000_000);
    s.put("/big.bin", &full);
    let home = tempfile::tempdir().unwrap();
    let dest = home.path().join("big.bin");
    std::fs::write(&dest, &full[..400_000]).unwrap();
    let out = ftp(home.path())
        .args(["-v", "cp", "-c", &s.url("/big.bin"), "big.bin"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("> REST 400000"), "{text}");
    assert!(std::fs::read(&dest).unwrap() == full);
}

#[test]
fn resumed_upload_is_byte_identical() {
    let s = TestServer::start();
    let full = sample(700_000);
    let home = tempfile::tempdir().unwrap();
    let src = home.path().join("up.bin");
    std::fs::write(&src, &full).unwrap();
    set_mtime(&src, SystemTime::now() - Duration::from_secs(3600));
    s.put("/up.bin", &full[..300_000]);
    let out = ftp(home.path())
        .args(["-v", "cp", "--continue", "up.bin", &s.url("/up.bin")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("> APPE /up.bin") || text.contains("> REST 300000"),
        "{text}"
    );
    assert!(std::fs::read(s.file("/up.bin")).unwrap() == full);
}

#[test]
fn a_complete_destination_transfers_nothing() {
    let s = TestServer::start();
    let full = sample(10_000);
    s.put("/done.bin", &full);
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("done.bin"), &full).unwrap();
    let out = ftp(home.path())
        .args(["-v", "cp", "-c", &s.url("/done.bin"), "."])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already complete"));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("RETR"));
}

#[test]
fn a_changed_source_starts_over_instead_of_splicing() {
    let s = TestServer::start();
    let new = sample(50_000);
    s.put("/changed.bin", &new);
    let home = tempfile::tempdir().unwrap();
    let dest = home.path().join("changed.bin");
    // A partial written long before the remote file last changed: a different file.
    std::fs::write(&dest, vec![0xAAu8; 20_000]).unwrap();
    set_mtime(&dest, SystemTime::now() - Duration::from_secs(86_400));
    let out = ftp(home.path())
        .args(["cp", "-c", &s.url("/changed.bin"), "changed.bin"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("starting over"));
    assert!(std::fs::read(&dest).unwrap() == new);
}

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let s = TestServer::start();
    s.put("/p.bin", &sample(300_000));
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .args(["cp", &s.url("/p.bin"), "p.bin"])
        .assert()
        .success()
        .stderr("")
        .stdout("");
}
