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
        }
    }
}
