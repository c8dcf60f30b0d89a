//! The control connection: the only owner of sockets in 3700ftp.
//!
//! [`Connection`] connects, reads replies through the sans-IO [`reply::parse`], logs in,
//! runs commands, and opens data connections (EPSV first, PASV as fallback, remembered for
//! the connection's life; always to the control peer's address unless trusted). Every wait
//! has a deadline ([`Options::timeout`]) and notices a cancel flag (Ctrl-C) within a fraction
//! of a second. It never prints: lines go to the [`Transcript`] it was handed.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{describe_io, Error, Kind, Result};
use crate::ftp::answers::Asked;
use crate::ftp::command::{Arg, Command};
use crate::ftp::net::{self, read_timed, write_all_timed, WaitError, NEVER};
use crate::ftp::pasv;
use crate::ftp::reply::{self, Reply};
use crate::ftp::tls::{self, Mode, Stream, Tls};
use crate::transcript::Transcript;
use crate::url::ANONYMOUS_PASSWORD;

/// The pipe a spliced download goes through (Linux caps unprivileged pipes at 1 MiB).
#[cfg(target_os = "linux")]
const SPLICE_PIPE: usize = 1024 * 1024;
/// The longest wait for the server to settle after ABOR, or to answer QUIT.
const ABORT_WAIT: Duration = Duration::from_secs(5);
/// How long ABOR waits for its own reply after a `226` that may have been the transfer's.
const SECOND_ABORT_REPLY: Duration = Duration::from_secs(1);
/// Replies in a row that cannot answer the command before the connection is given up.
const MAX_UNASKED: usize = 4;
/// Size of one read from the control connection.
const CONTROL_CHUNK: usize = 8 * 1024;

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
    /// `--proxy` (else the environment's `ftp_proxy`/`all_proxy`).
    pub proxy: Option<crate::ftp::proxy::Proxy>,
    /// `--noproxy`: hosts reached directly.
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

/// Which passive command this server answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Passive {
    Untried,
    Epsv,
    Pasv,
}

/// A logged-in (or logging-in) FTP control connection.
pub struct Connection {
    stream: Stream,
    buf: Vec<u8>,
    opts: Options,
    transcript: Transcript,
    peer: SocketAddr,
    passive: Passive,
    binary: bool,
    alive: bool,
    mlsd: Option<bool>,
    /// Whether EPRT works here: None until tried.
    eprt: Option<bool>,
    /// The FEAT lines, once asked for.
    features: Option<Vec<String>>,
    /// The proxy and the server's host name, when connected through a proxy.
    via: Option<(crate::ftp::proxy::Proxy, String)>,
    /// The TLS settings and server name when data connections must be protected.
    data_tls: Option<(Tls, rustls::pki_types::ServerName<'static>)>,
    mode: Mode,
    /// What the last command sent waits for: replies that cannot answer it are dropped.
    asked: Option<Asked>,
}

/// An open data connection and what the server said when it opened.
pub struct DataConn {
    stream: Stream,
    timeout: Duration,
    cancel: Arc<AtomicBool>,
    /// The final reply when the server sent it in place of a preliminary one.
    early_final: Option<Reply>,
}

impl Connection {
    /// Connects to `host:port`, sets up TLS as `mode` says, and reads the greeting (`120`
    /// then `220` is accepted). With explicit TLS, any reply to `AUTH TLS` but 234 is an
    /// error here, before a user name or password is sent.
    pub fn connect(
        host: &str,
        port: u16,
        opts: Options,
        mut transcript: Transcript,
        mode: Mode,
    ) -> Result<Connection> {
        let via = crate::ftp::proxy::choose(
            opts.proxy.as_ref(),
            &opts.noproxy,
            &|k| std::env::var(k).ok(),
            host,
        )?;
        let deadline = Instant::now() + opts.timeout;
        let stream = match &via {
            Some(proxy) => {
                transcript.note(&format!(
                    "connecting to {} through the proxy {proxy}",
                    show_host(host, port)
                ));
                crate::ftp::proxy::connect(proxy, host, port, deadline, &opts.cancel)?
            }
            None => direct(host, port, &opts, deadline, &mut transcript)?,
        };
        let peer = stream
            .peer_addr()
            .map_err(|e| Error::connection(describe_io(&e)))?;
        let _ = stream.set_nodelay(true);
        net::set_ticks(&stream).map_err(|e| Error::connection(describe_io(&e)))?;
        let tls_settings = match mode {
            Mode::Off => None,
            _ => Some((opts.tls.get()?, tls::server_name(host)?)),
        };
        let stream = match (&tls_settings, mode) {
            (Some((settings, name)), Mode::Implicit) => Stream::handshake(
                stream,
                settings,
                name.clone(),
                Instant::now() + opts.timeout,
                &opts.cancel,
            )?,
            _ => Stream::Plain(stream),
        };
        let mut conn = Connection {
            stream,
            buf: Vec::new(),
            opts,
            transcript,
            peer,
            passive: Passive::Untried,
            binary: false,
            alive: true,
            mlsd: None,
            eprt: None,
            features: None,
            via: via.map(|p| (p, host.to_string())),
            data_tls: None,
            mode,
            asked: None,
        };
        if let Some(d) = conn.stream.describe() {
            conn.transcript.note(&format!("TLS: {d}"));
        }
        let mut greeting = conn.read_reply()?;
        if greeting.code == 120 {
            greeting = conn.read_reply()?;
        }
        if greeting.code != 220 {
            conn.alive = false;
            return Err(Error::connection(format!(
                "the server refused the connection: {greeting}"
            ))
            .with_code(greeting.code));
        }
        if let (Some((settings, name)), Mode::Explicit) = (&tls_settings, mode) {
            let reply = conn.exec(&Command::Auth("TLS"))?;
            if reply.code != 234 {
                conn.quit_quietly();
                return Err(Error::connection(format!(
                    "the server refused TLS (server said {reply}); not logging in without it"
                ))
                .with_code(reply.code));
            }
            // Anything sent after 234 in clear text would be read as if it came through
            // TLS (RFC 4217 §10): refuse it before the handshake.
            if !conn.buf.is_empty() || pending_bytes(conn.stream.tcp()) {
                conn.quit_quietly();
                return Err(Error::connection(
                    "the server sent clear text after agreeing to TLS (234); not starting TLS on a tampered connection",
                ));
            }
            let tcp = conn
                .stream
                .tcp()
                .try_clone()
                .map_err(|e| Error::connection(describe_io(&e)))?;
            let deadline = Instant::now() + conn.opts.timeout;
            conn.stream =
                Stream::handshake(tcp, settings, name.clone(), deadline, &conn.opts.cancel)?;
            if let Some(d) = conn.stream.describe() {
                conn.transcript.note(&format!("TLS: {d}"));
            }
        }
        conn.data_tls = tls_settings;
        Ok(conn)
    }

    /// Closes without waiting for anything (the connection is being abandoned).
    fn quit_quietly(&mut self) {
        self.alive = false;
        let _ = self.stream.tcp().shutdown(Shutdown::Both);
    }

    /// The TLS mode this connection was opened with.
    pub fn tls_mode(&self) -> Mode {
        self.mode
    }

    /// Logs in: USER, then PASS when asked (331); ACCT (332) is reported as unsupported.
    pub fn login(&mut self, user: &str, password: Option<&str>) -> Result<()> {
        self.login_only(user, password)?;
        if self.data_tls.is_some() {
            // RFC 4217 §9: PBSZ 0 then PROT P, so data connections are encrypted too.
            self.exec_ok(&Command::Pbsz(0))?;
            let reply = self.exec(&Command::Prot("P"))?;
            if !reply.is_completion() {
                return Err(Error::connection(format!(
                    "the server refused to protect data connections (server said {reply}); not sending data in clear text"
                ))
                .with_code(reply.code));
            }
        }
        Ok(())
    }

    fn login_only(&mut self, user: &str, password: Option<&str>) -> Result<()> {
        let reply = self.exec(&Command::User(Arg::new(user)?))?;
        let reply = match reply.code {
            230 | 202 => return Ok(()),
            331 => {
                let pass = match password {
                    Some(p) => p,
                    None if user.eq_ignore_ascii_case("anonymous") || user.eq_ignore_ascii_case("ftp") => {
                        ANONYMOUS_PASSWORD
                    }
                    None => {
                        return Err(Error::new(
                            Kind::Login,
                            format!("the server wants a password for {user} and none was given: put it in ~/.netrc, in the URL (ftp://{user}:PASSWORD@host/), or run from a terminal to be asked"),
                        ))
                    }
                };
                self.exec(&Command::Pass(Arg::new(pass)?))?
            }
            _ => reply,
        };
        match reply.code {
            230 | 202 => Ok(()),
            332 => Err(Error::new(
                Kind::Login,
                format!("the server wants an account (ACCT) for {user}, which 3700ftp does not send: server said {reply}"),
            )
            .with_code(332)),
            530 => Err(Error::new(
                Kind::Login,
                format!("login incorrect for {user}: server said {reply}"),
            )
            .with_code(530)),
            _ => Err(Error::new(Kind::Login, format!("login failed for {user}: server said {reply}")).with_code(reply.code)),
        }
    }

    /// Whether the connection can still be used.
    pub fn is_alive(&self) -> bool {
        self.alive
    }

    /// Checks without waiting whether the server has closed an idle connection (EOF or an
    /// unsolicited `421`), so a session can reconnect before sending a command.
    pub fn check_idle(&mut self) -> bool {
        if !self.alive {
            return false;
        }
        if !self.buf.is_empty() {
            self.alive = false;
            return false;
        }
        if self.stream.tcp().set_nonblocking(true).is_err() {
            self.alive = false;
            return false;
        }
        // A read (through TLS when there is TLS, so late session tickets are absorbed):
        // EOF, an error, or bytes nobody asked for (a 421 before closing) mean it is gone.
        let mut probe = [0u8; 512];
        let state = self.stream.read(&mut probe);
        let _ = self.stream.tcp().set_nonblocking(false);
        match state {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => true,
            _ => {
                self.alive = false;
                false
            }
        }
    }

    /// Whether MLSD works here: None until tried.
    pub fn mlsd_supported(&self) -> Option<bool> {
        self.mlsd
    }

    /// Records whether MLSD works here.
    pub fn set_mlsd_supported(&mut self, works: bool) {
        self.mlsd = Some(works);
    }

    /// The transcript this connection writes to.
    pub fn transcript_mut(&mut self) -> &mut Transcript {
        &mut self.transcript
    }

    /// The options this connection was opened with.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Sends one command. Replies already waiting in the buffer were sent unasked (the
    /// previous command's reply has been read): they are dropped, with a note, so they
    /// cannot be taken for this command's reply; an unasked `421` ends the connection.
    pub fn send(&mut self, cmd: &Command) -> Result<()> {
        let deadline = Instant::now() + self.opts.timeout;
        let cancel = self.opts.cancel.clone();
        self.send_until(cmd, deadline, &cancel)
    }

    /// Sends one command, giving up at `deadline` or when `cancel` is set.
    fn send_until(&mut self, cmd: &Command, deadline: Instant, cancel: &AtomicBool) -> Result<()> {
        self.drop_unsolicited()?;
        self.asked = Some(Asked::of(cmd));
        self.transcript.sent(&cmd.log_line());
        let bytes = cmd.wire();
        let res = write_all_timed(&mut self.stream, &bytes, deadline, cancel);
        res.map_err(|e| self.lost(e, "sending to the server"))
    }

    fn drop_unsolicited(&mut self) -> Result<()> {
        while let Ok(Some((reply, used))) = reply::parse(&self.buf) {
            self.take_buffered(used, &reply)?;
            self.transcript
                .note("ignoring that reply: the server sent it unasked");
        }
        Ok(())
    }

    /// Removes a parsed reply from the buffer and logs it; a `421` kills the connection.
    fn take_buffered(&mut self, used: usize, reply: &Reply) -> Result<()> {
        self.buf.drain(..used);
        self.transcript.received(reply);
        if reply.code == 421 {
            self.alive = false;
            return Err(
                Error::connection(format!("the server closed the connection: {reply}"))
                    .with_code(421),
            );
        }
        Ok(())
    }

    /// Reads the next reply. A `421` or a closed connection is an error and kills the connection.
    pub fn read_reply(&mut self) -> Result<Reply> {
        let deadline = Instant::now() + self.opts.timeout;
        let cancel = self.opts.cancel.clone();
        self.read_reply_until(deadline, &cancel)
    }

    /// Reads the next reply before `deadline` (however slowly it trickles in), giving up
    /// when `cancel` is set.
    fn read_reply_until(&mut self, deadline: Instant, cancel: &AtomicBool) -> Result<Reply> {
        match self.poll_reply_until(deadline, cancel)? {
            Some(reply) => Ok(reply),
            None => Err(self.lost(WaitError::TimedOut, "waiting for the server's reply")),
        }
    }

    /// A reply that can answer the command sent, or None when `deadline` passes first (the
    /// connection stays usable: a reply half received stays in the buffer). A reply whose
    /// code cannot answer the command ([`Asked::accepts`]) was sent unasked: it is dropped
    /// with a note, never acted on; too many of them in a row end the connection.
    fn poll_reply_until(
        &mut self,
        deadline: Instant,
        cancel: &AtomicBool,
    ) -> Result<Option<Reply>> {
        let mut dropped = 0;
        loop {
            match reply::parse(&self.buf) {
                Ok(Some((reply, used))) => {
                    self.take_buffered(used, &reply)?;
                    match self.asked {
                        Some(asked) if !asked.accepts(reply.code) => {
                            dropped += 1;
                            if dropped > MAX_UNASKED {
                                self.alive = false;
                                return Err(Error::connection(format!(
                                    "the conversation with the server is out of step: {reply} cannot answer the command sent"
                                )));
                            }
                            self.transcript.note(&format!(
                                "ignoring that reply: {} cannot answer the command sent; the server sent it unasked",
                                reply.code
                            ));
                            continue;
                        }
                        _ => return Ok(Some(reply)),
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    self.alive = false;
                    return Err(Error::connection(e.to_string()));
                }
            }
            let mut chunk = [0u8; CONTROL_CHUNK];
            let n = match read_timed(&mut self.stream, &mut chunk, deadline, cancel) {
                Ok(n) => n,
                Err(WaitError::TimedOut) => return Ok(None),
                Err(e) => return Err(self.lost(e, "waiting for the server's reply")),
            };
            if n == 0 {
                self.alive = false;
                return Err(Error::connection("the server closed the connection"));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads a reply, waiting at most `limit` (less than the usual timeout).
    fn read_reply_within(&mut self, limit: Duration) -> Result<Reply> {
        let deadline = Instant::now() + self.opts.timeout.min(limit);
        let cancel = self.opts.cancel.clone();
        self.read_reply_until(deadline, &cancel)
    }

    /// Sends a command and reads its reply, whatever the code.
    pub fn exec(&mut self, cmd: &Command) -> Result<Reply> {
        self.send(cmd)?;
        self.read_reply()
    }

    /// Sends a command and requires a completion (2xx) reply.
    pub fn exec_ok(&mut self, cmd: &Command) -> Result<Reply> {
        let reply = self.exec(cmd)?;
        if reply.is_completion() {
            Ok(reply)
        } else {
            Err(Error::refused(reply.code, reply.text()))
        }
    }

    /// Puts the connection in binary image mode, stream mode and file structure, once.
    pub fn ensure_binary(&mut self) -> Result<()> {
        if self.binary {
            return Ok(());
        }
        self.exec_ok(&Command::Type("I"))?;
        // Stream mode and file structure are RFC 959's defaults; a server that does not
        // implement MODE or STRU is already in them, so a refusal is not an error.
        self.exec(&Command::Mode("S"))?;
        self.exec(&Command::Stru("F"))?;
        self.binary = true;
        Ok(())
    }

    /// The size of a remote file by SIZE (RFC 3659), or None where the server cannot say.
    /// A `213` whose text is not a size (`abc`, `-1`, a number past 2^64) is an error: a
    /// server that claims to know the size but cannot say it cannot confirm a transfer.
    pub fn size(&mut self, path: &str) -> Result<Option<u64>> {
        let reply = self.exec(&Command::Size(Arg::new(path)?))?;
        if reply.code != 213 {
            return Ok(None);
        }
        match reply.text().split_whitespace().next().unwrap_or("").parse() {
            Ok(n) => Ok(Some(n)),
            Err(_) => Err(Error::not_confirmed(format!(
                "the server's SIZE reply is not a size: {reply}"
            ))),
        }
    }

    /// Opens a passive data connection for `cmd` (LIST, RETR, STOR...): asks for a passive
    /// port, sends `cmd`, connects, and reads the server's preliminary reply.
    pub fn open_data(&mut self, cmd: &Command) -> Result<DataConn> {
        let (stream, first) = if self.opts.active && self.via.is_none() {
            self.open_active(cmd)?
        } else {
            self.open_passive(cmd)?
        };
        net::set_ticks(&stream).map_err(|e| Error::connection(describe_io(&e)))?;
        let mut stream = Stream::Plain(stream);
        let early_final = if first.is_preliminary() {
            None
        } else if first.is_completion() {
            Some(first)
        } else {
            return Err(Error::refused(first.code, first.text()));
        };
        if let (Some((settings, name)), Stream::Plain(tcp)) = (&self.data_tls, &stream) {
            let tcp = tcp
                .try_clone()
                .map_err(|e| Error::connection(describe_io(&e)))?;
            stream = Stream::handshake(
                tcp,
                settings,
                name.clone(),
                Instant::now() + self.opts.timeout,
                &self.opts.cancel,
            )
            .map_err(|e| Error::connection(format!("data connection: {}", e.message())))?;
            if let Some(d) = stream.describe() {
                self.transcript.note(&format!("data connection TLS: {d}"));
            }
        }
        Ok(DataConn {
            stream,
            timeout: self.opts.timeout,
            cancel: self.opts.cancel.clone(),
            early_final,
        })
    }

    /// Passive: the passive command, `cmd`, connect; then the server's first reply.
    fn open_passive(&mut self, cmd: &Command) -> Result<(TcpStream, Reply)> {
        let addr = self.passive_address()?;
        self.send(cmd)?;
        let deadline = Instant::now() + self.opts.timeout;
        // The refusal the control connection may hold: a proxy's failure, or a refused connect
        // (or a reset: a listener closed with our connection in its backlog).
        let (connected, answered_soon) = if let Some((proxy, host)) = &self.via {
            // Through the proxy, to the control connection's host and the port the server gave.
            self.transcript.note(&format!(
                "data connection to {} through the proxy",
                show_host(host, addr.port())
            ));
            let r =
                crate::ftp::proxy::connect(proxy, host, addr.port(), deadline, &self.opts.cancel);
            (r, true)
        } else {
            self.transcript.note(&format!("data connection to {addr}"));
            match net::connect(addr, deadline, &self.opts.cancel) {
                Ok(s) => (Ok(s), false),
                Err(e) => {
                    let refused = matches!(&e, WaitError::Io(io) if matches!(
                        io.kind(),
                        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset
                    ));
                    let why = match e {
                        WaitError::Cancelled => "interrupted".to_string(),
                        WaitError::TimedOut => {
                            format!("timed out after {} s", self.opts.timeout.as_secs_f64())
                        }
                        WaitError::Io(e) => describe_io(&e),
                    };
                    let err = if why == "interrupted" {
                        Error::new(Kind::Interrupted, why)
                    } else {
                        Error::connection(format!(
                            "cannot open the data connection to {addr}: {why} (a firewall may block the server's passive ports; try --active)"
                        ))
                    };
                    (Err(err), refused)
                }
            }
        };
        let stream = match connected {
            Ok(s) => s,
            Err(e) => {
                // The command was sent: its reply is on its way and must not be read as the
                // next command's. Some servers (proftpd) refuse the command and close the
                // passive port at once: then that reply says why. Otherwise the server's
                // state is unknown: drop the connection.
                if e.kind() != Kind::Interrupted && answered_soon {
                    if let Ok(reply) = self.read_reply_within(Duration::from_secs(2)) {
                        if reply.is_negative() {
                            return Err(Error::refused(reply.code, reply.text()));
                        }
                    }
                }
                self.alive = false;
                return Err(e);
            }
        };
        let first = self.read_reply()?;
        Ok((stream, first))
    }

    /// Active: listen, EPRT (else PORT), `cmd`, then accept exactly one connection, and
    /// only from the server's address; a refusal on the control connection ends the wait.
    fn open_active(&mut self, cmd: &Command) -> Result<(TcpStream, Reply)> {
        let local_ip = self
            .stream
            .tcp()
            .local_addr()
            .map_err(|e| Error::connection(describe_io(&e)))?
            .ip();
        let listener = self.listen_on(local_ip)?;
        let here = listener
            .local_addr()
            .map_err(|e| Error::connection(describe_io(&e)))?;
        self.announce(here)?;
        self.send(cmd)?;
        self.transcript
            .note(&format!("waiting for the server to connect to {here}"));
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::connection(describe_io(&e)))?;
        let deadline = Instant::now() + self.opts.timeout;
        let mut first = None;
        let stream = loop {
            match listener.accept() {
                Ok((s, from)) => {
                    if from.ip() != self.peer.ip() {
                        drop(s);
                        self.abort_transfer();
                        return Err(Error::connection(format!(
                            "refused a data connection from {from}: only the server ({}) may connect",
                            self.peer.ip()
                        )));
                    }
                    break s;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    return Err(Error::connection(format!(
                        "accepting the data connection: {}",
                        describe_io(&e)
                    )))
                }
            }
            if first.is_none() {
                if let Some(reply) = self.poll_reply()? {
                    if reply.is_negative() {
                        return Err(Error::refused(reply.code, reply.text()));
                    }
                    first = Some(reply);
                }
            }
            if self.opts.cancel.load(Ordering::SeqCst) {
                self.abort_transfer();
                return Err(Error::new(Kind::Interrupted, "interrupted"));
            }
            if Instant::now() >= deadline {
                self.alive = false;
                return Err(Error::connection(format!(
                    "timed out after {} s waiting for the server to connect to {here} (a firewall may block it; passive mode is the default)",
                    self.opts.timeout.as_secs_f64()
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        stream
            .set_nonblocking(false)
            .map_err(|e| Error::connection(describe_io(&e)))?;
        let first = match first {
            Some(r) => r,
            None => self.read_reply()?,
        };
        Ok((stream, first))
    }

    /// A listener on `ip`, on a port from `--port-range` when given.
    fn listen_on(&self, ip: std::net::IpAddr) -> Result<std::net::TcpListener> {
        let (lo, hi) = self.opts.port_range.unwrap_or((0, 0));
        let mut last = None;
        for port in lo..=hi {
            match std::net::TcpListener::bind((ip, port)) {
                Ok(l) => return Ok(l),
                Err(e) => last = Some(e),
            }
        }
        Err(Error::connection(format!(
            "cannot listen for the data connection on {ip} ports {lo}-{hi}: {}",
            last.map_or("no port".to_string(), |e| describe_io(&e))
        )))
    }

    /// Tells the server where to connect: EPRT, or PORT where EPRT is refused (remembered).
    fn announce(&mut self, here: SocketAddr) -> Result<()> {
        if self.eprt != Some(false) {
            let reply = self.exec(&Command::Eprt(here))?;
            if reply.is_completion() {
                self.eprt = Some(true);
                return Ok(());
            }
            if self.eprt == Some(true) || !reply.is_negative() {
                return Err(Error::refused(reply.code, reply.text()));
            }
            self.transcript.note("EPRT refused; using PORT from now on");
            self.eprt = Some(false);
        }
        let SocketAddr::V4(v4) = here else {
            return Err(Error::connection(
                "the server refused EPRT, and PORT cannot work over IPv6",
            ));
        };
        self.exec_ok(&Command::Port(v4))?;
        Ok(())
    }

    /// A complete reply if one has arrived, without waiting.
    fn poll_reply(&mut self) -> Result<Option<Reply>> {
        if let Ok(Some(_)) = reply::parse(&self.buf) {
            return self.read_reply().map(Some);
        }
        if self.stream.tcp().set_nonblocking(true).is_err() {
            return Ok(None);
        }
        let mut chunk = [0u8; 4096];
        let got = self.stream.read(&mut chunk);
        let _ = self.stream.tcp().set_nonblocking(false);
        match got {
            Ok(0) => {
                self.alive = false;
                Err(Error::connection("the server closed the connection"))
            }
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                match reply::parse(&self.buf) {
                    Ok(Some(_)) => self.read_reply().map(Some),
                    _ => Ok(None),
                }
            }
            Err(_) => Ok(None),
        }
    }

    /// The server's FEAT lines (asked once per connection, only when a feature matters).
    pub fn features(&mut self) -> Result<Vec<String>> {
        if self.features.is_none() {
            let reply = self.exec(&Command::Feat)?;
            let lines = if reply.is_completion() && reply.lines.len() > 2 {
                reply.lines[1..reply.lines.len() - 1].to_vec()
            } else {
                Vec::new()
            };
            self.features = Some(lines);
        }
        Ok(self.features.clone().unwrap_or_default())
    }

    /// Switches active mode on or off for the following transfers.
    pub fn set_active(&mut self, on: bool) {
        self.opts.active = on;
    }

    /// After the data connection is closed: reads the final reply, which must be 2xx.
    /// A permanent refusal (5xx: no such file, no permission, storage full), or any refusal
    /// before data moved, is the server refusing the command; a transient failure after data
    /// moved (426, 451) is a transfer that cannot be confirmed.
    pub fn finish_data(&mut self, early_final: Option<Reply>, moved: u64) -> Result<Reply> {
        let reply = match early_final {
            Some(r) => r,
            None => self.read_reply()?,
        };
        if reply.is_completion() {
            Ok(reply)
        } else if reply.class() == 5 || (moved == 0 && reply.is_negative()) {
            Err(Error::refused(reply.code, reply.text()))
        } else {
            Err(Error::not_confirmed(format!("server said {reply}")).with_code(reply.code))
        }
    }

    /// Abandons a transfer in progress (Ctrl-C, local failure): ABOR, then reads the
    /// transfer's reply (426, or 226 when it had completed) and ABOR's own (226, 225), so the
    /// conversation stays in step. The waits ignore the cancel flag (they have their own
    /// short deadline) and never clear it: other workers must still see an interrupt. A
    /// connection that does not settle is marked dead.
    pub fn abort_transfer(&mut self) {
        if !self.alive {
            return;
        }
        let deadline = Instant::now() + self.opts.timeout.min(ABORT_WAIT);
        let settled = (|| -> Result<bool> {
            self.send_until(&Command::Abor, deadline, &NEVER)?;
            let first = self.read_reply_until(deadline, &NEVER)?;
            match first.code {
                // "No transfer to abort": ABOR's own reply, nothing else is coming.
                225 => Ok(true),
                // The transfer's 226, or ABOR's only one when the transfer had already been
                // answered: a second reply follows at once, or never.
                // ABOR not understood (500-502): the transfer's own reply may still come.
                226 | 250 | 500..=502 => {
                    let soon = (Instant::now() + SECOND_ABORT_REPLY).min(deadline);
                    self.poll_reply_until(soon, &NEVER)?;
                    Ok(true)
                }
                // The transfer's failure (426, 451, 550...): ABOR's reply comes next.
                _ => {
                    self.read_reply_until(deadline, &NEVER)?;
                    Ok(true)
                }
            }
        })();
        if !matches!(settled, Ok(true)) {
            self.alive = false;
        }
    }

    /// Sends QUIT and closes, ignoring what the server says: the work is already done. The
    /// wait ignores the cancel flag and ends by its own short deadline.
    pub fn quit(mut self) {
        let deadline = Instant::now() + self.opts.timeout.min(ABORT_WAIT);
        if self.alive && self.send_until(&Command::Quit, deadline, &NEVER).is_ok() {
            let _ = self.read_reply_until(deadline, &NEVER);
        }
        let _ = self.stream.close_notify();
        let _ = self.stream.tcp().shutdown(Shutdown::Both);
    }

    fn passive_address(&mut self) -> Result<SocketAddr> {
        if self.passive != Passive::Pasv {
            let reply = self.exec(&Command::Epsv)?;
            if reply.code == 229 {
                let port = pasv::parse_epsv(reply.text()).ok_or_else(|| {
                    self.alive = false;
                    Error::connection(format!("malformed EPSV reply: {reply}"))
                })?;
                self.passive = Passive::Epsv;
                return Ok(SocketAddr::new(self.peer.ip(), port));
            }
            if self.passive == Passive::Epsv || !reply.is_negative() {
                return Err(Error::refused(reply.code, reply.text()));
            }
            self.transcript.note("EPSV refused; using PASV from now on");
            self.passive = Passive::Pasv;
        }
        if self.peer.ip().is_ipv6() {
            return Err(Error::connection(
                "the server refused EPSV, and PASV cannot work over IPv6",
            ));
        }
        let reply = self.exec(&Command::Pasv)?;
        if reply.code != 227 {
            return Err(Error::refused(reply.code, reply.text()));
        }
        let announced = pasv::parse_pasv(reply.text()).ok_or_else(|| {
            self.alive = false;
            Error::connection(format!("malformed PASV reply: {reply}"))
        })?;
        let addr = pasv::data_address(self.peer.ip(), announced, self.opts.trust_pasv_address);
        if addr != announced {
            self.transcript.note(&format!(
                "ignoring the address in the PASV reply ({}); using the control connection's peer",
                announced.ip()
            ));
        }
        Ok(addr)
    }

    fn lost(&mut self, e: WaitError, doing: &str) -> Error {
        self.alive = false;
        match e {
            WaitError::Cancelled => Error::new(Kind::Interrupted, "interrupted"),
            WaitError::TimedOut => Error::connection(format!(
                "timed out after {} s {doing}",
                self.opts.timeout.as_secs_f64()
            )),
            WaitError::Io(e) => Error::connection(format!("{doing}: {}", describe_io(&e))),
        }
    }
}

impl DataConn {
    /// Reads the next chunk of data; 0 means the server closed the data connection.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        let deadline = Instant::now() + self.timeout;
        read_timed(&mut self.stream, buf, deadline, &self.cancel).map_err(|e| self.data_error(e))
    }

    /// Moves the whole download into `file` without copying it through user space: socket
    /// → pipe → file with splice(2) (Linux, plain TCP). `advance` hears each step's byte
    /// count. None when this connection cannot splice (TLS, no pipe, a socket that refuses)
    /// before any byte moved: the caller then reads as usual. A file system that refuses
    /// splice is written with plain writes instead, from the first byte or any later one.
    #[cfg(target_os = "linux")]
    pub fn splice_into(
        &mut self,
        file: &mut std::fs::File,
        dest: &std::path::Path,
        advance: &mut dyn FnMut(usize),
    ) -> Option<Result<u64>> {
        use nix::errno::Errno;
        use nix::fcntl::{fcntl, splice, FcntlArg, SpliceFFlags};
        let Stream::Plain(tcp) = &self.stream else {
            return None;
        };
        let (pipe_out, pipe_in) = nix::unistd::pipe().ok()?;
        let room = fcntl(&pipe_in, FcntlArg::F_SETPIPE_SZ(SPLICE_PIPE as i32))
            .or_else(|_| fcntl(&pipe_in, FcntlArg::F_GETPIPE_SZ))
            .ok()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n > 0)?;
        let mut pipe_out = std::fs::File::from(pipe_out);
        let mut file_splices = true;
        let mut total: u64 = 0;
        let mut deadline = Instant::now() + self.timeout;
        loop {
            if self.cancel.load(Ordering::Relaxed) {
                return Some(Err(self.data_error(WaitError::Cancelled)));
            }
            let n = match splice(tcp, None, &pipe_in, None, room, SpliceFFlags::SPLICE_F_MOVE) {
                Ok(0) => return Some(Ok(total)),
                Ok(n) => n,
                Err(Errno::EAGAIN | Errno::EINTR) => {
                    if self.cancel.load(Ordering::SeqCst) {
                        return Some(Err(self.data_error(WaitError::Cancelled)));
                    }
                    if Instant::now() >= deadline {
                        return Some(Err(self.data_error(WaitError::TimedOut)));
                    }
                    continue;
                }
                Err(Errno::EINVAL | Errno::ENOSYS) if total == 0 => return None,
                Err(e) => return Some(Err(self.data_error(WaitError::Io(e.into())))),
            };
            // Drain the pipe into the file: splice while the file system takes it, else
            // read the pipe and write (the bytes are already out of the socket).
            let mut left = n;
            while left > 0 {
                if file_splices {
                    match splice(
                        &pipe_out,
                        None,
                        &*file,
                        None,
                        left,
                        SpliceFFlags::SPLICE_F_MOVE,
                    ) {
                        Ok(0) => {
                            return Some(Err(Error::local(
                                dest.display(),
                                &io::ErrorKind::WriteZero.into(),
                            )))
                        }
                        Ok(m) => left -= m,
                        Err(Errno::EINTR) => {}
                        Err(Errno::EINVAL | Errno::ENOSYS) => file_splices = false,
                        Err(e) => return Some(Err(Error::local(dest.display(), &e.into()))),
                    }
                } else {
                    let mut buf = vec![0u8; left.min(64 * 1024)];
                    let copied = pipe_out
                        .read(&mut buf)
                        .and_then(|m| file.write_all(&buf[..m]).map(|_| m));
                    match copied {
                        Ok(m) => left -= m,
                        Err(e) => return Some(Err(Error::local(dest.display(), &e))),
                    }
                }
            }
            total += n as u64;
            advance(n);
            deadline = Instant::now() + self.timeout;
        }
    }

    /// Writes all of `buf`.
    pub fn write_all(&mut self, buf: &[u8]) -> Result<()> {
        let deadline = Instant::now() + self.timeout;
        write_all_timed(&mut self.stream, buf, deadline, &self.cancel)
            .map_err(|e| self.data_error(e))
    }

    /// Closes the data connection after an upload, so the server sees end of file.
    pub fn finish_upload(mut self) -> Result<Option<Reply>> {
        // A TLS upload ends with close_notify: vsftpd treats a bare close as a truncation.
        let closed = self
            .stream
            .close_notify()
            .and_then(|_| self.stream.tcp().shutdown(Shutdown::Write));
        closed.map_err(|e| {
            Error::not_confirmed(format!("closing the data connection: {}", describe_io(&e)))
        })?;
        // Wait for the server to close its side before closing ours: closing a socket with
        // unread bytes (a TLS session ticket, the server's close_notify) makes the kernel
        // send a reset, which can destroy data the server has not read yet.
        let deadline = Instant::now() + self.timeout.min(Duration::from_secs(10));
        let mut sink = [0u8; 4096];
        while let Ok(n) = read_timed(&mut self.stream, &mut sink, deadline, &self.cancel) {
            if n == 0 {
                break;
            }
        }
        Ok(self.early_final)
    }

    /// Closes the data connection after a download and hands back an early final reply.
    pub fn finish_download(mut self) -> Option<Reply> {
        // Answer the server's close_notify (a TLS courtesy; errors do not matter here).
        let _ = self.stream.close_notify();
        self.early_final
    }

    fn data_error(&self, e: WaitError) -> Error {
        match e {
            WaitError::Cancelled => Error::new(Kind::Interrupted, "interrupted"),
            WaitError::TimedOut => Error::connection(format!(
                "timed out: the data connection stalled for {} s",
                self.timeout.as_secs_f64()
            )),
            WaitError::Io(e) => {
                Error::not_confirmed(format!("data connection failed: {}", describe_io(&e)))
            }
        }
    }
}

/// A direct TCP connection to the first address of `host` that answers, before `deadline`.
fn direct(
    host: &str,
    port: u16,
    opts: &Options,
    deadline: Instant,
    transcript: &mut Transcript,
) -> Result<TcpStream> {
    let interrupted = || Error::new(Kind::Interrupted, "interrupted");
    let timed_out = || {
        Error::connection(format!(
            "cannot connect to {}: timed out after {} s",
            show_host(host, port),
            opts.timeout.as_secs_f64()
        ))
    };
    let addrs = match net::resolve(host, port, deadline, &opts.cancel) {
        Ok(a) => a,
        Err(WaitError::Cancelled) => return Err(interrupted()),
        Err(WaitError::TimedOut) => {
            return Err(Error::connection(format!(
                "cannot resolve {host}: timed out after {} s",
                opts.timeout.as_secs_f64()
            )))
        }
        Err(WaitError::Io(e)) => {
            return Err(Error::connection(format!(
                "cannot resolve {host}: {}",
                describe_io(&e)
            )))
        }
    };
    let mut last_err = None;
    for addr in &addrs {
        transcript.note(&format!("connecting to {addr}"));
        match net::connect(*addr, deadline, &opts.cancel) {
            Ok(s) => return Ok(s),
            Err(WaitError::Cancelled) => return Err(interrupted()),
            Err(WaitError::TimedOut) => return Err(timed_out()),
            Err(WaitError::Io(e)) => last_err = Some(e),
        }
    }
    let why = last_err.map_or("no address".to_string(), |e| describe_io(&e));
    Err(Error::connection(format!(
        "cannot connect to {}: {why}",
        show_host(host, port)
    )))
}

/// Whether bytes are waiting on `tcp` (checked without waiting).
fn pending_bytes(tcp: &TcpStream) -> bool {
    if tcp.set_nonblocking(true).is_err() {
        return false;
    }
    let waiting = matches!(tcp.peek(&mut [0u8; 1]), Ok(n) if n > 0);
    let _ = tcp.set_nonblocking(false);
    waiting
}

fn show_host(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;
    use std::net::TcpListener;
    use std::sync::Mutex;

    /// A loopback server: greets, answers ABOR with 426 then 226 (noting the cancel flag's
    /// value at that moment), QUIT with 221, anything else with 200.
    fn server(flag: Arc<AtomicBool>, seen: Arc<Mutex<Vec<bool>>>) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            let mut w = s.try_clone().unwrap();
            w.write_all(b"220 hi\r\n").unwrap();
            for line in io::BufReader::new(s).lines() {
                let Ok(line) = line else { break };
                let reply: &[u8] = if line.starts_with("ABOR") {
                    seen.lock().unwrap().push(flag.load(Ordering::SeqCst));
                    b"426 aborted\r\n226 ABOR ok\r\n"
                } else if line.starts_with("QUIT") {
                    b"221 bye\r\n"
                } else {
                    b"200 ok\r\n"
                };
                if w.write_all(reply).is_err() {
                    break;
                }
            }
        });
        port
    }

    #[test]
    fn abor_never_clears_the_shared_cancel_flag() {
        let flag = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let port = server(flag.clone(), seen.clone());
        let opts = Options {
            cancel: flag.clone(),
            timeout: Duration::from_secs(5),
            ..Options::default()
        };
        let sink = Arc::new(Mutex::new(Vec::new()));
        let mut conn =
            Connection::connect("127.0.0.1", port, opts, Transcript::buffer(sink), Mode::Off)
                .unwrap();
        // Ctrl-C, as another worker of -j N would see it too.
        flag.store(true, Ordering::SeqCst);
        conn.abort_transfer();
        assert_eq!(
            *seen.lock().unwrap(),
            vec![true],
            "the flag was cleared during ABOR"
        );
        assert!(flag.load(Ordering::SeqCst));
        assert!(
            conn.is_alive(),
            "both replies read: the connection is in step"
        );
        assert!(conn.buf.is_empty());
        conn.quit();
    }
}
