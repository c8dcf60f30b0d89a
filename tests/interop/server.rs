//! Real FTP servers started as child processes on 127.0.0.1 for the
//! interop suite.
//!
//! Every [`Server`] gets a fresh temporary directory holding its config, its
//! logs and the home directory of the single user `ftpuser` (password
//! `p@ss:w/rd`). All four servers confine the user to that home ("chroot"),
//! so the server path `/` is [`Server::home`]. Sessions run under the uid/gid
//! of the system user `ftpuser` created by `.ci/install-servers.sh`, so a
//! `chmod 0555` directory refuses uploads exactly as it would for a real
//! user. The server is killed (its whole process group) on drop.
//!
//! Two more vsftpd variants serve FTPS ([`Kind::VsftpdTls`]: explicit, `AUTH
//! TLS` on the usual port; [`Kind::VsftpdImplicitTls`]: TLS from the first
//! byte) with a server certificate issued, at startup, by a private CA made
//! with the `openssl` command line ([`Server::ca_file`]).

use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub const USER: &str = "ftpuser";
pub const PASSWORD: &str = "p@ss:w/rd";
/// `PASSWORD` percent-encoded for the userinfo part of a URL.
pub const PASSWORD_ENCODED: &str = "p%40ss%3Aw%2Frd";
/// SHA-512 crypt of `PASSWORD` (`openssl passwd -6 -salt 3700ftpinterop
/// 'p@ss:w/rd'`), for pure-ftpd's and proftpd's password files. A fixed,
/// cheap hash: `pure-pw` would default to argon2id tuned to take ~4 s per
/// login, which every single `3700ftp` invocation would pay.
const PASSWORD_HASH: &str = "$6$3700ftpinterop$UGtzIVroUwbztrqRwB.eYTdKwZk.hr7xIej3mhdzebk3iSOWJ1daQahUZuBcE5Se1VXiinPaRrqFCTHbOY30i/";
/// PAM service written by `.ci/install-servers.sh` (vsftpd authenticates
/// local users through PAM only).
const PAM_SERVICE: &str = "3700ftp-interop";

const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
const PYFTPD_SCRIPT: &str = include_str!("pyftpd_server.py");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Vsftpd,
    PureFtpd,
    Proftpd,
    Pyftpdlib,
    /// vsftpd with explicit FTPS only (`AUTH TLS`; plain logins and data refused).
    VsftpdTls,
    /// vsftpd with implicit FTPS (`implicit_ssl=YES`: TLS from the first byte).
    VsftpdImplicitTls,
}

impl Kind {
    /// True for the FTPS variants (a CA and a server certificate are made at startup).
    pub fn is_tls(self) -> bool {
        matches!(self, Kind::VsftpdTls | Kind::VsftpdImplicitTls)
    }

    fn is_vsftpd(self) -> bool {
        matches!(
            self,
            Kind::Vsftpd | Kind::VsftpdTls | Kind::VsftpdImplicitTls
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Vsftpd => "vsftpd",
            Kind::PureFtpd => "pure-ftpd",
            Kind::Proftpd => "proftpd",
            Kind::Pyftpdlib => "pyftpdlib",
            Kind::VsftpdTls => "vsftpd-tls",
            Kind::VsftpdImplicitTls => "vsftpd-implicit-tls",
        })
    }
}

/// Where `.ci/install-servers.sh` unpacks the Debian server packages.
pub fn install_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".interop/root")
}

fn installed_binary(rel: &str) -> PathBuf {
    let p = install_root().join(rel);
    assert!(
        p.is_file(),
        "{} is missing: run `bash .ci/install-servers.sh` (as root) first",
        p.display()
    );
    p
}

/// uid and gid of the system user `ftpuser`, from /etc/passwd.
pub fn ftpuser_ids() -> (u32, u32) {
    let passwd = fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    for line in passwd.lines() {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() >= 4 && fields[0] == USER {
            return (
                fields[2].parse().expect("uid"),
                fields[3].parse().expect("gid"),
            );
        }
    }
    panic!("system user {USER} does not exist: run `bash .ci/install-servers.sh` (as root) first");
}

fn is_root() -> bool {
    // Effective uid, without libc: "Uid:\treal\teffective\tsaved\tfs".
    let status = fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        == Some("0")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .local_addr()
        .unwrap()
        .port()
}

/// A passive port range of 20 ports, distinct for each server started by
/// this process (and, through the pid, likely distinct from another test
/// process), kept below Linux's ephemeral range (32768+).
fn passive_range() -> (u16, u16) {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed) % 12;
    let low = 20000 + (std::process::id() % 50) * 240 + n * 20;
    (low as u16, (low + 19) as u16)
}

/// Gives `path` (recursively) to `ftpuser`, as if that user had created it.
pub fn chown_to_ftpuser(path: &Path) {
    let (uid, gid) = ftpuser_ids();
    fn walk(p: &Path, uid: u32, gid: u32) {
        std::os::unix::fs::lchown(p, Some(uid), Some(gid))
            .unwrap_or_else(|e| panic!("chown {}: {e}", p.display()));
        if p.is_dir() && !p.is_symlink() {
            for entry in fs::read_dir(p).unwrap() {
                walk(&entry.unwrap().path(), uid, gid);
            }
        }
    }
    walk(path, uid, gid);
}

/// Names the FTPS server certificate carries by default (`subjectAltName`).
pub const CERT_NAMES: &str = "IP:127.0.0.1,DNS:localhost";

pub struct Server {
    kind: Kind,
    port: u16,
    child: Option<Child>,
    home: PathBuf,
    log: PathBuf,
    /// The private CA that issued the server certificate (FTPS variants).
    ca: Option<PathBuf>,
    // Last: dropped after the child is killed.
    dir: TempDir,
}

impl Server {
    /// Starts a server of `kind` with an empty home and waits for its
    /// greeting. Retried (with a new port) if the server exits at startup,
    /// in case another process took the free port first.
    pub fn start(kind: Kind) -> Server {
        Server::start_with_cert_names(kind, CERT_NAMES)
    }

    /// Like [`Server::start`]; an FTPS variant's certificate carries the
    /// `subjectAltName` `cert_names` (e.g. `DNS:elsewhere.invalid`).
    pub fn start_with_cert_names(kind: Kind, cert_names: &str) -> Server {
        Server::start_with(kind, cert_names, false)
    }

    /// proftpd with `mod_digest` loaded (`DigestEngine on`): FEAT lists
    /// `HASH` and the `XCRC`/`XMD5`/`XSHA1`/`XSHA256`/`XSHA512` commands.
    pub fn start_proftpd_with_digest() -> Server {
        Server::start_with(Kind::Proftpd, CERT_NAMES, true)
    }

    fn start_with(kind: Kind, cert_names: &str, digest: bool) -> Server {
        assert!(
            is_root(),
            "the interop suite must run as root (vsftpd needs it, and the servers switch to user {USER})"
        );
        const ATTEMPTS: u32 = 3;
        for attempt in 1.. {
            match Server::try_start(kind, cert_names, digest) {
                Ok(server) => return server,
                Err(msg) if attempt < ATTEMPTS => {
                    eprintln!("{kind}: startup attempt {attempt} failed, retrying: {msg}");
                }
                Err(msg) => panic!("{msg}"),
            }
        }
        unreachable!()
    }

    fn try_start(kind: Kind, cert_names: &str, digest: bool) -> Result<Server, String> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("3700ftp-interop-{kind}-"))
            .tempdir()
            .expect("create temp dir");
        // The servers' session processes run as ftpuser and must reach home/.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let home = dir.path().join("home");
        fs::create_dir(&home).unwrap();
        chown_to_ftpuser(&home);
        let log = dir.path().join("server.log");
        let port = free_port();
        let (pasv_low, pasv_high) = passive_range();

        let tls = kind.is_tls().then(|| {
            let ca = make_ca(&dir.path().join("ca"), "3700ftp interop test CA");
            let (cert, key) = make_server_cert(&dir.path().join("cert"), &ca, cert_names);
            VsftpdTls {
                cert,
                key,
                ca: ca.cert,
                implicit: kind == Kind::VsftpdImplicitTls,
            }
        });
        let mut cmd = match kind {
            Kind::Vsftpd | Kind::VsftpdTls | Kind::VsftpdImplicitTls => {
                vsftpd_command(dir.path(), &home, port, pasv_low, pasv_high, tls.as_ref())
            }
            Kind::PureFtpd => pure_ftpd_command(dir.path(), &home, port, pasv_low, pasv_high),
            Kind::Proftpd => proftpd_command(dir.path(), &home, port, pasv_low, pasv_high, digest),
            Kind::Pyftpdlib => pyftpdlib_command(dir.path(), &home, port, pasv_low, pasv_high),
        };
        let log_file = fs::File::create(&log).unwrap();
        // vsftpd writes its startup errors ("500 OOPS: unrecognised variable
        // in config file: ...") to fd 0, as if it ran under inetd: give it
        // the log there, or they are lost.
        let stdin = if kind.is_vsftpd() {
            Stdio::from(log_file.try_clone().unwrap())
        } else {
            Stdio::null()
        };
        cmd.stdin(stdin)
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            // Own process group: Drop kills the server and its session processes.
            .process_group(0);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{kind}: cannot start {cmd:?}: {e}"));
        let mut server = Server {
            kind,
            port,
            child: Some(child),
            home,
            log,
            ca: tls.map(|t| t.ca),
            dir,
        };
        server.wait_for_greeting()?;
        Ok(server)
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The user's home directory on disk; the server path `/`.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// Local path of a server path such as `/dir/f.bin`.
    pub fn local(&self, server_path: &str) -> PathBuf {
        self.home.join(server_path.trim_start_matches('/'))
    }

    /// `ftp://ftpuser:p%40ss%3Aw%2Frd@127.0.0.1:PORT` (no path); `ftps://`
    /// for the implicit FTPS variant.
    pub fn base_url(&self) -> String {
        let scheme = if self.kind == Kind::VsftpdImplicitTls {
            "ftps"
        } else {
            "ftp"
        };
        format!(
            "{scheme}://{USER}:{PASSWORD_ENCODED}@127.0.0.1:{}",
            self.port
        )
    }

    /// PEM file of the private CA that issued an FTPS variant's certificate.
    pub fn ca_file(&self) -> &Path {
        self.ca
            .as_deref()
            .unwrap_or_else(|| panic!("{} has no TLS certificate", self.kind))
    }

    /// URL of an absolute server path, each byte outside the unreserved set
    /// (and `/`) percent-encoded: spaces and non-ASCII letters included.
    pub fn url(&self, server_path: &str) -> String {
        assert!(server_path.starts_with('/'), "server path must be absolute");
        format!("{}{}", self.base_url(), percent_encode_path(server_path))
    }

    /// The server's own log (stdout/stderr and log files), for failure messages.
    pub fn log_text(&self) -> String {
        let mut out = fs::read_to_string(&self.log).unwrap_or_default();
        for extra in ["vsftpd.log", "proftpd-system.log", "proftpd-xfer.log"] {
            if let Ok(text) = fs::read_to_string(self.dir.path().join(extra)) {
                out.push_str(&format!("--- {extra}\n{text}"));
            }
        }
        out
    }

    fn wait_for_greeting(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let mut last_err = String::new();
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                return Err(format!(
                    "{}: server exited during startup ({status}); log:\n{}",
                    self.kind,
                    self.log_text()
                ));
            }
            let greeting = match &self.ca {
                Some(ca) if self.kind == Kind::VsftpdImplicitTls => {
                    read_tls_greeting(self.port, ca)
                }
                _ => read_greeting(self.port),
            };
            match greeting {
                Ok(()) => return Ok(()),
                Err(e) => last_err = e,
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Not retried: a server that hangs at startup is a real problem.
        panic!(
            "{}: no 220 greeting on 127.0.0.1:{} within {STARTUP_TIMEOUT:?} (last error: {last_err}); log:\n{}",
            self.kind,
            self.port,
            self.log_text()
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Kill the whole process group (the server and its per-session
            // children), then reap the direct child.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Connects, reads the (possibly multi-line) 220 greeting, says QUIT.
fn read_greeting(port: u16) -> Result<(), String> {
    let stream =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500))
            .map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
    let mut line = String::new();
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("connection closed before the greeting".into());
        }
        if line.starts_with("220 ") {
            break;
        }
        if !line.starts_with("220") {
            return Err(format!("unexpected greeting line {line:?}"));
        }
    }
    let mut w = &stream;
    let _ = w.write_all(b"QUIT\r\n");
    let _ = reader.read_line(&mut line);
    let _ = stream.shutdown(Shutdown::Both);
    Ok(())
}

/// Implicit FTPS: TLS handshake (verifying the certificate against `ca`
/// for the name 127.0.0.1), then the 220 greeting, then QUIT.
fn read_tls_greeting(port: u16, ca: &Path) -> Result<(), String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};

    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(|e| format!("read CA: {e}"))? {
        roots
            .add(cert.map_err(|e| format!("read CA: {e}"))?)
            .map_err(|e| format!("add CA: {e}"))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let tcp =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500))
            .map_err(|e| format!("connect: {e}"))?;
    tcp.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match std::io::Read::read(&mut tls, &mut byte) {
            Ok(0) => return Err("connection closed before the greeting".into()),
            Ok(_) => line.push(byte[0]),
            Err(e) => return Err(format!("TLS read: {e}")),
        }
        if byte[0] == b'\n' {
            if line.starts_with(b"220 ") {
                break;
            }
            if !line.starts_with(b"220") {
                return Err(format!(
                    "unexpected greeting line {:?}",
                    String::from_utf8_lossy(&line)
                ));
            }
            line.clear();
        }
    }
    let _ = tls.write_all(b"QUIT\r\n");
    tls.conn.send_close_notify();
    let _ = tls.flush();
    let _ = tls.sock.shutdown(Shutdown::Both);
    Ok(())
}

pub fn percent_encode_path(path: &str) -> String {
    let mut out = String::new();
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn write_config(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// A private CA made with `openssl req -x509`.
pub struct Ca {
    pub cert: PathBuf,
    key: PathBuf,
}

/// Runs `openssl ARGS` in `dir`; panics with its output when it fails.
fn openssl<S: AsRef<OsStr>>(dir: &Path, args: &[S]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run openssl ({e}): run `bash .ci/install-servers.sh` (as root) first")
        });
    assert!(
        out.status.success(),
        "openssl {:?} failed ({}):\n{}{}",
        args.iter().map(|a| a.as_ref()).collect::<Vec<_>>(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh self-signed CA (RSA 2048, valid 2 days) in `dir` (created).
pub fn make_ca(dir: &Path, common_name: &str) -> Ca {
    fs::create_dir_all(dir).unwrap();
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            &format!("/CN={common_name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    Ca {
        cert: dir.join("ca.pem"),
        key: dir.join("ca.key"),
    }
}

/// A server certificate and its key in `dir` (created), issued by `ca` for
/// the `subjectAltName` `names` (`IP:127.0.0.1,DNS:localhost`): a CSR
/// (`openssl req -new`), then `openssl x509 -req -CA ... -extfile`.
pub fn make_server_cert(dir: &Path, ca: &Ca, names: &str) -> (PathBuf, PathBuf) {
    fs::create_dir_all(dir).unwrap();
    write_config(
        &dir.join("server.ext"),
        &format!(
            "\
subjectAltName={names}
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
"
        ),
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=3700ftp interop server",
        ],
    );
    let ca_cert = ca.cert.to_str().unwrap();
    let ca_key = ca.key.to_str().unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            ca_cert,
            "-CAkey",
            ca_key,
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
    (dir.join("server.pem"), dir.join("server.key"))
}

/// TLS settings of a vsftpd FTPS variant.
struct VsftpdTls {
    cert: PathBuf,
    key: PathBuf,
    ca: PathBuf,
    implicit: bool,
}

/// True when the vsftpd binary knows the config option `name` (vsftpd
/// refuses to start on an unknown one; 3.0.3 has no `ssl_tlsv1_2`, later
/// versions have `ssl_tlsv1_1`/`_2`/`_3`).
fn vsftpd_knows(name: &str) -> bool {
    let binary = fs::read(installed_binary("usr/sbin/vsftpd")).unwrap();
    let needle = format!("{name}\0");
    binary.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The FTPS part of vsftpd.conf.
fn vsftpd_tls_config(tls: &VsftpdTls) -> String {
    let mut conf = format!(
        "\
ssl_enable=YES
rsa_cert_file={cert}
rsa_private_key_file={key}
allow_anon_ssl=NO
force_local_logins_ssl=YES
force_local_data_ssl=YES
require_ssl_reuse=YES
ssl_ciphers=HIGH
ssl_sslv2=NO
ssl_sslv3=NO
debug_ssl=YES
",
        cert = tls.cert.display(),
        key = tls.key.display(),
    );
    for option in ["ssl_tlsv1_2", "ssl_tlsv1_3"] {
        if vsftpd_knows(option) {
            conf.push_str(&format!("{option}=YES\n"));
        }
    }
    if tls.implicit {
        conf.push_str("implicit_ssl=YES\n");
    }
    conf
}

fn vsftpd_command(
    dir: &Path,
    home: &Path,
    port: u16,
    low: u16,
    high: u16,
    tls: Option<&VsftpdTls>,
) -> Command {
    // vsftpd must start as root; sessions of local users are authenticated
    // by PAM (service written by the install script) and run as ftpuser,
    // chrooted into local_root.
    let empty = dir.join("empty");
    fs::create_dir(&empty).unwrap();
    let conf = dir.join("vsftpd.conf");
    write_config(
        &conf,
        &format!(
            "\
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port={port}
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
local_root={home}
chroot_local_user=YES
allow_writeable_chroot=YES
pam_service_name={PAM_SERVICE}
userlist_enable=NO
tcp_wrappers=NO
nopriv_user=nobody
secure_chroot_dir={empty}
seccomp_sandbox=NO
port_enable=YES
connect_from_port_20=NO
pasv_enable=YES
pasv_address=127.0.0.1
pasv_min_port={low}
pasv_max_port={high}
utf8_filesystem=YES
xferlog_enable=YES
log_ftp_protocol=YES
vsftpd_log_file={log}
{tls}",
            home = home.display(),
            empty = empty.display(),
            log = dir.join("vsftpd.log").display(),
            tls = tls.map(vsftpd_tls_config).unwrap_or_default(),
        ),
    );
    let mut cmd = Command::new(installed_binary("usr/sbin/vsftpd"));
    cmd.arg(&conf);
    cmd
}

fn pure_ftpd_command(dir: &Path, home: &Path, port: u16, low: u16, high: u16) -> Command {
    // Virtual user in a puredb file; "/./" at the end of the home chroots.
    let (uid, gid) = ftpuser_ids();
    let pw = dir.join("pureftpd.passwd");
    let pdb = dir.join("pureftpd.pdb");
    write_config(
        &pw,
        &format!(
            "{USER}:{PASSWORD_HASH}:{uid}:{gid}::{}/./::::::::::::\n",
            home.display()
        ),
    );
    let out = Command::new(installed_binary("usr/bin/pure-pw"))
        .arg("mkdb")
        .arg(&pdb)
        .arg("-f")
        .arg(&pw)
        .stdin(Stdio::null())
        .output()
        .expect("run pure-pw mkdb");
    assert!(
        out.status.success(),
        "pure-pw mkdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut cmd = Command::new(installed_binary("usr/sbin/pure-ftpd"));
    cmd.arg("--bind")
        .arg(format!("127.0.0.1,{port}"))
        .arg("--login")
        .arg(format!("puredb:{}", pdb.display()))
        .args([
            "--noanonymous",
            "--dontresolve",
            "--chrooteveryone",
            "--ipv4only",
        ])
        .arg("--passiveportrange")
        .arg(format!("{low}:{high}"))
        .args(["--forcepassiveip", "127.0.0.1"])
        .args(["--maxclientsnumber", "50", "--maxclientsperip", "50"])
        .args(["--umask", "133:022"])
        .arg("--altlog")
        .arg(format!("clf:{}", dir.join("pure-ftpd-xfer.log").display()));
    // No --daemonize: stays in the foreground.
    cmd
}

fn proftpd_command(
    dir: &Path,
    home: &Path,
    port: u16,
    low: u16,
    high: u16,
    digest: bool,
) -> Command {
    // Users from an AuthUserFile in passwd format, nothing from the system.
    let (uid, gid) = ftpuser_ids();
    let passwd = dir.join("proftpd.passwd");
    let group = dir.join("proftpd.group");
    write_config(
        &passwd,
        &format!(
            "{USER}:{PASSWORD_HASH}:{uid}:{gid}::{}:/bin/false\n",
            home.display()
        ),
    );
    write_config(&group, &format!("{USER}:x:{gid}:\n"));
    for f in [&passwd, &group] {
        // proftpd refuses world-readable/writable auth files.
        fs::set_permissions(f, fs::Permissions::from_mode(0o600)).unwrap();
    }
    let conf = dir.join("proftpd.conf");
    write_config(
        &conf,
        &format!(
            "\
ServerName \"3700ftp interop proftpd\"
ServerType standalone
Port {port}
DefaultAddress 127.0.0.1
SocketBindTight on
UseIPv6 off
User nobody
Group nogroup
Umask 022
MaxInstances 50
PidFile {dir}/proftpd.pid
ScoreboardFile {dir}/proftpd.scoreboard
DelayTable none
ControlsEngine off
WtmpLog off
UseLastlog off
UseReverseDNS off
AuthPAM off
AuthOrder mod_auth_file.c
AuthUserFile {passwd}
AuthGroupFile {group}
RequireValidShell off
DefaultRoot ~
PassivePorts {low} {high}
SystemLog {dir}/proftpd-system.log
TransferLog {dir}/proftpd-xfer.log
<Directory />
  AllowOverwrite on
</Directory>
{digest}",
            dir = dir.display(),
            passwd = passwd.display(),
            group = group.display(),
            digest = if digest {
                proftpd_digest_config()
            } else {
                String::new()
            },
        ),
    );
    let mut cmd = Command::new(installed_binary("usr/sbin/proftpd"));
    // -n: no daemon (foreground), logging to stderr.
    cmd.arg("-n").arg("-c").arg(&conf);
    cmd
}

/// mod_digest is a shared module in Debian's proftpd-core
/// (`usr/lib/proftpd/mod_digest.so`), not compiled in (`proftpd -l`).
fn proftpd_digest_config() -> String {
    let modules = install_root().join("usr/lib/proftpd");
    assert!(
        modules.join("mod_digest.so").is_file(),
        "{}/mod_digest.so is missing: run `bash .ci/install-servers.sh` (as root) first",
        modules.display()
    );
    format!(
        "\
ModulePath {modules}
LoadModule mod_digest.c
DigestEngine on
DigestAlgorithms all
",
        modules = modules.display()
    )
}

fn pyftpdlib_command(dir: &Path, home: &Path, port: u16, low: u16, high: u16) -> Command {
    let (uid, gid) = ftpuser_ids();
    let script = dir.join("pyftpd_server.py");
    write_config(&script, PYFTPD_SCRIPT);
    let mut cmd = Command::new("python3");
    cmd.arg(&script)
        .arg(port.to_string())
        .arg(home)
        .arg(low.to_string())
        .arg(high.to_string())
        .arg(USER)
        .arg(PASSWORD)
        .arg(uid.to_string())
        .arg(gid.to_string());
    cmd
}
