//! Uploads, atomic on the server.
//!
//! An upload is stored under a temporary name in the destination directory
//! (`.NAME.3700ftp-part`), proven there (the final reply, SIZE read strictly, the server's
//! hash where it offers one), and only then renamed onto the final name (RNFR/RNTO; a server
//! that refuses to rename onto an existing file gets DELE then RNTO, with a notice). A failed
//! or interrupted upload never changes the existing remote file and leaves no temporary
//! file behind, except with `-c`, which keeps it for the next `-c` to continue (and in a
//! `mirror`, whose next run continues it).
//! `--inplace` stores onto the final name directly, for servers that forbid renames.

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::Path;

use crate::error::{Error, Kind, Result};
use crate::ftp::command::{Arg, Command};
use crate::ftp::connection::Connection;
use crate::ftp::reply::Reply;
use crate::remote_path::RemotePath;
use crate::verify::{Algo, HashCommand, PipedHasher as Hasher, Verify};

use super::local::{self, PART_SUFFIX};
use super::proof::{self, SizeAnswer};
use super::times;
use super::transfer::{hash_prefix, send, Moved, Notices, Settings};

/// The temporary name an upload to `remote` is stored under, in the same directory.
pub fn part_name(remote: &RemotePath) -> Result<RemotePath> {
    let name = format!(".{}{PART_SUFFIX}", local::short_name(remote.file_name()));
    Ok(remote.with_file_name(&name)?)
}

/// Uploads the local file `src` to `remote`.
pub fn upload(
    conn: &mut Connection,
    src: &Path,
    remote: &RemotePath,
    settings: &mut Settings,
    notices: &mut Notices,
) -> Result<Moved> {
    let mut file = File::open(src).map_err(|e| Error::local(src.display(), &e))?;
    let local_len = file
        .metadata()
        .map_err(|e| Error::local(src.display(), &e))?
        .len();
    // The setup goes in one write with the transfer's EPSV, unless a part may be continued
    // (SIZE, APPE or REST come first).
    if settings.resume || settings.retrying || settings.continue_parts {
        conn.ensure_binary()?;
    } else {
        conn.want_binary()?;
    }
    if settings.resume {
        if let Some(done) = already_there(conn, src, remote, local_len, settings, notices)? {
            return Ok(done);
        }
    }
    if settings.inplace {
        let (moved, _) = store(conn, &mut file, src, remote, local_len, settings, notices)?;
        times::keep_time(conn, src, remote, settings, notices)?;
        return Ok(moved);
    }
    let part = part_name(remote)?;
    settings.rnfr_with_proof = true;
    let stored = store(conn, &mut file, src, &part, local_len, settings, notices);
    settings.rnfr_with_proof = false;
    let (moved, rnfr) = match stored {
        Ok(m) => m,
        Err(e) if settings.resume && e.kind() != Kind::NotConfirmed => {
            return Err(e.also(format!(
                "the part uploaded so far is kept as {part}; the same command with -c continues it"
            )));
        }
        Err(e) if settings.keep_parts && e.kind() != Kind::NotConfirmed => {
            return Err(e.also(format!(
                "the part uploaded so far is kept as {part}; running the mirror again continues it"
            )));
        }
        // A retry follows: it continues the part (APPE, or REST + STOR).
        Err(e) if settings.keep_part && e.transient() => return Err(e),
        Err(e) => return Err(failed_with_part(conn, &part, e)),
    };
    rename_into_place(conn, &part, remote, rnfr, settings.readies_next(), notices)?;
    times::keep_time(conn, src, remote, settings, notices)?;
    Ok(moved)
}

/// Uploads a stream (`cp - URL`: standard input) to `remote`: stored under the temporary
/// name until the input ends and the transfer is proven (the server's size equals the bytes
/// read; its hash equals theirs where offered), then renamed into place. Input that breaks
/// off (the run is interrupted) never leaves a truncated file under the final name.
pub fn upload_from(
    conn: &mut Connection,
    input: &mut dyn std::io::Read,
    remote: &RemotePath,
    settings: &mut Settings,
    notices: &mut Notices,
) -> Result<Moved> {
    conn.ensure_binary()?;
    let shown = Path::new("standard input");
    let part = if settings.inplace {
        remote.clone()
    } else {
        part_name(remote)?
    };
    let stored = (|| {
        let plan = proof::hash_plan(conn, settings.verify)?;
        let mut hasher = plan.map(|(algo, _)| Hasher::new(algo));
        settings.progress.begin("stdin", None, 0);
        let sent = send(
            conn,
            &Command::Stor(Arg::from(&part)),
            input,
            shown,
            settings,
            hasher.as_mut(),
        );
        settings.progress.end();
        let total = sent?;
        let reply = settings.reply;
        prove_stored(
            conn,
            &part,
            total,
            plan.zip(hasher),
            settings.verify,
            AfterProof::Nothing,
        )
        .map(|(proof, _)| Moved {
            bytes: total,
            reply,
            ..proof
        })
    })();
    let moved = match stored {
        Ok(m) => m,
        Err(e) if settings.inplace => return Err(e),
        Err(e) => return Err(failed_with_part(conn, &part, e)),
    };
    if !settings.inplace {
        rename_into_place(conn, &part, remote, None, false, notices)?;
    }
    Ok(moved)
}

/// `-c`: whether `remote` already holds this file. Equal content by the server's hash is
/// proven; equal size alone is enough for `cp -c` (said so), never for `mv -c`.
fn already_there(
    conn: &mut Connection,
    src: &Path,
    remote: &RemotePath,
    local_len: u64,
    settings: &Settings,
    notices: &mut Notices,
) -> Result<Option<Moved>> {
    if local_len == 0 {
        return Ok(None);
    }
    if settings.inplace {
        // The final name is also the part: resume decisions happen in `store`.
        return Ok(None);
    }
    if proof::size(conn, remote)? != SizeAnswer::Known(local_len) {
        return Ok(None);
    }
    let complete = Moved {
        resumed_from: local_len,
        already_complete: true,
        size_checked: true,
        ..Moved::default()
    };
    match proof::same_content(conn, remote, src, local_len, settings.verify)? {
        Some((true, algo, digest)) => {
            notices.push(format!(
                "{remote} is already complete ({local_len} bytes, the server's {} matches); nothing to transfer",
                algo.name()
            ));
            Ok(Some(Moved {
                hash_checked: true,
                hash: Some(algo),
                proven: true,
                digest: Some((algo, digest)),
                ..complete
            }))
        }
        Some((false, algo, _)) => {
            notices.push(format!(
                "{remote} has the size of {} but not its content (the server's {} differs): uploading it again",
                src.display(),
                algo.name()
            ));
            Ok(None)
        }
        None if settings.moving => {
            notices.push(format!(
                "{remote} has the size of {}, but the server offers no hash to prove its content: copying again before deleting the source",
                src.display()
            ));
            Ok(None)
        }
        None => {
            notices.push(format!(
                "{remote} is already complete by size ({local_len} bytes; the server offers no hash to compare content); nothing to transfer"
            ));
            Ok(Some(complete))
        }
    }
}

/// Stores `file` at `path` (continuing a part there with `-c`) and proves it: every byte
/// sent, the final reply, SIZE where the server has it, the server's hash where offered.
/// With `settings.rnfr_with_proof`, RNFR of `path` may go in the same write as its SIZE
/// (its reply returned; nothing is renamed before the proof: RNTO is sent only after).
fn store(
    conn: &mut Connection,
    file: &mut File,
    src: &Path,
    path: &RemotePath,
    local_len: u64,
    settings: &mut Settings,
    notices: &mut Notices,
) -> Result<(Moved, Option<Reply>)> {
    let arg = Arg::from(path);
    let mut offset = 0;
    if settings.resume || settings.retrying || (settings.continue_parts && !settings.inplace) {
        if let SizeAnswer::Known(have) = proof::size(conn, path)? {
            offset = plan_resume(conn, src, path, have, local_len, notices)?;
        }
    }
    let plan = proof::hash_plan(conn, settings.verify)?;
    let mut hasher = plan.map(|(algo, _)| Hasher::new(algo));
    if offset > 0 {
        if let Some(h) = hasher.as_mut() {
            hash_prefix(h, src, offset)?;
        }
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::local(src.display(), &e))?;
    }
    let name = src
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    settings.progress.begin(&name, Some(local_len), offset);
    // The SIZE proof (and RNFR) go as soon as the server has closed the data connection,
    // a round trip before its final reply; their answers count only if they came after it.
    let early = settings.rnfr_with_proof && plan.is_none() && settings.verify != Verify::None;
    let mut time_ahead = None;
    if early {
        settings.ahead = vec![Command::Size(arg.clone()), Command::Rnfr(arg.clone())];
        // The time the copy keeps (`-p`, mirror), set on the part before its rename (a rename
        // keeps it), in the way this server is not known to lack. Not SITE UTIME, which
        // some servers answer 250, a code only a transfer's end may have among what goes
        // ahead.
        if settings.preserve && conn.sends_ahead() {
            let first = times::time_ways(conn, src, path).into_iter().next();
            if let Some(way) = first.filter(|(verb, _)| *verb != "SITE UTIME") {
                settings.ahead.insert(0, way.1.clone());
                time_ahead = Some(way);
            }
        }
        // The next transfer's EPSV goes first (never between RNFR and its RNTO): its data
        // connection is then made while the rename's round trip runs.
        let mut with_next = vec![Command::Epsv];
        with_next.extend(settings.ahead.iter().cloned());
        let nothing_after = !settings.preserve || time_ahead.is_some();
        if settings.ready_for_next && nothing_after && conn.rides_with(&with_next) {
            settings.ahead = with_next;
        }
    }
    let ahead_sent = settings.ahead.clone();
    let sent = if offset > 0 && offset == local_len {
        Ok(0)
    } else if offset > 0 {
        match send(
            conn,
            &Command::Appe(arg.clone()),
            file,
            src,
            settings,
            hasher.as_mut(),
        ) {
            // A server without APPE may take REST + STOR.
            Err(e) if e.kind() == Kind::Refused && matches!(e.code(), Some(500 | 502 | 504)) => {
                let reply = conn.exec(&Command::Rest(offset))?;
                if reply.code != 350 {
                    settings.progress.end();
                    return Err(Error::refused(reply.code, reply.text()).context(
                        "cannot resume (neither APPE nor REST works; copy again without -c)",
                    ));
                }
                send(
                    conn,
                    &Command::Stor(arg),
                    file,
                    src,
                    settings,
                    hasher.as_mut(),
                )
            }
            other => other,
        }
    } else {
        send(
            conn,
            &Command::Stor(arg),
            file,
            src,
            settings,
            hasher.as_mut(),
        )
    };
    settings.progress.end();
    settings.ahead.clear();
    let answered = settings.ahead_replies.take();
    // What the time command sent ahead was answered (only when every answer came after the
    // upload's final reply).
    if let (Some((verb, cmd)), Some(replies)) = (time_ahead, &answered) {
        let at = ahead_sent.iter().position(|c| *c == cmd);
        if let Some(reply) = at.and_then(|i| replies.get(i)) {
            settings.time_kept = Some((verb, reply.clone()));
        }
    }
    let total = sent?;
    if offset + total != local_len {
        return Err(Error::not_confirmed(format!(
            "{} changed during the upload ({local_len} bytes before, {} sent)",
            src.display(),
            offset + total
        )));
    }
    let then = if settings.rnfr_with_proof {
        AfterProof::Rnfr
    } else if settings.readies_next() {
        AfterProof::Epsv
    } else {
        AfterProof::Nothing
    };
    let reply = settings.reply;
    let then = match answered {
        Some(replies) if then == AfterProof::Rnfr => AfterProof::Answered(replies),
        _ => then,
    };
    prove_stored(
        conn,
        path,
        local_len,
        plan.zip(hasher),
        settings.verify,
        then,
    )
    .map(|(proof, rnfr)| {
        let moved = Moved {
            bytes: total,
            resumed_from: offset,
            reply,
            ..proof
        };
        (moved, rnfr)
    })
}

/// What may go in one write with an upload's SIZE proof.
#[derive(Clone, PartialEq, Eq)]
enum AfterProof {
    Nothing,
    /// The RNFR of the rename into place (its RNTO waits for the proof).
    Rnfr,
    /// The EPSV of the transfer that may follow (`--inplace` in a session or a multi-file run).
    Epsv,
    /// SIZE and RNFR went ahead of the upload's final reply and were answered after it:
    /// their replies.
    Answered(Vec<Reply>),
}

/// Proves what the server stored at `path`: `len` bytes by SIZE (read strictly), and the
/// server's hash equal to ours where it offers one.
fn prove_stored(
    conn: &mut Connection,
    path: &RemotePath,
    len: u64,
    hashed: Option<((Algo, HashCommand), Hasher)>,
    verify: Verify,
    then: AfterProof,
) -> Result<(Moved, Option<Reply>)> {
    let mut rnfr_reply = None;
    let size_checked = if verify == Verify::None {
        false
    } else if let (AfterProof::Answered(mut replies), None) = (then.clone(), &hashed) {
        rnfr_reply = replies.pop();
        let size = replies.pop().expect("SIZE's reply");
        size_with_rnfr(conn, size, rnfr_reply.as_ref(), len)?
    } else if then == AfterProof::Epsv && hashed.is_none() {
        let reply = conn.exec_readying_passive(&Command::Size(Arg::from(path)))?;
        let answer = proof::read_size(conn, reply)?;
        proof::confirm_size_answer(answer, len)?
    } else if then == AfterProof::Rnfr && hashed.is_none() {
        // RNFR decides nothing and renames nothing: it rides with SIZE (one round trip).
        let arg = Arg::from(path);
        let mut replies = conn.exec_pipelined(&[Command::Size(arg.clone()), Command::Rnfr(arg)])?;
        rnfr_reply = replies.pop();
        let size = replies.pop().expect("two replies");
        size_with_rnfr(conn, size, rnfr_reply.as_ref(), len)?
    } else {
        proof::confirm_uploaded_size(conn, path, len)?
    };
    if size_checked && hashed.is_none() {
        conn.transcript_mut()
            .note(&format!("verified by size ({len} bytes)"));
    }
    let digest = match hashed {
        Some((plan, h)) => proof::check_hash(conn, path, plan, h.finish(), verify)?,
        None => None,
    };
    let moved = Moved {
        size_checked,
        hash_checked: digest.is_some(),
        hash: digest.as_ref().map(|(algo, _)| *algo),
        proven: true,
        digest,
        ..Moved::default()
    };
    Ok((moved, rnfr_reply))
}

/// The SIZE proof read from `size`, an RNFR of the same file answered `rnfr` behind it: a
/// proof that fails ends the rename the RNFR left pending, so the part can be deleted.
fn size_with_rnfr(
    conn: &mut Connection,
    size: Reply,
    rnfr: Option<&Reply>,
    len: u64,
) -> Result<bool> {
    let proven = proof::read_size(conn, size).and_then(|a| proof::confirm_size_answer(a, len));
    if proven.is_err() && rnfr.is_some_and(|r| r.code == 350) {
        let _ = conn.cancel_rename();
    }
    proven
}

/// Decides where an upload resumes: 0 to start over, or the size already there.
fn plan_resume(
    conn: &mut Connection,
    src: &Path,
    path: &RemotePath,
    have: u64,
    local_len: u64,
    notices: &mut Notices,
) -> Result<u64> {
    if have > local_len {
        notices.push(format!(
            "the partial upload is larger than {} ({have} > {local_len} bytes): starting over",
            src.display()
        ));
        return Ok(0);
    }
    if let (Some(remote_time), Some(local_time)) = (proof::mdtm(conn, path)?, local::mtime(src)) {
        if local_time > remote_time {
            notices.push(format!(
                "{} changed after the partial upload was written: starting over",
                src.display()
            ));
            return Ok(0);
        }
    }
    Ok(have)
}

/// RNFR part, RNTO final. A server that refuses to rename onto an existing file gets DELE
/// of that file first (said in a notice); a server that refuses renames at all gets its
/// part removed and a hint about `--inplace`. With `ready_next`, the RNTO that follows an
/// RNFR sent with the proof goes in one write with the next transfer's EPSV.
fn rename_into_place(
    conn: &mut Connection,
    part: &RemotePath,
    remote: &RemotePath,
    rnfr: Option<Reply>,
    ready_next: bool,
    notices: &mut Notices,
) -> Result<()> {
    let first = match rnfr {
        // RNFR went with the SIZE proof: RNTO must be the very next command.
        Some(reply) if reply.code == 350 => {
            let rnto = Command::Rnto(Arg::from(remote));
            let reply = if ready_next {
                conn.exec_readying_passive(&rnto)
            } else {
                conn.exec(&rnto)
            };
            match reply {
                Ok(r) if r.is_completion() => Ok(None),
                Ok(r) => Ok(Some(Error::refused(r.code, r.text()))),
                Err(e) => Err(e),
            }
        }
        Some(reply) => Ok(Some(Error::refused(reply.code, reply.text()))),
        None => rename(conn, part, remote),
    };
    let refused = match first? {
        None => return Ok(()),
        Some(refused) => refused,
    };
    let exists = matches!(proof::size(conn, remote)?, SizeAnswer::Known(_));
    if !exists {
        let _ = remove_part(conn, part);
        return Err(refused.context(format!(
            "the server refused to rename the uploaded {part} to {remote}; nothing was changed (--inplace uploads straight to the final name)"
        )));
    }
    notices.push(format!(
        "the server does not rename onto an existing file: deleting {remote} first"
    ));
    super::ops::delete(conn, remote).map_err(|e| {
        e.context(format!(
            "replacing {remote}: the upload is complete as {part}, the old file is unchanged"
        ))
    })?;
    match rename(conn, part, remote)? {
        None => Ok(()),
        Some(e) => Err(e.context(format!(
            "replacing {remote}: the old file was deleted but the rename failed; the upload is complete as {part}"
        ))),
    }
}

/// RNFR/RNTO; Ok(Some(refusal)) when the server said no.
fn rename(conn: &mut Connection, from: &RemotePath, to: &RemotePath) -> Result<Option<Error>> {
    match super::ops::rename(conn, from, to) {
        Ok(_) => Ok(None),
        Err(e) if e.kind() == Kind::Refused => Ok(Some(e)),
        Err(e) => Err(e),
    }
}

/// The error of a failed upload, after its temporary file is removed (said when it could
/// not be; a refusal usually means the server never created it).
fn failed_with_part(conn: &mut Connection, part: &RemotePath, e: Error) -> Error {
    let refused = e.kind() == Kind::Refused;
    match remove_part(conn, part) {
        Ok(()) => e,
        Err(_) if refused => e,
        Err(_) => e.also(format!(
            "the partial upload {part} may remain on the server"
        )),
    }
}

/// Removes a temporary upload, even after Ctrl-C, while the connection allows. Ok when it
/// is gone (or was never there).
fn remove_part(conn: &mut Connection, part: &RemotePath) -> Result<()> {
    let reply = conn.cleanup(&Command::Dele(Arg::from(part)))?;
    if reply.is_completion() || reply.code == 550 {
        Ok(())
    } else {
        Err(Error::refused(reply.code, reply.text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_part_is_beside_the_final_name() {
        let part = |p: &str| part_name(&RemotePath::new(p).unwrap()).unwrap().to_string();
        assert_eq!(part("/up/a.bin"), "/up/.a.bin.3700ftp-part");
        assert_eq!(part("a.bin"), ".a.bin.3700ftp-part");
        assert_eq!(part("d/a"), "d/.a.3700ftp-part");
        assert!(part(&"x".repeat(255)).len() <= 255);
    }
}
