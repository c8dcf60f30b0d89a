//! Ending things on the control connection: a transfer abandoned (ABOR, and both replies
//! read so the conversation stays in step), a clean-up command after Ctrl-C, and the
//! conversation itself (QUIT, its `221` awaited only while the transcript is shown; or a
//! hang-up that waits for nothing). Every wait here has its own short deadline and ignores
//! the cancel flag, without ever clearing it: other workers must still see an interrupt.
//! A rename left pending by an RNFR is ended here too (`cancel_rename`).

use std::net::Shutdown;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::ftp::command::Command;
use crate::ftp::connection::Connection;
use crate::ftp::net::NEVER;
use crate::ftp::reply::Reply;

/// The longest wait for the server to settle after ABOR, or to answer QUIT.
const ABORT_WAIT: Duration = Duration::from_secs(5);
/// How long ABOR waits for its own reply after a `226` that may have been the transfer's.
const SECOND_ABORT_REPLY: Duration = Duration::from_secs(1);

impl Connection {
    /// Ends a rename left pending by an RNFR answered `350` whose RNTO must not come (the
    /// file was not proven): a bare `RNTO`, which names nothing and so renames nothing.
    /// ProFTPD answers every other command `501` until an RNTO arrives; its `501 Invalid
    /// number of parameters` to this one ends the pending rename, and other servers refuse
    /// it the same way. Any reply will do.
    pub fn cancel_rename(&mut self) -> Result<()> {
        let bare = Command::Raw(crate::ftp::command::Arg::new("RNTO")?);
        self.exec(&bare).map(|_| ())
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
        if self.riders_due() {
            // The transfer's reply, the riders' and ABOR's, in whatever number: up to PWD's.
            if self.send_until(&Command::Abor, deadline, &NEVER).is_ok() {
                self.settle_riders(deadline);
            } else {
                self.alive = false;
            }
            return;
        }
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

    /// Sends a clean-up command (DELE of a temporary file after a failed or interrupted
    /// upload) and reads its reply within a few seconds, even after Ctrl-C: like ABOR, it
    /// waits on its own short deadline without the cancel flag, and never clears that flag
    /// (every other wait must still see it).
    pub fn cleanup(&mut self, cmd: &Command) -> Result<Reply> {
        if !self.alive {
            return Err(Error::connection("the connection is closed"));
        }
        let deadline = Instant::now() + self.opts.timeout.min(ABORT_WAIT);
        self.send_until(cmd, deadline, &NEVER)?;
        self.read_reply_until(deadline, &NEVER)
    }

    /// Sends QUIT and closes, ignoring what the server says: the work is already done. The
    /// server's `221` is waited for only while the conversation is shown (`-v`, `verbose`),
    /// so that the transcript ends with it; otherwise nobody reads it, and over a slow link
    /// waiting for it would add a round trip to every command's end (see
    /// [`Connection::hang_up`]). The wait ignores the cancel flag and ends by its own short
    /// deadline.
    pub fn quit(mut self) {
        if !self.transcript.is_on() {
            return self.hang_up();
        }
        let deadline = Instant::now() + self.opts.timeout.min(ABORT_WAIT);
        if self.alive && self.send_until(&Command::Quit, deadline, &NEVER).is_ok() {
            let _ = self.read_reply_until(deadline, &NEVER);
        }
        let _ = self.stream.close_notify();
        let _ = self.stream.tcp().shutdown(Shutdown::Both);
    }

    /// Sends QUIT and closes without waiting for any reply: for a connection whose work is
    /// done and whose server may still owe the reply to a transfer the client cut short (a
    /// segment's range ended before the file did). The server learns the transfer was
    /// abandoned from the closed data connection and the session's end from QUIT and the
    /// close; waiting for those replies would cost a round trip or two for nothing.
    pub fn hang_up(mut self) {
        let deadline = Instant::now() + self.opts.timeout.min(ABORT_WAIT);
        if self.alive {
            let _ = self.send_until(&Command::Quit, deadline, &NEVER);
        }
        let _ = self.stream.close_notify();
        let _ = self.stream.tcp().shutdown(Shutdown::Both);
    }
}
