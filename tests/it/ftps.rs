//! FTPS (RFC 4217) against the embedded server with a certificate made at test time.

use crate::common;

use common::{ftp, test_certs, TestServer, PASSWORD};
use predicates::prelude::*;

fn sent(stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("> "))
        .map(String::from)
        .collect()
}

#[test]
fn every_operation_over_explicit_tls() {
    let certs = test_certs(&["127.0.0.1", "localhost"]);
    let s = TestServer::start_tls(&certs);
    let home = tempfile::tempdir().unwrap();
    let ca = certs.ca.to_str().unwrap();
    let data = common::tricky_bytes();
    std::fs::write(home.path().join("up.bin"), &data).unwrap();
    let run = |args: &[&str]| {
        let out = ftp(home.path())
            .args(["--tls", "--cacert", ca])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for stream in [&out.stdout, &out.stderr] {
            assert!(!String::from_utf8_lossy(stream).contains(PASSWORD));
        }
        out
    };
    run(&["mkdir", &s.url("/secure")]);
    let out = run(&["-v", "cp", "up.bin", &s.url("/secure/up.bin")]);
    let text = String::from_utf8_lossy(&out.stdout);
    let commands = sent(&out.stdout);
    assert_eq!(commands[0], "AUTH TLS", "{text}");
    assert!(
        commands.iter().any(|c| c == "PBSZ 0") && commands.iter().any(|c| c == "PROT P"),
        "{text}"
    );
    assert!(
        text.contains("* TLS: TLSv1_3") || text.contains("* TLS: TLSv1_2"),
        "{text}"
    );
    assert!(text.contains("data connection TLS"), "{text}");
    assert_eq!(std::fs::read(s.file("/secure/up.bin")).unwrap(), data);
    run(&["cp", &s.url("/secure/up.bin"), "down.bin"]);
    assert_eq!(std::fs::read(home.path().join("down.bin")).unwrap(), data);
    let out = run(&["ls", &s.url("/secure")]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("up.bin"));
    run(&["mv", &s.url("/secure/up.bin"), "moved.bin"]);
    assert!(!s.file("/secure/up.bin").exists());
    run(&["rmdir", &s.url("/secure")]);
    assert!(!s.file("/secure").exists());
}

#[test]
fn a_certificate_from_an_unknown_ca_is_rejected_before_login() {
    let certs = test_certs(&["127.0.0.1"]);
    let s = TestServer::start_tls(&certs);
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .args(["-v", "--tls", "ls", &s.url("/")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not trusted"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!sent(&out.stdout).iter().any(|c| c.starts_with("USER")));
    assert_eq!(s.logins(), 0);
}

#[test]
fn insecure_skips_verification_with_a_warning() {
    let certs = test_certs(&["127.0.0.1"]);
    let s = TestServer::start_tls(&certs);
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .args(["ls", &s.url("/"), "--tls", "--insecure"])
        .assert()
        .success()
        .stderr(predicate::str::contains("warning: --insecure"));
}

#[test]
fn a_wrong_host_name_is_rejected() {
    let certs = test_certs(&["example.test"]);
    let s = TestServer::start_tls(&certs);
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .args([
            "--tls",
            "--cacert",
            certs.ca.to_str().unwrap(),
            "ls",
            &s.url("/"),
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("not trusted"));
    assert_eq!(s.logins(), 0);
}

#[test]
fn a_server_without_tls_is_refused_before_any_password() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .args(["-v", "--tls", "ls", &s.url("/")])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused TLS"));
    let commands = sent(&out.stdout);
    assert_eq!(commands.first().map(String::as_str), Some("AUTH TLS"));
    assert!(
        !commands
            .iter()
            .any(|c| c.starts_with("USER") || c.starts_with("PASS")),
        "{commands:?}"
    );
}

#[test]
fn a_session_over_tls_runs_a_batch() {
    let certs = test_certs(&["127.0.0.1"]);
    let s = TestServer::start_tls(&certs);
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("a.txt"), b"over tls").unwrap();
    let script = format!(
        "open --tls {}\nput a.txt\nget a.txt b.txt\nls\n",
        s.url("/")
    );
    ftp(home.path())
        .args(["--cacert", certs.ca.to_str().unwrap()])
        .write_stdin(script)
        .assert()
        .success()
        .stdout(predicate::str::contains("a.txt"));
    assert_eq!(
        std::fs::read(home.path().join("b.txt")).unwrap(),
        b"over tls"
    );
}

#[test]
fn a_session_opened_with_open_tls_uses_tls_for_every_connection_to_that_server() {
    let certs = test_certs(&["127.0.0.1", "localhost"]);
    let s = TestServer::start_tls(&certs);
    for name in ["a.txt", "b.txt", "c.txt"] {
        s.put(&format!("/d/{name}"), name.as_bytes());
    }
    let home = tempfile::tempdir().unwrap();
    let ca = certs.ca.to_str().unwrap();
    let script = format!(
        "open --tls {}\nverbose on\ncp {} one.txt\ncp -j 2 {} .\n",
        s.url("/"),
        s.url("/d/a.txt"),
        s.url("/d/*.txt")
    );
    let out = ftp(home.path())
        .args(["--cacert", ca])
        .write_stdin(script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let commands = sent(&out.stdout);
    // The full URL used the session's TLS connection; each -j worker logged in with TLS.
    // (A worker whose handshake is still under way when the others have done every file
    // is let go before USER, so there may be more AUTHs than logins, never fewer.)
    let logins = commands.iter().filter(|c| c.starts_with("USER")).count();
    let auths = commands.iter().filter(|c| *c == "AUTH TLS").count();
    assert!(logins >= 2 && logins <= auths, "{commands:?}");
    assert_eq!(
        std::fs::read(home.path().join("one.txt")).unwrap(),
        b"a.txt"
    );
    assert_eq!(std::fs::read(home.path().join("c.txt")).unwrap(), b"c.txt");
}
