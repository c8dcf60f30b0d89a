//! The settings that shape a connection ([`Options`]), handed in from above: ftp/ reads no
//! argv and no environment. The TLS configuration is built once per run ([`TlsSource`]).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Kind, Result};
use crate::ftp::tls::{self, Tls};

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
}

/// The servers (`host:port`) that stumbled on pipelined commands this run: their
/// connections send one command at a time. Shared by clones; no global state.
#[derive(Clone, Debug, Default)]
pub struct PipelineMemory(Arc<std::sync::Mutex<Vec<String>>>);

impl PipelineMemory {
    /// Whether `server` stumbled on pipelined commands before.
    pub fn stumbles(&self, server: &str) -> bool {
        let seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        seen.iter().any(|s| s == server)
    }

    /// Remembers that `server` stumbles on pipelined commands.
    pub fn remember(&self, server: &str) {
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if !seen.iter().any(|s| s == server) {
            seen.push(server.to_string());
        }
    }
}

/// `--cacert` and `--insecure`, and the configuration built from them once per run.
#[derive(Clone, Debug, Default)]
pub struct TlsSource {
    /// A PEM file of CA certificates to trust instead of the system's.
    pub cacert: Option<std::path::PathBuf>,
    /// Skip certificate verification.
    pub insecure: bool,
    built: Arc<std::sync::OnceLock<std::result::Result<Tls, String>>>,
}

impl TlsSource {
    /// The settings for `--cacert`/`--insecure`.
    pub fn new(cacert: Option<std::path::PathBuf>, insecure: bool) -> TlsSource {
        TlsSource {
            cacert,
            insecure,
            built: Arc::default(),
        }
    }

    /// The shared client configuration (built once; its session cache is shared).
    pub fn get(&self) -> Result<Tls> {
        self.built
            .get_or_init(|| {
                tls::settings(self.cacert.as_deref(), self.insecure).map_err(|e| e.to_string())
            })
            .clone()
            .map_err(|e| Error::new(Kind::Local, e))
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
        }
    }
}
