//! Pipelining: commands whose outcome decides nothing sent among them (PASS with FEAT;
//! the connection setup's TYPE I, MODE S, STRU F, OPTS UTF8 ON; SIZE with the EPSV of the
//! transfer after it; an upload's SIZE proof with its RNFR) go in one write, and their replies are read in
//! order, each checked against its own command.
//!
//! A server that stumbles on pipelined input is detected: a reply that cannot answer the
//! command it lines up with (out of order: libunftp answers SIZE after the EPSV sent
//! behind it), or no reply to a later command within [`PIPELINE_WAIT`]. The connection
//! then resynchronises (PWD, whose `257` none of the pipelined commands can get, and every
//! reply before it dropped), sends the commands still unanswered again one at a time, and
//! from then on sends one command at a time; the server is remembered in
//! [`Options::pipelining`](crate::ftp::options::Options) so later connections to it
//! (`-j N` workers, reconnections) never try. Only commands that can be sent twice
//! harmlessly are pipelined, since a stumble leaves their first sending unanswered.

use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::ftp::answers::Asked;
use crate::ftp::command::Command;
use crate::ftp::connection::{Connection, Passive};
use crate::ftp::net::{read_timed, write_all_timed, WaitError};
use crate::ftp::reply::{self, Reply};

/// How long a reply to the second and later pipelined commands may lag behind the first
/// one's before the server is taken to ignore pipelined input.
pub const PIPELINE_WAIT: Duration = Duration::from_secs(3);

/// How long a passive address asked for ahead of its transfer stays usable: long enough for
/// the next command of a batch or a multi-file run, short enough that a server's idle
/// listener has not timed out (a fresh EPSV is asked for after it).
pub const PREPARED_FRESH: Duration = Duration::from_secs(2);

/// How long a resynchronised connection waits for answers to the batch that are still
/// missing after PWD's reply (a server that dropped them never sends them).
const STRAGGLER_WAIT: Duration = Duration::from_millis(300);

/// What the next reply of a pipelined batch turned out to be.
pub(super) enum Next {
    Reply(Reply),
    /// A reply that cannot answer the command it lines up with.
    OutOfOrder(Reply),
    /// Nothing within the wait.
    Silent,
}

impl Connection {
    /// Whether this connection sends one command at a time (its server stumbled on
    /// pipelined input, here or on an earlier connection).
    pub fn one_at_a_time(&self) -> bool {
        self.one_at_a_time
    }

    /// Sends `cmds` in one write and reads their replies in order, each checked against
    /// its own command: one round trip instead of one per command. Only for commands whose
    /// outcome does not decide what is sent among them, and that can be sent again: on a
    /// server that stumbles on pipelined input the unanswered ones are sent again, one at
    /// a time, after a resynchronisation (see the module's comment).
    /// A pending `OPTS UTF8 ON` goes first in the same write (its reply is not returned).
    pub fn exec_pipelined(&mut self, cmds: &[Command]) -> Result<Vec<Reply>> {
        if self.utf8_pending && !self.one_at_a_time {
            self.utf8_pending = false;
            let mut all = Vec::with_capacity(cmds.len() + 1);
            all.push(Command::OptsUtf8);
            all.extend_from_slice(cmds);
            let mut replies = self.pipelined(&all)?;
            replies.remove(0);
            return Ok(replies);
        }
        self.pipelined(cmds)
    }

    fn pipelined(&mut self, cmds: &[Command]) -> Result<Vec<Reply>> {
        // Behind a PASS whose reply is unread, a server that drops what follows a command in
        // the same read may drop the first one too: the fallback, not a timeout.
        let behind_pass = self.pass_pending.is_some();
        if cmds.len() < 2 || self.one_at_a_time {
            return cmds.iter().map(|c| self.exec(c)).collect();
        }
        self.write_batch(cmds)?;
        let cancel = self.opts.cancel.clone();
        let mut replies = Vec::with_capacity(cmds.len());
        for (i, cmd) in cmds.iter().enumerate() {
            self.asked = Some(Asked::of(cmd));
            let wait = if i == 0 && !behind_pass {
                self.opts.timeout
            } else {
                self.opts.timeout.min(PIPELINE_WAIT)
            };
            // Replies of the batch not read yet (they may still come, late).
            let mut outstanding = cmds.len() - i;
            let why = match self.next_pipelined(Instant::now() + wait, &cancel)? {
                Next::Reply(r) => {
                    replies.push(r);
                    continue;
                }
                Next::OutOfOrder(r) => {
                    outstanding -= 1;
                    format!("{} cannot answer {}", r.code, cmd.verb())
                }
                Next::Silent if i == 0 && !behind_pass => {
                    return Err(self.lost(WaitError::TimedOut, "waiting for the server's reply"))
                }
                Next::Silent => {
                    format!("no reply to {} within {} s", cmd.verb(), wait.as_secs_f64())
                }
            };
            self.fall_back(&why, outstanding)?;
            for cmd in &cmds[i..] {
                replies.push(self.exec(cmd)?);
            }
            return Ok(replies);
        }
        Ok(replies)
    }

    /// USER, with FEAT in the same write when the features are not known yet: FEAT's
    /// answer decides nothing about the login, servers answer it before login (RFC 2389),
    /// and the features every transfer asks for then come at no round trip of their own
    /// (in the setup after login, FEAT's many one-line segments would hold up the replies
    /// behind them for a round trip on a fresh connection's congestion window). Returns
    /// USER's reply.
    pub(super) fn user_and_feat(&mut self, user: Command) -> Result<Reply> {
        if self.features.is_some() || self.one_at_a_time {
            return self.exec(&user);
        }
        let (reply, feat) = self.pair(user, Command::Feat)?;
        if let Some(feat) = feat.filter(|r| r.code == 211) {
            self.learn_features(&feat)?;
        }
        Ok(reply)
    }

    /// PASS, with `OPTS UTF8 ON` in the same write when FEAT listed UTF8 (any answer to it
    /// will do). Returns PASS's reply.
    pub(super) fn pass_and_utf8(&mut self, pass: Command) -> Result<Reply> {
        let utf8 = std::mem::take(&mut self.utf8_pending);
        if !utf8 || self.one_at_a_time {
            // Not before PASS: OPTS goes with the first command after the login.
            let reply = self.exec(&pass);
            self.utf8_pending = utf8;
            return reply;
        }
        Ok(self.pair(pass, Command::OptsUtf8)?.0)
    }

    /// Sends `cmd` (an upload's last command: the RNTO of its rename into place, or the
    /// SIZE proof of an `--inplace` one) with EPSV for the transfer that may follow, in one
    /// write, where passive mode uses EPSV here: the next upload's STOR
    /// then goes out without a round trip of its own. The address is kept a moment only
    /// ([`PREPARED_FRESH`]); any other command sent first drops it. Returns `cmd`'s reply.
    pub fn exec_readying_passive(&mut self, cmd: &Command) -> Result<Reply> {
        if self.address_ready() {
            // Asked for already (with the proof, `ahead.rs`): kept across `cmd`.
            let (prepared, early) = (self.prepared.take(), self.early.take());
            let reply = self.exec(cmd)?;
            (self.prepared, self.early) = (prepared, early);
            return Ok(reply);
        }
        let passive_next = !self.uses_active();
        if !passive_next || self.passive != Passive::Epsv || self.one_at_a_time || self.utf8_pending
        {
            return self.exec(cmd);
        }
        let (reply, epsv) = self.pair(cmd.clone(), Command::Epsv)?;
        if let Some(answer) = epsv.filter(|r| r.code == 229) {
            self.prepared = self
                .epsv_answer(&answer)?
                .map(|addr| (addr, Instant::now()));
            self.early = None;
        }
        Ok(reply)
    }

    /// A command that must not be sent twice (USER, PASS, RNTO) and a query, in one write.
    /// Never PASS behind USER: the password goes only once the server asked for it. The
    /// replies are told apart by their codes, not their order: a server that answers the
    /// query before an asynchronous command (libunftp's PASS) is followed, and the first
    /// command is never sent again. A server that never answers the query is remembered as
    /// one that stumbles on pipelined commands.
    fn pair(&mut self, login: Command, query: Command) -> Result<(Reply, Option<Reply>)> {
        self.asked = None;
        let deadline = self.write_batch(&[login.clone(), query.clone()])?;
        let cancel = self.opts.cancel.clone();
        let first = match self.next_pipelined(deadline, &cancel)? {
            Next::Reply(r) | Next::OutOfOrder(r) => r,
            Next::Silent => {
                return Err(self.lost(WaitError::TimedOut, "waiting for the server's reply"))
            }
        };
        let soon = Instant::now() + self.opts.timeout.min(PIPELINE_WAIT);
        let second = match self.next_pipelined(soon, &cancel) {
            Ok(Next::Reply(r) | Next::OutOfOrder(r)) => Some(r),
            Ok(Next::Silent) => None,
            // A refusal and then a closed connection (vsftpd's "530 Non-anonymous sessions
            // must use encryption" to USER): the refusal is the answer.
            Err(_) if first.is_negative() && !self.alive => return Ok((first, None)),
            Err(e) => return Err(e),
        };
        // Only the login command's positive codes (230, 331...) tell which reply is whose:
        // the query's (211, 200) differ from them, refusals could be either's.
        let logs_in = |r: &Reply| r.code < 400 && Asked::of(&login).accepts(r.code);
        let answers_query = |r: &Reply| r.code < 400 && Asked::of(&query).accepts(r.code);
        match second {
            Some(second) if answers_query(&first) || (!logs_in(&first) && logs_in(&second)) => {
                Ok((second, Some(first)))
            }
            Some(second) => Ok((first, Some(second))),
            None if answers_query(&first) => Err(self.lost(
                WaitError::TimedOut,
                &format!("waiting for the server's reply to {}", login.verb()),
            )),
            None => {
                self.one_at_a_time = true;
                self.opts.pipelining.remember(&self.server);
                self.transcript.note(&format!(
                    "the server stumbles on pipelined commands (no reply to {} sent with {} within {} s); sending one command at a time from now on",
                    query.verb(),
                    login.verb(),
                    PIPELINE_WAIT.as_secs()
                ));
                Ok((first, None))
            }
        }
    }

    /// Sends `cmds` in one write (each shown in the transcript), after dropping replies
    /// nobody asked for; any passive address asked for earlier is dropped. Returns the
    /// deadline for the first reply.
    pub(super) fn write_batch(&mut self, cmds: &[Command]) -> Result<Instant> {
        self.check_login()?;
        self.drop_unsolicited()?;
        self.forget_ahead();
        let deadline = self.write_commands(cmds)?;
        self.settle_login()?;
        Ok(deadline)
    }

    /// Writes `cmds` in one write, each shown in the transcript; no reply is read and none
    /// dropped (the caller knows which are due). Returns the deadline for the first reply.
    /// A write that fails behind an unread PASS reports that PASS's refusal if it was one.
    pub(super) fn write_commands(&mut self, cmds: &[Command]) -> Result<Instant> {
        self.last_sent = Instant::now();
        let deadline = Instant::now() + self.opts.timeout;
        let mut bytes = Vec::new();
        for cmd in cmds {
            self.transcript.sent(&cmd.log_line());
            bytes.extend_from_slice(&cmd.wire());
        }
        if let Err(e) = write_all_timed(&mut self.stream, &bytes, deadline, &self.opts.cancel) {
            let lost = self.lost(e, "sending to the server");
            return Err(self.refused_login().unwrap_or(lost));
        }
        Ok(deadline)
    }

    /// The next reply, or what went wrong with it (a pipelined batch's reply is not
    /// dropped as unasked: it is the sign of a server that answers out of order).
    pub(super) fn next_pipelined(
        &mut self,
        deadline: Instant,
        cancel: &AtomicBool,
    ) -> Result<Next> {
        loop {
            match reply::parse(&self.buf) {
                Ok(Some((reply, used))) => {
                    self.take_buffered(used, &reply)?;
                    return Ok(match self.asked {
                        Some(asked) if !asked.accepts(reply.code) => Next::OutOfOrder(reply),
                        _ => Next::Reply(reply),
                    });
                }
                Ok(None) => {}
                Err(e) => {
                    self.alive = false;
                    return Err(Error::connection(e.to_string()));
                }
            }
            let mut chunk = [0u8; 8 * 1024];
            crate::ftp::net::quick_ack(self.stream.tcp());
            let n = match read_timed(&mut self.stream, &mut chunk, deadline, cancel) {
                Ok(n) => n,
                Err(WaitError::TimedOut) => return Ok(Next::Silent),
                Err(e) => return Err(self.lost(e, "waiting for the server's reply")),
            };
            if n == 0 {
                self.alive = false;
                return Err(Error::connection("the server closed the connection"));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// The server stumbled on pipelined input: one command at a time from now on (here and
    /// on every later connection to it), after PWD's `257` shows the conversation is back
    /// in step (every reply before it is a late answer to the batch, dropped). A server that
    /// answers some commands asynchronously (libunftp's SIZE) may send an answer to the
    /// batch even after the `257`: while `outstanding` replies of the batch have not been
    /// seen, stragglers are awaited a moment longer and dropped, so none is taken for the
    /// answer to a later command.
    pub(super) fn fall_back(&mut self, why: &str, mut outstanding: usize) -> Result<()> {
        self.one_at_a_time = true;
        self.opts.pipelining.remember(&self.server);
        self.transcript.note(&format!(
            "the server stumbles on pipelined commands ({why}); sending one command at a time from now on"
        ));
        let cancel = self.opts.cancel.clone();
        let deadline = Instant::now() + self.opts.timeout;
        let dropped = self.back_in_step(deadline, &cancel)?;
        outstanding = outstanding.saturating_sub(dropped);
        let soon = Instant::now() + self.opts.timeout.min(STRAGGLER_WAIT);
        while outstanding > 0 {
            match self.next_pipelined(soon, &cancel)? {
                Next::Silent => break,
                Next::Reply(_) | Next::OutOfOrder(_) => {
                    outstanding -= 1;
                    self.transcript
                        .note("ignoring that reply: a late answer to the pipelined commands");
                }
            }
        }
        Ok(())
    }

    /// Sends PWD and drops every reply before its `257` (none of the commands pipelined,
    /// riding or aborted can get one): the conversation is back in step. Returns how many
    /// were dropped; no `257` by `deadline` marks the connection dead.
    pub(super) fn back_in_step(&mut self, deadline: Instant, cancel: &AtomicBool) -> Result<usize> {
        self.asked = None;
        self.riders.clear();
        self.write_commands(&[Command::Pwd])?;
        let mut dropped = 0;
        loop {
            match self.next_pipelined(deadline, cancel)? {
                Next::Reply(r) | Next::OutOfOrder(r) if r.code == 257 => return Ok(dropped),
                Next::Reply(_) | Next::OutOfOrder(_) => {
                    dropped += 1;
                    self.transcript.note(
                        "ignoring that reply: sent unasked, or a late answer to the pipelined commands",
                    );
                }
                Next::Silent => {
                    self.alive = false;
                    return Err(Error::connection(
                        "the conversation with the server is out of step after pipelined commands (no reply to PWD)",
                    ));
                }
            }
        }
    }

    /// Puts the connection in binary image mode, stream mode and file structure, once, and
    /// learns the server's features on the way: the four commands go in one write (their
    /// outcomes decide nothing sent among them), so a new connection pays one round trip
    /// for its setup, not four.
    pub fn ensure_binary(&mut self) -> Result<()> {
        if self.binary {
            return Ok(());
        }
        let cmds = self.setup_commands();
        let replies = self.exec_pipelined(&cmds)?;
        self.set_up(&replies)
    }

    /// Like [`Connection::ensure_binary`], but the setup waits for the next transfer's
    /// passive address: it goes in one write with that EPSV (an upload starts a round trip
    /// sooner). Only for a transfer that sends nothing else first (no SIZE, REST or APPE);
    /// in active mode or over PASV it is sent at once. It goes before any passive address
    /// asked for ahead is used (that address is then asked for again with it).
    pub fn want_binary(&mut self) -> Result<()> {
        if self.binary {
            return Ok(());
        }
        if self.uses_active() || self.passive == Passive::Pasv || self.one_at_a_time {
            return self.ensure_binary();
        }
        self.binary_due = true;
        Ok(())
    }

    /// The setup still to send: TYPE I, MODE S, STRU F, and FEAT when not yet asked.
    pub(super) fn setup_commands(&self) -> Vec<Command> {
        if self.binary {
            return Vec::new();
        }
        let mut cmds = vec![Command::Type("I"), Command::Mode("S"), Command::Stru("F")];
        if self.features.is_none() {
            cmds.push(Command::Feat);
        }
        cmds
    }

    /// Takes the replies to [`Connection::setup_commands`].
    pub(super) fn set_up(&mut self, replies: &[Reply]) -> Result<()> {
        let type_i = &replies[0];
        if !type_i.is_completion() {
            return Err(Error::refused(type_i.code, type_i.text()));
        }
        // Stream mode and file structure are RFC 959's defaults; a server that does not
        // implement MODE or STRU is already in them, so a refusal is not an error.
        self.binary = true;
        self.binary_due = false;
        match replies.get(3) {
            Some(feat) => self.learn_features(feat),
            None => Ok(()),
        }
    }

    /// Sends `cmd` (SIZE before a download) in one write with what the transfer after it
    /// needs: the connection setup (TYPE I, MODE S, STRU F, FEAT) when it is still to do,
    /// and EPSV when passive mode will ask for one anyway (the data connection of the next
    /// transfer command uses the address; any other command sent first drops it). A fresh
    /// one-shot download thus reaches RETR one round trip after login. Returns `cmd`'s reply.
    pub fn exec_before_transfer(&mut self, cmd: &Command) -> Result<Reply> {
        let (mut replies, prepared) = self.with_setup_and_epsv(std::slice::from_ref(cmd))?;
        self.prepared = prepared.map(|addr| (addr, Instant::now()));
        self.early = None;
        Ok(replies.pop().expect("a reply to the command"))
    }

    /// Sends the setup still to do, `cmds`, and EPSV when passive mode will ask for one,
    /// in one write. Returns the replies to `cmds` and the passive address (None in active
    /// mode, or when EPSV is refused: PASV from now on).
    pub(super) fn with_setup_and_epsv(
        &mut self,
        cmds: &[Command],
    ) -> Result<(Vec<Reply>, Option<SocketAddr>)> {
        let epsv = !self.uses_active() && self.passive != Passive::Pasv;
        let mut all = self.setup_commands();
        let setup = all.len();
        all.extend_from_slice(cmds);
        if epsv {
            all.push(Command::Epsv);
        }
        let mut replies = self.exec_pipelined(&all)?;
        let epsv_reply = if epsv { replies.pop() } else { None };
        if setup > 0 {
            self.set_up(&replies[..setup])?;
        }
        let addr = match epsv_reply {
            Some(answer) => self.epsv_answer(&answer)?,
            None => None,
        };
        Ok((replies.split_off(setup), addr))
    }
}
