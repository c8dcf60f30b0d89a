//! Real proxies started as child processes on 127.0.0.1 for the proxy
//! tests: microsocks (SOCKS5, with or without a user and password) and
//! tinyproxy (HTTP CONNECT, with or without `BasicAuth`), both Debian
//! packages installed by `.ci/install-servers.sh`.
//!
//! Each [`Proxy`] gets a fresh temp dir (tinyproxy's config, both logs) and a
//! free port, and is killed (its process group) on drop.

use std::fmt;
use std::fs;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::server::free_port;

/// microsocks' user and password (`-u`/`-P`): the password has an `@` and a
/// `:`, which the proxy URL must percent-encode.
pub const SOCKS_USER: &str = "sockuser";
pub const SOCKS_PASSWORD: &str = "s0cks:p@ss";
pub const SOCKS_PASSWORD_ENCODED: &str = "s0cks%3Ap%40ss";
/// tinyproxy's `BasicAuth` user and password (its config grammar allows only
/// letters, digits and `-._`).
pub const HTTP_USER: &str = "httpuser";
pub const HTTP_PASSWORD: &str = "tiny-s3cret.pw";

const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyKind {
    /// microsocks, no authentication.
    Socks5,
    /// microsocks `-u sockuser -P 's0cks:p@ss'` (RFC 1929 user/password).
    Socks5Auth,
    /// tinyproxy, HTTP CONNECT, no authentication.
    Http,
    /// tinyproxy with `BasicAuth httpuser tiny-s3cret.pw` (`Proxy-Authorization: Basic`).
    HttpAuth,
}

impl fmt::Display for ProxyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProxyKind::Socks5 => "microsocks",
            ProxyKind::Socks5Auth => "microsocks-auth",
            ProxyKind::Http => "tinyproxy",
            ProxyKind::HttpAuth => "tinyproxy-auth",
        })
    }
}

pub struct Proxy {
    kind: ProxyKind,
    port: u16,
    child: Option<Child>,
    log: PathBuf,
    // Last: dropped after the child is killed.
    _dir: TempDir,
}

fn binary(name: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin"] {
        let p = PathBuf::from(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("{name} is not installed: run `bash .ci/install-servers.sh` (as root) first");
}

impl Proxy {
    /// Starts a proxy of `kind` on a free loopback port and waits until it
    /// accepts connections (retried with a new port if it exits at startup).
    pub fn start(kind: ProxyKind) -> Proxy {
        let mut last = String::new();
        for _ in 0..3 {
            match Proxy::try_start(kind) {
                Ok(p) => return p,
                Err(e) => {
                    eprintln!("{kind}: startup failed, retrying: {e}");
                    last = e;
                }
            }
        }
        panic!("{kind}: cannot start: {last}");
    }

    fn try_start(kind: ProxyKind) -> Result<Proxy, String> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("3700ftp-interop-{kind}-"))
            .tempdir()
            .expect("create temp dir");
        let port = free_port();
        let log = dir.path().join("proxy.log");
        let mut cmd = match kind {
            ProxyKind::Socks5 | ProxyKind::Socks5Auth => {
                let mut cmd = Command::new(binary("microsocks"));
                cmd.args(["-i", "127.0.0.1", "-p", &port.to_string()]);
                if kind == ProxyKind::Socks5Auth {
                    cmd.args(["-u", SOCKS_USER, "-P", SOCKS_PASSWORD]);
                }
                cmd
            }
            ProxyKind::Http | ProxyKind::HttpAuth => {
                // No ConnectPort line: with one, CONNECT is allowed to the
                // listed ports only (the FTP server's ports are arbitrary).
                let mut conf = format!(
                    "\
Port {port}
Listen 127.0.0.1
Allow 127.0.0.1
Timeout 60
MaxClients 100
LogLevel Info
"
                );
                if kind == ProxyKind::HttpAuth {
                    conf.push_str(&format!("BasicAuth {HTTP_USER} {HTTP_PASSWORD}\n"));
                }
                let conf_path = dir.path().join("tinyproxy.conf");
                fs::write(&conf_path, conf).unwrap();
                let mut cmd = Command::new(binary("tinyproxy"));
                // -d: foreground, logging to stderr.
                cmd.arg("-d").arg("-c").arg(&conf_path);
                cmd
            }
        };
        let log_file = fs::File::create(&log).unwrap();
        cmd.stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .process_group(0);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{kind}: cannot start {cmd:?}: {e}"));
        let mut proxy = Proxy {
            kind,
            port,
            child: Some(child),
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(status) = proxy.child.as_mut().unwrap().try_wait().unwrap() {
                return Err(format!(
                    "exited during startup ({status}); log:\n{}",
                    proxy.log_text()
                ));
            }
            if TcpStream::connect_timeout(
                &([127, 0, 0, 1], port).into(),
                Duration::from_millis(300),
            )
            .is_ok()
            {
                return Ok(proxy);
            }
            if Instant::now() > deadline {
                panic!(
                    "{kind}: not listening on 127.0.0.1:{port} after {STARTUP_TIMEOUT:?}; log:\n{}",
                    proxy.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The proxy URL with the right credentials, as given to `--proxy`.
    pub fn url(&self) -> String {
        match self.kind {
            ProxyKind::Socks5 => format!("socks5://127.0.0.1:{}", self.port),
            ProxyKind::Socks5Auth => self.url_with(SOCKS_USER, SOCKS_PASSWORD_ENCODED),
            ProxyKind::Http => format!("http://127.0.0.1:{}", self.port),
            ProxyKind::HttpAuth => self.url_with(HTTP_USER, HTTP_PASSWORD),
        }
    }

    /// The proxy URL with `user:password@` (the password already encoded).
    pub fn url_with(&self, user: &str, password_encoded: &str) -> String {
        let scheme = match self.kind {
            ProxyKind::Socks5 | ProxyKind::Socks5Auth => "socks5",
            ProxyKind::Http | ProxyKind::HttpAuth => "http",
        };
        format!(
            "{scheme}://{user}:{password_encoded}@127.0.0.1:{}",
            self.port
        )
    }

    /// The URL as the client shows it: credentials masked (`user:****@`).
    pub fn shown_url(&self) -> String {
        match self.kind {
            ProxyKind::Socks5 | ProxyKind::Http => self.url(),
            ProxyKind::Socks5Auth => {
                format!("socks5://{SOCKS_USER}:****@127.0.0.1:{}", self.port)
            }
            ProxyKind::HttpAuth => format!("http://{HTTP_USER}:****@127.0.0.1:{}", self.port),
        }
    }

    /// The password in every spelling that must never be shown.
    pub fn secrets(&self) -> Vec<&'static str> {
        match self.kind {
            ProxyKind::Socks5Auth => vec![SOCKS_PASSWORD, SOCKS_PASSWORD_ENCODED],
            ProxyKind::HttpAuth => vec![HTTP_PASSWORD],
            _ => vec![],
        }
    }

    /// The proxy's own log: one line per tunnelled connection
    /// (microsocks: `client[N] 127.0.0.1: connected to 127.0.0.1:PORT`;
    /// tinyproxy: `opensock: opening connection to 127.0.0.1:PORT`).
    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// How many connections the proxy has opened to 127.0.0.1:`port`.
    pub fn connections_to(&self, port: u16) -> usize {
        let needle = match self.kind {
            ProxyKind::Socks5 | ProxyKind::Socks5Auth => format!("connected to 127.0.0.1:{port}"),
            ProxyKind::Http | ProxyKind::HttpAuth => {
                format!("opening connection to 127.0.0.1:{port}")
            }
        };
        self.log_text().matches(&needle).count()
    }

    /// How many connections the proxy has opened to anywhere.
    pub fn connections(&self) -> usize {
        let needle = match self.kind {
            ProxyKind::Socks5 | ProxyKind::Socks5Auth => ": connected to ",
            ProxyKind::Http | ProxyKind::HttpAuth => "opening connection to ",
        };
        self.log_text().matches(needle).count()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
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
