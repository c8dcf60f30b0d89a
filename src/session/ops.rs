//! Operations on remote paths that move no data: make and remove directories, delete and
//! rename files, change and ask the working directory. Each takes a path checked once
//! ([`RemotePath`]), sends its one command (two for a rename) and reads the reply strictly.

use crate::error::{Error, Result};
use crate::ftp::command::{Arg, Command};
use crate::ftp::connection::Connection;
use crate::ftp::reply::{parse_pwd, Reply};
use crate::remote_path::RemotePath;

/// MKD; the reply code (257).
pub fn mkdir(conn: &mut Connection, path: &RemotePath) -> Result<u16> {
    conn.exec_ok(&Command::Mkd(Arg::from(path))).map(|r| r.code)
}

/// MKD where the directory may already exist: a refusal is not an error (a real problem
/// shows in what follows).
pub fn mkdir_if_missing(conn: &mut Connection, path: &RemotePath) -> Result<()> {
    conn.exec(&Command::Mkd(Arg::from(path))).map(|_| ())
}

/// `mkdir -p`: makes `path` and any missing parents; directories that exist are fine.
/// Robust when another client makes the same directory at the same moment (curl#968): an
/// MKD refused (550, 521) is followed by a probe, and a directory there is success. The
/// common cases cost one MKD (parents there) or one MKD and the probe (all there).
/// Returns how many directories this call made.
pub fn mkdir_p(
    conn: &mut Connection,
    path: &RemotePath,
    restore: Option<&RemotePath>,
) -> Result<usize> {
    let trimmed = RemotePath::new(path.trim_end_matches('/'))?;
    if matches!(trimmed.as_str(), "" | "." | "~") {
        // The root, the working or the login directory: there already.
        return Ok(0);
    }
    let reply = conn.exec(&Command::Mkd(Arg::from(&trimmed)))?;
    if reply.is_completion() {
        return Ok(1);
    }
    let refused = Error::refused(reply.code, reply.text()).context(format!("mkdir {trimmed}"));
    if reply.code < 500 && reply.code != 450 {
        // A 4xx other than "unavailable" is transient: not a reason to probe.
        return Err(refused);
    }
    if is_dir(conn, &trimmed, restore)? {
        return Ok(0);
    }
    // Missing parents: make them (each as robustly), then this one once more.
    let parent = trimmed.parent();
    if !trimmed.contains('/') || matches!(parent.as_str(), "/" | "~") {
        return Err(refused);
    }
    let made = mkdir_p(conn, &parent, restore)?;
    let again = conn.exec(&Command::Mkd(Arg::from(&trimmed)))?;
    if again.is_completion() {
        return Ok(made + 1);
    }
    if is_dir(conn, &trimmed, restore)? {
        return Ok(made);
    }
    Err(Error::refused(again.code, again.text()).context(format!("mkdir {trimmed}")))
}

/// RMD; the reply code (250).
pub fn rmdir(conn: &mut Connection, path: &RemotePath) -> Result<u16> {
    conn.exec_ok(&Command::Rmd(Arg::from(path))).map(|r| r.code)
}

/// DELE; the reply code (250).
pub fn delete(conn: &mut Connection, path: &RemotePath) -> Result<u16> {
    conn.exec_ok(&Command::Dele(Arg::from(path)))
        .map(|r| r.code)
}

/// RNFR then RNTO: a rename inside the server. RNFR must answer 350 (anything else means
/// the server is not waiting for RNTO, which is then not sent). The RNTO reply's code.
pub fn rename(conn: &mut Connection, from: &RemotePath, to: &RemotePath) -> Result<u16> {
    let (from, to) = (Arg::from(from), Arg::from(to));
    let reply = conn.exec(&Command::Rnfr(from))?;
    if reply.code != 350 {
        return Err(Error::refused(reply.code, reply.text()));
    }
    conn.exec_ok(&Command::Rnto(to)).map(|r| r.code)
}

/// CWD.
pub fn cwd(conn: &mut Connection, path: &RemotePath) -> Result<()> {
    conn.exec_ok(&Command::Cwd(Arg::from(path))).map(|_| ())
}

/// PWD: the server's working directory.
pub fn pwd(conn: &mut Connection) -> Result<RemotePath> {
    let reply = conn.exec(&Command::Pwd)?;
    pwd_answer(&reply)
}

/// The directory a PWD reply names.
pub fn pwd_answer(reply: &Reply) -> Result<RemotePath> {
    if !reply.is_completion() {
        return Err(Error::refused(reply.code, reply.text()));
    }
    let dir = parse_pwd(reply.text()).ok_or_else(|| {
        Error::connection(format!(
            "cannot read the directory in the PWD reply: {reply}"
        ))
    })?;
    Ok(RemotePath::new(dir)?)
}

/// Whether `path` names a directory: CWD into it is accepted and moves the connection (a
/// server that accepts any CWD proves nothing). The connection then returns to `restore`
/// (the session's directory), or, with none, to where it was.
pub fn is_dir(
    conn: &mut Connection,
    path: &RemotePath,
    restore: Option<&RemotePath>,
) -> Result<bool> {
    // PWD decides nothing about the CWD after it: one write for both, when the CWD can be
    // sent again harmlessly (an absolute path) should the server stumble on the pair.
    let (here, moved) = pwd_and_cwd(conn, Arg::from(path))?;
    let here = here?;
    if !moved.is_completion() {
        return Ok(false);
    }
    let (there, back) = pwd_and_cwd(conn, Arg::from(restore.unwrap_or(&here)))?;
    if !back.is_completion() {
        return Err(Error::refused(back.code, back.text()));
    }
    let there = there.unwrap_or_else(|_| here.clone());
    Ok(there != here)
}

/// PWD, then CWD `dir`: the directory before the move, and the CWD's reply.
fn pwd_and_cwd(conn: &mut Connection, dir: Arg) -> Result<(Result<RemotePath>, Reply)> {
    let cwd = Command::Cwd(dir);
    if cwd.repeatable() {
        let mut replies = conn.exec_pipelined(&[Command::Pwd, cwd])?;
        let moved = replies.pop().expect("a reply to CWD");
        return Ok((pwd_answer(&replies[0]), moved));
    }
    let here = pwd(conn);
    Ok((here, conn.exec(&cwd)?))
}

/// `SITE CHMOD MODE PATH`; `mode` must be 3 or 4 octal digits.
pub fn chmod(conn: &mut Connection, mode: &str, path: &RemotePath) -> Result<()> {
    check_mode(mode)?;
    conn.exec_ok(&Command::SiteChmod(mode.to_string(), Arg::from(path)))
        .map(|_| ())
}

/// Refuses a mode that is not 3 or 4 octal digits.
pub fn check_mode(mode: &str) -> Result<()> {
    if !(3..=4).contains(&mode.len()) || !mode.chars().all(|c| ('0'..='7').contains(&c)) {
        return Err(Error::usage(format!(
            "chmod: '{mode}' is not an octal mode such as 644 or 0755"
        )));
    }
    Ok(())
}

/// SIZE of a remote file, in bytes.
pub fn size(conn: &mut Connection, path: &RemotePath) -> Result<u64> {
    use crate::session::proof::SizeAnswer;
    match crate::session::proof::size(conn, path)? {
        SizeAnswer::Known(n) => Ok(n),
        SizeAnswer::Unsupported => Err(Error::refused(502, "the server has no SIZE")),
        SizeAnswer::Failed(reply) | SizeAnswer::NotASize(reply) => {
            Err(Error::refused(reply.code, reply.text()))
        }
    }
}

/// MDTM of a remote file: its modification time as the server says it (`YYYYMMDDHHMMSS`,
/// UTC), and as seconds since the epoch where that parses.
pub fn modtime(conn: &mut Connection, path: &RemotePath) -> Result<(String, Option<i64>)> {
    let reply = conn.exec_ok(&Command::Mdtm(Arg::from(path)))?;
    let text = reply.text().to_string();
    let secs = crate::ftp::time::parse_ftp_time(&text);
    Ok((text, secs))
}

/// Verbs `quote` and `site` refuse: they log in or out, change the connection's security
/// or state, or open data connections, which only 3700ftp's own commands may do.
pub const REFUSED_RAW: &[&str] = &[
    "USER", "PASS", "ACCT", "AUTH", "PROT", "PBSZ", "CCC", "REIN", "PASV", "EPSV", "PORT", "EPRT",
    "LPRT", "LPSV", "RETR", "STOR", "STOU", "APPE", "LIST", "NLST", "MLSD", "REST", "ABOR", "QUIT",
    // Also refused: a changed TYPE, MODE or STRU would alter every later transfer's bytes,
    // and a CWD the session does not know of would move every relative path (use cd).
    "TYPE", "MODE", "STRU", "CWD", "CDUP", "XCWD", "XCUP",
];

/// A command line typed by the user (`quote`), sent as is: the whole reply comes back, a
/// refusal (4xx, 5xx) as an error. Verbs in [`REFUSED_RAW`], and CR, LF and NUL, are refused.
/// The reply's lines come back as the server wrote them (`211-Status`, …, `211 End`).
pub fn raw(conn: &mut Connection, line: &str) -> Result<Vec<String>> {
    let verb = line
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    if verb.is_empty() {
        return Err(Error::usage("quote: which command?"));
    }
    if REFUSED_RAW.contains(&verb.as_str()) {
        return Err(Error::usage(format!(
            "quote: {verb} is refused: it would change the connection under 3700ftp (use its own commands)"
        )));
    }
    let reply = conn.exec(&Command::Raw(Arg::new(line)?))?;
    if reply.code >= 400 {
        return Err(Error::refused(reply.code, reply.text()));
    }
    let last = reply.lines.len().saturating_sub(1);
    Ok(reply
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| match i {
            0 if last > 0 => format!("{}-{l}", reply.code),
            i if i == last => format!("{} {l}", reply.code),
            _ => l.clone(),
        })
        .collect())
}
