//! Credentials: netrc, the password prompt, and the password never shown anywhere.

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use common::{ftp, test_certs, TestServer, PASSWORD, PASSWORD_ENCODED, USER};
use expectrl::{Expect, Session};
use predicates::prelude::*;

fn write_netrc(path: &std::path::Path, mode: u32) {
    std::fs::write(
        path,
        format!("machine 127.0.0.1\n  login {USER}\n  password \"{PASSWORD}\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn netrc_supplies_user_and_password() {
    let s = TestServer::start();
    s.put("/mine.txt", b"m");
    let home = tempfile::tempdir().unwrap();
    write_netrc(&home.path().join(".netrc"), 0o600);
    let out = ftp(home.path())
        .args(["-v", "ls", &s.anon_url("/")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("> USER {USER}")));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "no warning for a private netrc"
    );
    // A user in the URL takes only the password from netrc.
    let url = format!("ftp://{USER}@127.0.0.1:{}/", s.port);
    ftp(home.path()).args(["ls", &url]).assert().success();
}

#[test]
fn a_netrc_readable_by_others_gets_a_warning_and_netrc_env_is_honoured() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let elsewhere = home.path().join("my-netrc");
    write_netrc(&elsewhere, 0o644);
    ftp(home.path())
        .env("NETRC", &elsewhere)
        .args(["ls", &s.anon_url("/")])
        .assert()
        .success()
        .stderr(predicate::str::contains("readable by other users"));
}

#[test]
fn a_user_without_password_in_batch_mode_is_a_clear_error_not_a_hang() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let url = format!("ftp://{USER}@127.0.0.1:{}/", s.port);
    ftp(home.path())
        .args(["ls", &url])
        .write_stdin("")
        .timeout(Duration::from_secs(20))
        .assert()
        .code(4)
        .stderr(predicate::str::contains("wants a password"));
}

#[test]
fn the_password_is_asked_without_echo_on_a_terminal() {
    let s = TestServer::start();
    s.put("/asked.txt", b"a");
    let home = tempfile::tempdir().unwrap();
    let mut cmd = common::command(home.path());
    cmd.args(["ls", &format!("ftp://{USER}@127.0.0.1:{}/", s.port)]);
    let mut p = Session::spawn(cmd).unwrap();
    p.set_expect_timeout(Some(Duration::from_secs(15)));
    p.expect(format!("Password for {USER}@127.0.0.1: ").as_str())
        .unwrap();
    p.send_line(PASSWORD).unwrap();
    let found = p.expect("asked.txt").unwrap();
    let before = String::from_utf8_lossy(found.before()).into_owned();
    assert!(!before.contains(PASSWORD), "echoed: {before:?}");
}

/// Every scenario's stdout and stderr are searched for the password, raw and encoded.
#[test]
fn the_password_never_appears_in_any_output() {
    let s = TestServer::start();
    s.put("/f.txt", b"f");
    let certs = test_certs(&["127.0.0.1"]);
    let tls = TestServer::start_tls(&certs);
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("up.txt"), b"u").unwrap();
    let wrong = format!("ftp://{USER}:{PASSWORD_ENCODED}x@127.0.0.1:{}/", s.port);
    let dead = format!("ftp://{USER}:{PASSWORD_ENCODED}@127.0.0.1:1/");
    let ca = certs.ca.to_str().unwrap().to_string();
    let scenarios: Vec<(Vec<String>, Option<String>)> = vec![
        (vec!["-v".into(), "ls".into(), s.url("/")], None),
        (
            vec!["-v".into(), "cp".into(), s.url("/f.txt"), "f.txt".into()],
            None,
        ),
        (
            vec!["-v".into(), "cp".into(), "up.txt".into(), s.url("/")],
            None,
        ),
        (vec!["-v".into(), "rm".into(), s.url("/missing")], None),
        (vec!["-v".into(), "ls".into(), wrong.clone()], None),
        (vec!["-v".into(), "ls".into(), dead], None),
        (
            vec![
                "-v".into(),
                "http://x:".to_string() + PASSWORD_ENCODED + "@h/",
            ],
            None,
        ),
        (
            vec![
                "-v".into(),
                "ls".into(),
                format!("ftp://{USER}:{PASSWORD_ENCODED}@127.0.0.1:{}/%0A", s.port),
            ],
            None,
        ),
        (
            vec![
                "-v".into(),
                "--tls".into(),
                "--cacert".into(),
                ca.clone(),
                "ls".into(),
                tls.url("/"),
            ],
            None,
        ),
        (
            vec!["-v".into(), "--tls".into(), "ls".into(), tls.url("/")],
            None,
        ),
        (
            vec!["-v".into(), s.url("/")],
            Some(format!("ls\npwd\nverbose\nrm nothing\nopen {wrong}\n")),
        ),
        (
            vec![],
            Some(format!(
                "open {}\nls\n-cd nowhere\nget f.txt g.txt\n",
                s.url("/")
            )),
        ),
    ];
    for (args, stdin) in scenarios {
        let mut cmd = ftp(home.path());
        cmd.args(&args);
        cmd.write_stdin(stdin.unwrap_or_default());
        let out = cmd.output().unwrap();
        for (name, stream) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let text = String::from_utf8_lossy(stream);
            assert!(
                !text.contains(PASSWORD) && !text.contains(PASSWORD_ENCODED),
                "{name} of {args:?} shows the password:\n{text}"
            );
        }
    }
    let history = home.path().join("data/3700ftp/history");
    if let Ok(h) = std::fs::read_to_string(history) {
        assert!(!h.contains(PASSWORD) && !h.contains(PASSWORD_ENCODED));
    }
}

#[test]
fn credentials_are_resolved_once_per_operation_even_with_parallel_workers() {
    let s = TestServer::start();
    for name in ["a.txt", "b.txt", "c.txt"] {
        s.put(&format!("/{name}"), name.as_bytes());
    }
    let home = tempfile::tempdir().unwrap();
    let netrc = home.path().join("my-netrc");
    write_netrc(&netrc, 0o644);
    let out = ftp(home.path())
        .env("NETRC", &netrc)
        .args(["cp", "-j", "3", &s.anon_url("/*.txt"), "."])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("readable by other users").count(), 1, "{err}");
    assert_eq!(std::fs::read(home.path().join("c.txt")).unwrap(), b"c.txt");
}
