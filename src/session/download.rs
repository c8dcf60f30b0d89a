//! Downloads, with nothing lost on failure.
//!
//! A fresh download streams into a temporary file beside the destination and is renamed
//! into place only after the server's final reply is positive, the byte count matches SIZE
//! and the server's hash matches ours where it offers one; on every error path the
//! temporary file is removed and the destination is untouched. A replaced file keeps its
//! permission bits; a new one gets 0666 less the umask. A device node or FIFO is written
//! through, never replaced. `-c` writes the destination itself from where it ends, and the
//! proof covers the whole file (the kept part is hashed too). A server that announced a size
//! never gets more than that written.

use std::fs::File;
use std::path::Path;

use crate::error::{Error, Kind, Result};
use crate::ftp::command::{Arg, Command};
use crate::ftp::connection::Connection;
use crate::remote_path::RemotePath;
use crate::verify::{PipedHasher as Hasher, Verify};

use super::local::{self, Dest};
use super::proof;
use super::times;
use super::transfer::{hash_prefix, receive, Moved, Notices, Settings, Sink, MORE_THAN_ANNOUNCED};

/// Downloads `remote` into the local file `dest`.
pub fn download(
    conn: &mut Connection,
    remote: &RemotePath,
    dest: &Path,
    settings: &mut Settings,
    notices: &mut Notices,
) -> Result<Moved> {
    let target = Dest::inspect(dest)?;
    if settings.moving && matches!(target, Dest::Special(_)) {
        return Err(special_refused(dest));
    }
    // A fresh copy into a file, or a mirror's with no part to continue: its SIZE may ride
    // with RETR.
    let plain = fresh(settings) && !matches!(target, Dest::Special(_));
    let new_part = settings.keep_parts
        && !settings.resume
        && settings.part.is_none()
        && !matches!(target, Dest::Special(_))
        && std::fs::symlink_metadata(local::fixed_part(target.path())).is_err();
    let expected = ask_size(conn, remote, settings, plain || new_part)?;
    if plain {
        return atomic(conn, remote, &target, expected, settings, notices);
    }
    if new_part {
        return through_part(conn, remote, &target, expected, settings, notices);
    }
    let expected = expected.size();
    match target {
        Dest::Special(path) => write_through(conn, remote, &path, expected, settings),
        Dest::Regular(path, meta) if settings.resume && meta.len() > 0 => {
            resume(conn, remote, &path, meta, expected, settings, notices)
        }
        target if settings.resume => {
            in_place(conn, remote, target.path(), 0, expected.into(), settings)
        }
        target if settings.keep_parts => {
            through_part(conn, remote, &target, expected.into(), settings, notices)
        }
        target => atomic(conn, remote, &target, expected.into(), settings, notices),
    }
}

/// How a download learns the size the file must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    /// Asked already (None: the server cannot say, or nobody asked).
    Known(Option<u64>),
    /// To be asked in the same write as RETR (`ftp::riders`): answered before the first
    /// data byte, so it bounds and proves the transfer as a SIZE asked alone does.
    WithTransfer,
}

impl From<Option<u64>> for Expected {
    fn from(size: Option<u64>) -> Expected {
        Expected::Known(size)
    }
}

impl Expected {
    /// The size, once known.
    fn size(self) -> Option<u64> {
        match self {
            Expected::Known(size) => size,
            Expected::WithTransfer => None,
        }
    }
}

/// A download that starts from nothing: no `-c`, no mirror part, no part a failed attempt
/// kept.
fn fresh(settings: &Settings) -> bool {
    !settings.resume && !settings.keep_parts && settings.part.is_none()
}

/// SIZE of `remote` where the download wants it: in one write with the connection's setup
/// (when still to do) and the EPSV of the transfer (`Connection::exec_before_transfer`), or,
/// with `may_ride`, when a passive address is ready and the server reads commands in turn,
/// later, in the same write as RETR. Nothing is asked with `--verify=none` (a fresh copy).
/// The connection is in binary mode after it.
fn ask_size(
    conn: &mut Connection,
    remote: &RemotePath,
    settings: &Settings,
    may_ride: bool,
) -> Result<Expected> {
    let fresh = fresh(settings);
    if settings.verify == Verify::None && fresh {
        conn.ensure_binary()?;
        return Ok(Expected::Known(None));
    }
    let arg = Arg::from(remote);
    let riding = [
        Command::Size(arg.clone()),
        Command::Retr(arg),
        Command::Epsv,
    ];
    if may_ride && conn.address_ready() && conn.rides_with(&riding) {
        return Ok(Expected::WithTransfer);
    }
    let expected = proof::expected(conn, remote, settings.moving)?;
    conn.ensure_binary()?;
    Ok(Expected::Known(expected))
}

/// Why `mv` does not write into a device or FIFO.
pub fn special_refused(dest: &Path) -> Error {
    Error::new(
        Kind::Local,
        format!(
            "{}: not a regular file; mv keeps its source unless the copy is a file that stays",
            dest.display()
        ),
    )
}

/// The display name of a transfer.
fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "download".into())
}

/// A fresh download into a temporary file, renamed over `target` once proven. A transient
/// failure, when a retry follows, keeps the temporary file for it ([`Settings::part`]).
pub(super) fn atomic(
    conn: &mut Connection,
    remote: &RemotePath,
    target: &Dest,
    mut expected: Expected,
    settings: &mut Settings,
    notices: &mut Notices,
) -> Result<Moved> {
    let dest = target.path();
    let replaces = match target {
        Dest::Regular(_, m) => Some(m),
        _ => None,
    };
    let mut part = local::new_part(dest, replaces)?;
    let fetched = fetch_proven(
        conn,
        remote,
        Sink::File(part.as_file_mut()),
        dest,
        &mut expected,
        settings,
    );
    let moved = match fetched {
        Ok(m) => m,
        Err(e) if e.transient() => {
            // Kept for a retry, or, when every byte arrived and only the final reply was
            // lost, to be proven on a new login.
            let len = part.as_file().metadata().ok().map(|m| m.len());
            let whole = expected.size().is_some() && len == expected.size();
            if settings.keep_part || whole {
                if let Ok((_, path)) = part.keep() {
                    settings.part_whole = whole;
                    settings.part = Some(path);
                }
            }
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    local::keep_nature(part.as_file(), replaces);
    if settings.moving {
        part.as_file()
            .sync_all()
            .map_err(|e| Error::local(dest.display(), &e))?;
    }
    part.persist(dest)
        .map_err(|e| Error::local(dest.display(), &e.error))?;
    if settings.moving {
        local::sync_parent(dest)?;
    }
    if settings.preserve {
        times::keep_remote_time(conn, remote, dest, notices)?;
    }
    Ok(moved)
}

/// `mirror`: downloads through the fixed part `.NAME.3700ftp-part` beside the destination,
/// which an interruption leaves in place. A part found there is continued through the `-c`
/// guards (started over when the remote file is smaller than it or newer than it; the
/// whole file proven, the kept bytes hashed too); then it is renamed over the destination.
fn through_part(
    conn: &mut Connection,
    remote: &RemotePath,
    target: &Dest,
    expected: Expected,
    settings: &mut Settings,
    notices: &mut Notices,
) -> Result<Moved> {
    let dest = target.path();
    let part = local::fixed_part(dest);
    let fetched = match std::fs::symlink_metadata(&part) {
        Ok(meta) if meta.is_file() && meta.len() > 0 && expected.size().is_some() => resume(
            conn,
            remote,
            &part,
            meta,
            expected.size(),
            settings,
            notices,
        ),
        Ok(_) => {
            // Not a file to continue (a link, or no SIZE to continue against): replaced.
            std::fs::remove_file(&part).map_err(|e| Error::local(part.display(), &e))?;
            in_place(conn, remote, &part, 0, expected, settings)
        }
        Err(_) => in_place(conn, remote, &part, 0, expected, settings),
    };
    let moved = match fetched {
        // Said when no retry follows in this run.
        Err(e)
            if !(settings.keep_part && e.transient())
                && std::fs::metadata(&part).is_ok_and(|m| m.len() > 0) =>
        {
            return Err(e.also(format!(
                "the part received so far is kept as {}; running the mirror again continues it",
                part.display()
            )))
        }
        other => other?,
    };
    let replaces = match target {
        Dest::Regular(_, m) => Some(m),
        _ => None,
    };
    if let Ok(file) = File::options().write(true).open(&part) {
        local::keep_nature(&file, replaces);
    }
    std::fs::rename(&part, dest).map_err(|e| Error::local(dest.display(), &e))?;
    if settings.preserve {
        times::keep_remote_time(conn, remote, dest, notices)?;
    }
    Ok(moved)
}

/// `cp -c` onto an existing file: continue it, call it complete, or start over.
pub(super) fn resume(
    conn: &mut Connection,
    remote: &RemotePath,
    dest: &Path,
    meta: std::fs::Metadata,
    expected: Option<u64>,
    settings: &mut Settings,
    notices: &mut Notices,
) -> Result<Moved> {
    let have = meta.len();
    let Some(size) = expected else {
        return Err(Error::new(
            Kind::Refused,
            "cannot resume: the server does not report the file's SIZE (copy again without -c to start over)",
        ));
    };
    let shown = dest.display();
    if have > size {
        notices.push(format!(
            "{shown} is larger than the remote file ({have} > {size} bytes): the source changed; starting over"
        ));
        return in_place(conn, remote, dest, 0, expected.into(), settings);
    }
    if let (Some(remote_time), Some(local_time)) = (proof::mdtm(conn, remote)?, local::mtime(dest))
    {
        if remote_time > local_time {
            notices.push(format!(
                "the remote file changed after {shown} was written: starting over"
            ));
            return in_place(conn, remote, dest, 0, expected.into(), settings);
        }
    }
    if have < size {
        return in_place(conn, remote, dest, have, expected.into(), settings);
    }
    // Same size, not older: equal only if the content says so.
    match proof::same_content(conn, remote, dest, have, settings.verify)? {
        Some((true, algo, digest)) => {
            notices.push(format!(
                "{shown} is already complete ({size} bytes, the server's {} matches); nothing to transfer",
                algo.name()
            ));
            return Ok(Moved {
                resumed_from: have,
                already_complete: true,
                size_checked: true,
                hash_checked: true,
                hash: Some(algo),
                proven: true,
                digest: Some((algo, digest)),
                ..Moved::default()
            });
        }
        Some((false, algo, _)) => {
            notices.push(format!(
                "{shown} has the remote file's size but not its content (the server's {} differs): downloading it again",
                algo.name()
            ));
        }
        None if settings.moving => {
            notices.push(format!(
                "{shown} has the remote file's size and is not older, but the server offers no hash to prove its content: copying again before deleting the source"
            ));
        }
        None => {
            notices.push(format!(
                "{shown} is already complete by size and time ({size} bytes; the server offers no hash to compare content); nothing to transfer"
            ));
            return Ok(Moved {
                resumed_from: have,
                already_complete: true,
                size_checked: true,
                ..Moved::default()
            });
        }
    }
    atomic(
        conn,
        remote,
        &Dest::Regular(dest.to_path_buf(), meta),
        expected.into(),
        settings,
        notices,
    )
}

/// Writes `dest` itself from `offset` (REST): an interrupted `-c` leaves the part the next
/// `-c` continues from. The proof covers the whole file: the kept part is hashed first.
fn in_place(
    conn: &mut Connection,
    remote: &RemotePath,
    dest: &Path,
    offset: u64,
    mut expected: Expected,
    settings: &mut Settings,
) -> Result<Moved> {
    // FEAT before REST: REST must come right before the transfer it applies to.
    let plan = proof::hash_plan(conn, settings.verify)?;
    let mut hasher = plan.map(|(algo, _)| Hasher::new(algo));
    if let Some(h) = hasher.as_mut() {
        hash_prefix(h, dest, offset)?;
    }
    if offset > 0 {
        let reply = conn.exec(&Command::Rest(offset))?;
        if reply.code != 350 {
            return Err(Error::refused(reply.code, reply.text())
                .context("cannot resume (REST refused; copy again without -c to start over)"));
        }
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(offset > 0)
        .truncate(offset == 0)
        .open(dest)
        .map_err(|e| Error::local(dest.display(), &e))?;
    let data = open_retr(conn, remote, &mut expected, plan.is_none(), settings)?;
    let expected = expected.size();
    settings.progress.begin(&name_of(dest), expected, offset);
    let received = receive(
        conn,
        data,
        Sink::File(&mut file),
        dest,
        settings,
        hasher.as_mut(),
        expected.map(|e| e.saturating_sub(offset)),
    );
    settings.progress.end();
    let total = match received {
        Err(e) if offset > 0 && e.message().starts_with(MORE_THAN_ANNOUNCED) => {
            // Nothing past the remaining length was written; what was is not this file's
            // tail (the server ignored REST and started from byte 0): put the part back.
            let _ = file.set_len(offset);
            return Err(Error::not_confirmed(format!(
                "the server accepted REST {offset} but sent more than the rest of the file (it restarted from the beginning?); {} left as it was ({offset} bytes); copy again without -c",
                dest.display()
            )));
        }
        other => other?,
    };
    check_size(offset + total, expected, dest)?;
    let digest = match (plan, hasher) {
        (Some(plan), Some(h)) => {
            match proof::check_hash(conn, remote, plan, h.finish(), settings.verify) {
                Ok(proven) => proven,
                Err(e) => {
                    // Wrong bytes are not a part to continue from.
                    drop(file);
                    let _ = std::fs::remove_file(dest);
                    return Err(if offset > 0 {
                        e.context(format!(
                            "the resumed file does not match the server's (the part kept was of another version?); {} removed",
                            dest.display()
                        ))
                    } else {
                        e
                    });
                }
            }
        }
        _ => {
            conn.transcript_mut().note(if offset > 0 {
                "a resumed transfer is verified by size"
            } else {
                "verified by size"
            });
            None
        }
    };
    if settings.moving {
        local::make_durable(&file, dest)?;
    }
    Ok(Moved {
        bytes: total,
        size_checked: expected.is_some(),
        resumed_from: offset,
        hash_checked: digest.is_some(),
        hash: digest.as_ref().map(|(algo, _)| *algo),
        proven: true,
        digest,
        reply: settings.reply,
        ..Moved::default()
    })
}

/// A device node or FIFO: opened for writing as it is (never created, never replaced).
fn write_through(
    conn: &mut Connection,
    remote: &RemotePath,
    dest: &Path,
    expected: Option<u64>,
    settings: &mut Settings,
) -> Result<Moved> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(dest)
        .map_err(|e| Error::local(dest.display(), &e))?;
    fetch_proven(
        conn,
        remote,
        Sink::File(&mut file),
        dest,
        &mut expected.into(),
        settings,
    )
}

/// RETR into `sink`, proven: at most and exactly the announced size, and the server's hash
/// of the file equal to ours where it offers one. `expected` is what SIZE said once it has.
fn fetch_proven(
    conn: &mut Connection,
    remote: &RemotePath,
    sink: Sink,
    dest: &Path,
    expected: &mut Expected,
    settings: &mut Settings,
) -> Result<Moved> {
    let plan = proof::hash_plan(conn, settings.verify)?;
    let mut hasher = plan.map(|(algo, _)| Hasher::new(algo));
    let data = open_retr(conn, remote, expected, plan.is_none(), settings)?;
    let size = expected.size();
    settings.progress.begin(&name_of(dest), size, 0);
    let received = receive(conn, data, sink, dest, settings, hasher.as_mut(), size);
    settings.progress.end();
    let total = received?;
    check_size(total, size, dest)?;
    if plan.is_none() && size.is_some() {
        conn.transcript_mut()
            .note(&format!("verified by size ({total} bytes)"));
    }
    let digest = match (plan, hasher) {
        (Some(plan), Some(h)) => {
            proof::check_hash(conn, remote, plan, h.finish(), settings.verify)?
        }
        _ => None,
    };
    Ok(Moved {
        bytes: total,
        size_checked: size.is_some(),
        hash_checked: digest.is_some(),
        hash: digest.as_ref().map(|(algo, _)| *algo),
        proven: true,
        digest,
        reply: settings.reply,
        ..Moved::default()
    })
}

/// Opens RETR of `remote`. Its SIZE goes in the same write when `expected` says so (read
/// before the first data byte, into `expected`); behind it go its MDTM when the copy keeps
/// the remote time, and the next transfer's EPSV when another transfer may follow, unless a
/// hash is asked after it (`no_hash` false) or the source is deleted after it, on a server
/// that takes them (`ftp::riders`).
fn open_retr(
    conn: &mut Connection,
    remote: &RemotePath,
    expected: &mut Expected,
    no_hash: bool,
    settings: &Settings,
) -> Result<crate::ftp::data::DataConn> {
    let arg = Arg::from(remote);
    let retr = Command::Retr(arg.clone());
    let size = Command::Size(arg);
    let before = (*expected == Expected::WithTransfer).then_some(&size);
    // What comes after the transfer: the time the copy keeps (`-p`, mirror), then the
    // next transfer's address when one may follow (nothing else in between).
    let mut after = Vec::new();
    if no_hash && !settings.moving {
        if settings.preserve {
            after.push(Command::Mdtm(Arg::from(remote)));
        }
        if settings.ready_for_next {
            after.push(Command::Epsv);
        }
        let mut all: Vec<Command> = before.into_iter().cloned().collect();
        all.push(retr.clone());
        all.extend_from_slice(&after);
        if after.is_empty() || !conn.rides_with(&all) {
            after.clear();
        }
    }
    let (answer, data) = conn.open_riding(before, &retr, &after)?;
    if let Some(answer) = answer {
        match proof::read_size(conn, answer)
            .and_then(|a| proof::expected_of(conn, a, settings.moving))
        {
            Ok(size) => *expected = Expected::Known(size),
            Err(e) => {
                drop(data);
                conn.abort_transfer();
                return Err(e);
            }
        }
    }
    Ok(data)
}

fn check_size(total: u64, expected: Option<u64>, dest: &Path) -> Result<()> {
    match expected {
        Some(expected) if expected != total => Err(Error::not_confirmed(format!(
            "received {total} bytes for {} but the server announced {expected}",
            dest.display()
        ))),
        _ => Ok(()),
    }
}

/// Downloads `remote` into a stream (`cat`, `cp URL -`): what was written cannot be taken
/// back, so a short transfer or a hash mismatch is an error after the fact (exit 7, which
/// `set -o pipefail` sees).
pub fn download_to(
    conn: &mut Connection,
    remote: &RemotePath,
    out: &mut dyn std::io::Write,
    settings: &mut Settings,
) -> Result<Moved> {
    let mut expected = ask_size(conn, remote, settings, true)?;
    fetch_proven(
        conn,
        remote,
        Sink::Writer(out),
        Path::new("standard output"),
        &mut expected,
        settings,
    )
}
