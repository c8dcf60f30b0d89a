//! The settings that shape a connection ([`Options`]), handed in from above: ftp/ reads no
//! argv and no environment. The TLS configuration is built once per run ([`TlsSource`]).

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::RootCertStore;

use crate::error::{Error, Kind, Result};
use crate::fingerprint::Fingerprint;
use crate::ftp::tls::{self, Tls, Trust};

/// Settings that shape a connection.
#[derive(Clone, Debug)]
pub struct Options {
    /// The longest wait for any network event (connect, a reply, data progress).
    pub timeout: Duration,
    /// Connect data channels to the address a 227 reply names instead of the control peer.
    pub trust_pasv_address: bool,
    /// Set by Ctrl-C; every wait checks it.
    pub cancel: Arc<AtomicBool>,
    /// Upgrade plain `ftp://` connections with AUTH TLS (`--tls`).
    pub explicit_tls: bool,
    /// Active mode: the server connects to us (EPRT, else PORT).
    pub active: bool,
    /// The local ports active mode may listen on (`--port-range LO-HI`); any when None.
    pub port_range: Option<(u16, u16)>,
    /// The proxy to go through; resolved by the caller (argv, then the environment).
    pub proxy: Option<crate::ftp::proxy::Proxy>,
    /// Hosts reached directly, not through `proxy` (patterns: `*`, `example.org`).
    pub noproxy: Vec<String>,
    /// Where the TLS configuration comes from; built on first use.
    pub tls: TlsSource,
    /// The servers found to stumble on pipelined commands (shared by every connection
    /// made with clones of these options: `-j N` workers, reconnections, later commands).
    pub pipelining: PipelineMemory,
    /// PASS's reply may be read with the first command after it, on a server known to read
    /// commands in turn (`login.rs`): for a connection whose user checks
    /// `Connection::confirm_login` before trusting an outcome.
    pub late_login_check: bool,
}

/// What this run learned about servers' (`host:port`) handling of pipelined commands,
/// shared by clones (`-j N` workers, reconnections, later commands); no global state.
#[derive(Clone, Debug, Default)]
pub struct PipelineMemory(Arc<std::sync::Mutex<Vec<(String, Habit)>>>);

/// A server's habit worth remembering for its later connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Habit {
    /// It stumbles on pipelined commands: one command at a time.
    Stumbles,
    /// It answers commands sent after an upload's data before the upload's own final
    /// reply (an asynchronous server): an upload's proof waits for that reply.
    AnswersDuringTransfers,
}

impl PipelineMemory {
    /// Whether `server` stumbled on pipelined commands before.
    pub fn stumbles(&self, server: &str) -> bool {
        self.has(server, Habit::Stumbles)
    }

    /// Remembers that `server` stumbles on pipelined commands.
    pub fn remember(&self, server: &str) {
        self.learn(server, Habit::Stumbles);
    }

    /// Whether `server` was seen with `habit`.
    pub fn has(&self, server: &str, habit: Habit) -> bool {
        let seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        seen.iter().any(|(s, h)| s == server && *h == habit)
    }

    /// Remembers that `server` has `habit`.
    pub fn learn(&self, server: &str, habit: Habit) {
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if !seen.iter().any(|(s, h)| s == server && *h == habit) {
            seen.push((server.to_string(), habit));
        }
    }
}

/// The configurations made so far, by server (lowercase host, port) and the certificate
/// remembered for it when they were made.
type Built = HashMap<(String, u16, Option<Fingerprint>), Tls>;

/// `--cacert`, `--insecure`, `--pin` and the certificates remembered per server, and the
/// configurations built from them: one per server (host and port), made on first use and
/// shared by that server's control and data connections, so data connections resume the
/// control connection's TLS session.
#[derive(Clone, Debug, Default)]
pub struct TlsSource {
    /// A PEM file of CA certificates to trust instead of the system's.
    pub cacert: Option<std::path::PathBuf>,
    /// Skip certificate verification (pins are still checked).
    pub insecure: bool,
    /// `--pin`: only these certificates are trusted, on every connection.
    pub pins: Vec<Fingerprint>,
    /// Certificates remembered per server (`host`, `port`), read above and handed in.
    pub known: Vec<(String, u16, Fingerprint)>,
    roots: Arc<std::sync::OnceLock<std::result::Result<Arc<RootCertStore>, String>>>,
    built: Arc<Mutex<Built>>,
}

impl TlsSource {
    /// The settings for `--cacert`/`--insecure`.
    pub fn new(cacert: Option<std::path::PathBuf>, insecure: bool) -> TlsSource {
        TlsSource {
            cacert,
            insecure,
            ..TlsSource::default()
        }
    }

    /// The certificate remembered for `host:port`, if any.
    pub fn known_for(&self, host: &str, port: u16) -> Option<Fingerprint> {
        self.known
            .iter()
            .rev()
            .find(|(h, p, _)| h.eq_ignore_ascii_case(host) && *p == port)
            .map(|(_, _, f)| *f)
    }

    /// The configuration for connections to `host:port` (built once per server and
    /// remembered certificate; its session cache is shared by those connections).
    pub fn get(&self, host: &str, port: u16) -> Result<Tls> {
        let known = self.known_for(host, port);
        let key = (host.to_ascii_lowercase(), port, known);
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tls) = built.get(&key) {
            return Ok(tls.clone());
        }
        let roots = self
            .roots
            .get_or_init(|| {
                if self.insecure {
                    return Ok(Arc::new(RootCertStore::empty()));
                }
                tls::roots(self.cacert.as_deref())
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(|e| Error::new(Kind::Local, e))?;
        let trust = Trust {
            insecure: self.insecure,
            pins: self.pins.clone(),
            known,
        };
        let tls = tls::config(roots, trust)?;
        built.insert(key, tls.clone());
        Ok(tls)
    }
}

impl Default for Options {
    fn default() -> Options {
        Options {
            timeout: Duration::from_secs(20),
            trust_pasv_address: false,
            cancel: Arc::new(AtomicBool::new(false)),
            explicit_tls: false,
            active: false,
            port_range: None,
            proxy: None,
            noproxy: Vec::new(),
            tls: TlsSource::default(),
            pipelining: PipelineMemory::default(),
            late_login_check: false,
        }
    }
}
