//! Commands that ride in one write with a download's RETR, on servers known by their
//! greeting to read commands in turn (`answers::reads_in_turn`: vsftpd, ProFTPD,
//! Pure-FTPd): the file's SIZE in front of it, answered before the transfer starts (the
//! size is known before the first data byte, as when it is asked alone); behind it the
//! file's MDTM when the copy keeps the remote time (its answer handed on through
//! [`Connection::answered`]) and the EPSV of the next transfer, answered right after the
//! transfer's final reply (vsftpd's `226` waits for the lingering close of the data
//! connection; they follow it at once). A download in a run of them then costs three round
//! trips (connect and RETR, the data, the `226`), not four (five with the MDTM).
//!
//! Probed against the four interop servers (2026-12-05): `SIZE f`, `RETR f`, `EPSV` in one
//! write are answered in that order by vsftpd 3.0.3, ProFTPD 1.3.8 and Pure-FTPd 1.0.50,
//! for a 4 KiB and a 200 MiB file, a missing file, and a file whose SIZE fails. Pure-FTPd
//! reads the control connection during a download and answers what arrives then with
//! `500 Unknown command`: what rides goes in the same write as RETR (it then sits in the
//! server's buffer until the transfer ends), and the write must be one segment (at most
//! [`RIDE_MAX`] bytes in clear; one TLS record otherwise). pyftpdlib answers during the
//! transfer, libunftp is not known: neither gets riders.
//!
//! Nothing is left behind: the riders' replies are read right after the transfer's final
//! reply (`finish_data`), or after a refusal of the transfer command; a transfer abandoned
//! (ABOR, a data connection that failed) brings the conversation back in step with PWD
//! ([`Connection::back_in_step`]), so no late `229` can be taken for a later command's
//! answer. A rider answered out of order drops the connection to one command at a time.

use std::time::Instant;

use crate::error::Result;
use crate::ftp::answers::Asked;
use crate::ftp::command::Command;
use crate::ftp::connection::{Connection, Passive};
use crate::ftp::options::Habit;
use crate::ftp::pipeline::{Next, PIPELINE_WAIT, PREPARED_FRESH};
use crate::ftp::reply::Reply;

/// The longest write of riding commands sent in clear: well under any segment size, so it
/// reaches the server in one piece.
pub const RIDE_MAX: usize = 512;

impl Connection {
    /// Whether `cmds` (a transfer command and what would ride with it) may go in one write
    /// on this connection: a known server read directly (no proxy), passive mode over EPSV,
    /// the connection set up and its features known (nothing else needs asking meanwhile),
    /// and a write that reaches the server in one piece.
    pub fn rides_with(&self, cmds: &[Command]) -> bool {
        let len: usize = cmds.iter().map(|c| c.wire().len()).sum();
        self.sends_ahead()
            && !self.uses_active()
            && self.passive == Passive::Epsv
            && self.binary
            && !self.binary_due
            && self.features.is_some()
            && self.pass_pending.is_none()
            && (len <= RIDE_MAX || self.stream.describe().is_some())
    }

    /// Whether a passive address asked for ahead is there and fresh (for half the time it
    /// may be used, so it still is when the transfer command takes it): the next transfer
    /// command needs no EPSV of its own, so a SIZE can ride in front of it.
    pub fn address_ready(&self) -> bool {
        self.prepared
            .is_some_and(|(_, at)| at.elapsed() < PREPARED_FRESH / 2)
    }

    /// Writes `before`, `cmd` and `after` in one write (the data address is already
    /// taken). `before`'s reply is read with [`Connection::read_before`] once the data
    /// connection is up; `after`'s, after the transfer's final reply
    /// ([`Connection::read_riders`]).
    pub(super) fn send_riding(
        &mut self,
        before: Option<&Command>,
        cmd: &Command,
        after: &[Command],
    ) -> Result<()> {
        let mut all: Vec<Command> = before.into_iter().cloned().collect();
        all.push(cmd.clone());
        all.extend_from_slice(after);
        self.write_batch(&all)?;
        self.riders = after.to_vec();
        self.asked = Some(Asked::of(before.unwrap_or(cmd)));
        Ok(())
    }

    /// Reads the reply to the command written in front of the transfer command, then
    /// expects the transfer's.
    pub(super) fn read_before(&mut self, cmd: &Command) -> Result<Reply> {
        let reply = self.read_reply();
        self.asked = Some(Asked::of(cmd));
        reply
    }

    /// After a data connection that could not be opened: the transfer command's refusal
    /// (read within a moment, behind `before`'s reply), or an error when it did not come.
    pub(super) fn refusal_behind(
        &mut self,
        before: Option<&Command>,
        cmd: &Command,
    ) -> Result<Reply> {
        let soon = std::time::Duration::from_secs(2);
        if before.is_some() {
            self.read_reply_within(soon)?;
            self.asked = Some(Asked::of(cmd));
        }
        let reply = self.read_reply_within(soon)?;
        if reply.is_negative() {
            Ok(reply)
        } else {
            Err(crate::error::Error::connection(
                "the transfer was not refused",
            ))
        }
    }

    /// A "not understood" (500-502) where the transfer's final reply was expected, while
    /// commands rode behind it: the answer of a server that read a rider during the
    /// transfer and refused it (Pure-FTPd does so with whatever reaches it then, should the
    /// write arrive in pieces), one such answer at most per rider. The transfer's own reply
    /// follows them: returned, and the server remembered so nothing rides with its transfers
    /// again. None when `reply` is not such an answer, or nothing follows it within
    /// [`PIPELINE_WAIT`] (then it was the transfer's).
    pub(super) fn rider_refused_midway(&mut self, reply: &Reply) -> Result<Option<Reply>> {
        let not_understood = |r: &Reply| matches!(r.code, 500..=502);
        if !self.riders_due() || !not_understood(reply) {
            return Ok(None);
        }
        let cancel = self.opts.cancel.clone();
        let soon = Instant::now() + self.opts.timeout.min(PIPELINE_WAIT);
        let mut left = self.riders.len();
        let transfers = loop {
            left -= 1;
            match self.poll_reply_until(soon, &cancel)? {
                None => return Ok(None),
                Some(next) if left > 0 && not_understood(&next) => continue,
                Some(next) => break next,
            }
        };
        self.riders.clear();
        self.opts
            .pipelining
            .learn(&self.server, Habit::AnswersDuringTransfers);
        self.transcript.note(&format!(
            "{} answered a command sent behind the transfer during it: nothing rides with transfers on this server from now on",
            reply.code
        ));
        Ok(Some(transfers))
    }

    /// Reads the replies to the commands that rode behind the transfer whose final reply
    /// was just read: a passive address for the next transfer. A reply that cannot answer
    /// its rider, or none within [`PIPELINE_WAIT`], means the server did not take them in
    /// turn: one command at a time from now on. A failure here marks the connection dead
    /// (the next command finds it so); it never fails the transfer already answered.
    pub(super) fn read_riders(&mut self) {
        let riders = std::mem::take(&mut self.riders);
        if riders.is_empty() || !self.alive {
            return;
        }
        let cancel = self.opts.cancel.clone();
        let deadline = Instant::now() + self.opts.timeout.min(PIPELINE_WAIT);
        for (i, cmd) in riders.iter().enumerate() {
            self.asked = Some(Asked::of(cmd));
            let why = match self.next_pipelined(deadline, &cancel) {
                Ok(Next::Reply(r)) => {
                    if matches!(cmd, Command::Epsv) {
                        if r.code == 229 {
                            if let Ok(Some(addr)) = self.epsv_answer(&r) {
                                self.prepared = Some((addr, Instant::now()));
                                self.early = None;
                            }
                        }
                    } else {
                        self.answered.push((cmd.clone(), r));
                    }
                    continue;
                }
                Ok(Next::OutOfOrder(r)) => format!("{} cannot answer {}", r.code, cmd.verb()),
                Ok(Next::Silent) => format!(
                    "no reply to {} sent with a transfer within {} s",
                    cmd.verb(),
                    PIPELINE_WAIT.as_secs()
                ),
                Err(_) => return,
            };
            let _ = self.fall_back(&why, riders.len() - i);
            return;
        }
    }

    /// Brings the conversation back in step after a transfer abandoned while commands rode
    /// with it (their replies, the transfer's and ABOR's may come in any number): PWD, and
    /// every reply before its `257` dropped. A connection that does not settle is marked
    /// dead.
    pub(super) fn settle_riders(&mut self, deadline: Instant) {
        self.riders.clear();
        if !self.alive {
            return;
        }
        if self
            .back_in_step(deadline, &crate::ftp::net::NEVER)
            .is_err()
        {
            self.alive = false;
        }
    }

    /// The reply to `cmd` when it rode behind the transfer just ended (MDTM, for the time a
    /// copy keeps) and nothing was sent since; None otherwise (ask it then).
    pub fn answered(&mut self, cmd: &Command) -> Option<Reply> {
        let wire = cmd.wire();
        let at = self.answered.iter().position(|(c, _)| c.wire() == wire)?;
        Some(self.answered.remove(at).1)
    }

    /// Whether replies to commands that rode with the transfer are still due.
    pub(super) fn riders_due(&self) -> bool {
        !self.riders.is_empty()
    }
}
