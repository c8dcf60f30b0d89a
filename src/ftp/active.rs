//! Active-mode data connections: the client listens (on a port from `--port-range` when
//! given), tells the server where with EPRT (PORT once EPRT is refused, remembered), and
//! accepts exactly one connection, only from the server's address; a refusal on the
//! control connection ends the wait.

use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::error::{describe_io, Error, Hint, Kind, Result};
use crate::ftp::command::Command;
use crate::ftp::connection::Connection;
use crate::ftp::reply::{self, Reply};

impl Connection {
    /// Active: listen, EPRT (else PORT), `cmd`, then accept exactly one connection, and
    /// only from the server's address; a refusal on the control connection ends the wait.
    pub(super) fn open_active(&mut self, cmd: &Command) -> Result<(TcpStream, Reply)> {
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
                    "timed out after {} s waiting for the server to connect to {here}",
                    self.opts.timeout.as_secs_f64()
                ))
                .with_hint(Hint::ActiveBlocked));
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
}
