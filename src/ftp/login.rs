//! Logging in: USER (with FEAT), PASS when asked (with `OPTS UTF8 ON`), PBSZ/PROT over TLS.
//!
//! With [`Options::late_login_check`], on a server known by its greeting to read commands
//! in turn (`answers::reads_in_turn`), PASS's reply is not waited for: it is read after the
//! next command is written, so the password's round trip carries the first command's (a
//! one-shot `cp`'s TYPE, SIZE and EPSV). The password still goes only after the server's
//! `331`. A refused login is the same error as ever, returned by that first command and
//! by every later one (a caller that ignores one failed command cannot miss it), and
//! [`Connection::confirm_login`] reads the reply when no command followed.

use std::time::Instant;

use crate::error::{Error, Kind, Result};
use crate::ftp::answers::Asked;
use crate::ftp::command::{Arg, Command};
use crate::ftp::connection::{Connection, PendingLogin, ANONYMOUS_PASSWORD};
use crate::ftp::pipeline::PIPELINE_WAIT;
use crate::ftp::reply::Reply;

#[cfg(doc)]
use crate::ftp::options::Options;

impl Connection {
    /// Logs in: USER, then PASS when asked (331); ACCT (332) is reported as unsupported.
    /// A server whose greeting was `230` is already logged in: no USER or PASS is sent.
    pub fn login(&mut self, user: &str, password: Option<&str>) -> Result<()> {
        if !self.logged_in {
            self.login_only(user, password)?;
        }
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

    /// Reads the reply to a PASS sent without waiting for it, if there is one still to
    /// read: Ok when the login succeeded, its error when it did not.
    pub fn confirm_login(&mut self) -> Result<()> {
        self.check_login()?;
        self.settle_login()
    }

    fn login_only(&mut self, user: &str, password: Option<&str>) -> Result<()> {
        let reply = self.user_and_feat(Command::User(Arg::new(user)?))?;
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
                let pass = Command::Pass(Arg::new(pass)?);
                if self.opts.late_login_check && self.reads_in_turn && !self.one_at_a_time {
                    return self.send_pass_unanswered(user, pass);
                }
                self.pass_and_utf8(pass)?
            }
            _ => reply,
        };
        login_answer(user, &reply)
    }

    /// Writes PASS (and a pending `OPTS UTF8 ON`) without reading the reply.
    fn send_pass_unanswered(&mut self, user: &str, pass: Command) -> Result<()> {
        let utf8 = std::mem::take(&mut self.utf8_pending);
        let mut cmds = vec![pass];
        if utf8 {
            cmds.push(Command::OptsUtf8);
        }
        self.write_commands(&cmds)?;
        self.pass_pending = Some(PendingLogin {
            user: user.to_string(),
            utf8,
        });
        Ok(())
    }

    /// A login that failed when its reply was read late fails every command after it.
    pub(super) fn check_login(&self) -> Result<()> {
        match &self.failed_login {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// The reply to `cmd`, written right behind a PASS whose reply was unread: a server
    /// that dropped what followed PASS in the same read never answers it, so after the
    /// pipelining wait the conversation is put back in step and `cmd` sent again (it is
    /// repeatable), one command at a time from then on.
    pub(super) fn reply_behind_pass(&mut self, cmd: &Command) -> Result<Reply> {
        let wait = self.opts.timeout.min(PIPELINE_WAIT);
        let cancel = self.opts.cancel.clone();
        if let Some(reply) = self.poll_reply_until(Instant::now() + wait, &cancel)? {
            return Ok(reply);
        }
        let why = format!(
            "no reply to {} sent behind PASS within {} s",
            cmd.verb(),
            wait.as_secs_f64()
        );
        self.fall_back(&why, 1)?;
        self.exec(cmd)
    }

    /// After a write that failed: the refusal of a PASS whose reply was still to be read,
    /// when that is why the server closed (its `530` may be waiting in the socket).
    pub(super) fn refused_login(&mut self) -> Option<Error> {
        self.pass_pending.as_ref()?;
        match self.settle_login() {
            Err(e) if e.kind() == Kind::Login => Some(e),
            _ => None,
        }
    }

    /// Reads the replies of a PASS sent without waiting (the command after it was just
    /// written), keeping what the caller waits for.
    pub(super) fn settle_login(&mut self) -> Result<()> {
        let Some(pending) = self.pass_pending.take() else {
            return Ok(());
        };
        let asked = self.asked;
        self.asked = Some(Asked::of(&Command::Pass(Arg::new("-")?)));
        let answer = self
            .read_reply()
            .and_then(|r| login_answer(&pending.user, &r));
        // OPTS's reply is read only after a login: a refused one may be followed by a
        // hang-up, and the refusal is the answer.
        let answer = match answer {
            Ok(()) if pending.utf8 => {
                self.asked = Some(Asked::of(&Command::OptsUtf8));
                self.read_reply().map(|_| ())
            }
            other => other,
        };
        self.asked = asked;
        if let Err(e) = &answer {
            if e.kind() == Kind::Login {
                self.failed_login = Some(e.clone());
                self.alive = false;
            }
        }
        answer
    }
}

/// What PASS's (or USER's) reply means for the login.
fn login_answer(user: &str, reply: &Reply) -> Result<()> {
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
