//! The control conversation.
//!
//! [`Connection`] connects (through [`net`] or a proxy, with TLS as asked), reads replies
//! through the sans-IO [`reply::parse`] and keeps them in step with the commands sent
//! ([`Asked`]: a reply that cannot answer the command is dropped as unasked), logs in,
//! runs commands. Ending a transfer or the conversation (ABOR, QUIT) is in `ending.rs`; data
//! connections are in `data.rs`. Every wait has a deadline ([`Options::timeout`]) and notices a
//! cancel flag (Ctrl-C) within a fraction of a second. It never prints: lines go to the
//! [`Transcript`] it was handed.

use std::io::{self, Read};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crate::error::{describe_io, Error, Kind, Result};
use crate::ftp::answers::Asked;
use crate::ftp::command::Command;
use crate::ftp::net::{self, read_timed, write_all_timed, WaitError};
use crate::ftp::reply::{self, Reply};
use crate::ftp::tls::{self, Mode, Stream, Tls};
use crate::ftp::transcript::Transcript;

pub use crate::ftp::options::{Options, TlsSource};

/// The password sent for `anonymous` (or `ftp`) when the server asks for one.
pub const ANONYMOUS_PASSWORD: &str = "anonymous@";

/// Replies in a row that cannot answer the command before the connection is given up.
const MAX_UNASKED: usize = 4;
/// Size of one read from the control connection.
const CONTROL_CHUNK: usize = 8 * 1024;

/// A PASS whose reply is still to be read (`login.rs`).
#[derive(Debug)]
pub(super) struct PendingLogin {
    pub(super) user: String,
    /// `OPTS UTF8 ON` went after it: its reply follows PASS's.
    pub(super) utf8: bool,
}

/// Which passive command this server answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Passive {
    Untried,
    Epsv,
    Pasv,
}

/// A logged-in (or logging-in) FTP control connection.
pub struct Connection {
    pub(super) stream: Stream,
    pub(super) buf: Vec<u8>,
    pub(super) opts: Options,
    pub(super) transcript: Transcript,
    pub(super) peer: SocketAddr,
    pub(super) passive: Passive,
    pub(super) binary: bool,
    pub(super) alive: bool,
    pub(super) mlsd: Option<bool>,
    /// Whether EPRT works here: None until tried.
    pub(super) eprt: Option<bool>,
    /// The FEAT lines, once asked for.
    pub(super) features: Option<Vec<String>>,
    /// Verbs the session layer found not implemented here (500/502/504): not sent again.
    pub unsupported: Vec<&'static str>,
    /// The proxy and the server's host name, when connected through a proxy.
    pub(super) via: Option<(crate::ftp::proxy::Proxy, String)>,
    /// The TLS settings and server name when data connections must be protected.
    pub(super) data_tls: Option<(Tls, rustls::pki_types::ServerName<'static>)>,
    pub(super) mode: Mode,
    /// What the last command sent waits for: replies that cannot answer it are dropped.
    pub(super) asked: Option<Asked>,
    /// The greeting was `230`: logged in without USER and PASS.
    pub(super) logged_in: bool,
    /// `host:port`, the key of [`Options::pipelining`].
    pub(super) server: String,
    /// This server stumbles on pipelined commands: one at a time (`pipeline.rs`).
    pub(super) one_at_a_time: bool,
    /// A passive address asked for in the same write as the command before (SIZE + EPSV):
    /// the next data connection uses it; any other command sent first drops it.
    pub(super) prepared: Option<(SocketAddr, Instant)>,
    /// The data connection to the prepared address, started early (`net::Early`): an
    /// upload's next transfer finds its handshake done (`ahead.rs`).
    pub(super) early: Option<net::Early>,
    /// When a command was last sent.
    pub(super) last_sent: Instant,
    /// FEAT listed UTF8 and `OPTS UTF8 ON` is still to send: it goes in the same write as
    /// the next command that can follow it there (or alone before any other).
    pub(super) utf8_pending: bool,
    /// The greeting names a server known to read commands in turn, only after the transfer
    /// before them has ended: an upload's proof may go ahead of its final reply (`ahead.rs`).
    pub(super) reads_in_turn: bool,
    /// The next transfer wants TYPE I, MODE S and STRU F first: they go in one write with
    /// its EPSV ([`Connection::want_binary`]).
    pub(super) binary_due: bool,
    /// PASS was sent and its reply is still to be read, with the first command after it
    /// (`login.rs`).
    pub(super) pass_pending: Option<PendingLogin>,
    /// The login that failed when its reply was read late: every later command gets it.
    pub(super) failed_login: Option<Error>,
    /// Commands that rode behind the transfer command in progress (`riders.rs`): their
    /// replies come right after its final reply.
    pub(super) riders: Vec<Command>,
    /// Riders answered behind the last transfer whose replies the caller takes
    /// ([`Connection::answered`]); any command sent drops them.
    pub(super) answered: Vec<(Command, Reply)>,
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
        let via = crate::ftp::proxy::choose(opts.proxy.as_ref(), &opts.noproxy, host);
        let deadline = Instant::now() + opts.timeout;
        let stream = match &via {
            Some(proxy) => {
                transcript.note(&format!(
                    "connecting to {} through the proxy {proxy}",
                    net::show_host(host, port)
                ));
                crate::ftp::proxy::connect(proxy, host, port, deadline, &opts.cancel)?
            }
            None => net::direct(
                host,
                port,
                opts.timeout,
                deadline,
                &opts.cancel,
                &mut |line| transcript.note(line),
            )?,
        };
        let peer = stream
            .peer_addr()
            .map_err(|e| Error::connection(describe_io(&e)))?;
        let _ = stream.set_nodelay(true);
        net::keep_alive(&stream);
        net::set_ticks(&stream).map_err(|e| Error::connection(describe_io(&e)))?;
        let tls_settings = match mode {
            Mode::Off => None,
            _ => Some((opts.tls.get(host, port)?, tls::server_name(host)?)),
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
            unsupported: Vec::new(),
            via: via.map(|p| (p, host.to_string())),
            data_tls: None,
            mode,
            asked: None,
            logged_in: false,
            server: net::show_host(host, port),
            one_at_a_time: false,
            prepared: None,
            early: None,
            last_sent: Instant::now(),
            utf8_pending: false,
            reads_in_turn: false,
            pass_pending: None,
            failed_login: None,
            binary_due: false,
            riders: Vec::new(),
            answered: Vec::new(),
        };
        conn.one_at_a_time = conn.opts.pipelining.stumbles(&conn.server);
        if let Some(d) = conn.stream.describe() {
            conn.transcript.note(&format!("TLS: {d}"));
        }
        let mut greeting = conn.read_reply()?;
        if greeting.code == 120 {
            greeting = conn.read_reply()?;
        }
        conn.reads_in_turn = crate::ftp::answers::reads_in_turn(greeting.text());
        // 230: the server needs no login (RFC 959 §5.4 allows it as a greeting).
        conn.logged_in = greeting.code == 230;
        if conn.logged_in {
            conn.transcript.note("the server needs no login");
        } else if greeting.code != 220 {
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
            if !conn.buf.is_empty() || net::pending_bytes(conn.stream.tcp()) {
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

    /// Sends NOOP when no command went out for `idle` or longer (between the files of a long
    /// run, so a server's idle timeout does not fire, and a connection that died meanwhile is
    /// found before the next file starts). A failure leaves the connection marked dead.
    pub fn keep_alive_if_idle(&mut self, idle: Duration) {
        if self.alive && self.last_sent.elapsed() >= idle {
            let _ = self.exec(&Command::Noop);
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
    /// A pending `OPTS UTF8 ON` goes first, with its reply read.
    pub fn send(&mut self, cmd: &Command) -> Result<()> {
        if std::mem::take(&mut self.utf8_pending) {
            let (prepared, early) = (self.prepared, self.early.take());
            self.exec(&Command::OptsUtf8)?;
            (self.prepared, self.early) = (prepared, early);
        }
        let deadline = Instant::now() + self.opts.timeout;
        let cancel = self.opts.cancel.clone();
        self.send_until(cmd, deadline, &cancel)
    }

    /// Sends one command, giving up at `deadline` or when `cancel` is set.
    pub(super) fn send_until(
        &mut self,
        cmd: &Command,
        deadline: Instant,
        cancel: &AtomicBool,
    ) -> Result<()> {
        self.check_login()?;
        self.drop_unsolicited()?;
        self.forget_ahead();
        self.asked = Some(Asked::of(cmd));
        self.last_sent = Instant::now();
        self.transcript.sent(&cmd.log_line());
        let bytes = cmd.wire();
        if let Err(e) = write_all_timed(&mut self.stream, &bytes, deadline, cancel) {
            let lost = self.lost(e, "sending to the server");
            return Err(self.refused_login().unwrap_or(lost));
        }
        self.settle_login()
    }

    /// Drops what was asked for ahead of the command about to go: the passive address (and
    /// the data connection started to it) and the answers of riders (`riders.rs`).
    pub(super) fn forget_ahead(&mut self) {
        self.prepared = None;
        self.early = None;
        self.answered.clear();
    }

    pub(super) fn drop_unsolicited(&mut self) -> Result<()> {
        if self.pass_pending.is_some() {
            // The replies waiting are the login's, read after the next command is written.
            return Ok(());
        }
        while let Ok(Some((reply, used))) = reply::parse(&self.buf) {
            self.take_buffered(used, &reply)?;
            self.transcript
                .note("ignoring that reply: the server sent it unasked");
        }
        Ok(())
    }

    /// Removes a parsed reply from the buffer and logs it; a `421` kills the connection.
    pub(super) fn take_buffered(&mut self, used: usize, reply: &Reply) -> Result<()> {
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
    pub(super) fn read_reply_until(
        &mut self,
        deadline: Instant,
        cancel: &AtomicBool,
    ) -> Result<Reply> {
        match self.poll_reply_until(deadline, cancel)? {
            Some(reply) => Ok(reply),
            None => Err(self.lost(WaitError::TimedOut, "waiting for the server's reply")),
        }
    }

    /// A reply that can answer the command sent, or None when `deadline` passes first (the
    /// connection stays usable: a reply half received stays in the buffer). A reply whose
    /// code cannot answer the command ([`Asked::accepts`]) was sent unasked: it is dropped
    /// with a note, never acted on; too many of them in a row end the connection.
    pub(super) fn poll_reply_until(
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
            net::quick_ack(self.stream.tcp());
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
    pub(super) fn read_reply_within(&mut self, limit: Duration) -> Result<Reply> {
        let deadline = Instant::now() + self.opts.timeout.min(limit);
        let cancel = self.opts.cancel.clone();
        self.read_reply_until(deadline, &cancel)
    }

    /// Sends a command and reads its reply, whatever the code.
    pub fn exec(&mut self, cmd: &Command) -> Result<Reply> {
        if self.utf8_pending && cmd.repeatable() && !self.one_at_a_time {
            // In one write with the pending OPTS UTF8 ON (exec_pipelined adds it).
            let mut replies = self.exec_pipelined(std::slice::from_ref(cmd))?;
            return Ok(replies.pop().expect("a reply to the command"));
        }
        let behind_pass = self.pass_pending.is_some();
        self.send(cmd)?;
        if behind_pass && cmd.repeatable() && !self.one_at_a_time {
            return self.reply_behind_pass(cmd);
        }
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

    /// The server's FEAT lines if they were asked for already (nothing is sent).
    pub fn known_features(&self) -> Option<&[String]> {
        self.features.as_deref()
    }

    /// Keeps FEAT's lines; `OPTS UTF8 ON` if they list UTF8 (RFC 2640; any answer will do),
    /// sent with the next command ([`Connection::send`], `exec_pipelined`).
    pub(super) fn learn_features(&mut self, feat: &Reply) -> Result<()> {
        self.features = Some(feat.feature_lines());
        self.utf8_pending = feat.lists_feature("UTF8");
        Ok(())
    }
    /// The server's FEAT lines (asked once per connection, only when a feature matters).
    pub fn features(&mut self) -> Result<Vec<String>> {
        if self.features.is_none() {
            let reply = self.exec(&Command::Feat)?;
            self.learn_features(&reply)?;
        }
        Ok(self.features.clone().unwrap_or_default())
    }

    pub(super) fn lost(&mut self, e: WaitError, doing: &str) -> Error {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, Write};
    use std::net::TcpListener;
    use std::sync::atomic::Ordering;
    use std::sync::Arc;
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
    fn the_control_connection_has_keep_alive_and_idle_means_a_noop() {
        let flag = Arc::new(AtomicBool::new(false));
        let port = server(flag.clone(), Arc::new(Mutex::new(Vec::new())));
        let opts = Options {
            cancel: flag,
            timeout: Duration::from_secs(5),
            ..Options::default()
        };
        let sink = Arc::new(Mutex::new(Vec::new()));
        let mut conn = Connection::connect(
            "127.0.0.1",
            port,
            opts,
            Transcript::buffer(sink.clone()),
            Mode::Off,
        )
        .unwrap();
        #[cfg(target_os = "linux")]
        {
            use nix::sys::socket::{getsockopt, sockopt};
            assert!(getsockopt(conn.stream.tcp(), sockopt::KeepAlive).unwrap());
        }
        conn.keep_alive_if_idle(Duration::from_secs(3600));
        conn.keep_alive_if_idle(Duration::ZERO);
        let text = String::from_utf8_lossy(&sink.lock().unwrap()).into_owned();
        assert_eq!(text.matches("NOOP").count(), 1, "{text}");
        assert!(conn.is_alive());
        conn.quit();
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
