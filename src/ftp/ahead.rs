//! Commands sent ahead of an upload's final reply: the upload's SIZE proof (and the RNFR
//! of its rename into place) go out the moment the server has closed the data connection,
//! a round trip before its `226` arrives (vsftpd answers only once its lingering close of
//! the data connection is acknowledged).
//!
//! Only for servers known by their greeting to read commands in turn
//! (`answers::reads_in_turn`: vsftpd, ProFTPD, Pure-FTPd, one process per session
//! reading the control connection only between commands). An asynchronous server reads them during the transfer, and one of them
//! (libunftp 0.24) was seen to answer neither them nor the upload.
//!
//! Nothing is trusted early. The server has read every byte and closed the connection
//! when they are sent; a server that reads commands one at a time answers them after the
//! upload's final reply, and only answers that come after it are returned. A server that
//! answers them before (an asynchronous one, libunftp: its SIZE may count a file still
//! being written) has them dropped, and is remembered ([`Habit::AnswersDuringTransfers`]):
//! the caller asks again after the final reply, and later uploads to it wait as before.
//! Nothing is renamed here; RNTO goes only after the proof.

use std::time::Instant;

use crate::error::Result;
use crate::ftp::answers::Asked;
use crate::ftp::command::Command;
use crate::ftp::connection::Connection;
use crate::ftp::net::WaitError;
use crate::ftp::options::Habit;
use crate::ftp::pipeline::{Next, PIPELINE_WAIT};
use crate::ftp::reply::Reply;

impl Connection {
    /// Whether commands may be sent ahead of an upload's final reply on this connection.
    pub fn sends_ahead(&self) -> bool {
        // Through a proxy, the end of the data connection is the proxy's, not proof that
        // the server read every byte (seen with ProFTPD: SIZE answered mid-transfer).
        self.reads_in_turn
            && self.via.is_none()
            && !self.one_at_a_time
            && !self.utf8_pending
            && !self
                .opts
                .pipelining
                .has(&self.server, Habit::AnswersDuringTransfers)
    }

    /// Sends `ahead` (the server has closed the upload's data connection, its final reply
    /// is unread) and reads the upload's final reply, then theirs. Returns the final reply
    /// (an error as [`Connection::finish_data`] makes it) and the replies to `ahead` when
    /// they can be trusted: every one came after the final reply, each one a possible
    /// answer to its command. None means: ask again.
    pub fn finish_upload_ahead(
        &mut self,
        ahead: &[Command],
        moved: u64,
    ) -> Result<(Reply, Option<Vec<Reply>>)> {
        // A time set (MFMT, MDTM with a time) answers 213 here; nothing else sent ahead
        // may be answered like a transfer's end.
        debug_assert!(
            ahead
                .iter()
                .all(|c| matches!(c, Command::Mfmt(..) | Command::MdtmSet(..))
                    || (!Asked::of(c).accepts(226) && !Asked::of(c).accepts(250))),
            "a command sent ahead must not be answered like a transfer"
        );
        // Not `write_batch`: a final reply already buffered must not be dropped as unasked.
        self.forget_ahead();
        let mut deadline = self.write_commands(ahead)?;
        let cancel = self.opts.cancel.clone();

        // Every reply is kept (none is dropped as unasked) and told apart below.
        self.asked = None;
        let want = 1 + ahead.len();
        let mut replies: Vec<Reply> = Vec::with_capacity(want);
        let mut broken = None;
        while replies.len() < want {
            match self.next_pipelined(deadline, &cancel) {
                Ok(Next::Reply(r) | Next::OutOfOrder(r)) => {
                    // After the final reply, or a refusal that may be it, the rest come at once.
                    if r.is_negative() || ends_transfer(&r) {
                        deadline = deadline.min(Instant::now() + PIPELINE_WAIT);
                    }
                    replies.push(r);
                }
                Ok(Next::Silent) => break,
                Err(e) => {
                    broken = Some(e);
                    break;
                }
            }
        }
        let transfer = Asked::Transfer;
        // A 226/250 answers only the transfer; otherwise the first reply that can answer
        // it (a server that reads commands one at a time answers it first).
        let at = replies.iter().position(ends_transfer).or_else(|| {
            replies
                .iter()
                .position(|r| transfer.accepts(r.code) && !r.is_preliminary())
        });
        let Some(at) = at else {
            return Err(broken.unwrap_or_else(|| {
                self.lost(WaitError::TimedOut, "waiting for the server's reply")
            }));
        };
        if at > 0 {
            self.opts
                .pipelining
                .learn(&self.server, Habit::AnswersDuringTransfers);
            self.transcript.note(
                "ignoring the replies before the upload's own: the server answers commands during a transfer; asking again after it",
            );
        }
        let complete = replies.len() == want;
        let trusted = at == 0
            && complete
            && ahead
                .iter()
                .zip(&replies[1..])
                .all(|(c, r)| Asked::of(c).accepts(r.code));
        let final_reply = replies[at].clone();
        if !complete && broken.is_none() {
            let why = format!(
                "no reply to {} sent after an upload within {} s",
                ahead[replies.len().max(1) - 1].verb(),
                PIPELINE_WAIT.as_secs()
            );
            self.fall_back(&why, want - replies.len())?;
        }
        // An RNFR accepted but not to be followed by its RNTO now (the answers are not
        // trusted, or the upload failed) leaves a rename pending: end it, or ProFTPD refuses
        // the SIZE asked again (or the DELE of a failed part) with 501.
        let accepted_rnfr = replies.iter().any(|r| r.code == 350);
        let failed = !final_reply.is_completion();
        if accepted_rnfr && (!trusted || failed) && self.alive {
            // Its own failure shows on the next command; the upload's outcome comes first.
            let _ = self.cancel_rename();
        }
        let answers = trusted.then(|| replies.split_off(1));
        let reply = self.finish_data(Some(final_reply), moved)?;
        if let Some(answers) = &answers {
            self.ready_next(ahead, answers);
        }
        Ok((reply, answers))
    }

    /// An EPSV sent ahead with the proof and answered in turn: the address of the transfer
    /// that may follow, and its data connection started now, so its handshake is done
    /// during the round trip of the rename into place (`net::Early`).
    fn ready_next(&mut self, ahead: &[Command], answers: &[Reply]) {
        let epsv = ahead
            .iter()
            .zip(answers)
            .find(|(c, _)| matches!(c, Command::Epsv));
        if let Some((_, answer)) = epsv.filter(|(_, r)| r.code == 229) {
            if let Ok(Some(addr)) = self.epsv_answer(answer) {
                self.prepared = Some((addr, Instant::now()));
                self.early = crate::ftp::net::Early::start(addr);
            }
        }
    }
}

/// A reply only a transfer's end can be: `226` or `250`.
fn ends_transfer(r: &Reply) -> bool {
    matches!(r.code, 226 | 250)
}
