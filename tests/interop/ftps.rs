//! FTPS against vsftpd: explicit (`--tls`: `AUTH TLS`, then `PBSZ 0` and
//! `PROT P` after login) on [`Kind::VsftpdTls`], and implicit (`ftps://`) on
//! [`Kind::VsftpdImplicitTls`].
//!
//! Each server gets a private CA and a certificate for `IP:127.0.0.1` and
//! `DNS:localhost` made with `openssl` at startup; the client trusts it
//! through `--cacert`. Both variants run with `force_local_logins_ssl`,
//! `force_local_data_ssl` and `require_ssl_reuse`: a login or a transfer
//! that is not protected, or a data connection that does not resume the
//! control connection's TLS session, is refused by the server, so every
//! successful transfer here also proves protection and resumption.

use std::fs;

use crate::cases::Fixture;
use crate::client::{
    assert_file, assert_missing, run_batch, sha256_file, sha256_hex, tricky_bytes, Run,
};
use crate::server::{make_ca, Kind, Server, PASSWORD};

const EXIT_CONNECTION: i32 = 3;
const EXIT_LOGIN: i32 = 4;
const EXIT_LOCAL_IO: i32 = 6;

const TEN_MIB: usize = 10 * 1024 * 1024;

impl Fixture {
    /// `3700ftp --cacert CA ARGS...` (plus `--tls` for the explicit variant),
    /// the options put where a user might: some before, some after.
    fn ftps(&self, args: &[&str]) -> Run {
        let ca = self.s(self.server.ca_file());
        let mut all: Vec<&str> = vec!["--cacert", &ca];
        all.extend_from_slice(args);
        if self.server.kind() == Kind::VsftpdTls {
            all.push("--tls");
        }
        self.ftp(&all)
    }

    /// Batch mode over TLS, with `extra` options before the URL.
    fn ftps_batch(&self, extra: &[&str], url: &str, script: &str) -> Run {
        let ca = self.s(self.server.ca_file());
        let mut args: Vec<&str> = extra.to_vec();
        args.extend(["--cacert", &ca]);
        if self.server.kind() == Kind::VsftpdTls {
            args.push("--tls");
        }
        args.push(url);
        run_batch(&self.server, self.local.path(), &args, script)
    }

    /// FTP commands the server received (vsftpd's `log_ftp_protocol`).
    fn server_commands(&self) -> Vec<String> {
        self.server
            .log_text()
            .lines()
            .filter_map(|l| l.split_once("FTP command: "))
            .map(|(_, rest)| rest.to_owned())
            .collect()
    }

    /// vsftpd's `debug_ssl` handshake lines: `SSL version: TLSv1.3, SSL
    /// cipher: ..., reused|not reused, no cert`.
    fn server_handshakes(&self) -> Vec<String> {
        self.server
            .log_text()
            .lines()
            .filter_map(|l| l.split_once("\"SSL version: "))
            .map(|(_, rest)| rest.trim_end_matches('"').to_owned())
            .collect()
    }
}

/// Pseudo-random bytes (xorshift64*, seeded from the clock).
fn random_bytes(len: usize) -> Vec<u8> {
    let mut state: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut data = Vec::with_capacity(len + 8);
    while data.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        data.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    data.truncate(len);
    data
}

fn lines_of(run: &Run, prefix: &str) -> Vec<String> {
    run.stdout()
        .lines()
        .filter(|l| l.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

/// The trace of a session must show TLS before USER, and every data
/// connection note (when the client prints one) must say it resumed.
#[track_caller]
fn assert_tls_trace(run: &Run, explicit: bool) {
    let out = run.stdout();
    let pos = |needle: &str| out.find(needle);
    let tls_note = pos("* TLS: TLSv1_");
    let user = pos("> USER ftpuser");
    run.check(tls_note.is_some(), "expected a `* TLS: TLSv1_...` note")
        .check(user.is_some(), "expected `> USER ftpuser`")
        .check(
            tls_note < user,
            "the TLS handshake must complete before USER is sent",
        )
        .stdout_contains("> PASS ****")
        .stdout_contains("< 230")
        .stdout_contains("> PBSZ 0")
        .stdout_contains("> PROT P")
        .check(
            pos("> PROT P") > pos("< 230"),
            "PBSZ/PROT must come after the login",
        )
        .check(
            out.contains("> PROT P\n< 200"),
            "PROT P must be accepted with 200",
        )
        .output_lacks(PASSWORD);
    if explicit {
        run.stdout_contains("> AUTH TLS")
            .stdout_contains("< 234")
            .check(
                pos("> AUTH TLS") < tls_note,
                "AUTH TLS before the handshake",
            );
    } else {
        run.output_lacks("> AUTH TLS").check(
            tls_note < pos("< 220"),
            "implicit TLS: the handshake comes before the 220 greeting",
        );
    }
    for note in lines_of(run, "* data connection TLS:") {
        run.check(
            note.ends_with("session resumed"),
            &format!("data connection did not resume the session: {note:?}"),
        );
    }
}

// ---- explicit FTPS (--tls) ---------------------------------------------------------

pub fn explicit_full_cycle() {
    let f = Fixture::new(Kind::VsftpdTls);
    let data: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    let src = f.lwrite("bytes.bin", &data);

    f.ftps(&["mkdir", &f.url("/tls dir")]).ok();
    assert!(f.spath("/tls dir").is_dir(), "{}", f.ctx("mkdir over TLS"));

    f.ftps(&["cp", &f.s(&src), &f.url("/tls dir/bytes.bin")])
        .ok();
    assert_file(
        &f.spath("/tls dir/bytes.bin"),
        &data,
        &f.ctx("upload of all 256 byte values over TLS"),
    );
    let down = f.lpath("back.bin");
    f.ftps(&["cp", &f.url("/tls dir/bytes.bin"), &f.s(&down)])
        .ok();
    assert_file(&down, &data, &f.ctx("download over TLS"));

    f.ftps(&["ls", &f.url("/tls dir")])
        .ok()
        .stdout_contains("bytes.bin");

    // mv both ways.
    let moved = f.lpath("moved-here.bin");
    f.ftps(&["mv", &f.url("/tls dir/bytes.bin"), &f.s(&moved)])
        .ok();
    assert_file(&moved, &data, &f.ctx("mv remote->local over TLS"));
    assert_missing(
        &f.spath("/tls dir/bytes.bin"),
        &f.ctx("mv remote->local removed the remote source"),
    );
    f.ftps(&["mv", &f.s(&moved), &f.url("/tls dir/again.bin")])
        .ok();
    assert_file(
        &f.spath("/tls dir/again.bin"),
        &data,
        &f.ctx("mv local->remote over TLS"),
    );
    assert_missing(&moved, &f.ctx("mv local->remote removed the local source"));

    f.ftps(&["rm", &f.url("/tls dir/again.bin")]).ok();
    assert_missing(&f.spath("/tls dir/again.bin"), &f.ctx("rm over TLS"));
    f.ftps(&["rmdir", &f.url("/tls dir")]).ok();
    assert_missing(&f.spath("/tls dir"), &f.ctx("rmdir over TLS"));

    // The server saw every session protected and every data connection
    // resumed (its debug_ssl log), and never a plain login.
    let handshakes = f.server_handshakes();
    assert!(
        handshakes.iter().any(|h| h.contains(", reused,")),
        "{}: no resumed handshake in vsftpd's log: {handshakes:#?}",
        f.ctx("resumption")
    );
}

pub fn explicit_verbose_trace() {
    let f = Fixture::new(Kind::VsftpdTls);
    let data = tricky_bytes();
    let src = f.lwrite("trace.bin", &data);
    let up = f.ftps(&["-v", "cp", &f.s(&src), &f.url("/trace.bin")]);
    up.ok();
    assert_tls_trace(&up, true);
    assert_file(&f.spath("/trace.bin"), &data, &f.ctx("upload with -v"));

    let down = f.lpath("trace-back.bin");
    let run = f.ftps(&["cp", &f.url("/trace.bin"), &f.s(&down), "-v"]);
    run.ok();
    assert_tls_trace(&run, true);
    assert_file(&down, &data, &f.ctx("download with -v"));

    let ls = f.ftps(&["ls", "-v", &f.url("/")]);
    ls.ok().stdout_contains("trace.bin");
    assert_tls_trace(&ls, true);

    // Server side: 3 control connections (not reused) and at least one
    // resumed data connection per run.
    let handshakes = f.server_handshakes();
    let fresh = handshakes
        .iter()
        .filter(|h| h.contains("not reused"))
        .count();
    let resumed = handshakes
        .iter()
        .filter(|h| h.contains(", reused,"))
        .count();
    assert!(
        fresh == 3 && resumed >= 3,
        "{}: expected 3 fresh handshakes and >= 3 resumed ones, vsftpd logged {handshakes:#?}",
        f.ctx("handshakes")
    );
}

pub fn explicit_10mib_sha256_both_ways() {
    let f = Fixture::new(Kind::VsftpdTls);
    let data = random_bytes(TEN_MIB);
    let digest = sha256_hex(&data);
    // Download first (of a file put on the server's disk), so that an
    // upload failure does not hide how downloads fare.
    f.seed("/seeded-ten.bin", &data);
    let down = f.lpath("seeded-back.bin");
    f.ftps(&["cp", &f.url("/seeded-ten.bin"), &f.s(&down)]).ok();
    assert_eq!(
        sha256_file(&down),
        digest,
        "{}",
        f.ctx("SHA-256 of the 10 MiB download")
    );

    let src = f.lwrite("ten.bin", &data);
    drop(data);
    f.ftps(&["cp", &f.s(&src), &f.url("/ten.bin")]).ok();
    let remote = f.spath("/ten.bin");
    assert_eq!(
        fs::metadata(&remote).map(|m| m.len()).ok(),
        Some(TEN_MIB as u64),
        "{}",
        f.ctx("size of the 10 MiB upload")
    );
    assert_eq!(
        sha256_file(&remote),
        digest,
        "{}",
        f.ctx("SHA-256 of the upload")
    );
    let back = f.lpath("ten-back.bin");
    f.ftps(&["cp", &f.url("/ten.bin"), &f.s(&back)]).ok();
    assert_eq!(
        sha256_file(&back),
        digest,
        "{}",
        f.ctx("SHA-256 of the round trip")
    );
}

pub fn explicit_untrusted_certificate_refused() {
    let f = Fixture::new(Kind::VsftpdTls);
    f.seed("/secret.txt", b"s");
    let url = f.url("/");

    // The system trust store does not know the private CA.
    f.ftp(&["-v", "--tls", "ls", &url])
        .expect_code(EXIT_CONNECTION)
        .stdout_contains("> AUTH TLS")
        .output_lacks("> USER")
        .output_lacks("> PASS")
        .output_lacks("secret.txt");

    // Another CA (same subject name, different key) is no better.
    let other = make_ca(&f.lpath("other-ca"), "3700ftp interop test CA");
    f.ftp(&["-v", "--tls", "--cacert", &f.s(&other.cert), "ls", &url])
        .expect_code(EXIT_CONNECTION)
        .output_lacks("> USER")
        .output_lacks("secret.txt");

    // A missing CA file is a local error, found before connecting.
    f.ftp(&["--tls", "--cacert", &f.s(&f.lpath("nope.pem")), "ls", &url])
        .expect_code(EXIT_LOCAL_IO);

    let commands = f.server_commands();
    assert!(
        commands.iter().all(|c| !c.contains("USER")),
        "{}: vsftpd received a USER command: {commands:#?}",
        f.ctx("no login over an unverified connection")
    );
}

pub fn explicit_wrong_host_name_refused() {
    // A certificate from the trusted CA, but for another name.
    let server = Server::start_with_cert_names(Kind::VsftpdTls, "DNS:elsewhere.invalid");
    let f = Fixture::with_server(server);
    f.ftps(&["-v", "ls", &f.url("/")])
        .expect_code(EXIT_CONNECTION)
        .output_lacks("> USER");
    let commands = f.server_commands();
    assert!(
        commands.iter().all(|c| !c.contains("USER")),
        "{}: vsftpd received a USER command: {commands:#?}",
        f.ctx("no login when the name does not match")
    );
}

pub fn explicit_localhost_name_verified() {
    // The certificate names DNS:localhost too.
    let f = Fixture::new(Kind::VsftpdTls);
    f.seed("/here.txt", b"h");
    let url = f.url("/").replacen("@127.0.0.1:", "@localhost:", 1);
    f.ftps(&["ls", &url]).ok().stdout_contains("here.txt");
}

pub fn explicit_insecure_works_with_warning() {
    let f = Fixture::new(Kind::VsftpdTls);
    let data = tricky_bytes();
    let src = f.lwrite("insecure.bin", &data);
    f.ftp(&[
        "--insecure",
        "--tls",
        "cp",
        &f.s(&src),
        &f.url("/insecure.bin"),
    ])
    .ok()
    .stderr_contains("--insecure")
    .stderr_contains("not verified");
    assert_file(
        &f.spath("/insecure.bin"),
        &data,
        &f.ctx("upload with --insecure"),
    );
    f.ftp(&["ls", &f.url("/"), "--tls", "--insecure"])
        .ok()
        .stdout_contains("insecure.bin")
        .stderr_contains("--insecure");
}

pub fn explicit_plain_login_refused() {
    // force_local_logins_ssl: without --tls vsftpd answers USER with 530.
    let f = Fixture::new(Kind::VsftpdTls);
    f.ftp(&["-v", "ls", &f.url("/")])
        .expect_code(EXIT_LOGIN)
        .stdout_contains("< 530")
        .output_lacks(PASSWORD);
}

pub fn explicit_batch_session() {
    let f = Fixture::new(Kind::VsftpdTls);
    let data = tricky_bytes();
    f.lwrite("local.bin", &data);
    let script = "\
mkdir work
cd work
put local.bin
put local.bin again.bin
get local.bin got.bin
get again.bin got2.bin
ls
rm local.bin
rm again.bin
cd ..
rmdir work
";
    // Back-to-back transfers: the second upload's data connection is made early and the
    // second download's SIZE and the EPSV after it ride with RETR, all under TLS.
    f.ftps_batch(&[], &f.url("/"), script)
        .ok()
        .stdout_contains("local.bin");
    assert_file(&f.lpath("got.bin"), &data, &f.ctx("batch get over TLS"));
    assert_file(
        &f.lpath("got2.bin"),
        &data,
        &f.ctx("second batch get over TLS"),
    );
    assert_missing(&f.spath("/work"), &f.ctx("batch rmdir over TLS"));
}

// ---- implicit FTPS (ftps://) ----------------------------------------------------------

pub fn implicit_ls_and_cp_both_ways() {
    let f = Fixture::new(Kind::VsftpdImplicitTls);
    let url = f.url("/");
    assert!(
        url.starts_with("ftps://ftpuser:p%40ss%3Aw%2Frd@127.0.0.1:"),
        "{url}"
    );
    f.seed("/seeded.txt", b"seeded");
    let ls = f.ftps(&["-v", "ls", &url]);
    ls.ok().stdout_contains("seeded.txt");
    assert_tls_trace(&ls, false);

    let data = tricky_bytes();
    let src = f.lwrite("up.bin", &data);
    f.ftps(&["cp", &f.s(&src), &f.url("/up.bin")]).ok();
    assert_file(&f.spath("/up.bin"), &data, &f.ctx("implicit upload"));
    let down = f.lpath("down.bin");
    let run = f.ftps(&["-v", "cp", &f.url("/up.bin"), &f.s(&down)]);
    run.ok();
    assert_tls_trace(&run, false);
    assert_file(&down, &data, &f.ctx("implicit download"));
}

pub fn implicit_batch_session() {
    let f = Fixture::new(Kind::VsftpdImplicitTls);
    let data = tricky_bytes();
    f.lwrite("local.bin", &data);
    f.seed("/base/marker.txt", b"m");
    let script = "\
ls
mkdir d
cd d
put local.bin x.bin
ls
get x.bin out.bin
rm x.bin
cd ..
rmdir d
pwd
";
    let run = f.ftps_batch(&["-v"], &f.url("/base"), script);
    run.ok()
        .stdout_contains("marker.txt")
        .stdout_contains("x.bin")
        .stdout_contains("/base");
    assert_tls_trace(&run, false);
    // One login, every data connection resumed.
    let logins = run
        .stdout()
        .lines()
        .filter(|l| l.starts_with("> USER"))
        .count();
    run.check(logins == 1, "batch mode: one login for the whole session");
    assert_file(&f.lpath("out.bin"), &data, &f.ctx("implicit batch get"));
    assert_missing(&f.spath("/base/d"), &f.ctx("implicit batch rmdir"));
}

pub fn implicit_untrusted_certificate_refused() {
    let f = Fixture::new(Kind::VsftpdImplicitTls);
    f.ftp(&["-v", "ls", &f.url("/")])
        .expect_code(EXIT_CONNECTION)
        .output_lacks("> USER")
        .output_lacks("< 220");
    // The harness's startup probe said QUIT (logged whenever vsftpd gets to
    // it); nothing else may reach the server.
    let mut commands = f.server_commands();
    if let Some(i) = commands.iter().position(|c| c.ends_with("\"QUIT\"")) {
        commands.remove(i);
    }
    assert!(
        commands.is_empty(),
        "{}: vsftpd received commands: {commands:#?}",
        f.ctx("nothing sent over an unverified connection")
    );
}

pub fn implicit_port_with_plain_ftp_fails() {
    // Plain FTP to an implicit-TLS port: the server waits for a ClientHello,
    // the client for a greeting; the client must give up (timeout), not hang.
    let f = Fixture::new(Kind::VsftpdImplicitTls);
    let url = f.url("/").replacen("ftps://", "ftp://", 1);
    let start = std::time::Instant::now();
    f.ftp(&["--timeout", "3", "ls", &url])
        .expect_code(EXIT_CONNECTION);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(30),
        "{}: took {:?}",
        f.ctx("timeout"),
        start.elapsed()
    );
}

pub fn explicit_port_with_implicit_tls_fails() {
    // ftps:// to an explicit-TLS server: its plain 220 greeting is not a
    // TLS record.
    let f = Fixture::new(Kind::VsftpdTls);
    let url = f.url("/").replacen("ftp://", "ftps://", 1);
    let ca = f.s(f.server.ca_file());
    f.ftp(&["--timeout", "5", "--cacert", &ca, "ls", &url])
        .expect_code(EXIT_CONNECTION);
}

/// `cp --segments 4` over explicit FTPS: every connection (the command's own and three
/// more) logs in over TLS and protects its data connections; each range's end (ABOR, or a
/// worker with nothing left hanging up with close_notify) leaves the file byte-exact.
pub fn explicit_segments_byte_exact() {
    let f = Fixture::new(Kind::VsftpdTls);
    let data = random_bytes(4 * 1024 * 1024 + 999);
    let digest = sha256_hex(&data);
    f.seed("/seg-tls.bin", &data);
    let down = f.lpath("seg-tls.bin");
    let run = f.ftps(&[
        "-v",
        "cp",
        "--segments",
        "4",
        &f.url("/seg-tls.bin"),
        &f.s(&down),
    ]);
    run.ok();
    assert!(
        !run.stderr().contains("one stream"),
        "{}",
        f.ctx("a segmented FTPS download stays segmented")
    );
    // More than one connection, each with its own TLS login: four, unless a loaded machine
    // made the server refuse or time out an extra login (the download goes on over fewer,
    // and says so), or a connection that did not settle after ABOR was replaced by a new one.
    let logins = run.stdout().matches("230 ").count();
    assert!(
        logins >= 2,
        "{logins} logins\n{}\n{}",
        run.stderr(),
        f.ctx("logins of a segmented FTPS download")
    );
    assert_eq!(
        sha256_file(&down),
        digest,
        "{}",
        f.ctx("SHA-256 of the segmented FTPS download")
    );
}
