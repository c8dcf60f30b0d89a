//! Proof that a copy holds the source's bytes: the size (SIZE, strictly read), the server's
//! own hash (HASH, XSHA256…) against ours, and modification times for resume decisions.
//!
//! A server *without* SIZE (500/502/504, or SIZE absent from FEAT) leaves the final reply as
//! the proof; a SIZE that *fails* on a server that has it (550 after a 226) proves nothing
//! and fails the transfer.

use std::path::Path;

use crate::error::{Error, Kind, Result};
use crate::ftp::command::{Arg, Command};
use crate::ftp::connection::Connection;
use crate::ftp::reply::Reply;
use crate::remote_path::RemotePath;
use crate::verify::{self, Algo, HashCommand, PipedHasher as Hasher, Verify};

use super::transfer::hash_prefix;

/// What SIZE said about a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SizeAnswer {
    /// The size in bytes.
    Known(u64),
    /// The server has no SIZE: not implemented, or absent from FEAT.
    Unsupported,
    /// The server has SIZE but could not give this path's (no such file, no permission).
    Failed(Reply),
    /// A `213` whose text is not a size (`abc`, `-1`, a number past 2^64).
    NotASize(Reply),
}

/// Asks SIZE of `path` and reads the answer strictly.
pub fn size(conn: &mut Connection, path: &RemotePath) -> Result<SizeAnswer> {
    let reply = conn.exec(&Command::Size(Arg::from(path)))?;
    read_size(conn, reply)
}

/// SIZE of `path` right before its download: sent in one write with the transfer's EPSV
/// (one round trip for both).
pub fn size_before_download(conn: &mut Connection, path: &RemotePath) -> Result<SizeAnswer> {
    let reply = conn.exec_before_transfer(&Command::Size(Arg::from(path)))?;
    read_size(conn, reply)
}

/// Reads a SIZE reply strictly.
pub fn read_size(conn: &mut Connection, reply: Reply) -> Result<SizeAnswer> {
    if reply.code == 213 {
        return Ok(
            match reply.text().split_whitespace().next().unwrap_or("").parse() {
                Ok(n) => SizeAnswer::Known(n),
                Err(_) => SizeAnswer::NotASize(reply),
            },
        );
    }
    if matches!(reply.code, 500 | 502 | 504) || !lists(conn, "SIZE")? {
        return Ok(SizeAnswer::Unsupported);
    }
    Ok(SizeAnswer::Failed(reply))
}

/// True when the server's FEAT lists `feature`.
fn lists(conn: &mut Connection, feature: &str) -> Result<bool> {
    Ok(conn.features()?.iter().any(|l| {
        l.split_whitespace()
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case(feature))
    }))
}

/// The size a download should have, where the server can say. A SIZE reply that is not a
/// size is taken as a server without SIZE (as curl does) for a copy; a move, which deletes
/// its source on the proof, refuses a server that garbles the size it claims to know.
pub fn expected(conn: &mut Connection, path: &RemotePath, moving: bool) -> Result<Option<u64>> {
    let answer = size_before_download(conn, path)?;
    expected_of(conn, answer, moving)
}

/// [`expected`] of a SIZE answer already read.
pub fn expected_of(conn: &mut Connection, answer: SizeAnswer, moving: bool) -> Result<Option<u64>> {
    Ok(match answer {
        SizeAnswer::Known(n) => Some(n),
        SizeAnswer::NotASize(r) if moving => {
            return Err(Error::not_confirmed(format!(
                "the server's SIZE reply is not a size: {r}; a move needs a size it can check, the source is kept"
            )))
        }
        SizeAnswer::NotASize(_) => {
            conn.transcript_mut()
                .note("the SIZE reply is not a size; going on as with a server without SIZE");
            None
        }
        SizeAnswer::Unsupported | SizeAnswer::Failed(_) => None,
    })
}

/// Checks that the server holds `len` bytes at `path` after an upload. Ok(true) when SIZE
/// confirmed it, Ok(false) when the server has no SIZE; an error otherwise.
pub fn confirm_uploaded_size(conn: &mut Connection, path: &RemotePath, len: u64) -> Result<bool> {
    let answer = size(conn, path)?;
    confirm_size_answer(answer, len)
}

/// [`confirm_uploaded_size`] of a SIZE answer already read.
pub fn confirm_size_answer(answer: SizeAnswer, len: u64) -> Result<bool> {
    match answer {
        SizeAnswer::Known(n) if n == len => Ok(true),
        SizeAnswer::Known(n) => Err(Error::not_confirmed(format!(
            "sent {len} bytes but the server holds {n}"
        ))),
        SizeAnswer::Unsupported => Ok(false),
        SizeAnswer::NotASize(r) | SizeAnswer::Failed(r) => Err(Error::not_confirmed(format!(
            "the server cannot give the size of the file it just stored ({r}); the upload is not proven"
        ))
        .with_code(r.code)),
    }
}

/// Which server hash proves a transfer: None for size (or reply) only.
pub fn hash_plan(conn: &mut Connection, verify: Verify) -> Result<Option<(Algo, HashCommand)>> {
    match verify {
        Verify::Size | Verify::None => Ok(None),
        Verify::Auto | Verify::Hash => {
            let found = verify::choose(&conn.features()?);
            if found.is_none() && verify == Verify::Hash {
                return Err(Error::new(
                    Kind::Refused,
                    "--verify=hash: the server offers no hash command (FEAT lists no HASH, XSHA256, XSHA1, XMD5 or XCRC)",
                ));
            }
            Ok(found)
        }
    }
}

/// The server's hash of `path`, or None when it does not give one.
pub fn server_hash(
    conn: &mut Connection,
    path: &RemotePath,
    (algo, how): (Algo, HashCommand),
) -> Result<(Option<String>, Reply)> {
    let arg = Arg::from(path);
    let reply = match how {
        HashCommand::Hash => {
            let chosen = conn.exec(&Command::OptsHash(algo.name()))?;
            if chosen.is_completion() {
                conn.exec(&Command::Hash(arg))?
            } else {
                chosen
            }
        }
        HashCommand::X => conn.exec(&Command::XHash(algo.x_command(), arg))?,
    };
    let theirs = if reply.is_completion() {
        // proftpd answers `213-Computing…` then the hash on the last line.
        reply
            .lines
            .iter()
            .rev()
            .find_map(|line| verify::parse_hash_reply(line, algo))
    } else {
        None
    };
    Ok((theirs, reply))
}

/// Asks the server for its hash of `path` and compares it with `ours`: the algorithm and
/// digest when they match. With `--verify=auto` a server that then fails to hash falls
/// back to the size check (said in `-v`), and None is returned.
pub fn check_hash(
    conn: &mut Connection,
    path: &RemotePath,
    plan: (Algo, HashCommand),
    ours: String,
    verify: Verify,
) -> Result<Option<(Algo, String)>> {
    let algo = plan.0;
    let (theirs, reply) = server_hash(conn, path, plan)?;
    match theirs {
        Some(t) if t == ours => {
            conn.transcript_mut().note(&format!(
                "verified: the server's {} matches ({ours})",
                algo.name()
            ));
            Ok(Some((algo, ours)))
        }
        Some(t) => Err(Error::not_confirmed(format!(
            "the server's {} is {t} but the bytes transferred hash to {ours}",
            algo.name()
        ))),
        None if verify == Verify::Hash => Err(Error::not_confirmed(format!(
            "--verify=hash: the server did not give a {} ({reply})",
            algo.name()
        ))),
        None => {
            conn.transcript_mut().note(&format!(
                "the server did not give a {}; verified by size only",
                algo.name()
            ));
            Ok(None)
        }
    }
}

/// Whether the local file at `local` holds the same bytes as the remote `remote`, by the
/// server's hash against ours: Some(equal, the algorithm, our digest), or None when the
/// server gives no hash.
pub fn same_content(
    conn: &mut Connection,
    remote: &RemotePath,
    local: &Path,
    len: u64,
    verify: Verify,
) -> Result<Option<(bool, Algo, String)>> {
    let Some(plan) = hash_plan(conn, verify)? else {
        return Ok(None);
    };
    let mut hasher = Hasher::new(plan.0);
    hash_prefix(&mut hasher, local, len)?;
    let ours = hasher.finish();
    let (theirs, _) = server_hash(conn, remote, plan)?;
    Ok(theirs.map(|t| (t == ours, plan.0, ours)))
}

/// How many MDTM commands go in one write (their replies, ~25 bytes each, fit any socket
/// buffer, so the server never blocks on writing while we are still sending).
const MDTM_BATCH: usize = 64;

/// MDTM of many paths, pipelined: [`MDTM_BATCH`] commands in one write, their replies
/// read in order, so a tree of 1000 files costs 16 round trips, not 1000. A path the
/// server gives no time for is None.
pub fn mdtm_many(conn: &mut Connection, paths: &[RemotePath]) -> Result<Vec<Option<i64>>> {
    let mut out = Vec::with_capacity(paths.len());
    for chunk in paths.chunks(MDTM_BATCH) {
        let cmds: Vec<Command> = chunk.iter().map(|p| Command::Mdtm(Arg::from(p))).collect();
        for reply in conn.exec_pipelined(&cmds)? {
            out.push(if reply.code == 213 {
                crate::ftp::time::parse_ftp_time(reply.text())
            } else {
                None
            });
        }
    }
    Ok(out)
}

/// MDTM as seconds since the epoch, where the server has it (answered behind the transfer
/// just ended when it rode with it: `ftp::riders`).
pub fn mdtm(conn: &mut Connection, path: &RemotePath) -> Result<Option<i64>> {
    let cmd = Command::Mdtm(Arg::from(path));
    let reply = match conn.answered(&cmd) {
        Some(reply) => reply,
        None => conn.exec(&cmd)?,
    };
    Ok(if reply.code == 213 {
        crate::ftp::time::parse_ftp_time(reply.text())
    } else {
        None
    })
}
