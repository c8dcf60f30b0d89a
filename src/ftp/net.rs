//! Timed I/O: every wait of the protocol ends by a deadline, however the peer behaves, and
//! notices the cancel flag (Ctrl-C, SIGTERM) within a [`TICK`].
//!
//! Sockets get a read and write timeout of one [`TICK`], so a blocked call wakes up to
//! check the flag and the deadline. The deadline is checked before every call too: a peer
//! that sends one byte every 150 ms never lets a call block for a whole tick, and must not
//! keep a wait alive past its deadline that way. Name resolution and TCP connect cannot be
//! woken, so they run in a helper thread while the caller polls.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::error::{describe_io, Error, Kind, Result};

/// How often a blocked read or write wakes up to check the cancel flag and the deadline.
pub const TICK: Duration = Duration::from_millis(200);

/// A flag that is never set: for the waits that must finish even after Ctrl-C (ABOR,
/// QUIT), bounded by their own short deadline instead. The shared flag is never cleared.
pub static NEVER: AtomicBool = AtomicBool::new(false);

/// Why a wait ended without its result.
#[derive(Debug)]
pub enum WaitError {
    /// The deadline passed.
    TimedOut,
    /// The cancel flag was set.
    Cancelled,
    /// The socket failed.
    Io(io::Error),
}

/// The error a [`Timed`] stream returns when the cancel flag is set.
#[derive(Debug)]
struct CancelledMarker;

impl std::fmt::Display for CancelledMarker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for CancelledMarker {}

impl WaitError {
    /// Sorts an io::Error coming out of a [`Timed`] stream (possibly through TLS).
    pub fn from_io(e: io::Error) -> WaitError {
        if e.get_ref().is_some_and(|i| i.is::<CancelledMarker>()) {
            WaitError::Cancelled
        } else if e.kind() == io::ErrorKind::TimedOut {
            WaitError::TimedOut
        } else {
            WaitError::Io(e)
        }
    }
}

/// Whether a socket error is only the [`TICK`] timeout (or a signal), not a failure.
pub fn is_tick(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

fn check(deadline: Instant, cancel: &AtomicBool) -> std::result::Result<(), WaitError> {
    if cancel.load(Ordering::SeqCst) {
        return Err(WaitError::Cancelled);
    }
    if Instant::now() >= deadline {
        return Err(WaitError::TimedOut);
    }
    Ok(())
}

/// How long a control connection may be silent before the kernel probes it (SO_KEEPALIVE).
pub const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);
/// The interval between two unanswered keep-alive probes.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);

/// Turns on TCP keep-alive probes on a control connection: during a long transfer it is
/// silent, and a NAT or firewall that forgets silent connections sees traffic; a peer that
/// vanished is noticed. Best effort: a socket that refuses is used as it is.
pub fn keep_alive(s: &TcpStream) {
    #[cfg(target_os = "linux")]
    {
        use nix::sys::socket::{setsockopt, sockopt};
        let _ = setsockopt(s, sockopt::KeepAlive, &true);
        let _ = setsockopt(s, sockopt::TcpKeepIdle, &(KEEPALIVE_IDLE.as_secs() as u32));
        let _ = setsockopt(
            s,
            sockopt::TcpKeepInterval,
            &(KEEPALIVE_INTERVAL.as_secs() as u32),
        );
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (s, KEEPALIVE_INTERVAL);
}

/// Sets the [`TICK`] timeouts on a socket.
pub fn set_ticks(s: &TcpStream) -> io::Result<()> {
    s.set_read_timeout(Some(TICK))?;
    s.set_write_timeout(Some(TICK))
}

/// Reads once, waking every [`TICK`]; fails once `deadline` has passed even while bytes keep
/// trickling in. The flag is checked before every read: on a fast or rate-capped transfer
/// data is always waiting, so a read never blocks long enough to notice Ctrl-C otherwise.
pub fn read_timed(
    stream: &mut impl Read,
    buf: &mut [u8],
    deadline: Instant,
    cancel: &AtomicBool,
) -> std::result::Result<usize, WaitError> {
    loop {
        check(deadline, cancel)?;
        match stream.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if is_tick(&e) => {}
            Err(e) => return Err(WaitError::Io(e)),
        }
    }
}

/// Writes everything; the deadline moves forward whenever some bytes go out.
pub fn write_all_timed(
    stream: &mut impl Write,
    mut buf: &[u8],
    mut deadline: Instant,
    cancel: &AtomicBool,
) -> std::result::Result<(), WaitError> {
    let window = deadline.saturating_duration_since(Instant::now());
    while !buf.is_empty() {
        check(deadline, cancel)?;
        match stream.write(buf) {
            Ok(0) => return Err(WaitError::Io(io::ErrorKind::WriteZero.into())),
            Ok(n) => {
                buf = &buf[n..];
                deadline = Instant::now() + window;
            }
            Err(e) if is_tick(&e) => {}
            Err(e) => return Err(WaitError::Io(e)),
        }
    }
    Ok(())
}

/// A socket whose reads and writes block until they succeed, fail, the deadline passes
/// (`TimedOut`) or the flag is set (an error [`WaitError::from_io`] reads as `Cancelled`).
/// For handshakes (TLS, proxies) written against `Read`/`Write`: one deadline for all.
pub struct Timed<'a> {
    sock: &'a TcpStream,
    deadline: Instant,
    cancel: &'a AtomicBool,
}

impl<'a> Timed<'a> {
    /// Wraps `sock`, which must have the [`TICK`] timeouts set.
    pub fn new(sock: &'a TcpStream, deadline: Instant, cancel: &'a AtomicBool) -> Timed<'a> {
        Timed {
            sock,
            deadline,
            cancel,
        }
    }

    fn gate(&self) -> io::Result<()> {
        match check(self.deadline, self.cancel) {
            Ok(()) => Ok(()),
            Err(WaitError::Cancelled) => Err(io::Error::other(CancelledMarker)),
            Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "timed out")),
        }
    }
}

impl Read for Timed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            self.gate()?;
            match (&mut &*self.sock).read(buf) {
                Err(e) if is_tick(&e) => {}
                other => return other,
            }
        }
    }
}

impl Write for Timed<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            self.gate()?;
            match (&mut &*self.sock).write(buf) {
                Err(e) if is_tick(&e) => {}
                other => return other,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Runs `work` in a helper thread and waits for its answer until `deadline` or the flag.
/// A thread that is given up on finishes on its own (bounded by the OS) and is ignored.
fn in_helper<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
    deadline: Instant,
    cancel: &AtomicBool,
) -> std::result::Result<T, WaitError> {
    check(deadline, cancel)?;
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("3700ftp-net".into())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .map_err(WaitError::Io)?;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left.min(TICK)) {
            Ok(v) => return Ok(v),
            Err(mpsc::RecvTimeoutError::Timeout) => check(deadline, cancel)?,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(WaitError::Io(io::Error::other("helper thread failed")))
            }
        }
    }
}

/// The addresses of `host:port`. An address literal is parsed at once; a name is resolved
/// in a helper thread, so the deadline and the flag bound the wait.
pub fn resolve(
    host: &str,
    port: u16,
    deadline: Instant,
    cancel: &AtomicBool,
) -> std::result::Result<Vec<SocketAddr>, WaitError> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let host = host.to_string();
    in_helper(
        move || (host.as_str(), port).to_socket_addrs().map(Vec::from_iter),
        deadline,
        cancel,
    )?
    .map_err(WaitError::Io)
}

/// A TCP connection to `addr` before `deadline`, given up at once when the flag is set.
/// The socket comes back with the [`TICK`] timeouts set.
pub fn connect(
    addr: SocketAddr,
    deadline: Instant,
    cancel: &AtomicBool,
) -> std::result::Result<TcpStream, WaitError> {
    let limit = deadline.saturating_duration_since(Instant::now());
    if limit.is_zero() {
        return Err(WaitError::TimedOut);
    }
    check(deadline, cancel)?;
    // Most connects (loopback, a LAN, most of the Internet) finish within one TICK: tried
    // here first, with no thread, the wait is as short as every other wait's between two
    // looks at the flag. Only a slower one goes to a helper thread polled with the flag
    // (a thread per data connection cost 1-2 ms a file on loopback).
    let first = limit.min(TICK);
    let stream = match TcpStream::connect_timeout(&addr, first) {
        Ok(s) => Ok(s),
        Err(e) if is_tick(&e) && limit > first => in_helper(
            move || TcpStream::connect_timeout(&addr, limit - first),
            deadline,
            cancel,
        )?,
        Err(e) => Err(e),
    }
    .map_err(|e| {
        if is_tick(&e) {
            WaitError::TimedOut
        } else {
            WaitError::Io(e)
        }
    })?;
    set_ticks(&stream).map_err(WaitError::Io)?;
    Ok(stream)
}

/// A TCP connection started without waiting for it: the data connection of a transfer
/// that may follow, its handshake done while the control connection finishes the one
/// before ([`Early::finish`] waits for what is left of it). Linux only; elsewhere none is
/// started and the data connection is made when it is needed.
pub struct Early {
    #[cfg(target_os = "linux")]
    sock: socket2::Socket,
    addr: SocketAddr,
}

impl Early {
    /// Starts connecting to `addr`; None when that fails at once (or off Linux).
    pub fn start(addr: SocketAddr) -> Option<Early> {
        #[cfg(target_os = "linux")]
        {
            use socket2::{Domain, Protocol, Socket, Type};
            let sock =
                Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).ok()?;
            sock.set_nonblocking(true).ok()?;
            match sock.connect(&addr.into()) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(nix::libc::EINPROGRESS) => {}
                Err(_) => return None,
            }
            Some(Early { sock, addr })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = addr;
            None
        }
    }

    /// The address it connects to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The connection, once its handshake is done (usually already), before `deadline`.
    pub fn finish(
        self,
        deadline: Instant,
        cancel: &AtomicBool,
    ) -> std::result::Result<TcpStream, WaitError> {
        #[cfg(target_os = "linux")]
        {
            loop {
                if let Some(e) = self.sock.take_error().map_err(WaitError::Io)? {
                    return Err(WaitError::Io(e));
                }
                if self.sock.peer_addr().is_ok() {
                    break;
                }
                check(deadline, cancel)?;
                std::thread::sleep(Duration::from_millis(1));
            }
            let stream: TcpStream = self.sock.into();
            stream.set_nonblocking(false).map_err(WaitError::Io)?;
            set_ticks(&stream).map_err(WaitError::Io)?;
            Ok(stream)
        }
        #[cfg(not(target_os = "linux"))]
        {
            connect(self.addr, deadline, cancel)
        }
    }
}

/// A direct TCP connection to the first address of `host` that answers, before `deadline`.
/// `note` hears each address tried.
pub fn direct(
    host: &str,
    port: u16,
    timeout: Duration,
    deadline: Instant,
    cancel: &AtomicBool,
    note: &mut dyn FnMut(&str),
) -> Result<TcpStream> {
    let interrupted = || Error::new(Kind::Interrupted, "interrupted");
    let timed_out = || {
        Error::connection(format!(
            "cannot connect to {}: timed out after {} s",
            show_host(host, port),
            timeout.as_secs_f64()
        ))
    };
    let addrs = match resolve(host, port, deadline, cancel) {
        Ok(a) => a,
        Err(WaitError::Cancelled) => return Err(interrupted()),
        Err(WaitError::TimedOut) => {
            return Err(Error::connection(format!(
                "cannot resolve {host}: timed out after {} s",
                timeout.as_secs_f64()
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
        note(&format!("connecting to {addr}"));
        match connect(*addr, deadline, cancel) {
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
pub fn pending_bytes(tcp: &TcpStream) -> bool {
    if tcp.set_nonblocking(true).is_err() {
        return false;
    }
    let waiting = matches!(tcp.peek(&mut [0u8; 1]), Ok(n) if n > 0);
    let _ = tcp.set_nonblocking(false);
    waiting
}

/// `host:port`, with brackets around an IPv6 address.
pub fn show_host(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Asks the kernel to acknowledge what arrives on `tcp` at once instead of delaying the ACK
/// (Linux `TCP_QUICKACK`; not sticky, so set before each read of a reply). A server that
/// leaves Nagle on (vsftpd) holds a reply written right after another (`226` after `150`,
/// the second of two pipelined replies) until the first is acknowledged: a delayed ACK
/// costs a round trip and more each time.
pub fn quick_ack(tcp: &TcpStream) {
    #[cfg(target_os = "linux")]
    {
        let _ = socket2::SockRef::from(tcp).set_tcp_quickack(true);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = tcp;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(10)
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn an_early_connection_carries_bytes_once_finished_and_a_refused_one_fails() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let early = Early::start(addr).expect("a connection started");
        assert_eq!(early.addr(), addr);
        let (mut server, _) = listener.accept().unwrap();
        let mut stream = early.finish(far(), &NEVER).unwrap();
        stream.write_all(b"early").unwrap();
        let mut got = [0u8; 5];
        server.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"early");
        // Blocking again, with the ticks every socket gets.
        assert!(stream.read_timeout().unwrap().is_some());

        let closed = TcpListener::bind("127.0.0.1:0").unwrap();
        let gone = closed.local_addr().unwrap();
        drop(closed);
        if let Some(early) = Early::start(gone) {
            assert!(early.finish(far(), &NEVER).is_err());
        }
    }

    #[test]
    fn a_trickle_of_bytes_does_not_outlive_the_deadline() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            for _ in 0..40 {
                if s.write_all(b"x").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let sock = connect(addr, far(), &NEVER).unwrap();
        let start = Instant::now();
        let deadline = start + Duration::from_millis(500);
        let mut timed = Timed::new(&sock, deadline, &NEVER);
        let mut all = Vec::new();
        let err = timed.read_to_end(&mut all).unwrap_err();
        assert!(matches!(WaitError::from_io(err), WaitError::TimedOut));
        assert!(start.elapsed() < Duration::from_millis(900));
        let mut s = &sock;
        let mut one = [0u8; 1];
        let got = read_timed(&mut s, &mut one, Instant::now(), &NEVER);
        assert!(matches!(got, Err(WaitError::TimedOut)));
        drop(sock);
        server.join().unwrap();
    }

    #[test]
    fn the_flag_ends_a_wait_and_reads_as_cancelled() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let sock = connect(listener.local_addr().unwrap(), far(), &NEVER).unwrap();
        let flag = AtomicBool::new(true);
        let mut timed = Timed::new(&sock, far(), &flag);
        let err = timed.read(&mut [0u8; 4]).unwrap_err();
        assert!(matches!(WaitError::from_io(err), WaitError::Cancelled));
        assert!(matches!(
            resolve("localhost", 21, far(), &flag),
            Err(WaitError::Cancelled)
        ));
        assert!(matches!(
            connect(listener.local_addr().unwrap(), far(), &flag),
            Err(WaitError::Cancelled)
        ));
    }

    #[test]
    fn names_resolve_in_a_helper_and_literals_at_once() {
        let addrs = resolve("localhost", 21, far(), &NEVER).unwrap();
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 21));
        let past = Instant::now() - Duration::from_millis(1);
        assert_eq!(
            resolve("::1", 21, past, &NEVER).unwrap(),
            vec!["[::1]:21".parse().unwrap()]
        );
        assert!(matches!(
            resolve("localhost", 21, past, &NEVER),
            Err(WaitError::TimedOut)
        ));
    }
}
