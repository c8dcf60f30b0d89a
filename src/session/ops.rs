//! Operations on remote paths that move no data: make and remove directories, delete and
//! rename files, change and ask the working directory. Each validates its path once
//! (`Arg`), sends its one command (two for a rename) and reads the reply strictly.

use crate::error::{Error, Result};
use crate::ftp::command::{Arg, Command};
use crate::ftp::connection::Connection;
use crate::ftp::reply::parse_pwd;

/// MKD.
pub fn mkdir(conn: &mut Connection, path: &str) -> Result<()> {
    conn.exec_ok(&Command::Mkd(Arg::new(path)?)).map(|_| ())
}

/// MKD where the directory may already exist: a refusal is not an error (a real problem
/// shows in what follows).
pub fn mkdir_if_missing(conn: &mut Connection, path: &str) -> Result<()> {
    conn.exec(&Command::Mkd(Arg::new(path)?)).map(|_| ())
}

/// RMD.
pub fn rmdir(conn: &mut Connection, path: &str) -> Result<()> {
    conn.exec_ok(&Command::Rmd(Arg::new(path)?)).map(|_| ())
}

/// DELE.
pub fn delete(conn: &mut Connection, path: &str) -> Result<()> {
    conn.exec_ok(&Command::Dele(Arg::new(path)?)).map(|_| ())
}

/// RNFR then RNTO: a rename inside the server. RNFR must answer 350 (anything else means
/// the server is not waiting for RNTO, which is then not sent).
pub fn rename(conn: &mut Connection, from: &str, to: &str) -> Result<()> {
    let (from, to) = (Arg::new(from)?, Arg::new(to)?);
    let reply = conn.exec(&Command::Rnfr(from))?;
    if reply.code != 350 {
        return Err(Error::refused(reply.code, reply.text()));
    }
    conn.exec_ok(&Command::Rnto(to)).map(|_| ())
}

/// CWD.
pub fn cwd(conn: &mut Connection, path: &str) -> Result<()> {
    conn.exec_ok(&Command::Cwd(Arg::new(path)?)).map(|_| ())
}

/// PWD: the server's working directory.
pub fn pwd(conn: &mut Connection) -> Result<String> {
    let reply = conn.exec_ok(&Command::Pwd)?;
    parse_pwd(reply.text()).ok_or_else(|| {
        Error::connection(format!(
            "cannot read the directory in the PWD reply: {reply}"
        ))
    })
}

/// Whether `path` names a directory: CWD into it is accepted and moves the connection (a
/// server that accepts any CWD proves nothing). The connection then returns to `restore`
/// (the session's directory), or, with none, to where it was.
pub fn is_dir(conn: &mut Connection, path: &str, restore: Option<&str>) -> Result<bool> {
    let arg = Arg::new(path)?;
    let here = pwd(conn)?;
    if !conn.exec(&Command::Cwd(arg))?.is_completion() {
        return Ok(false);
    }
    let there = pwd(conn).unwrap_or_else(|_| here.clone());
    cwd(conn, restore.unwrap_or(&here))?;
    Ok(there != here)
}
