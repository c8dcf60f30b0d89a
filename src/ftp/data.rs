//! Data connections: passive (EPSV first, PASV as fallback, remembered; always to the
//! control peer's address unless trusted) or active (`active.rs`: EPRT, else PORT; only the
//! server may connect), the optional TLS on top, and [`DataConn`], which reads, writes and splices the
//! bytes with the same deadlines and cancel polling as the control connection.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{describe_io, Error, Hint, Kind, Result};
use crate::ftp::command::Command;
use crate::ftp::connection::{Connection, Passive};
use crate::ftp::net::{self, read_timed, show_host, write_all_timed, WaitError};
use crate::ftp::pasv;
use crate::ftp::reply::Reply;
use crate::ftp::tls::Stream;

/// The pipe a spliced download goes through (Linux caps unprivileged pipes at 1 MiB).
#[cfg(target_os = "linux")]
const SPLICE_PIPE: usize = 1024 * 1024;

/// An open data connection and what the server said when it opened.
pub struct DataConn {
    stream: Stream,
    timeout: Duration,
    cancel: Arc<AtomicBool>,
    /// The final reply when the server sent it in place of a preliminary one.
    early_final: Option<Reply>,
    /// The server's first reply to the transfer command (150) is still to be read: an
    /// upload may send its first bytes before it ([`Connection::open_upload`]).
    first_pending: bool,
}

impl Connection {
    /// Opens a passive data connection for `cmd` (LIST, RETR, STOR...): asks for a passive
    /// port, sends `cmd`, connects, and reads the server's preliminary reply.
    pub fn open_data(&mut self, cmd: &Command) -> Result<DataConn> {
        let (stream, first) = if self.uses_active() {
            self.open_active(cmd)?
        } else {
            let (stream, _, first) = self.open_passive(None, cmd, &[], true)?;
            (stream, first.expect("the first reply was read"))
        };
        self.data_conn(stream, Some(first))
    }

    /// Opens a download's passive data connection with `before` written in front of `cmd`
    /// and `after` behind it, in one write (`riders.rs`; only where
    /// [`Connection::rides_with`] says so). Returns `before`'s reply, read before the
    /// transfer's first one, and the data connection.
    pub fn open_riding(
        &mut self,
        before: Option<&Command>,
        cmd: &Command,
        after: &[Command],
    ) -> Result<(Option<Reply>, DataConn)> {
        if before.is_none() && after.is_empty() {
            return Ok((None, self.open_data(cmd)?));
        }
        let (stream, before_reply, first) = self.open_passive(before, cmd, after, true)?;
        match self.data_conn(stream, first) {
            Ok(data) => Ok((before_reply, data)),
            Err(e) => {
                // The transfer's state is unknown (a failed TLS handshake): back in step.
                if self.riders_due() {
                    let deadline = Instant::now() + self.opts.timeout.min(Duration::from_secs(5));
                    self.settle_riders(deadline);
                }
                Err(e)
            }
        }
    }

    /// Opens the data connection of an upload (STOR, APPE). Over a plain passive
    /// connection of our own the server's first reply is not waited for: the upload's first
    /// bytes (what the socket takes without waiting) and, for a small file, its end go out
    /// as soon as the connection is up, a round trip before the `150` would arrive; the
    /// server reads them once it has accepted the connection for the command. The caller
    /// reads that reply with [`Connection::first_reply`] before it writes anything that
    /// could wait, so a refused command is never left behind a full socket.
    pub fn open_upload(&mut self, cmd: &Command) -> Result<DataConn> {
        if self.opts.active || self.via.is_some() || self.data_tls.is_some() {
            return self.open_data(cmd);
        }
        let (stream, _, _) = self.open_passive(None, cmd, &[], false)?;
        self.data_conn(stream, None)
    }

    /// Reads the server's first reply to an upload opened by [`Connection::open_upload`],
    /// if it is still to be read: a preliminary reply (150), or a final one the server sent
    /// in its place; a refusal is the command refused.
    pub fn first_reply(&mut self, data: &mut DataConn) -> Result<()> {
        if !data.first_pending {
            return Ok(());
        }
        data.first_pending = false;
        let first = self.read_reply()?;
        data.early_final = Self::early_final(first)?;
        Ok(())
    }

    /// None for a preliminary reply, the reply itself for a final one, an error for a refusal.
    fn early_final(first: Reply) -> Result<Option<Reply>> {
        if first.is_preliminary() {
            Ok(None)
        } else if first.is_completion() {
            Ok(Some(first))
        } else {
            Err(Error::refused(first.code, first.text()))
        }
    }

    /// The data connection over `stream` (TLS on top where asked), with the server's first
    /// reply, or None when it is still to be read.
    fn data_conn(&mut self, stream: std::net::TcpStream, first: Option<Reply>) -> Result<DataConn> {
        net::set_ticks(&stream).map_err(|e| Error::connection(describe_io(&e)))?;
        // The last, partial segment of a small upload goes out at once: with Nagle it
        // would wait for the ACK of the ones before, a round trip per file.
        let _ = stream.set_nodelay(true);
        let mut stream = Stream::Plain(stream);
        let first_pending = first.is_none();
        let early_final = match first {
            Some(first) => Self::early_final(first)?,
            None => None,
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
            first_pending,
        })
    }

    /// Passive: the passive command, `cmd` (with `before` and `after` in the same write),
    /// connect; then `before`'s reply and the server's first reply (when `read_first`).
    fn open_passive(
        &mut self,
        before: Option<&Command>,
        cmd: &Command,
        after: &[Command],
        read_first: bool,
    ) -> Result<(TcpStream, Option<Reply>, Option<Reply>)> {
        let addr = self.passive_address()?;
        // A connection to it started early (`ahead.rs`): its handshake is likely done.
        let early = self.early.take().filter(|e| e.addr() == addr);
        let riding = before.is_some() || !after.is_empty();
        if riding {
            self.send_riding(before, cmd, after)?;
        } else {
            self.send(cmd)?;
        }
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
            let connected = match early {
                Some(early) => early
                    .finish(deadline, &self.opts.cancel)
                    .or_else(|_| net::connect(addr, deadline, &self.opts.cancel)),
                None => net::connect(addr, deadline, &self.opts.cancel),
            };
            match connected {
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
                            "cannot open the data connection to {addr}: {why}"
                        ))
                        .with_hint(Hint::TryActive)
                    };
                    (Err(err), refused)
                }
            }
        };
        let stream = match connected {
            Ok(s) => s,
            Err(e) if riding => {
                // A refused command (a missing file) and the listener closed by the EPSV
                // riding behind it: the refusal says why, and what rode along is answered.
                if e.kind() != Kind::Interrupted && answered_soon {
                    if let Ok(refusal) = self.refusal_behind(before, cmd) {
                        self.read_riders();
                        return Err(Error::refused(refusal.code, refusal.text()));
                    }
                }
                // Otherwise the transfer's state is unknown: back in step, or dead.
                self.settle_riders(Instant::now() + self.opts.timeout.min(Duration::from_secs(5)));
                return Err(e);
            }
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
        let before_reply = match before {
            Some(_) => Some(self.read_before(cmd)?),
            None => None,
        };
        let first = if read_first {
            Some(self.read_reply()?)
        } else {
            None
        };
        // Refused: the replies of what rode behind it come now.
        if first.as_ref().is_some_and(|r| r.is_negative()) {
            self.read_riders();
        }
        Ok((stream, before_reply, first))
    }

    /// Switches active mode on or off for the following transfers.
    pub fn set_active(&mut self, on: bool) {
        self.opts.active = on;
    }

    /// Whether the next data connection is active (the server connects to us): active mode
    /// asked for, and no proxy in the way (through a proxy every transfer is passive).
    pub(super) fn uses_active(&self) -> bool {
        self.opts.active && self.via.is_none()
    }

    /// After the data connection is closed: reads the final reply, which must be 2xx.
    /// A permanent refusal (5xx: no such file, no permission, storage full), or any refusal
    /// before data moved, is the server refusing the command; a transient failure after data
    /// moved (426, 451) is a transfer that cannot be confirmed.
    pub fn finish_data(&mut self, early_final: Option<Reply>, moved: u64) -> Result<Reply> {
        let mut reply = match early_final {
            Some(r) => r,
            None => self.read_reply()?,
        };
        if let Some(transfers) = self.rider_refused_midway(&reply)? {
            reply = transfers;
        }
        self.read_riders();
        if reply.is_completion() {
            Ok(reply)
        } else if reply.class() == 5 || (moved == 0 && reply.is_negative()) {
            Err(Error::refused(reply.code, reply.text()))
        } else {
            Err(Error::not_confirmed(format!("server said {reply}")).with_code(reply.code))
        }
    }

    /// What an EPSV reply means: the data address, or None when this server refuses EPSV
    /// (PASV from now on).
    pub(super) fn epsv_answer(&mut self, reply: &Reply) -> Result<Option<SocketAddr>> {
        if reply.code == 229 {
            let port = pasv::parse_epsv(reply.text()).ok_or_else(|| {
                self.alive = false;
                Error::connection(format!("malformed EPSV reply: {reply}"))
            })?;
            self.passive = Passive::Epsv;
            return Ok(Some(SocketAddr::new(self.peer.ip(), port)));
        }
        if self.passive == Passive::Epsv || !reply.is_negative() {
            return Err(Error::refused(reply.code, reply.text()));
        }
        self.transcript.note("EPSV refused; using PASV from now on");
        self.passive = Passive::Pasv;
        Ok(None)
    }

    fn passive_address(&mut self) -> Result<SocketAddr> {
        // The setup the transfer waits for, in one write with its EPSV (`want_binary`).
        if self.binary_due && !self.binary {
            if let (_, Some(addr)) = self.with_setup_and_epsv(&[])? {
                return Ok(addr);
            }
        }
        // Asked for in the same write as the command before (SIZE + EPSV).
        if let Some((addr, at)) = self.prepared.take() {
            if at.elapsed() < crate::ftp::pipeline::PREPARED_FRESH {
                return Ok(addr);
            }
            self.early = None;
            self.transcript
                .note("the passive address asked for ahead is stale; asking again");
        }
        if self.passive != Passive::Pasv {
            let reply = self.exec(&Command::Epsv)?;
            if let Some(addr) = self.epsv_answer(&reply)? {
                return Ok(addr);
            }
        }
        let reply = self.exec(&Command::Pasv)?;
        if reply.code != 227 {
            return Err(Error::refused(reply.code, reply.text()));
        }
        let announced = pasv::parse_pasv(reply.text()).ok_or_else(|| {
            self.alive = false;
            Error::connection(format!("malformed PASV reply: {reply}"))
        })?;
        // A 227 can only name an IPv4 address; over IPv6 the data connection goes to the
        // control peer anyway (as it does by default), with the port from the reply.
        let trust = self.opts.trust_pasv_address && self.peer.is_ipv4();
        let addr = pasv::data_address(self.peer.ip(), announced, trust);
        if addr != announced && self.peer.is_ipv4() {
            self.transcript.note(&format!(
                "ignoring the address in the PASV reply ({}); using the control connection's peer",
                announced.ip()
            ));
        }
        Ok(addr)
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
    /// With `limit`, bytes past it are never written: the count returned is then above the
    /// limit, and the caller decides.
    #[cfg(target_os = "linux")]
    pub fn splice_into(
        &mut self,
        file: &mut std::fs::File,
        dest: &std::path::Path,
        limit: Option<u64>,
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
            // One byte past the limit is enough to know the server sent too much.
            let want = limit.map_or(room, |l| {
                usize::try_from((l - total.min(l)).saturating_add(1)).map_or(room, |w| w.min(room))
            });
            let n = match splice(tcp, None, &pipe_in, None, want, SpliceFFlags::SPLICE_F_MOVE) {
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
            if limit.is_some_and(|l| total + n as u64 > l) {
                return Some(Ok(total + n as u64));
            }
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

    /// Whether the server's first reply is still to be read ([`Connection::first_reply`]).
    pub fn first_pending(&self) -> bool {
        self.first_pending
    }

    /// Writes what the socket takes of `buf` without waiting (plain TCP only; 0 otherwise).
    pub fn write_now(&mut self, buf: &[u8]) -> Result<usize> {
        let Stream::Plain(tcp) = &mut self.stream else {
            return Ok(0);
        };
        let io_error = |e: io::Error| {
            Error::not_confirmed(format!("data connection failed: {}", describe_io(&e))).broke_off()
        };
        tcp.set_nonblocking(true).map_err(io_error)?;
        let written = match tcp.write(buf) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            Err(e) => Err(io_error(e)),
        };
        tcp.set_nonblocking(false).map_err(io_error)?;
        written
    }

    /// Ends the upload's bytes, so the server sees end of file (its first reply may still
    /// be unread: [`DataConn::finish_upload`] follows once it is).
    pub fn end_writing(&mut self) -> Result<()> {
        // A TLS upload ends with close_notify: vsftpd treats a bare close as a truncation.
        let closed = self
            .stream
            .close_notify()
            .and_then(|_| self.stream.tcp().shutdown(Shutdown::Write));
        closed.map_err(|e| {
            Error::not_confirmed(format!("closing the data connection: {}", describe_io(&e)))
        })
    }

    /// Closes the data connection after an upload whose end was written
    /// ([`DataConn::end_writing`]) and whose first reply was read. Returns an early final
    /// reply, and whether the server closed its side (it has read every byte).
    pub fn finish_upload(mut self) -> Result<(Option<Reply>, bool)> {
        // Wait for the server to close its side before closing ours: closing a socket with
        // unread bytes (a TLS session ticket, the server's close_notify) makes the kernel
        // send a reset, which can destroy data the server has not read yet.
        let deadline = Instant::now() + self.timeout.min(Duration::from_secs(10));
        let mut sink = [0u8; 4096];
        let mut closed = false;
        while let Ok(n) = read_timed(&mut self.stream, &mut sink, deadline, &self.cancel) {
            if n == 0 {
                closed = true;
                break;
            }
        }
        Ok((self.early_final, closed))
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
                    .broke_off()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ftp::options::Options;
    use crate::ftp::tls::Mode;
    use crate::ftp::transcript::Transcript;
    use std::io::BufRead;
    use std::net::TcpListener;
    use std::sync::Mutex;

    /// A PASV-only server on [::1]: EPSV is refused, PASV names 127.0.0.1 (a 227 cannot
    /// name an IPv6 address) with the port of a listener on [::1].
    fn pasv_only_v6_server() -> u16 {
        let listener = TcpListener::bind("[::1]:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            let mut w = s.try_clone().unwrap();
            w.write_all(b"220 hi\r\n").unwrap();
            let mut data = None;
            for line in io::BufReader::new(s).lines() {
                let Ok(line) = line else { break };
                let verb = line.split(' ').next().unwrap_or("").to_string();
                let reply: Vec<u8> = match verb.as_str() {
                    "USER" => b"230 ok\r\n".to_vec(),
                    "EPSV" => b"500 EPSV not understood\r\n".to_vec(),
                    "PASV" => {
                        let l = TcpListener::bind("[::1]:0").unwrap();
                        let p = l.local_addr().unwrap().port();
                        data = Some(l);
                        format!(
                            "227 Entering Passive Mode (127,0,0,1,{},{})\r\n",
                            p >> 8,
                            p & 255
                        )
                        .into_bytes()
                    }
                    "LIST" => {
                        w.write_all(b"150 here it comes\r\n").unwrap();
                        let (mut d, _) = data.take().unwrap().accept().unwrap();
                        d.write_all(b"hello\r\n").unwrap();
                        drop(d);
                        b"226 done\r\n".to_vec()
                    }
                    "QUIT" => b"221 bye\r\n".to_vec(),
                    _ => b"200 ok\r\n".to_vec(),
                };
                if w.write_all(&reply).is_err() {
                    break;
                }
            }
        });
        port
    }

    #[test]
    fn a_pasv_only_server_over_ipv6_is_reached_at_the_control_peer() {
        let port = pasv_only_v6_server();
        let opts = Options {
            timeout: Duration::from_secs(5),
            ..Options::default()
        };
        let sink = Arc::new(Mutex::new(Vec::new()));
        let mut conn =
            Connection::connect("::1", port, opts, Transcript::buffer(sink), Mode::Off).unwrap();
        conn.login("anonymous", None).unwrap();
        let mut data = conn.open_data(&Command::List(None)).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            let n = data.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        let early = data.finish_download();
        conn.finish_data(early, got.len() as u64).unwrap();
        assert_eq!(got, b"hello\r\n");
        conn.quit();
    }

    /// An HTTP CONNECT proxy that tunnels the first connection and refuses every later one.
    fn proxy_refusing_data() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for (n, client) in listener.incoming().enumerate() {
                let Ok(mut client) = client else { break };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && client.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                if n > 0 {
                    let _ = client.write_all(b"HTTP/1.1 403 Forbidden\r\n\r\n");
                    continue;
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let target = head.split_whitespace().nth(1).unwrap().to_string();
                let upstream = TcpStream::connect(target).unwrap();
                client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .unwrap();
                let (mut a, mut b) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                std::thread::spawn(move || io::copy(&mut a, &mut b));
                let (mut c, mut d) = (upstream, client);
                std::thread::spawn(move || io::copy(&mut c, &mut d));
            }
        });
        port
    }

    /// A server that answers LIST with 150: it expects the data connection to come.
    fn server_expecting_data() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            let mut w = s.try_clone().unwrap();
            w.write_all(b"220 hi\r\n").unwrap();
            for line in io::BufReader::new(s).lines() {
                let Ok(line) = line else { break };
                let reply: &[u8] = match line.split(' ').next().unwrap_or("") {
                    "USER" => b"230 ok\r\n",
                    "EPSV" => b"229 Entering Extended Passive Mode (|||40000|)\r\n",
                    "LIST" => b"150 Here it comes\r\n",
                    "QUIT" => b"221 bye\r\n",
                    _ => b"200 ok\r\n",
                };
                if w.write_all(reply).is_err() {
                    break;
                }
            }
        });
        port
    }

    #[test]
    fn a_data_connection_refused_by_the_proxy_leaves_no_reply_for_the_next_command() {
        let proxy =
            crate::ftp::proxy::parse(&format!("http://127.0.0.1:{}", proxy_refusing_data()));
        let opts = Options {
            timeout: Duration::from_secs(5),
            proxy: Some(proxy.unwrap()),
            ..Options::default()
        };
        let sink = Arc::new(Mutex::new(Vec::new()));
        let port = server_expecting_data();
        let mut conn =
            Connection::connect("127.0.0.1", port, opts, Transcript::buffer(sink), Mode::Off)
                .unwrap();
        conn.login("anonymous", None).unwrap();
        let err = conn.open_data(&Command::List(None)).err().unwrap();
        assert!(err.message().contains("403"), "{err}");
        // The server's 150 to LIST was read (not left for the next command), and since it
        // was not a refusal the server's state is unknown: the connection is given up.
        assert!(!conn.is_alive());
        assert!(conn.buf.is_empty());
    }
}
