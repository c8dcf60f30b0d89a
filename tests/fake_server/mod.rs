//! A scripted, misbehaving FTP server for tests (std only, one thread).
//!
//! [`FakeServer`] listens on 127.0.0.1:0, accepts one control connection and
//! plays a script of [`Step`]s: raw reply bytes (bare LF endings, a reply
//! split into single bytes, a megabyte of text, an SSH banner), command lines
//! it expects, passive data listeners, data sent or received, stalls and
//! hang-ups. It records every line the client sent, so a test can check what
//! was sent and what was not.
//!
//! By default the server is *lenient*: while it waits for the scripted
//! command, it answers the housekeeping commands a client may send around it
//! (`TYPE`, `SIZE`, `CWD`, `EPSV`, `PASV`, `QUIT`, ...) from a table of
//! sensible replies, so a small change in the client's command order does not
//! break tests about something else. Scripted steps always win: `Expect("EPSV")`
//! captures the `EPSV` itself. When the script ends, the server keeps
//! answering from the table until the client quits or hangs up.
//!
//! Invariant: every blocking call has a deadline, so a broken test fails
//! instead of hanging. Invariant: the server only ever binds or accepts on
//! 127.0.0.1; it never connects anywhere. A `227` reply may *name* another
//! address (see [`FakeServer::pasv`]), but the listener stays on 127.0.0.1.

// Each test binary that includes this module uses a different part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

/// How long the server waits for one command line, one data connection or one write.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the server waits for the control connection.
const ACCEPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the server keeps answering after the script ends.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// How long [`Running::finish`] waits for the server thread.
const FINISH_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest command line the server accepts from the client.
const MAX_COMMAND_LINE: usize = 64 * 1024;
/// Pause between bytes in [`FakeServer::bytewise`] mode.
const BYTE_PAUSE: Duration = Duration::from_millis(1);

/// One thing the server does, in script order.
#[derive(Clone)]
pub enum Step {
    /// Write these bytes on the control connection.
    Send(Vec<u8>),
    /// Read one command line; it must start with this prefix (ASCII case-insensitive).
    Expect(String),
    /// Read one command line, whatever it is.
    ExpectAny,
    /// Open a data listener on 127.0.0.1:0 and reply `227` naming this address.
    Pasv(Ipv4Addr),
    /// Open a data listener on 127.0.0.1:0 and reply `229 (|||port|)`.
    Epsv,
    /// Accept the client's data connection on the open listener.
    DataAccept,
    /// Write bytes on the data connection (accepting it first if needed).
    DataWrite(Vec<u8>),
    /// Close the data connection.
    DataClose,
    /// Accept, write these bytes, close.
    DataSend(Vec<u8>),
    /// Accept, read until EOF, record what arrived, close.
    DataRecv,
    /// Drop the control connection (and any data connection).
    Close,
    /// Send nothing for this long, but record what the client sends; ends early on EOF.
    Stall(Duration),
    /// Sleep.
    Sleep(Duration),
    /// Write `prefix`, then `b'A'` without end until `max` bytes or the client hangs up.
    SendEndless { prefix: Vec<u8>, max: usize },
    /// Write these bytes one at a time, `every` apart, until done or the client hangs up.
    Trickle { bytes: Vec<u8>, every: Duration },
    /// Accept the data connection, keep writing a byte to it every 100 ms for this long
    /// (from a helper thread) while reading it to EOF; record what arrived.
    DataChatter(Duration),
}

impl std::fmt::Debug for Step {
    // Byte payloads show as their length and start, so a failing test's message stays readable.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bytes = |name: &str, b: &[u8], f: &mut std::fmt::Formatter<'_>| {
            let start = String::from_utf8_lossy(&b[..b.len().min(40)]).into_owned();
            write!(f, "{name}({} bytes: {start:?})", b.len())
        };
        match self {
            Step::Send(b) => bytes("Send", b, f),
            Step::DataWrite(b) => bytes("DataWrite", b, f),
            Step::DataSend(b) => bytes("DataSend", b, f),
            Step::Expect(prefix) => write!(f, "Expect({prefix:?})"),
            Step::ExpectAny => write!(f, "ExpectAny"),
            Step::Pasv(ip) => write!(f, "Pasv({ip})"),
            Step::Epsv => write!(f, "Epsv"),
            Step::DataAccept => write!(f, "DataAccept"),
            Step::DataClose => write!(f, "DataClose"),
            Step::DataRecv => write!(f, "DataRecv"),
            Step::Close => write!(f, "Close"),
            Step::Stall(d) => write!(f, "Stall({d:?})"),
            Step::Sleep(d) => write!(f, "Sleep({d:?})"),
            Step::Trickle { bytes, every } => {
                write!(f, "Trickle({} bytes every {every:?})", bytes.len())
            }
            Step::DataChatter(d) => write!(f, "DataChatter({d:?})"),
            Step::SendEndless { prefix, max } => {
                write!(
                    f,
                    "SendEndless({:?}, max {max})",
                    String::from_utf8_lossy(prefix)
                )
            }
        }
    }
}

/// What the server saw and did; returned by [`Running::finish`].
#[derive(Default, Clone)]
pub struct Transcript {
    /// Control connections accepted (including any the script did not expect).
    pub connections: usize,
    /// Data connections accepted.
    pub data_connections: usize,
    /// Every command line the client sent, without its line ending, in order.
    pub commands: Vec<String>,
    /// Bytes received by each `DataRecv`.
    pub uploads: Vec<Vec<u8>>,
    /// Script deviations: an unexpected command, a timeout, an early hang-up.
    pub problems: Vec<String>,
    /// For `SendEndless`: bytes written, and whether the client hung up before `max`.
    pub endless: Option<(usize, bool)>,
    /// With [`FakeServer::drops_pipelined`]: the command lines dropped unanswered.
    pub ignored: Vec<String>,
}

impl std::fmt::Debug for Transcript {
    // Uploads show as lengths, so a failing test's message stays readable.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let upload_lengths: Vec<usize> = self.uploads.iter().map(Vec::len).collect();
        f.debug_struct("Transcript")
            .field("connections", &self.connections)
            .field("data_connections", &self.data_connections)
            .field("commands", &self.commands)
            .field("upload_lengths", &upload_lengths)
            .field("problems", &self.problems)
            .field("endless", &self.endless)
            .finish()
    }
}

impl Transcript {
    /// Whether any command starts with `prefix` (ASCII case-insensitive).
    pub fn sent(&self, prefix: &str) -> bool {
        self.commands.iter().any(|c| starts_with_ci(c, prefix))
    }

    /// How many commands start with `prefix` (ASCII case-insensitive).
    pub fn count(&self, prefix: &str) -> usize {
        self.commands
            .iter()
            .filter(|c| starts_with_ci(c, prefix))
            .count()
    }

    /// Index of the first command starting with `prefix`.
    pub fn position(&self, prefix: &str) -> Option<usize> {
        self.commands.iter().position(|c| starts_with_ci(c, prefix))
    }

    /// Commands sent after the first one starting with `prefix`.
    pub fn after(&self, prefix: &str) -> &[String] {
        match self.position(prefix) {
            Some(i) => &self.commands[i + 1..],
            None => &[],
        }
    }

    /// The verbs (first words, upper-cased) of all commands.
    pub fn verbs(&self) -> Vec<String> {
        self.commands.iter().map(|c| verb(c)).collect()
    }

    /// Panics unless the script played through without a deviation.
    pub fn assert_clean(&self) {
        assert!(
            self.problems.is_empty(),
            "fake server script deviations: {:#?}",
            self
        );
    }
}

#[derive(Debug, Clone, Default)]
struct Options {
    strict: bool,
    bare_lf: bool,
    bytewise: bool,
    size: Option<u64>,
    drops_pipelined: bool,
    drops_pipelined_after_login: bool,
}

/// A script under construction. Build it with the chained methods, then [`FakeServer::start`].
///
/// ```ignore
/// let server = FakeServer::new().login().expect("MKD").send("257 \"/d\" created\r\n").start();
/// // run the client against server.url("/d") ...
/// let transcript = server.finish();
/// ```
#[derive(Debug, Clone, Default)]
pub struct FakeServer {
    steps: Vec<Step>,
    opts: Options,
    /// The script of the next control connection (a client that logs in again).
    next: Option<Box<FakeServer>>,
}

impl FakeServer {
    /// An empty, lenient script.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answer nothing from the default table: every command must be scripted.
    pub fn strict(mut self) -> Self {
        self.opts.strict = true;
        self
    }

    /// Turn every `\r\n` the server writes on the control connection into `\n`.
    pub fn bare_lf(mut self) -> Self {
        self.opts.bare_lf = true;
        self
    }

    /// Write everything on the control connection one byte at a time, with small pauses.
    pub fn bytewise(mut self) -> Self {
        self.opts.bytewise = true;
        self
    }

    /// Act like a server that reads the control connection a chunk at a time and parses
    /// only the first command in it: whatever else arrived in the same write (pipelined
    /// commands) is dropped unanswered, and recorded in [`Transcript::ignored`].
    pub fn drops_pipelined(mut self) -> Self {
        self.opts.drops_pipelined = true;
        self
    }

    /// Like [`FakeServer::drops_pipelined`], but only from `PASS` on (the commands sent
    /// with `USER` are answered; whatever came behind `PASS` in the same read is not).
    pub fn drops_pipelined_after_login(mut self) -> Self {
        self.opts.drops_pipelined_after_login = true;
        self
    }

    /// Answer `SIZE` from the table with `213 n` (otherwise: the last upload's size, or `550`).
    pub fn size(mut self, n: u64) -> Self {
        self.opts.size = Some(n);
        self
    }

    /// Append any step.
    pub fn step(mut self, step: Step) -> Self {
        self.steps.push(step);
        self
    }

    /// Send raw bytes on the control connection.
    pub fn send(self, bytes: impl AsRef<[u8]>) -> Self {
        self.step(Step::Send(bytes.as_ref().to_vec()))
    }

    /// Expect a command starting with `prefix`.
    pub fn expect(self, prefix: &str) -> Self {
        self.step(Step::Expect(prefix.to_string()))
    }

    /// Expect a command starting with `prefix`, then send `reply`.
    pub fn reply(self, prefix: &str, reply: impl AsRef<[u8]>) -> Self {
        self.expect(prefix).send(reply)
    }

    /// Read one command, whatever it is.
    pub fn expect_any(self) -> Self {
        self.step(Step::ExpectAny)
    }

    /// The usual login: `220`, `USER` → `331`, `PASS` → `230`.
    pub fn login(self) -> Self {
        self.send("220 fake FTP server ready\r\n")
            .reply("USER", "331 Password required\r\n")
            .reply("PASS", "230 Logged in\r\n")
    }

    /// The login of a client that asks for the features with its USER (in the same write):
    /// `220`, `USER` → `331`, `FEAT` → `feat`, `PASS` → `230`.
    pub fn login_feat(self, feat: impl AsRef<[u8]>) -> Self {
        self.send("220 fake FTP server ready\r\n")
            .reply("USER", "331 Password required\r\n")
            .reply("FEAT", feat)
            .reply("PASS", "230 Logged in\r\n")
    }

    /// Open a data listener on 127.0.0.1 and answer `227` naming `advertised`.
    pub fn pasv(self, advertised: Ipv4Addr) -> Self {
        self.step(Step::Pasv(advertised))
    }

    /// Open a data listener on 127.0.0.1 and answer `229`.
    pub fn epsv(self) -> Self {
        self.step(Step::Epsv)
    }

    /// Accept the data connection, write `bytes`, close it.
    pub fn data_send(self, bytes: impl AsRef<[u8]>) -> Self {
        self.step(Step::DataSend(bytes.as_ref().to_vec()))
    }

    /// Accept the data connection (if not yet) and write `bytes`, keeping it open.
    pub fn data_write(self, bytes: impl AsRef<[u8]>) -> Self {
        self.step(Step::DataWrite(bytes.as_ref().to_vec()))
    }

    /// Close the data connection.
    pub fn data_close(self) -> Self {
        self.step(Step::DataClose)
    }

    /// Accept the data connection, read it to EOF and record the bytes.
    pub fn data_recv(self) -> Self {
        self.step(Step::DataRecv)
    }

    /// `LIST` → `150`, the listing on the data connection, `226`.
    pub fn list(self, listing: impl AsRef<[u8]>) -> Self {
        self.reply("LIST", "150 Here comes the directory listing\r\n")
            .data_send(listing)
            .send("226 Directory send OK\r\n")
    }

    /// `RETR` → `150`, `content` on the data connection, `226`.
    pub fn retr(self, content: impl AsRef<[u8]>) -> Self {
        self.reply("RETR", "150 Opening BINARY mode data connection\r\n")
            .data_send(content)
            .send("226 Transfer complete\r\n")
    }

    /// Drop the control connection.
    pub fn close(self) -> Self {
        self.step(Step::Close)
    }

    /// Hold the connection open and answer nothing for `secs` seconds (ends early on EOF).
    pub fn stall(self, secs: u64) -> Self {
        self.step(Step::Stall(Duration::from_secs(secs)))
    }

    /// Pause the script.
    pub fn sleep_ms(self, ms: u64) -> Self {
        self.step(Step::Sleep(Duration::from_millis(ms)))
    }

    /// Write `prefix` and then a line that never ends, up to `max` bytes in all.
    pub fn send_endless(self, prefix: &str, max: usize) -> Self {
        self.step(Step::SendEndless {
            prefix: prefix.as_bytes().to_vec(),
            max,
        })
    }

    /// Write `bytes` one at a time, `every_ms` apart (a peer that is never quite silent).
    pub fn trickle(self, bytes: impl AsRef<[u8]>, every_ms: u64) -> Self {
        self.step(Step::Trickle {
            bytes: bytes.as_ref().to_vec(),
            every: Duration::from_millis(every_ms),
        })
    }

    /// After this script's connection ends, accept one more control connection and play
    /// `script` on it (a client that logs in again: a retry, a second connection).
    pub fn then(mut self, script: FakeServer) -> Self {
        match &mut self.next {
            Some(next) => {
                let chained = std::mem::take(next.as_mut()).then(script);
                self.next = Some(Box::new(chained));
            }
            None => self.next = Some(Box::new(script)),
        }
        self
    }

    /// Bind 127.0.0.1:0 and play the script in a thread.
    pub fn start(self) -> Running {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let port = listener.local_addr().expect("local addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let thread_listener = listener.try_clone().expect("clone listener");
        let thread_stop = Arc::clone(&stop);
        thread::Builder::new()
            .name(format!("fake-ftp-{port}"))
            .spawn(move || {
                let transcript = serve(thread_listener, self, &thread_stop);
                // The receiver may be gone if the test already panicked.
                let _ = tx.send(transcript);
            })
            .expect("spawn fake server");
        Running {
            port,
            listener,
            stop,
            rx,
        }
    }
}

/// A server playing its script. Dropping it tells the thread to stop waiting.
#[derive(Debug)]
pub struct Running {
    port: u16,
    listener: TcpListener,
    stop: Arc<AtomicBool>,
    rx: mpsc::Receiver<Transcript>,
}

impl Running {
    /// The control port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `ftp://127.0.0.1:PORT` followed by `path` (which should start with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("ftp://127.0.0.1:{}{}", self.port, path)
    }

    /// `ftp://USERINFO@127.0.0.1:PORT` followed by `path`.
    pub fn url_as(&self, userinfo: &str, path: &str) -> String {
        format!("ftp://{}@127.0.0.1:{}{}", userinfo, self.port, path)
    }

    /// Call after the client has exited: stop waiting, and return the transcript.
    pub fn finish(self) -> Transcript {
        self.stop.store(true, Ordering::SeqCst);
        let mut transcript = self
            .rx
            .recv_timeout(FINISH_TIMEOUT)
            .expect("fake server thread did not finish in time");
        // Count control connections the script never accepted (a reconnecting client).
        while self.listener.accept().is_ok() {
            transcript.connections += 1;
            transcript
                .problems
                .push("an extra control connection arrived".to_string());
        }
        transcript
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// The server thread: accept, play, drain, report.
fn serve(listener: TcpListener, script: FakeServer, stop: &AtomicBool) -> Transcript {
    let mut transcript = Transcript::default();
    let mut script = Some(script);
    while let Some(mut one) = script.take() {
        script = one.next.take().map(|b| *b);
        let before = transcript.connections;
        transcript = serve_one(&listener, one, stop, transcript);
        if transcript.connections == before {
            break;
        }
    }
    transcript
}

/// Accepts one control connection and plays `script` on it, adding to `transcript`.
fn serve_one(
    listener: &TcpListener,
    script: FakeServer,
    stop: &AtomicBool,
    mut transcript: Transcript,
) -> Transcript {
    let control = match accept(listener, ACCEPT_TIMEOUT, stop) {
        Ok(stream) => stream,
        Err(e) => {
            transcript.problems.push(format!("control connection: {e}"));
            return transcript;
        }
    };
    transcript.connections += 1;
    let writer = match control.try_clone() {
        Ok(writer) => writer,
        Err(e) => {
            transcript
                .problems
                .push(format!("clone control stream: {e}"));
            return transcript;
        }
    };
    let mut session = Session {
        reader: Some(BufReader::new(control)),
        writer: Some(writer),
        pending: Vec::new(),
        data_listener: None,
        data: None,
        quit: false,
        opts: script.opts,
        stop,
        transcript,
    };
    for (i, step) in script.steps.into_iter().enumerate() {
        if let Err(e) = session.play(&step) {
            session
                .transcript
                .problems
                .push(format!("step {i} {step:?}: {e}"));
            break;
        }
    }
    session.drain();
    session.transcript
}

/// Accept one connection before `timeout`, or give up once `stop` is set.
fn accept(
    listener: &TcpListener,
    timeout: Duration,
    stop: &AtomicBool,
) -> Result<TcpStream, String> {
    let deadline = Instant::now() + timeout;
    loop {
        match listener.accept() {
            Ok((stream, _peer)) => {
                stream
                    .set_nonblocking(false)
                    .map_err(|e| format!("blocking mode: {e}"))?;
                stream
                    .set_write_timeout(Some(IO_TIMEOUT))
                    .map_err(|e| format!("write timeout: {e}"))?;
                stream
                    .set_read_timeout(Some(IO_TIMEOUT))
                    .map_err(|e| format!("read timeout: {e}"))?;
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if stop.load(Ordering::SeqCst) {
                    return Err("no connection arrived".to_string());
                }
                if Instant::now() >= deadline {
                    return Err(format!("no connection within {timeout:?}"));
                }
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(format!("accept: {e}")),
        }
    }
}

/// What one attempt to read a command line gave.
enum Line {
    Command(String),
    Eof,
    Timeout,
}

struct Session<'a> {
    reader: Option<BufReader<TcpStream>>,
    writer: Option<TcpStream>,
    /// Bytes of a command line read so far (kept across read timeouts).
    pending: Vec<u8>,
    data_listener: Option<TcpListener>,
    data: Option<TcpStream>,
    quit: bool,
    opts: Options,
    stop: &'a AtomicBool,
    transcript: Transcript,
}

impl<'a> Session<'a> {
    fn play(&mut self, step: &Step) -> Result<(), String> {
        match step {
            Step::Send(bytes) => self.send(bytes),
            Step::Expect(prefix) => self.expect(Some(prefix)),
            Step::ExpectAny => self.expect(None),
            Step::Pasv(advertised) => self.pasv(*advertised),
            Step::Epsv => self.epsv(),
            Step::DataAccept => self.accept_data(),
            Step::DataWrite(bytes) => self.data_write(bytes),
            Step::DataClose => {
                self.close_data();
                Ok(())
            }
            Step::DataSend(bytes) => {
                self.data_write(bytes)?;
                self.close_data();
                Ok(())
            }
            Step::DataRecv => self.data_recv(),
            Step::Close => {
                self.close_data();
                self.close_control();
                Ok(())
            }
            Step::Stall(duration) => {
                self.stall(*duration);
                Ok(())
            }
            Step::Sleep(duration) => {
                thread::sleep(*duration);
                Ok(())
            }
            Step::SendEndless { prefix, max } => self.send_endless(prefix, *max),
            Step::Trickle { bytes, every } => {
                self.trickle(bytes, *every);
                Ok(())
            }
            Step::DataChatter(d) => self.data_chatter(*d),
        }
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        let bytes = if self.opts.bare_lf {
            crlf_to_lf(bytes)
        } else {
            bytes.to_vec()
        };
        let bytewise = self.opts.bytewise;
        let writer = self.writer.as_mut().ok_or("control connection closed")?;
        let result = if bytewise {
            bytes.iter().try_for_each(|b| {
                writer.write_all(std::slice::from_ref(b))?;
                thread::sleep(BYTE_PAUSE);
                Ok(())
            })
        } else {
            writer.write_all(&bytes)
        };
        result.map_err(|e| format!("write to client: {e}"))
    }

    /// Read commands until one matches `prefix`, answering table commands on the way.
    fn expect(&mut self, prefix: Option<&str>) -> Result<(), String> {
        loop {
            match self.read_line(IO_TIMEOUT) {
                Line::Command(command) => {
                    self.transcript.commands.push(command.clone());
                    let Some(prefix) = prefix else {
                        return Ok(());
                    };
                    if starts_with_ci(&command, prefix) {
                        return Ok(());
                    }
                    if !self.opts.strict && self.answer_from_table(&command)? {
                        continue;
                    }
                    let _ = self.send(b"500 Command not in the test script\r\n");
                    return Err(format!("expected {prefix:?}, got {command:?}"));
                }
                Line::Eof => {
                    return Err(format!(
                        "client closed the connection while the script expected {prefix:?}"
                    ))
                }
                Line::Timeout => return Err(format!("no command within {IO_TIMEOUT:?}")),
            }
        }
    }

    /// Answer a housekeeping command from the default table; `false` if it is not in it.
    fn answer_from_table(&mut self, command: &str) -> Result<bool, String> {
        let reply = match verb(command).as_str() {
            "TYPE" | "MODE" | "STRU" | "NOOP" | "OPTS" | "CLNT" => "200 OK\r\n".to_string(),
            "SYST" => "215 UNIX Type: L8\r\n".to_string(),
            "FEAT" => "211-Features:\r\n EPSV\r\n PASV\r\n SIZE\r\n MLST type*;size*;modify*;\r\n211 End\r\n".to_string(),
            "PWD" => "257 \"/\" is the current directory\r\n".to_string(),
            "CWD" => "250 Directory successfully changed\r\n".to_string(),
            "MDTM" => "550 Could not get file modification time\r\n".to_string(),
            "SIZE" => {
                let size = self
                    .opts
                    .size
                    .or_else(|| self.transcript.uploads.last().map(|u| u.len() as u64));
                match size {
                    Some(n) => format!("213 {n}\r\n"),
                    None => "550 Could not get file size\r\n".to_string(),
                }
            }
            "EPSV" => return self.epsv().map(|()| true),
            "PASV" => return self.pasv(Ipv4Addr::LOCALHOST).map(|()| true),
            "QUIT" => {
                self.quit = true;
                "221 Goodbye\r\n".to_string()
            }
            _ => return Ok(false),
        };
        self.send(reply.as_bytes())?;
        Ok(true)
    }

    fn open_data_listener(&mut self) -> Result<u16, String> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| format!("bind data listener: {e}"))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("nonblocking data listener: {e}"))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("data listener address: {e}"))?
            .port();
        self.close_data();
        self.data_listener = Some(listener);
        Ok(port)
    }

    fn pasv(&mut self, advertised: Ipv4Addr) -> Result<(), String> {
        let port = self.open_data_listener()?;
        let [h1, h2, h3, h4] = advertised.octets();
        let reply = format!(
            "227 Entering Passive Mode ({h1},{h2},{h3},{h4},{},{})\r\n",
            port >> 8,
            port & 0xff
        );
        self.send(reply.as_bytes())
    }

    fn epsv(&mut self) -> Result<(), String> {
        let port = self.open_data_listener()?;
        self.send(format!("229 Entering Extended Passive Mode (|||{port}|)\r\n").as_bytes())
    }

    fn accept_data(&mut self) -> Result<(), String> {
        if self.data.is_some() {
            return Ok(());
        }
        let listener = self
            .data_listener
            .as_ref()
            .ok_or("no data listener is open (script a Pasv/Epsv first)")?;
        let stream =
            accept(listener, IO_TIMEOUT, self.stop).map_err(|e| format!("data connection: {e}"))?;
        self.transcript.data_connections += 1;
        self.data = Some(stream);
        Ok(())
    }

    fn data_write(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.accept_data()?;
        let data = self.data.as_mut().ok_or("no data connection")?;
        data.write_all(bytes)
            .map_err(|e| format!("write to data connection: {e}"))
    }

    fn data_recv(&mut self) -> Result<(), String> {
        self.accept_data()?;
        let mut data = self.data.take().ok_or("no data connection")?;
        let mut received = Vec::new();
        let result = data.read_to_end(&mut received);
        self.transcript.uploads.push(received);
        result
            .map(|_| ())
            .map_err(|e| format!("read data connection: {e}"))
    }

    fn trickle(&mut self, bytes: &[u8], every: Duration) {
        let Some(writer) = self.writer.as_mut() else {
            return;
        };
        for b in bytes {
            if self.stop.load(Ordering::SeqCst) || writer.write_all(&[*b]).is_err() {
                return;
            }
            thread::sleep(every);
        }
    }

    fn data_chatter(&mut self, duration: Duration) -> Result<(), String> {
        self.accept_data()?;
        let mut data = self.data.take().ok_or("no data connection")?;
        let mut chatter = data
            .try_clone()
            .map_err(|e| format!("clone data stream: {e}"))?;
        // Detached: it keeps talking after the upload ended, as the misbehaving server does.
        thread::spawn(move || {
            let end = Instant::now() + duration;
            while Instant::now() < end && chatter.write_all(b"x").is_ok() {
                thread::sleep(Duration::from_millis(100));
            }
        });
        let mut received = Vec::new();
        let result = data.read_to_end(&mut received);
        self.transcript.uploads.push(received);
        result
            .map(|_| ())
            .map_err(|e| format!("read data connection: {e}"))
    }

    fn close_data(&mut self) {
        if let Some(data) = self.data.take() {
            let _ = data.shutdown(Shutdown::Both);
        }
    }

    fn close_control(&mut self) {
        if let Some(writer) = self.writer.take() {
            let _ = writer.shutdown(Shutdown::Both);
        }
        self.reader = None;
    }

    /// Record what the client sends, answer nothing, until `duration` passes or EOF.
    fn stall(&mut self, duration: Duration) {
        let deadline = Instant::now() + duration;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.read_line(left.min(Duration::from_millis(100))) {
                Line::Command(command) => self.transcript.commands.push(command),
                Line::Eof => return,
                Line::Timeout => {}
            }
        }
    }

    fn send_endless(&mut self, prefix: &[u8], max: usize) -> Result<(), String> {
        let writer = self.writer.as_mut().ok_or("control connection closed")?;
        let chunk = vec![b'A'; 64 * 1024];
        let mut written = 0;
        let mut hung_up = false;
        let mut result = writer.write_all(prefix);
        if result.is_ok() {
            written += prefix.len();
        }
        while result.is_ok() && written < max {
            let n = chunk.len().min(max - written);
            result = writer.write_all(&chunk[..n]);
            if result.is_ok() {
                written += n;
            }
        }
        if let Err(e) = result {
            // A client that stops reading without closing makes the write time out instead.
            hung_up = matches!(
                e.kind(),
                ErrorKind::BrokenPipe | ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
            );
            if !hung_up {
                self.transcript
                    .problems
                    .push(format!("endless line: write failed: {e}"));
            }
        }
        self.transcript.endless = Some((written, hung_up));
        Ok(())
    }

    /// After the script: answer from the table until QUIT, EOF or the drain deadline.
    fn drain(&mut self) {
        let deadline = Instant::now() + DRAIN_TIMEOUT;
        while self.reader.is_some() && !self.quit {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                self.transcript
                    .problems
                    .push("client neither quit nor hung up after the script".to_string());
                break;
            };
            match self.read_line(left.min(Duration::from_millis(100))) {
                Line::Command(command) => {
                    self.transcript.commands.push(command.clone());
                    let answered =
                        !self.opts.strict && self.answer_from_table(&command).unwrap_or(true);
                    if !answered {
                        self.transcript
                            .problems
                            .push(format!("unscripted command after the script: {command:?}"));
                        let _ = self.send(b"502 Command not in the test script\r\n");
                    }
                }
                Line::Eof => break,
                Line::Timeout => {
                    if self.stop.load(Ordering::SeqCst) {
                        break;
                    }
                }
            }
        }
        self.close_data();
        self.close_control();
    }

    /// Read one `\n`-terminated line within `timeout`, keeping partial lines for the next call.
    fn read_line(&mut self, timeout: Duration) -> Line {
        let Some(reader) = self.reader.as_mut() else {
            return Line::Eof;
        };
        let timeout = timeout.max(Duration::from_millis(1));
        if reader.get_ref().set_read_timeout(Some(timeout)).is_err() {
            return Line::Eof;
        }
        loop {
            let limit = (MAX_COMMAND_LINE + 1 - self.pending.len().min(MAX_COMMAND_LINE)) as u64;
            match reader
                .by_ref()
                .take(limit)
                .read_until(b'\n', &mut self.pending)
            {
                Ok(0) => return Line::Eof,
                Ok(_) if self.pending.ends_with(b"\n") => {
                    let line = std::mem::take(&mut self.pending);
                    // From the PASS line on (whatever came behind it in the same read too).
                    let logged_in = || {
                        line.starts_with(b"PASS")
                            || self
                                .transcript
                                .commands
                                .iter()
                                .any(|c| c.starts_with("PASS"))
                    };
                    if self.opts.drops_pipelined
                        || (self.opts.drops_pipelined_after_login && logged_in())
                    {
                        let rest = reader.buffer().to_vec();
                        reader.consume(rest.len());
                        for l in String::from_utf8_lossy(&rest).lines() {
                            self.transcript.ignored.push(l.trim_end().to_string());
                        }
                    }
                    let text = String::from_utf8_lossy(&line);
                    return Line::Command(text.trim_end_matches(['\r', '\n']).to_string());
                }
                Ok(_) if self.pending.len() > MAX_COMMAND_LINE => {
                    self.transcript.problems.push(format!(
                        "client sent a command line over {MAX_COMMAND_LINE} bytes"
                    ));
                    return Line::Eof;
                }
                // EOF in the middle of a line; the next read reports it.
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Line::Timeout
                }
                Err(_) => return Line::Eof,
            }
        }
    }
}

fn verb(command: &str) -> String {
    command
        .split(' ')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase()
}

fn starts_with_ci(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

fn crlf_to_lf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}
