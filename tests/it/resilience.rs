//! Retries that resume, segmented downloads and a lost final reply: the real binary against
//! scripted servers that drop connections (and log the client in again), and against the
//! embedded server.

use crate::common;
use crate::fake_server::FakeServer;

use std::process::Output;

/// The bytes of a test file: every value, in a pattern that shows a misplaced range.
fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn run(home: &std::path::Path, args: &[&str]) -> Output {
    common::ftp(home).args(args).output().expect("run 3700ftp")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// No temporary file is left beside a finished download.
fn no_parts(dir: &std::path::Path) {
    let left: Vec<String> = common::names(dir)
        .into_iter()
        .filter(|n| n.contains("3700ftp"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_download_cut_off_mid_retr_is_resumed_with_rest_and_proven() {
    let data = content(10_000);
    let (first, rest) = data.split_at(4_000);
    let server = FakeServer::new()
        .size(data.len() as u64)
        .login()
        .reply("RETR", "150 Opening BINARY mode data connection\r\n")
        .data_write(first)
        .close()
        .then(
            FakeServer::new()
                .size(data.len() as u64)
                .login()
                .reply("REST 4000", "350 Restarting at 4000\r\n")
                .reply("RETR", "150 Opening BINARY mode data connection\r\n")
                .data_send(rest)
                .send("226 Transfer complete\r\n"),
        )
        .start();
    let home = tempfile::tempdir().unwrap();
    let out = run(
        home.path(),
        &[
            "--timeout",
            "5",
            "cp",
            "--retry",
            "2",
            "--retry-delay",
            "0",
            &server.url("/f.bin"),
            "f.bin",
        ],
    );
    let t = server.finish();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(home.path().join("f.bin")).unwrap(), data);
    assert!(
        stderr(&out).contains("retry 1/2") && stderr(&out).contains("resuming at"),
        "{}",
        stderr(&out)
    );
    assert_eq!(t.connections, 2);
    assert!(t.sent("REST 4000"), "{:?}", t.commands);
    assert_eq!(
        t.commands.iter().filter(|c| c.starts_with("RETR")).count(),
        2
    );
    no_parts(home.path());
}

#[test]
fn a_550_is_never_retried() {
    let server = FakeServer::new()
        .login()
        .reply("RETR", "550 No such file\r\n")
        .start();
    let home = tempfile::tempdir().unwrap();
    let out = run(
        home.path(),
        &[
            "--timeout",
            "5",
            "cp",
            "--retry",
            "3",
            "--retry-delay",
            "0",
            &server.url("/missing"),
            "missing",
        ],
    );
    let t = server.finish();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(!stderr(&out).contains("retry"), "{}", stderr(&out));
    assert_eq!(
        t.commands.iter().filter(|c| c.starts_with("RETR")).count(),
        1
    );
    assert_eq!(t.connections, 1);
    assert!(!home.path().join("missing").exists());
    no_parts(home.path());
}

#[test]
fn an_upload_cut_off_is_retried_from_the_part_on_the_server() {
    let data = content(6_000);
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("up.bin"), &data).unwrap();
    // The first STOR takes the bytes, then the connection drops before the final reply;
    // the server holds 6000 bytes of the part. The retry sees the part whole (SIZE), sends
    // nothing more and renames it.
    let server = FakeServer::new()
        .login()
        .reply("STOR", "150 Ok to send data\r\n")
        .data_recv()
        .close()
        .then(
            FakeServer::new()
                .size(data.len() as u64)
                .login()
                .reply("RNFR", "350 Ready\r\n")
                .reply("RNTO", "250 Renamed\r\n"),
        )
        .start();
    let out = run(
        home.path(),
        &[
            "--timeout",
            "5",
            "cp",
            "--retry",
            "1",
            "--retry-delay",
            "0",
            "up.bin",
            &server.url("/up.bin"),
        ],
    );
    let t = server.finish();
    assert!(out.status.success(), "{}\n{:?}", stderr(&out), t.commands);
    assert_eq!(t.uploads, vec![data]);
    let second: Vec<&String> = t
        .commands
        .iter()
        .skip_while(|c| !c.starts_with("PASS"))
        .skip(1)
        .skip_while(|c| !c.starts_with("PASS"))
        .collect();
    assert!(
        !second.iter().any(|c| c.starts_with("STOR")),
        "the retry stored again from byte 0: {:?}",
        t.commands
    );
    assert!(stderr(&out).contains("retry 1/1"), "{}", stderr(&out));
}

#[test]
fn a_final_reply_lost_with_the_connection_is_proven_on_a_new_login() {
    let data = content(5_000);
    let server = FakeServer::new()
        .size(data.len() as u64)
        .login()
        .reply("RETR", "150 Opening BINARY mode data connection\r\n")
        .data_send(&data)
        .close()
        .then(FakeServer::new().size(data.len() as u64).login())
        .start();
    let home = tempfile::tempdir().unwrap();
    let out = run(
        home.path(),
        &[
            "--timeout",
            "5",
            "cp",
            &server.url("/whole.bin"),
            "whole.bin",
        ],
    );
    let t = server.finish();
    assert!(out.status.success(), "{}\n{:?}", stderr(&out), t.commands);
    assert_eq!(std::fs::read(home.path().join("whole.bin")).unwrap(), data);
    assert!(
        stderr(&out).contains("every byte arrived"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        t.commands.iter().filter(|c| c.starts_with("RETR")).count(),
        1,
        "{:?}",
        t.commands
    );
    no_parts(home.path());
}
