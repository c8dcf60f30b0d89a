//! TLS for FTPS (RFC 4217), through rustls: the client configuration (system trust store,
//! `--cacert`, or `--insecure`), and [`Stream`], a control or data socket that is either
//! plain TCP or TLS over TCP.
//!
//! One [`ClientConfig`] serves a whole run, so its session cache lets every data connection
//! resume the control connection's TLS session, which vsftpd (`require_ssl_reuse`) and
//! others demand. This module never prints; the connection reports versions and ciphers
//! to its transcript.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, OtherError,
    RootCertStore, SignatureScheme, StreamOwned,
};

use crate::error::{Error, Hint, Kind, Result};
use crate::fingerprint::Fingerprint;
use crate::ftp::net::{Timed, WaitError};

/// How a connection uses TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Plain FTP.
    Off,
    /// `AUTH TLS` after the greeting (`--tls`); any reply but 234 stops before USER.
    Explicit,
    /// TLS from the first byte (`ftps://`, port 990).
    Implicit,
}

/// The TLS settings of a connection (shared by its data connections).
#[derive(Clone)]
pub struct Tls {
    /// The client configuration (and session cache).
    pub config: Arc<ClientConfig>,
    /// True when certificates are not verified (`--insecure`).
    pub insecure: bool,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tls {{ insecure: {} }}", self.insecure)
    }
}

/// Which certificates are trusted, decided above and handed down as a value (this layer
/// reads no file of trusted certificates and no environment).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trust {
    /// `--insecure`: any certificate (pins are still checked).
    pub insecure: bool,
    /// `--pin`: when any is given, exactly these certificates are trusted (a CA-valid
    /// certificate that is not pinned is refused, as curl's `--pinnedpubkey` does).
    pub pins: Vec<Fingerprint>,
    /// The certificate remembered for this server (trust on first use): it is trusted, and
    /// any other is refused, CA-valid or not.
    pub known: Option<Fingerprint>,
}

/// The CA certificates to verify against: the system trust store, or only those in `cacert`.
pub fn roots(cacert: Option<&Path>) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    match cacert {
        Some(path) => {
            let bad = |e: &dyn std::fmt::Display| {
                Error::new(Kind::Local, format!("CA file {}: {e}", path.display()))
            };
            let certs = CertificateDer::pem_file_iter(path).map_err(|e| bad(&e))?;
            for cert in certs {
                let cert = cert.map_err(|e| bad(&e))?;
                roots.add(cert).map_err(|e| bad(&e))?;
            }
            if roots.is_empty() {
                return Err(bad(&"no certificate in the file"));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                let _ = roots.add(cert);
            }
        }
    }
    Ok(roots)
}

/// A client configuration that trusts what `trust` says, verifying against `roots` otherwise.
pub fn config(roots: Arc<RootCertStore>, trust: Trust) -> Result<Tls> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::usage(format!("TLS setup: {e}")))?;
    // No roots (an empty system store) is not an error here: every certificate is then
    // untrusted, and the error says how to pin it.
    let webpki =
        rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .ok();
    let insecure = trust.insecure;
    let verifier = Verifier {
        provider,
        webpki,
        trust,
    };
    let config = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Tls {
        config: Arc::new(config),
        insecure,
    })
}

/// The configuration for `--cacert`/`--insecure` alone (no pins, nothing remembered).
pub fn settings(cacert: Option<&Path>, insecure: bool) -> Result<Tls> {
    let roots = if insecure {
        RootCertStore::empty()
    } else {
        roots(cacert)?
    };
    config(
        Arc::new(roots),
        Trust {
            insecure,
            ..Trust::default()
        },
    )
}

/// The name the certificate must carry: a DNS name, or an IP address.
pub fn server_name(host: &str) -> Result<ServerName<'static>> {
    ServerName::try_from(host.to_string())
        .map_err(|_| Error::usage(format!("'{host}' is not a valid TLS server name")))
}

/// A socket, plain or TLS.
pub enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    /// The TCP socket underneath.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }

    /// Starts TLS on `tcp` (which has the tick timeouts set) and completes the handshake
    /// before `deadline`, however slowly the peer trickles its bytes; `cancel` ends it too.
    pub fn handshake(
        tcp: TcpStream,
        tls: &Tls,
        name: ServerName<'static>,
        deadline: std::time::Instant,
        cancel: &AtomicBool,
    ) -> Result<Stream> {
        let conn = ClientConnection::new(tls.config.clone(), name)
            .map_err(|e| Error::connection(format!("TLS: {e}")))?;
        let mut stream = StreamOwned::new(conn, tcp);
        while stream.conn.is_handshaking() {
            let mut timed = Timed::new(&stream.sock, deadline, cancel);
            if let Err(e) = stream.conn.complete_io(&mut timed) {
                return Err(match WaitError::from_io(e) {
                    WaitError::TimedOut => Error::connection("TLS: timed out during the handshake"),
                    WaitError::Cancelled => Error::new(Kind::Interrupted, "interrupted"),
                    WaitError::Io(e) => {
                        if let Some(refused) = distrust(&e) {
                            return Err(refused.error());
                        }
                        let (why, untrusted) = describe_tls_error(&e);
                        let err = Error::connection(format!("TLS handshake failed: {why}"));
                        // What a plain FTP greeting looks like to a TLS client.
                        if why.contains("InvalidContentType") || why.contains("corrupt message") {
                            err.with_hint(Hint::NotImplicitTls)
                        } else if untrusted {
                            err.with_hint(Hint::UntrustedCertificate(None))
                        } else {
                            err
                        }
                    }
                });
            }
        }
        Ok(Stream::Tls(Box::new(stream)))
    }

    /// `TLSv1.3, TLS13_AES_256_GCM_SHA384`, or None for a plain socket.
    pub fn describe(&self) -> Option<String> {
        match self {
            Stream::Plain(_) => None,
            Stream::Tls(s) => {
                let version = s
                    .conn
                    .protocol_version()
                    .map(|v| format!("{v:?}"))
                    .unwrap_or_default();
                let suite = s
                    .conn
                    .negotiated_cipher_suite()
                    .map(|c| format!("{:?}", c.suite()))
                    .unwrap_or_default();
                let resumed = matches!(
                    s.conn.handshake_kind(),
                    Some(rustls::HandshakeKind::Resumed)
                );
                Some(format!(
                    "{version}, {suite}{}",
                    if resumed { ", session resumed" } else { "" }
                ))
            }
        }
    }

    /// Ends the TLS session with close_notify (a bare close looks like a truncation).
    pub fn close_notify(&mut self) -> io::Result<()> {
        if let Stream::Tls(s) = self {
            s.conn.send_close_notify();
            while s.conn.wants_write() {
                s.conn.write_tls(&mut s.sock)?;
            }
        }
        Ok(())
    }
}

/// The handshake failure in words, and whether it is an untrusted certificate.
fn describe_tls_error(e: &io::Error) -> (String, bool) {
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return match inner {
            rustls::Error::InvalidCertificate(c) => (
                format!("the server's certificate is not trusted ({c:?})"),
                true,
            ),
            other => (other.to_string(), false),
        };
    }
    (crate::error::describe_io(e), false)
}

impl Read for Stream {
    /// A TLS read takes at most one socket read: when that brings no plaintext (a record
    /// only partly arrived) it returns `WouldBlock`, so the caller's deadline check runs.
    /// (rustls' own `StreamOwned::read` keeps reading until a record is complete, which a
    /// peer trickling one byte at a time can stretch without end.)
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => read_tls_once(&mut s.conn, &mut s.sock, buf),
        }
    }
}

fn read_tls_once(
    conn: &mut ClientConnection,
    sock: &mut TcpStream,
    buf: &mut [u8],
) -> io::Result<usize> {
    match conn.reader().read(buf) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        done => return done,
    }
    while conn.wants_write() {
        conn.write_tls(sock)?;
    }
    if conn.wants_read() {
        conn.read_tls(sock)?;
        if let Err(e) = conn.process_new_packets() {
            // Tell the peer why (an alert), as rustls' stream does, then fail.
            let _ = conn.write_tls(sock);
            return Err(io::Error::new(io::ErrorKind::InvalidData, e));
        }
    }
    conn.reader().read(buf)
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// Why a certificate was refused, with its fingerprint (carried through rustls' error).
#[derive(Debug, Clone)]
pub enum Distrust {
    /// No trusted CA vouches for it (self-signed, unknown issuer, wrong name, expired).
    Untrusted {
        /// The certificate presented.
        fingerprint: Fingerprint,
        /// What the CA check said.
        why: String,
    },
    /// Pins were given and it is none of them.
    NotPinned {
        /// The certificate presented.
        fingerprint: Fingerprint,
    },
    /// It is not the certificate remembered for this server.
    Changed {
        /// The one remembered.
        was: Fingerprint,
        /// The one presented.
        now: Fingerprint,
    },
}

impl std::fmt::Display for Distrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Distrust::Untrusted { why, .. } => write!(f, "the server's certificate is not trusted ({why})"),
            Distrust::NotPinned { fingerprint } => write!(
                f,
                "the server's certificate {fingerprint} is not one of the pinned certificates"
            ),
            Distrust::Changed { was, now } => write!(
                f,
                "WARNING: THE SERVER'S CERTIFICATE HAS CHANGED: it was {was}, it is now {now}; someone may be intercepting the connection (or the server's certificate was replaced); not connecting"
            ),
        }
    }
}

impl std::error::Error for Distrust {}

impl Distrust {
    /// The error a refused handshake ends with (exit 3), with the hint the edge words.
    fn error(self) -> Error {
        let hint = match &self {
            Distrust::Untrusted { fingerprint, .. } => {
                Hint::UntrustedCertificate(Some(fingerprint.0))
            }
            Distrust::NotPinned { fingerprint } => Hint::NotPinned(fingerprint.0),
            Distrust::Changed { .. } => Hint::CertificateChanged,
        };
        Error::connection(format!("TLS handshake failed: {self}")).with_hint(hint)
    }
}

/// The [`Distrust`] inside a failed handshake's error, if that is why it failed.
fn distrust(e: &io::Error) -> Option<Distrust> {
    match e.get_ref()?.downcast_ref::<rustls::Error>()? {
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => {
            other.0.downcast_ref::<Distrust>().cloned()
        }
        _ => None,
    }
}

/// The certificate check of every connection: pins first, then `--insecure`, then the
/// certificate remembered for the server, then the CA roots. Handshake signatures are
/// always checked.
#[derive(Debug)]
struct Verifier {
    provider: Arc<rustls::crypto::CryptoProvider>,
    webpki: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    trust: Trust,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let fingerprint = Fingerprint::of_der(end_entity);
        let refuse = |d: Distrust| {
            rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(d))))
        };
        if !self.trust.pins.is_empty() {
            return if self.trust.pins.contains(&fingerprint) {
                Ok(ServerCertVerified::assertion())
            } else {
                Err(refuse(Distrust::NotPinned { fingerprint }))
            };
        }
        if self.trust.insecure {
            return Ok(ServerCertVerified::assertion());
        }
        if let Some(was) = self.trust.known {
            return if was == fingerprint {
                Ok(ServerCertVerified::assertion())
            } else {
                Err(refuse(Distrust::Changed {
                    was,
                    now: fingerprint,
                }))
            };
        }
        let Some(webpki) = &self.webpki else {
            return Err(refuse(Distrust::Untrusted {
                fingerprint,
                why: "no trusted CA certificates".into(),
            }));
        };
        webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            .map_err(|e| {
                let why = match e {
                    rustls::Error::InvalidCertificate(c) => format!("{c:?}"),
                    other => other.to_string(),
                };
                refuse(Distrust::Untrusted { fingerprint, why })
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ftp::net::{self, read_timed, WaitError, NEVER};
    use std::net::TcpListener;
    use std::time::{Duration, Instant};

    /// A TLS server that completes the handshake, then sends one record a byte every 150 ms.
    fn trickling_tls_server() -> u16 {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
            )
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut sock, _) = listener.accept().unwrap();
            let mut server = rustls::ServerConnection::new(Arc::new(config)).unwrap();
            while server.is_handshaking() {
                if server.complete_io(&mut sock).is_err() {
                    return;
                }
            }
            server
                .writer()
                .write_all(b"220 a greeting that takes long\r\n")
                .unwrap();
            let mut record = Vec::new();
            while server.wants_write() {
                server.write_tls(&mut record).unwrap();
            }
            for b in record {
                if sock.write_all(&[b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(150));
            }
        });
        port
    }

    #[test]
    fn a_tls_record_trickled_a_byte_at_a_time_does_not_outlive_the_deadline() {
        let port = trickling_tls_server();
        let tls = settings(None, true).unwrap();
        let far = Instant::now() + Duration::from_secs(10);
        let tcp = net::connect(([127, 0, 0, 1], port).into(), far, &NEVER).unwrap();
        let name = server_name("localhost").unwrap();
        let mut stream = Stream::handshake(tcp, &tls, name, far, &NEVER).unwrap();
        let start = Instant::now();
        let mut buf = [0u8; 256];
        let got = read_timed(
            &mut stream,
            &mut buf,
            start + Duration::from_secs(1),
            &NEVER,
        );
        assert!(matches!(got, Err(WaitError::TimedOut)), "{got:?}");
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }
}
