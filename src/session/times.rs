//! Modification times a copy keeps (`-p`, `mirror`): the remote file's MDTM onto a
//! downloaded file, and the local file's time onto an uploaded one (MFMT, SITE UTIME or
//! vsftpd's MDTM with a time, whichever the server has; a way found missing is not tried
//! again on the connection).

use std::fs::File;
use std::path::Path;

use crate::error::{Error, Result};
use crate::ftp::command::{Arg, Command};
use crate::ftp::connection::Connection;
use crate::remote_path::RemotePath;

use super::local;
use super::proof;
use super::transfer::{push_once, Notices, Settings};

/// `-p` for a download: the local file gets the remote file's MDTM.
pub(super) fn keep_remote_time(
    conn: &mut Connection,
    remote: &RemotePath,
    dest: &Path,
    notices: &mut Notices,
) -> Result<()> {
    match proof::mdtm(conn, remote)? {
        Some(secs) => {
            let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.max(0) as u64);
            let file = File::options()
                .write(true)
                .open(dest)
                .map_err(|e| Error::local(dest.display(), &e))?;
            file.set_modified(when)
                .map_err(|e| Error::local(dest.display(), &e))?;
        }
        None => push_once(
            notices,
            "the server does not report modification times (MDTM); times not kept",
        ),
    }
    Ok(())
}

/// `-p` for an upload: MFMT where the server has it, else SITE UTIME, else vsftpd's
/// two-argument MDTM; none working is said once.
pub(super) fn keep_time(
    conn: &mut Connection,
    src: &Path,
    remote: &RemotePath,
    settings: &mut Settings,
    notices: &mut Notices,
) -> Result<()> {
    if !settings.preserve {
        return Ok(());
    }
    // Set on the part already, with the proof (`store`): done, or one way fewer to try.
    if let Some((verb, reply)) = settings.time_kept.take() {
        if reply.is_completion() {
            return Ok(());
        }
        if matches!(reply.code, 500 | 502 | 504) {
            conn.unsupported.push(verb);
        }
    }
    // Each way in turn; one the server does not implement is not tried again on this
    // connection (a mirror of vsftpd would otherwise send three commands a file).
    for (verb, cmd) in time_ways(conn, src, remote) {
        let reply = conn.exec(&cmd)?;
        if reply.is_completion() {
            return Ok(());
        }
        if matches!(reply.code, 500 | 502 | 504) {
            conn.unsupported.push(verb);
        }
    }
    push_once(
        notices,
        "the server cannot set modification times (no MFMT, SITE UTIME or MDTM with a time); times not kept",
    );
    Ok(())
}

/// The ways to give `path` the modification time of `src` (MFMT, SITE UTIME, MDTM with a
/// time), in the order tried, less those this server was found not to implement; none
/// when `src` has no time.
pub(super) fn time_ways(
    conn: &Connection,
    src: &Path,
    path: &RemotePath,
) -> Vec<(&'static str, Command)> {
    let Some(secs) = local::mtime(src) else {
        return Vec::new();
    };
    let stamp = crate::ftp::time::format_ftp_time(secs);
    let arg = Arg::from(path);
    [
        ("MFMT", Command::Mfmt(stamp.clone(), arg.clone())),
        ("SITE UTIME", Command::SiteUtime(arg.clone(), stamp.clone())),
        ("MDTM with a time", Command::MdtmSet(stamp, arg)),
    ]
    .into_iter()
    .filter(|(verb, _)| !conn.unsupported.contains(verb))
    .collect()
}
