//! The session layer: what 3700ftp does on a server, between the command table above and
//! the protocol below. Commands parse their operands and options, call in here, and hand
//! the values returned to the edge to show; nothing here prints.
//!
//! - [`transfer`]: the policy, the settings and the result of a transfer; the byte pumps.
//! - [`download`], [`upload`]: one file each way, atomic and proven.
//! - [`proof`]: SIZE read strictly, the server's hash, MDTM.
//! - [`times`]: the modification times a copy keeps (`-p`, mirror), both ways.
//! - [`segments`]: one large download as N ranges over N connections; [`ranges`]: how
//!   it is split and the record of finished ranges; [`early`]: its extra logins, started
//!   while the first connection asks for the size.
//! - [`retry`]: transient failures tried again, resuming what the failed attempt kept.
//! - [`local`]: the local side (destination kinds, temporary files, permissions, syncing).
//! - [`ops`]: mkdir, rmdir, delete, rename, cwd, pwd.
//! - [`credentials`]: netrc and a prompter handed in from the front end.
//! - [`Session`]: one logged-in connection, its working directory, reconnecting.
//! - [`jobs`]: one or many files, on one connection or `-j N`, and the one
//!   copy-then-delete every move goes through.
//! - [`mirror`]: a destination tree made to hold what a source tree holds.
//! - [`tree`]: `rm -r`, `ls -R`, `du` over mirror's walk.

pub mod credentials;
pub mod download;
pub mod early;
pub mod jobs;
pub mod listing;
pub mod local;
pub mod mirror;
pub mod ops;
pub mod plan;
pub mod proof;
pub mod ranges;
pub mod retry;
pub mod segments;
pub mod times;
pub mod transfer;
pub mod tree;
pub mod upload;

use crate::error::{Error, Result};
use crate::ftp::command::{Arg, Command};
use crate::ftp::connection::{Connection, Options};
use crate::ftp::tls::Mode;
use crate::remote_path::RemotePath;
use crate::transcript::Transcript;
use crate::url::FtpUrl;

/// Connects and logs in to `url` (credentials already resolved) with TLS as `tls` says.
pub fn login(
    url: &FtpUrl,
    tls: Mode,
    opts: &Options,
    transcript: Transcript,
) -> Result<Connection> {
    let mut conn = Connection::connect(&url.host, url.port, opts.clone(), transcript, tls)?;
    if let Err(e) = conn.login(&url.user, url.password.as_deref()) {
        conn.quit();
        return Err(e);
    }
    Ok(conn)
}

/// A logged-in session: the server, the connection and the remote working directory.
pub struct Session {
    /// Where we logged in (the path is the starting directory).
    pub url: FtpUrl,
    /// How the session's connection uses TLS; every connection to this server does the same.
    pub tls: Mode,
    conn: Option<Connection>,
    /// The remote working directory as the server reported it (PWD), when known.
    pub cwd: Option<RemotePath>,
    /// The login directory (PWD right after login), when known.
    pub home: Option<RemotePath>,
}

impl Session {
    /// A session on a connection just logged in to `url`: notes the login directory and
    /// changes to the URL's directory when it names another.
    pub fn start(url: FtpUrl, tls: Mode, mut conn: Connection) -> Result<Session> {
        let start = RemotePath::new(url.path.clone())?;
        let go = Command::Cwd(Arg::from(&start));
        let (home, moved, cwd) = if !start.is_empty() && go.repeatable() {
            // The login directory, the move and where it landed in one write: PWD decides
            // nothing, and a CWD to an absolute path can be sent again harmlessly.
            let replies = conn.exec_pipelined(&[Command::Pwd, go, Command::Pwd])?;
            let home = ops::pwd_answer(&replies[0]).ok();
            let moved = match &replies[1] {
                r if r.is_completion() || Some(&start) == home.as_ref() => Ok(()),
                r => Err(Error::refused(r.code, r.text())),
            };
            (home, moved, ops::pwd_answer(&replies[2]).ok())
        } else {
            let home = ops::pwd(&mut conn).ok();
            if !start.is_empty() && Some(&start) != home.as_ref() {
                let moved = ops::cwd(&mut conn, &start);
                let cwd = match moved {
                    Ok(()) => ops::pwd(&mut conn).ok(),
                    Err(_) => None,
                };
                (home, moved, cwd)
            } else {
                (home.clone(), Ok(()), home)
            }
        };
        if let Err(e) = moved {
            conn.quit();
            return Err(e.context(format!("cd {start}")));
        }
        Ok(Session {
            url,
            tls,
            conn: Some(conn),
            cwd,
            home,
        })
    }

    /// The connection, when there is one.
    pub fn connection(&mut self) -> Option<&mut Connection> {
        self.conn.as_mut()
    }

    /// True when the connection is there and the server has not closed it while idle.
    pub fn is_alive(&mut self) -> bool {
        self.conn.as_mut().is_some_and(|c| c.check_idle())
    }

    /// Takes a new connection in place of one the server closed, back in the same
    /// directory; returns the line that tells the user.
    pub fn resume_with(&mut self, mut conn: Connection) -> Result<String> {
        if let Some(old) = self.conn.take() {
            old.quit();
        }
        if let Some(dir) = &self.cwd {
            ops::cwd(&mut conn, dir).map_err(|e| e.context(format!("reconnecting: cd {dir}")))?;
        }
        self.conn = Some(conn);
        Ok(format!(
            "the server had closed the connection; logged in again to {} in {}",
            self.url.authority(),
            self.cwd.as_deref().unwrap_or("the login directory")
        ))
    }

    /// True when `url` is on this session's server (host and port).
    pub fn same_server(&self, url: &FtpUrl) -> bool {
        self.url.host.eq_ignore_ascii_case(&url.host)
            && self.url.port == url.port
            && self.url.implicit_tls == url.implicit_tls
    }

    /// True when `url` is on this session's server as the same user.
    pub fn serves(&self, url: &FtpUrl) -> bool {
        self.same_server(url)
            && self.url.user == url.user
            && (url.password.is_none() || url.password == self.url.password)
    }

    /// The working directory, asking the server when unknown.
    pub fn cwd(&mut self) -> Result<RemotePath> {
        if let Some(c) = &self.cwd {
            return Ok(c.clone());
        }
        let conn = self.conn.as_mut().ok_or_else(not_connected)?;
        let cwd = ops::pwd(conn)?.normalised();
        self.cwd = Some(cwd.clone());
        Ok(cwd)
    }

    /// Changes the working directory; returns the one the server reports.
    pub fn change_dir(&mut self, path: &RemotePath) -> Result<RemotePath> {
        let conn = self.conn.as_mut().ok_or_else(not_connected)?;
        ops::cwd(conn, path)?;
        let cwd = ops::pwd(conn).ok().map(|d| d.normalised());
        self.cwd = cwd.clone();
        Ok(cwd.unwrap_or_else(|| path.clone()))
    }

    /// QUIT, and the connection is gone.
    pub fn close(&mut self) {
        if let Some(c) = self.conn.take() {
            c.quit();
        }
    }
}

fn not_connected() -> Error {
    Error::usage("not connected (use: open ftp://host/)")
}
