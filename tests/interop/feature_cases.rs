//! Interop tests of proxies (microsocks, tinyproxy), active mode, hash
//! verification (proftpd's mod_digest) and kept modification times (`cp
//! -p`). Unlike `cases`, each test names the servers it runs against (see
//! main.rs): these features depend on what a server offers (docs/servers.md,
//! "Proxies, active mode, hashes and times").

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::cases::Fixture;
use crate::client::{assert_file, assert_missing, run_env, sha256_hex, tricky_bytes, Run};
use crate::proxy::{Proxy, ProxyKind, HTTP_USER, SOCKS_USER};
use crate::server::{chown_to_ftpuser, Kind, Server};

const EXIT_CONNECTION: i32 = 3;

/// An environment variable for [`run_env`].
type Env<'a> = (&'a str, &'a str);
const EXIT_REFUSED: i32 = 5;

/// The `* connecting to … through the proxy URL` note for `server`.
fn control_note(server: &Server, proxy: &Proxy) -> String {
    format!(
        "* connecting to 127.0.0.1:{} through the proxy {}",
        server.port(),
        proxy.shown_url()
    )
}

const DATA_NOTE_START: &str = "* data connection to 127.0.0.1:";
const DATA_NOTE_END: &str = " through the proxy";

/// Asserts that a `-v` run went through `proxy`: the control note, every
/// data connection through it too (when `data`), and no credentials shown.
#[track_caller]
fn assert_through(run: &Run, server: &Server, proxy: &Proxy, data: bool) {
    run.stdout_contains(&control_note(server, proxy));
    let out = run.stdout();
    let data_lines: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("* data connection"))
        .collect();
    if data {
        run.check(
            !data_lines.is_empty(),
            "expected a `* data connection to … through the proxy` note",
        );
    }
    for line in &data_lines {
        run.check(
            line.starts_with(DATA_NOTE_START) && line.ends_with(DATA_NOTE_END),
            &format!("data connection not through the proxy: {line:?}"),
        );
    }
    // Passive only: never an active-mode command.
    run.stdout_lacks("> EPRT").stdout_lacks("> PORT ");
    for secret in proxy.secrets() {
        run.output_lacks(secret);
    }
}

/// Every operation through `proxy` against `kind`, with `-v`; `--proxy`
/// stands before the operation in some runs and after the operands in
/// others. Checks bytes on disk and that the proxy opened the connections.
fn all_operations_through(kind: Kind, proxy_kind: ProxyKind) {
    let f = Fixture::new(kind);
    let proxy = Proxy::start(proxy_kind);
    let purl = proxy.url();
    let ctx = |what: &str| format!("[{kind} via {proxy_kind}] {what}");
    let data = tricky_bytes();

    // mkdir (option first)
    let r = f.ftp(&["--proxy", &purl, "-v", "mkdir", &f.url("/via proxy")]);
    r.ok();
    assert_through(&r, &f.server, &proxy, false);
    assert!(f.spath("/via proxy").is_dir(), "{}", ctx("mkdir"));

    // cp upload (option last), byte-exact
    let src = f.lwrite("up.bin", &data);
    let r = f.ftp(&[
        "-v",
        "cp",
        &f.s(&src),
        &f.url("/via proxy/up.bin"),
        "--proxy",
        &purl,
    ]);
    r.ok();
    assert_through(&r, &f.server, &proxy, true);
    assert_file(&f.spath("/via proxy/up.bin"), &data, &ctx("cp upload"));

    // ls shows it
    let r = f.ftp(&["-v", "ls", &f.url("/via proxy/"), "--proxy", &purl]);
    r.ok().stdout_contains("up.bin");
    assert_through(&r, &f.server, &proxy, true);

    // cp download, byte-exact
    let down = f.lpath("down.bin");
    let r = f.ftp(&[
        "--proxy",
        &purl,
        "-v",
        "cp",
        &f.url("/via proxy/up.bin"),
        &f.s(&down),
    ]);
    r.ok();
    assert_through(&r, &f.server, &proxy, true);
    assert_file(&down, &data, &ctx("cp download"));

    // mv upload: local source gone
    let moving = f.lwrite("moving.bin", &data[..1000]);
    let r = f.ftp(&[
        "-v",
        "--proxy",
        &purl,
        "mv",
        &f.s(&moving),
        &f.url("/via proxy/moved.bin"),
    ]);
    r.ok();
    assert_through(&r, &f.server, &proxy, true);
    assert_file(
        &f.spath("/via proxy/moved.bin"),
        &data[..1000],
        &ctx("mv upload"),
    );
    assert_missing(&moving, &ctx("mv upload: local source"));

    // mv download: remote source gone
    let back = f.lpath("back.bin");
    let r = f.ftp(&[
        "-v",
        "mv",
        &f.url("/via proxy/moved.bin"),
        &f.s(&back),
        "--proxy",
        &purl,
    ]);
    r.ok();
    assert_through(&r, &f.server, &proxy, true);
    assert_file(&back, &data[..1000], &ctx("mv download"));
    assert_missing(
        &f.spath("/via proxy/moved.bin"),
        &ctx("mv download: remote source"),
    );

    // rm, then rmdir
    let r = f.ftp(&["-v", "rm", &f.url("/via proxy/up.bin"), "--proxy", &purl]);
    r.ok();
    assert_through(&r, &f.server, &proxy, false);
    assert_missing(&f.spath("/via proxy/up.bin"), &ctx("rm"));
    let r = f.ftp(&["-v", "--proxy", &purl, "rmdir", &f.url("/via proxy")]);
    r.ok();
    assert_through(&r, &f.server, &proxy, false);
    assert_missing(&f.spath("/via proxy"), &ctx("rmdir"));

    // A refusal through the proxy is still the server's refusal (exit 5).
    f.ftp(&["rm", &f.url("/nope.bin"), "--proxy", &purl])
        .expect_code(EXIT_REFUSED);

    // The proxy itself saw the control connections (one per run) and the
    // data connections (to the server's passive ports).
    let control = proxy.connections_to(f.server.port());
    let all = proxy.connections();
    assert!(
        control >= 9 && all >= control + 5,
        "{}: the proxy opened {control} connections to the control port and {all} in all; log:\n{}",
        ctx("proxy log"),
        proxy.log_text()
    );
}

pub fn proxy_socks5_all_operations_vsftpd() {
    all_operations_through(Kind::Vsftpd, ProxyKind::Socks5);
}

pub fn proxy_socks5_all_operations_pyftpdlib() {
    all_operations_through(Kind::Pyftpdlib, ProxyKind::Socks5);
}

pub fn proxy_socks5_auth_all_operations_pure_ftpd() {
    all_operations_through(Kind::PureFtpd, ProxyKind::Socks5Auth);
}

pub fn proxy_http_all_operations_vsftpd() {
    all_operations_through(Kind::Vsftpd, ProxyKind::Http);
}

pub fn proxy_http_all_operations_pyftpdlib() {
    all_operations_through(Kind::Pyftpdlib, ProxyKind::Http);
}

pub fn proxy_http_auth_all_operations_proftpd() {
    all_operations_through(Kind::Proftpd, ProxyKind::HttpAuth);
}

/// `ftp_proxy` (and `all_proxy`) from the environment are used; `--noproxy
/// 127.0.0.1` and `no_proxy=127.0.0.1` go direct (no proxy note, the proxy
/// sees nothing).
pub fn proxy_from_environment_and_noproxy() {
    let f = Fixture::new(Kind::Vsftpd);
    let proxy = Proxy::start(ProxyKind::Socks5Auth);
    let purl = proxy.url();
    let data = b"through the environment's proxy\r\n".to_vec();
    f.seed("/env.txt", &data);
    let cwd = f.local.path();

    for var in ["ftp_proxy", "FTP_PROXY", "all_proxy", "ALL_PROXY"] {
        let before = proxy.connections_to(f.server.port());
        let dst = f.lpath(&format!("env-{var}.txt"));
        let r = run_env(
            &f.server,
            cwd,
            &["-v", "cp", &f.url("/env.txt"), &f.s(&dst)],
            &[(var, &purl)],
        );
        r.ok();
        assert_through(&r, &f.server, &proxy, true);
        assert_file(&dst, &data, &format!("download with {var} set"));
        assert!(
            proxy.connections_to(f.server.port()) > before,
            "{var}: the proxy saw no connection to the server; log:\n{}",
            proxy.log_text()
        );
    }

    // --noproxy on the command line, no_proxy in the environment: direct.
    let bypasses: [(&[&str], &[Env]); 4] = [
        (&["--noproxy", "127.0.0.1"], &[]),
        (&["--noproxy", "*"], &[]),
        (&[], &[("no_proxy", "127.0.0.1")]),
        (&[], &[("NO_PROXY", "localhost,127.0.0.1")]),
    ];
    for (i, (extra, env)) in bypasses.iter().enumerate() {
        let before = proxy.connections();
        let dst = f.lpath(&format!("direct-{i}.txt"));
        let mut args = vec!["-v", "cp"];
        let src = f.url("/env.txt");
        let dst_s = f.s(&dst);
        args.push(&src);
        args.push(&dst_s);
        args.extend_from_slice(extra);
        let mut env = env.to_vec();
        env.push(("ftp_proxy", &purl));
        let r = run_env(&f.server, cwd, &args, &env);
        r.ok()
            .stdout_lacks("through the proxy")
            .stdout_contains("< 226");
        assert_file(&dst, &data, "download bypassing the proxy");
        assert_eq!(
            proxy.connections(),
            before,
            "{}: the proxy was used although bypassed; log:\n{}",
            r.what,
            proxy.log_text()
        );
    }

    // --proxy on the command line wins over the environment.
    let other = Proxy::start(ProxyKind::Socks5);
    let dst = f.lpath("cli-wins.txt");
    let r = run_env(
        &f.server,
        cwd,
        &[
            "-v",
            "cp",
            &f.url("/env.txt"),
            &f.s(&dst),
            "--proxy",
            &other.url(),
        ],
        &[("ftp_proxy", &purl)],
    );
    r.ok();
    assert_through(&r, &f.server, &other, true);
    assert_file(&dst, &data, "download with --proxy over ftp_proxy");
}

/// A proxy that refuses: exit 3, a message naming the proxy (credentials
/// masked), nothing reaches the FTP server.
pub fn proxy_refusals_exit_3() {
    let f = Fixture::new(Kind::Vsftpd);
    let socks = Proxy::start(ProxyKind::Socks5Auth);
    let http = Proxy::start(ProxyKind::HttpAuth);
    // (proxy URL, proxy, what, expected in the message)
    let cases = [
        (
            socks.url_with(SOCKS_USER, "wrong%40pw"),
            &socks,
            "wrong SOCKS password",
            format!(
                "proxy socks5://{SOCKS_USER}:****@127.0.0.1:{}: the proxy refused the user and password",
                socks.port()
            ),
        ),
        (
            format!("socks5://127.0.0.1:{}", socks.port()),
            &socks,
            "SOCKS without credentials",
            "authentication".to_string(),
        ),
        (
            http.url_with(HTTP_USER, "wrong-pw"),
            &http,
            "wrong HTTP proxy password",
            format!("proxy http://{HTTP_USER}:****@127.0.0.1:{}", http.port()),
        ),
        (
            format!("http://127.0.0.1:{}", http.port()),
            &http,
            "HTTP proxy without credentials",
            "407".to_string(),
        ),
    ];
    for (url, proxy, what, message) in cases {
        let r = f.ftp(&["-v", "ls", &f.url("/"), "--proxy", &url]);
        r.expect_code(EXIT_CONNECTION)
            .stderr_contains(&message)
            .stdout_lacks("> USER")
            .output_lacks("wrong%40pw")
            .output_lacks("wrong@pw")
            .output_lacks("wrong-pw");
        r.check(
            proxy.connections_to(f.server.port()) == 0,
            &format!("{what}: the proxy connected to the server anyway"),
        );
    }
    // vsftpd's log shows no session at all.
    assert!(
        !f.server.log_text().contains("USER"),
        "a refused proxy let a login through:\n{}",
        f.server.log_text()
    );
    // A proxy that is not listening at all: exit 3 too.
    let dead = crate::server::free_port();
    f.ftp(&[
        "ls",
        &f.url("/"),
        "--proxy",
        &format!("socks5://127.0.0.1:{dead}"),
        "--timeout",
        "5",
    ])
    .expect_code(EXIT_CONNECTION)
    .stderr_contains("proxy");
}

// ---- active mode ------------------------------------------------------------

/// The port of the first `> EPRT |1|127.0.0.1|PORT|` line.
fn eprt_ports(out: &str) -> Vec<u16> {
    out.lines()
        .filter_map(|l| l.strip_prefix("> EPRT |1|127.0.0.1|"))
        .filter_map(|rest| rest.trim_end_matches('|').parse().ok())
        .collect()
}

/// `--active`: a download and an upload, byte-exact, with `EPRT` (never
/// `EPSV`/`PASV`) in the `-v` trace; then `--port-range` is honoured.
pub fn active_mode(kind: Kind) {
    let f = Fixture::new(kind);
    let data = tricky_bytes();
    f.seed("/active-src.bin", &data);

    let down = f.lpath("active-down.bin");
    let r = f.ftp(&[
        "--active",
        "-v",
        "cp",
        &f.url("/active-src.bin"),
        &f.s(&down),
    ]);
    r.ok()
        .stdout_contains("> EPRT |1|127.0.0.1|")
        .stdout_lacks("> EPSV")
        .stdout_lacks("> PASV");
    assert_file(&down, &data, &f.ctx("active download"));

    let up = f.lwrite("active-up.bin", &data);
    let r = f.ftp(&["-v", "cp", &f.s(&up), &f.url("/active-up.bin"), "--active"]);
    r.ok()
        .stdout_contains("> EPRT |1|127.0.0.1|")
        .stdout_lacks("> EPSV")
        .stdout_lacks("> PASV");
    assert_file(&f.spath("/active-up.bin"), &data, &f.ctx("active upload"));

    // ls in active mode (a listing is a data connection too).
    f.ftp(&["--active", "ls", &f.url("/")])
        .ok()
        .stdout_contains("active-up.bin");

    // --port-range: a small range above the servers' passive ranges and
    // below Linux's ephemeral ports; every EPRT port lies in it.
    let lo =
        32200 + (std::process::id() % 50) as u16 * 10 + if kind == Kind::Vsftpd { 0 } else { 5 };
    let hi = lo + 4;
    let range = format!("{lo}-{hi}");
    for i in 0..3 {
        let dst = f.lpath(&format!("ranged-{i}.bin"));
        let r = f.ftp(&[
            "-v",
            "--active",
            "--port-range",
            &range,
            "cp",
            &f.url("/active-src.bin"),
            &f.s(&dst),
        ]);
        r.ok();
        assert_file(&dst, &data, &f.ctx("active download with --port-range"));
        let ports = eprt_ports(&r.stdout());
        r.check(
            !ports.is_empty() && ports.iter().all(|p| (lo..=hi).contains(p)),
            &format!("EPRT ports {ports:?} not all in {range}"),
        );
    }
    let up2 = f.lwrite("ranged-up.bin", &data[..777]);
    let r = f.ftp(&[
        "-v",
        "cp",
        &f.s(&up2),
        &f.url("/ranged-up.bin"),
        "--active",
        "--port-range",
        &range,
    ]);
    r.ok();
    let ports = eprt_ports(&r.stdout());
    r.check(
        !ports.is_empty() && ports.iter().all(|p| (lo..=hi).contains(p)),
        &format!("EPRT ports {ports:?} not all in {range}"),
    );
    assert_file(
        &f.spath("/ranged-up.bin"),
        &data[..777],
        &f.ctx("active upload with --port-range"),
    );
}

// ---- hash verification ------------------------------------------------------

/// proftpd with mod_digest: an upload and a download are proven by the
/// server's SHA-256 of exactly the bytes sent (`--verify` default and
/// `--verify=hash`).
pub fn hash_proftpd_proves_transfers() {
    let f = Fixture::with_server(Server::start_proftpd_with_digest());
    let data = tricky_bytes();
    let digest = sha256_hex(&data);
    let expected_note = format!("* verified: the server's SHA-256 matches ({digest})");

    let src = f.lwrite("h.bin", &data);
    let r = f.ftp(&["-v", "cp", &f.s(&src), &f.url("/h.bin")]);
    r.ok()
        .stdout_contains("HASH")
        .stdout_contains(&expected_note)
        .stdout_lacks("verified by size");
    assert_file(&f.spath("/h.bin"), &data, "upload proven by hash");

    let down = f.lpath("h-down.bin");
    let r = f.ftp(&["-v", "cp", &f.url("/h.bin"), &f.s(&down)]);
    r.ok()
        .stdout_contains(&expected_note)
        .stdout_lacks("verified by size");
    assert_file(&down, &data, "download proven by hash");

    for (i, args) in [["--verify=hash", "-v"], ["-v", "--verify=hash"]]
        .iter()
        .enumerate()
    {
        let down = f.lpath(&format!("h-strict-{i}.bin"));
        let url = f.url("/h.bin");
        let dst = f.s(&down);
        let mut argv: Vec<&str> = args.to_vec();
        argv.extend(["cp", &url, &dst]);
        let r = f.ftp(&argv);
        r.ok().stdout_contains(&expected_note);
        assert_file(&down, &data, "download with --verify=hash");
    }
    let src2 = f.lwrite("h2.bin", &data[..2000]);
    f.ftp(&[
        "cp",
        &f.s(&src2),
        &f.url("/h2.bin"),
        "--verify",
        "hash",
        "-v",
    ])
    .ok()
    .stdout_contains(&format!(
        "* verified: the server's SHA-256 matches ({})",
        sha256_hex(&data[..2000])
    ));

    // --verify=size and none make no hash request.
    let r = f.ftp(&[
        "-v",
        "--verify=size",
        "cp",
        &f.url("/h.bin"),
        &f.s(&f.lpath("s.bin")),
    ]);
    r.ok()
        .stdout_contains(&format!("* verified by size ({} bytes)", data.len()))
        .stdout_lacks("> HASH")
        .stdout_lacks("> XSHA");
    let r = f.ftp(&[
        "-v",
        "--verify=none",
        "cp",
        &f.url("/h.bin"),
        &f.s(&f.lpath("n.bin")),
    ]);
    r.ok().stdout_lacks("> HASH").stdout_lacks("verified");
    assert_file(&f.lpath("n.bin"), &data, "--verify=none download");
}

/// `--verify=hash` where the server has no hash command (vsftpd): exit 5
/// both ways, no local file left, `mv` keeps its source; `--verify=auto`
/// falls back to the size there.
pub fn hash_required_fails_on_vsftpd() {
    let f = Fixture::new(Kind::Vsftpd);
    let data = tricky_bytes();
    f.seed("/v.bin", &data);
    let down = f.lpath("v.bin");
    let r = f.ftp(&["--verify=hash", "cp", &f.url("/v.bin"), &f.s(&down)]);
    r.expect_code(EXIT_REFUSED).stderr_contains("hash");
    assert_missing(&down, "--verify=hash download from vsftpd");

    let src = f.lwrite("up.bin", &data);
    let r = f.ftp(&["cp", &f.s(&src), &f.url("/up.bin"), "--verify=hash"]);
    r.expect_code(EXIT_REFUSED).stderr_contains("hash");

    // mv with --verify=hash keeps its source.
    let r = f.ftp(&["--verify=hash", "mv", &f.url("/v.bin"), &f.s(&down)]);
    r.expect_code(EXIT_REFUSED);
    assert_file(
        &f.spath("/v.bin"),
        &data,
        "mv --verify=hash: remote source kept",
    );

    // auto: by size.
    let r = f.ftp(&["-v", "cp", &f.url("/v.bin"), &f.s(&down)]);
    r.ok()
        .stdout_contains(&format!("* verified by size ({} bytes)", data.len()))
        .stdout_lacks("* verified: the server's");
    assert_file(&down, &data, "auto download from vsftpd");
}

fn write_tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let files = vec![
        ("a.bin".to_string(), tricky_bytes()),
        ("sub/b.txt".to_string(), b"bee\r\nbee\n".to_vec()),
        (
            "sub/deeper/c.bin".to_string(),
            (0..=255u8).cycle().take(70_000).collect(),
        ),
    ];
    for (rel, data) in &files {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, data).unwrap();
    }
    files
}

/// The multi-file summary of `cp -r` (stderr) counts files proven by hash
/// and by size only: 3/0 on proftpd with mod_digest, 0/3 on vsftpd.
pub fn hash_summary_counts_recursive_copy() {
    for (server, by_hash) in [
        (Server::start_proftpd_with_digest(), true),
        (Server::start(Kind::Vsftpd), false),
    ] {
        let f = Fixture::with_server(server);
        let kind = f.server.kind();
        let files = write_tree(&f.lpath("tree"));
        let counts = if by_hash {
            "(3 proven by hash, 0 by size only)"
        } else {
            "(0 proven by hash, 3 by size only)"
        };

        let r = f.ftp(&["cp", "-r", &f.s(&f.lpath("tree")), &f.url("/tree")]);
        r.ok().stderr_contains("3 files").stderr_contains(counts);
        for (rel, data) in &files {
            assert_file(
                &f.spath(&format!("/tree/{rel}")),
                data,
                &format!("[{kind}] cp -r upload"),
            );
        }
        let r = f.ftp(&["cp", "-r", &f.url("/tree"), &f.s(&f.lpath("back"))]);
        r.ok().stderr_contains("3 files").stderr_contains(counts);
        for (rel, data) in &files {
            assert_file(
                &f.lpath(&format!("back/{rel}")),
                data,
                &format!("[{kind}] cp -r download"),
            );
        }
    }
}

// ---- kept modification times (cp -p) -----------------------------------------

/// 2001-02-03 04:05:06 UTC.
const OLD_TIME: u64 = 981_173_106;

fn mtime_secs(path: &Path) -> u64 {
    fs::metadata(path)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn set_mtime(path: &Path, secs: u64) {
    let f = fs::File::options().write(true).open(path).unwrap();
    f.set_modified(UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

/// `cp -p` download: the local file gets the server file's time (MDTM);
/// without `-p` it does not.
pub fn preserve_download(kind: Kind) {
    let f = Fixture::new(kind);
    let data = tricky_bytes();
    let remote = f.seed("/old.bin", &data);
    set_mtime(&remote, OLD_TIME);

    let dst = f.lpath("kept.bin");
    let r = f.ftp(&["-v", "cp", "-p", &f.url("/old.bin"), &f.s(&dst)]);
    r.ok().stdout_contains("> MDTM /old.bin");
    assert_file(&dst, &data, &f.ctx("cp -p download"));
    r.check(
        mtime_secs(&dst) == OLD_TIME,
        &format!(
            "local mtime {} != the server file's {OLD_TIME}",
            mtime_secs(&dst)
        ),
    );

    // Without -p: the time of the download.
    let dst2 = f.lpath("fresh.bin");
    f.ftp(&["cp", &f.url("/old.bin"), &f.s(&dst2)]).ok();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        now.abs_diff(mtime_secs(&dst2)) < 120,
        "{}: without -p the local mtime should be now",
        f.ctx("cp download")
    );
}

/// `cp -p` upload: the server file gets the local file's time: MFMT on
/// pure-ftpd, proftpd (on the part, before its rename) and pyftpdlib; vsftpd has
/// neither MFMT nor SITE UTIME and takes a two-argument MDTM (`mdtm_write`, on by
/// default). No server needs the "cannot set" notice.
pub fn preserve_upload(kind: Kind) {
    let f = Fixture::new(kind);
    let data = tricky_bytes();
    let src = f.lwrite("local-old.bin", &data);
    set_mtime(&src, OLD_TIME);
    let r = f.ftp(&["-v", "cp", "-p", &f.s(&src), &f.url("/up-old.bin")]);
    r.ok();
    assert_file(&f.spath("/up-old.bin"), &data, &f.ctx("cp -p upload"));
    let remote_mtime = mtime_secs(&f.spath("/up-old.bin"));
    // ProFTPD and Pure-FTPd (known to read commands in turn) get the time on the part,
    // ahead with the proof; a rename keeps it. vsftpd refuses that MFMT and gets MDTM on
    // the final name after the rename.
    r.stdout_contains(match kind {
        Kind::Vsftpd => "> MDTM 20010203040506 /up-old.bin",
        Kind::Proftpd | Kind::PureFtpd => "> MFMT 20010203040506 /.up-old.bin.3700ftp-part",
        _ => "> MFMT 20010203040506 /up-old.bin",
    });
    r.check(
        remote_mtime == OLD_TIME,
        &format!("server file mtime {remote_mtime} != {OLD_TIME}"),
    );
    r.output_lacks("cannot set modification times");

    // Several files (-r): the notice, if any, comes once.
    let tree = f.lpath("ptree");
    write_tree(&tree);
    for rel in ["a.bin", "sub/b.txt", "sub/deeper/c.bin"] {
        set_mtime(&tree.join(rel), OLD_TIME + 60);
    }
    let r = f.ftp(&["cp", "-r", "-p", &f.s(&tree), &f.url("/ptree")]);
    r.ok().stderr_contains("3 files");
    let notices = r.stderr().matches("cannot set modification times").count();
    for rel in ["a.bin", "sub/b.txt", "sub/deeper/c.bin"] {
        let got = mtime_secs(&f.spath(&format!("/ptree/{rel}")));
        r.check(
            got == OLD_TIME + 60,
            &format!("/ptree/{rel}: server mtime {got} != {}", OLD_TIME + 60),
        );
    }
    r.check(notices == 0, &format!("the notice came {notices} times"));
    chown_to_ftpuser(f.server.home());
}
