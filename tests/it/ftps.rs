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
    // The full URL used the session's TLS connection; the other -j worker logged in with
    // TLS. (A worker whose handshake is still under way when every file is done is let go
    // before USER, so there may be more AUTHs than logins, never fewer.)
    let logins = commands.iter().filter(|c| c.starts_with("USER")).count();
    let auths = commands.iter().filter(|c| *c == "AUTH TLS").count();
    assert!(logins <= auths, "{commands:?}");
    assert_eq!(
        std::fs::read(home.path().join("one.txt")).unwrap(),
        b"a.txt"
    );
    assert_eq!(std::fs::read(home.path().join("c.txt")).unwrap(), b"c.txt");
}

/// The SHA-256 fingerprint of the server's certificate (the first in its chain file), as
/// `openssl x509 -fingerprint -sha256` prints it.
fn fingerprint_of(certs: &common::TestCerts) -> String {
    use rustls_pki_types::pem::PemObject;
    use sha2::Digest;
    let leaf = rustls_pki_types::CertificateDer::pem_file_iter(&certs.chain)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let digest = sha2::Sha256::digest(leaf.as_ref());
    digest
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[test]
fn a_pinned_certificate_is_trusted_on_control_and_data_connections_without_a_ca() {
    let certs = test_certs(&["127.0.0.1"]);
    let s = TestServer::start_tls(&certs);
    let home = tempfile::tempdir().unwrap();
    let fp = fingerprint_of(&certs);
    std::fs::write(home.path().join("up.txt"), b"pinned bytes").unwrap();
    // As openssl prints it, and without colons in lower case: both work.
    let lower = fp.replace(':', "").to_lowercase();
    for pin in [fp.as_str(), lower.as_str()] {
        ftp(home.path())
            .current_dir(home.path())
            .args(["--tls", "--pin", pin, "cp", "up.txt", &s.url("/up.txt")])
            .assert()
            .success();
    }
    ftp(home.path())
        .current_dir(home.path())
        .args(["--tls", "--pin", &format!("SHA256:{fp}")])
        .args(["cp", &s.url("/up.txt"), "down.txt"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(home.path().join("down.txt")).unwrap(),
        b"pinned bytes"
    );
}

#[test]
fn a_certificate_that_is_not_pinned_is_refused_even_when_a_ca_vouches_for_it() {
    let certs = test_certs(&["127.0.0.1"]);
    let s = TestServer::start_tls(&certs);
    let home = tempfile::tempdir().unwrap();
    let fp = fingerprint_of(&certs);
    let other = "00:".repeat(31) + "00";
    // Neither a CA that vouches for it nor --insecure turns a pin off.
    for extra in [
        &[][..],
        &["--cacert", certs.ca.to_str().unwrap()][..],
        &["--insecure"][..],
    ] {
        let out = ftp(home.path())
            .args(["--tls", "--pin", &other])
            .args(extra)
            .args(["ls", &s.url("/")])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not one of the pinned certificates"), "{err}");
        assert!(err.contains(&format!("--pin SHA256:{fp}")), "{err}");
        assert!(!err.contains(PASSWORD));
    }
    // A pin that is not a fingerprint is a usage error.
    ftp(home.path())
        .args(["--tls", "--pin", "12:34", "ls", &s.url("/")])
        .assert()
        .code(2);
}

#[test]
fn an_untrusted_certificate_error_gives_its_fingerprint_and_the_option_to_add() {
    let certs = test_certs(&["127.0.0.1"]);
    let s = TestServer::start_tls(&certs);
    let home = tempfile::tempdir().unwrap();
    let fp = fingerprint_of(&certs);
    let out = ftp(home.path())
        .args(["--tls", "ls", &s.url("/")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not trusted"), "{err}");
    assert!(err.contains(&format!("--pin SHA256:{fp}")), "{err}");
    // One-shot runs never ask and never remember.
    assert!(!home.path().join("data/3700ftp/known_certs").exists());
}

/// Answers every certificate question with yes, and counts them.
struct SaysYes(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl ftp3700::session::credentials::Prompter for SaysYes {
    fn password(&self, _prompt: &str) -> Option<String> {
        None
    }
    fn confirm(&self, question: &str) -> bool {
        assert!(question.contains("SHA256:"), "{question}");
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        true
    }
}

#[test]
fn at_the_prompt_an_accepted_certificate_is_remembered_and_a_changed_one_refused() {
    use ftp3700::ctx::Ctx;
    use ftp3700::ftp::connection::{Options, TlsSource};
    use ftp3700::output::{Output, SharedBuf};
    let certs = test_certs(&["127.0.0.1"]);
    let s = TestServer::start_tls(&certs);
    let home = tempfile::tempdir().unwrap();
    let known = home.path().join("data/3700ftp/known_certs");
    let fp = fingerprint_of(&certs);
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let session = |ask: bool| {
        // As app.rs does: the remembered certificates are read once, above the protocol.
        let mut tls = TlsSource::new(None, false);
        tls.known = ftp3700::known_certs::load(&known).0;
        let opts = Options {
            explicit_tls: true,
            tls,
            ..Options::default()
        };
        let (out, err) = (SharedBuf::default(), SharedBuf::default());
        let mut ctx = Ctx::new(opts, false, Output::buffers(out, err.clone()));
        ctx.in_session = true;
        ctx.prompter = Box::new(SaysYes(asked.clone()));
        ctx.known_certs = Some(known.clone());
        ctx.ask_about_certificates = ask;
        (ctx, err)
    };
    let words = |line: &str| line.split(' ').map(String::from).collect::<Vec<_>>();

    // Not at the prompt (batch): nobody is asked, nothing remembered.
    let (mut ctx, _) = session(false);
    let e = ftp3700::commands::dispatch(&mut ctx, &words(&format!("open {}", s.url("/"))));
    assert_eq!(e.unwrap_err().kind().exit_code(), 3);
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert!(!known.exists());

    // At the prompt: asked once, remembered, and the session works (data connections too).
    let (mut ctx, err) = session(true);
    ftp3700::commands::dispatch(&mut ctx, &words(&format!("open {}", s.url("/"))))
        .unwrap_or_else(|e| panic!("{e}: {}", err.text()));
    ftp3700::commands::dispatch(&mut ctx, &words("mkdir tofu")).unwrap();
    ftp3700::commands::dispatch(&mut ctx, &words("ls")).unwrap();
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(s.file("/tofu").is_dir());
    let text = std::fs::read_to_string(&known).unwrap();
    assert_eq!(
        text,
        format!("127.0.0.1:{} SHA256:{fp}\n", s.port),
        "{}",
        err.text()
    );

    // A later run trusts the remembered certificate without asking (one-shot too).
    ftp(home.path())
        .args(["--tls", "ls", &s.url("/")])
        .assert()
        .success()
        .stdout(predicate::str::contains("tofu"));

    // A different certificate for that server is refused loudly, naming the file.
    let other = "AB:".repeat(31) + "AB";
    std::fs::write(&known, format!("127.0.0.1:{} SHA256:{other}\n", s.port)).unwrap();
    let out = ftp(home.path())
        .args(["--tls", "ls", &s.url("/")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CERTIFICATE HAS CHANGED"), "{err}");
    assert!(err.contains(&format!("it is now SHA256:{fp}")), "{err}");
    assert!(err.contains("known_certs"), "{err}");
    // Even at the prompt, a changed certificate is not offered for acceptance.
    let (mut ctx, _) = session(true);
    let e = ftp3700::commands::dispatch(&mut ctx, &words(&format!("open {}", s.url("/"))));
    assert!(e.unwrap_err().to_string().contains("HAS CHANGED"));
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn pty_the_prompt_asks_about_an_untrusted_certificate_and_remembers_a_yes() {
    let certs = test_certs(&["127.0.0.1"]);
    let s = TestServer::start_tls(&certs);
    s.put("/over-tls.txt", b"x");
    let home = tempfile::tempdir().unwrap();
    let fp = fingerprint_of(&certs);
    let mut cmd = common::command(home.path());
    cmd.args(["--tls", &s.url("/")]);
    let mut p = common::pty::Pty::spawn(cmd);
    p.expect(&format!("fingerprint is SHA256:{fp}"));
    p.expect("(yes/no)");
    // The answer is read in the terminal's line mode (no line editor yet, and a pty
    // spawned for tests does not echo): no newline comes back to wait for.
    p.send("yes\r");
    p.expect("remembered the certificate");
    let prompt = "alice@127.0.0.1:/> ";
    p.expect(prompt);
    let listed = p.run("ls", prompt);
    assert!(listed.contains("over-tls.txt"), "{listed}");
    let status = p.ctrl_d_and_exit();
    assert!(status.ends_with(", 0)"), "{status}");
    let known = home.path().join("data/3700ftp/known_certs");
    assert_eq!(
        std::fs::read_to_string(known).unwrap(),
        format!("127.0.0.1:{} SHA256:{fp}\n", s.port)
    );
}

#[test]
fn a_sites_pin_from_the_config_file_trusts_its_certificate_and_the_command_line_wins() {
    let certs = test_certs(&["127.0.0.1"]);
    let s = TestServer::start_tls(&certs);
    let home = tempfile::tempdir().unwrap();
    let fp = fingerprint_of(&certs);
    let dir = home.path().join("config/3700ftp");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "[sites.tls]\nurl = \"ftp://127.0.0.1:{}/\"\ntls = true\npin = \"{fp}\"\n",
            s.port
        ),
    )
    .unwrap();
    s.put("/f.txt", b"pinned");
    let run = |args: &[&str]| {
        ftp(home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .args(args)
            .output()
            .unwrap()
    };
    let o = run(&["cp", "tls:/f.txt", "got.txt"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read(home.path().join("got.txt")).unwrap(),
        b"pinned"
    );
    // --pin on the command line replaces the site's: another fingerprint is refused.
    let other = "00:".repeat(31) + "00";
    let o = run(&["--pin", &other, "ls", "tls:/"]);
    assert!(!o.status.success());
}
