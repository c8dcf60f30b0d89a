//! The embedded real FTP server the integration tests run against: libunftp with its
//! filesystem back end, serving a temporary directory on a free loopback port, with a user
//! whose password needs percent-encoding and an anonymous login. Also the helper that runs
//! the real `3700ftp` binary in a clean environment.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use libunftp::ServerBuilder;
use unftp_core::auth::{AuthenticationError, Authenticator, Credentials, Principal};
use unftp_sbe_fs::Filesystem;

pub mod pty;

/// The test user's name.
pub const USER: &str = "alice";
/// The test user's password: every character that must be percent-encoded in a URL.
pub const PASSWORD: &str = "p@ss:w/rd%1";
/// The password as written in a URL.
pub const PASSWORD_ENCODED: &str = "p%40ss%3Aw%2Frd%251";

#[derive(Debug)]
struct TestAuth {
    logins: Arc<AtomicUsize>,
}

#[async_trait]
impl Authenticator for TestAuth {
    async fn authenticate(
        &self,
        username: &str,
        creds: &Credentials,
    ) -> Result<Principal, AuthenticationError> {
        let ok = match username {
            "anonymous" => true,
            USER => creds.password.as_deref() == Some(PASSWORD),
            _ => false,
        };
        if ok {
            self.logins.fetch_add(1, Ordering::SeqCst);
            Ok(Principal {
                username: username.to_string(),
            })
        } else {
            Err(AuthenticationError::BadPassword)
        }
    }
}

/// A running embedded server; stops when dropped.
pub struct TestServer {
    pub port: u16,
    pub root: tempfile::TempDir,
    logins: Arc<AtomicUsize>,
    _rt: tokio::runtime::Runtime,
}

impl TestServer {
    /// Starts a server on a free loopback port.
    pub fn start() -> TestServer {
        TestServer::start_with_idle_timeout(None)
    }

    /// Starts a server that drops connections idle for `secs` seconds.
    pub fn start_with_idle_timeout(idle: Option<u64>) -> TestServer {
        TestServer::start_with(idle, None)
    }

    fn start_with(idle: Option<u64>, certs: Option<&TestCerts>) -> TestServer {
        let root = tempfile::tempdir().expect("server root");
        let logins = Arc::new(AtomicUsize::new(0));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let dir = root.path().to_path_buf();
        let auth = Arc::new(TestAuth {
            logins: logins.clone(),
        });
        let build = || {
            let dir = dir.clone();
            let mut builder =
                ServerBuilder::new(Box::new(move || Filesystem::new(dir.clone()).expect("fs")))
                    .authenticator(auth.clone())
                    .greeting("3700ftp test server")
                    .active_passive_mode(libunftp::options::ActivePassiveMode::ActiveAndPassive);
            if let Some(secs) = idle {
                builder = builder.idle_session_timeout(secs);
            }
            if let Some(c) = certs {
                builder = builder.ftps(c.chain.clone(), c.key.clone());
            }
            builder.build().expect("server")
        };
        // The free port found may be taken by another test before the server binds it
        // (a client's data or active port): the listen then fails, and another port is tried.
        let deadline = Instant::now() + Duration::from_secs(10);
        let port = 'found: loop {
            let port = free_port();
            let server = build();
            let listening = rt.spawn(async move {
                let _ = server.listen(format!("127.0.0.1:{port}")).await;
            });
            while !listening.is_finished() {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    break 'found port;
                }
                assert!(Instant::now() < deadline, "embedded server did not start");
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(Instant::now() < deadline, "embedded server did not start");
        };
        TestServer {
            port,
            root,
            logins,
            _rt: rt,
        }
    }

    /// `ftp://alice:PASSWORD@127.0.0.1:PORT` + `path` (path starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!(
            "ftp://{USER}:{PASSWORD_ENCODED}@127.0.0.1:{}{path}",
            self.port
        )
    }

    /// The anonymous URL for `path`.
    pub fn anon_url(&self, path: &str) -> String {
        format!("ftp://127.0.0.1:{}{path}", self.port)
    }

    /// The server-side file for a server path.
    pub fn file(&self, path: &str) -> PathBuf {
        self.root.path().join(path.trim_start_matches('/'))
    }

    /// Writes a file on the server side.
    pub fn put(&self, path: &str, bytes: &[u8]) {
        let p = self.file(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, bytes).unwrap();
    }

    /// How many logins succeeded.
    pub fn logins(&self) -> usize {
        self.logins.load(Ordering::SeqCst)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Environment variables that change what the binary does and must not leak in from the
/// user running `cargo test`: credentials, proxies (both cases, as curl reads them) and the
/// XDG directories (a real `all_proxy` or `XDG_DATA_HOME` broke tests before).
pub const SCRUBBED_ENV: &[&str] = &[
    "NETRC",
    "ftp_proxy",
    "FTP_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "XDG_STATE_HOME",
    "XDG_RUNTIME_DIR",
    "XDG_CONFIG_DIRS",
    "XDG_DATA_DIRS",
];

/// The one launcher of the real binary: a clean environment ([`SCRUBBED_ENV`] removed, no
/// colors, `HOME` = `home`, history under `home/data`), working directory `home`. Every
/// test that runs the binary starts from here.
pub fn command(home: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(BIN);
    clean_env(&mut cmd, home);
    cmd
}

/// The path of the binary under test (for a wrapper such as `timeout` that runs it).
pub const BIN: &str = env!("CARGO_BIN_EXE_3700ftp");

/// Gives `cmd` (the binary, or a wrapper that runs it) the launcher's environment.
pub fn clean_env(cmd: &mut std::process::Command, home: &Path) {
    for var in SCRUBBED_ENV {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1")
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .current_dir(home);
}

/// [`command`] as an `assert_cmd` command with a 60 s limit.
pub fn ftp(home: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::from_std(command(home));
    cmd.timeout(Duration::from_secs(60));
    cmd
}

/// Every byte value, then CR LF sequences that an ASCII-mode transfer would mangle.
pub fn tricky_bytes() -> Vec<u8> {
    let mut v: Vec<u8> = (0..=255u8).collect();
    v.extend_from_slice(b"line\r\nline\nline\r\r\n\n\r");
    v.extend((0..=255u8).rev());
    v
}

/// Lists a directory's entry names, sorted (to prove nothing extra was left behind).
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A private CA and a server certificate it signed, as PEM files in a temporary directory.
pub struct TestCerts {
    pub dir: tempfile::TempDir,
    pub ca: PathBuf,
    pub chain: PathBuf,
    pub key: PathBuf,
}

/// Makes a CA and a server certificate for `names` (DNS names or IP addresses).
pub fn test_certs(names: &[&str]) -> TestCerts {
    let dir = tempfile::tempdir().unwrap();
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "3700ftp test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    let paths = (
        dir.path().join("ca.pem"),
        dir.path().join("chain.pem"),
        dir.path().join("key.pem"),
    );
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, format!("{}{}", cert.pem(), ca.pem())).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    TestCerts {
        dir,
        ca: paths.0,
        chain: paths.1,
        key: paths.2,
    }
}

impl TestServer {
    /// Starts a server that offers explicit FTPS (AUTH TLS) with `certs`.
    ///
    /// The client reaches it through [`tls_upgrade_relay`], which works around a race in
    /// libunftp's AUTH TLS.
    pub fn start_tls(certs: &TestCerts) -> TestServer {
        let mut server = TestServer::start_with(None, Some(certs));
        server.port = tls_upgrade_relay(server.port);
        server
    }
}

/// How long the relay holds the client's first bytes after the server's `234`.
const TLS_UPGRADE_HOLD: Duration = Duration::from_millis(150);

/// A loopback port that relays every connection to the server's `port`, holding what the
/// client sends after the server's `234` (its TLS ClientHello) for [`TLS_UPGRADE_HOLD`].
///
/// Why: libunftp (0.24) answers `AUTH TLS` with `234` and switches the connection to TLS
/// only when an internal message, sent from a task it spawns, reaches the control loop.
/// On a loaded machine the client's ClientHello can arrive first: the loop reads it as a
/// command and answers in clear text, and the client's handshake fails with "received
/// corrupt message of type InvalidContentType" (or, with no newline among those bytes,
/// waits until its deadline). 3700ftp is right to refuse that; the server is what is
/// wrong. Seen in CI and reproduced here with `pty_the_prompt_asks_about_an_untrusted_
/// certificate_and_remembers_a_yes` under CPU load.
fn tls_upgrade_relay(port: u16) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("relay listener");
    let relay_port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let Ok(server) = TcpStream::connect(("127.0.0.1", port)) else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            // When the server said 234: the client's next bytes wait until the hold is over.
            let upgraded: Arc<std::sync::Mutex<Option<Instant>>> = Arc::default();
            let (c_read, s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let seen = upgraded.clone();
            std::thread::spawn(move || {
                relay(server, client, |chunk| {
                    if chunk.starts_with(b"234 ") || chunk.windows(6).any(|w| w == b"\r\n234 ") {
                        *seen.lock().unwrap() = Some(Instant::now());
                    }
                })
            });
            std::thread::spawn(move || {
                relay(c_read, s_write, |_| {
                    if let Some(at) = upgraded.lock().unwrap().take() {
                        std::thread::sleep(TLS_UPGRADE_HOLD.saturating_sub(at.elapsed()));
                    }
                })
            });
        }
    });
    relay_port
}

/// Copies `from` to `to` until either side closes, calling `before` with each chunk before
/// it is forwarded; then shuts both down.
fn relay(mut from: TcpStream, mut to: TcpStream, mut before: impl FnMut(&[u8])) {
    use std::io::{Read, Write};
    let mut buf = [0u8; 16384];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        before(&buf[..n]);
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Both);
    let _ = from.shutdown(std::net::Shutdown::Both);
}

/// Sends `sig` (a `kill` option such as `-TERM`) to `child` after `after`, and returns its
/// exit code and how long it took to exit after the signal (it is killed after 10 s).
pub fn signal(
    mut child: std::process::Child,
    after: Duration,
    sig: &str,
) -> (Option<i32>, Duration) {
    std::thread::sleep(after);
    let status = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let sent = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code(), sent.elapsed());
        }
        if sent.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            return (None, sent.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
