//! Retries that resume (`--retry N`): a transfer that failed for a transient reason
//! ([`Error::transient`]) is tried again after a bounded back-off, on a new login when the
//! control connection is gone, and continues from what the failed attempt kept (the local
//! temporary file of a download, the server's temporary file of an upload) through the same
//! guards as `-c`; the result is proven again as a whole. Permanent refusals are never
//! retried. A DELE whose reply was lost is checked with SIZE, never sent again blindly.
//!
//! Also here: a download whose every byte arrived but whose final reply was lost with the
//! control connection (226 lost) is proven on a new login by SIZE or the server's hash,
//! instead of failing; this extra attempt is made even with `--retry 0`.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, Kind, Result};
use crate::ftp::connection::Connection;
use crate::remote_path::RemotePath;
use crate::verify::Verify;

use super::download;
use super::local::{self, Dest};
use super::proof::{self, SizeAnswer};
use super::transfer::{human_bytes, Moved, Notices, Settings};

/// Runs `attempt` until it succeeds, fails for good, or the retries run out.
pub fn attempts(
    conn: &mut Connection,
    settings: &mut Settings,
    notices: &mut Notices,
    mut attempt: impl FnMut(&mut Connection, &mut Settings, &mut Notices) -> Result<Moved>,
) -> Result<Moved> {
    let retry = settings.retry;
    let mut done = 0u32;
    let mut proved_once = false;
    loop {
        settings.keep_part = done < retry.times;
        let result = reconnect(conn, settings).and_then(|()| attempt(conn, settings, notices));
        let e = match result {
            Ok(moved) => return Ok(moved),
            Err(e) => e,
        };
        let can = e.transient() && (conn.is_alive() || settings.login.is_some());
        let whole = can
            && e.is_connection_lost()
            && !proved_once
            && settings.part.is_some()
            && settings.part_whole;
        if can && done < retry.times {
            done += 1;
            let wait = retry.wait(done);
            let line = format!(
                "retry {done}/{} after {} (in {} s): {}",
                retry.times,
                e.message(),
                wait.as_secs_f64(),
                resuming(settings)
            );
            conn.transcript_mut().note(&line);
            notices.push(line);
            if let Err(stop) = pause(conn, wait) {
                drop_part(settings);
                return Err(stop);
            }
            settings.retrying = true;
            continue;
        }
        if whole {
            proved_once = true;
            notices.push(format!(
                "every byte arrived but the server's final reply did not ({}): logging in again to prove the file",
                e.message()
            ));
            settings.retrying = true;
            continue;
        }
        drop_part(settings);
        return Err(e);
    }
}

/// What the next attempt continues from, in words.
fn resuming(settings: &Settings) -> String {
    match settings.part.as_deref().map(std::fs::metadata) {
        Some(Ok(m)) => format!("resuming at {}", human_bytes(m.len())),
        _ => "trying again".into(),
    }
}

/// Removes the temporary file no retry will continue.
fn drop_part(settings: &mut Settings) {
    if let Some(p) = settings.part.take() {
        let _ = std::fs::remove_file(p);
    }
    settings.part_whole = false;
}

/// Logs in again when the control connection is gone and a login is at hand.
fn reconnect(conn: &mut Connection, settings: &Settings) -> Result<()> {
    if conn.is_alive() {
        return Ok(());
    }
    match &settings.login {
        Some(login) => {
            *conn = (login.0)()?;
            Ok(())
        }
        None => Err(Error::connection("the connection is closed")),
    }
}

/// Waits `wait`, ending early (as interrupted) on Ctrl-C.
fn pause(conn: &Connection, wait: Duration) -> Result<()> {
    let cancel = conn.options().cancel.clone();
    let end = Instant::now() + wait;
    while Instant::now() < end {
        if cancel.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::new(Kind::Interrupted, "interrupted"));
        }
        std::thread::sleep((end - Instant::now()).min(Duration::from_millis(50)));
    }
    Ok(())
}

/// Downloads `remote` into `dest`, continuing the temporary file a failed attempt kept
/// ([`Settings::part`]) when there is one.
pub fn download(
    conn: &mut Connection,
    remote: &RemotePath,
    dest: &Path,
    settings: &mut Settings,
    notices: &mut Notices,
) -> Result<Moved> {
    let Some(part) = settings.part.take() else {
        return download::download(conn, remote, dest, settings, notices);
    };
    let target = Dest::inspect(dest)?;
    if matches!(target, Dest::Special(_)) {
        let _ = std::fs::remove_file(&part);
        return download::download(conn, remote, dest, settings, notices);
    }
    conn.ensure_binary()?;
    let expected = proof::expected(conn, remote, settings.moving)?;
    continue_part(conn, remote, &part, &target, expected, settings, notices)
}

/// Continues the local temporary file `part` a failed attempt kept: proven as it is when it
/// already holds the whole file (the server's SIZE, and its hash where offered), else
/// continued from its end with REST through the `-c` guards; then renamed over `target`.
fn continue_part(
    conn: &mut Connection,
    remote: &RemotePath,
    part: &Path,
    target: &Dest,
    expected: Option<u64>,
    settings: &mut Settings,
    notices: &mut Notices,
) -> Result<Moved> {
    let Ok(meta) = std::fs::metadata(part) else {
        return download::atomic(conn, remote, target, expected.into(), settings, notices);
    };
    let have = meta.len();
    let result = match expected {
        None => {
            let _ = std::fs::remove_file(part);
            notices.push(
                "the server does not report the file's SIZE: the retry starts over".to_string(),
            );
            return download::atomic(conn, remote, target, expected.into(), settings, notices);
        }
        Some(size) if have == size => prove_part(conn, remote, part, have, settings.verify),
        Some(_) => download::resume(conn, remote, part, meta, expected, settings, notices),
    };
    settings.part_whole = false;
    let moved = match result {
        Ok(m) => m,
        Err(e) => {
            if settings.keep_part && e.transient() && part.exists() {
                settings.part_whole =
                    std::fs::metadata(part).is_ok_and(|m| Some(m.len()) == expected);
                settings.part = Some(part.to_path_buf());
            } else {
                let _ = std::fs::remove_file(part);
            }
            return Err(e);
        }
    };
    let dest = target.path();
    let replaces = match target {
        Dest::Regular(_, m) => Some(m),
        _ => None,
    };
    let file = std::fs::File::options()
        .write(true)
        .open(part)
        .map_err(|e| Error::local(part.display(), &e))?;
    local::keep_nature(&file, replaces);
    if settings.moving {
        file.sync_all()
            .map_err(|e| Error::local(part.display(), &e))?;
    }
    std::fs::rename(part, dest).map_err(|e| {
        let _ = std::fs::remove_file(part);
        Error::local(dest.display(), &e)
    })?;
    if settings.moving {
        local::sync_parent(dest)?;
    }
    if settings.preserve {
        super::times::keep_remote_time(conn, remote, dest, notices)?;
    }
    Ok(moved)
}

/// A part that holds as many bytes as SIZE says: proven by the server's hash where it
/// offers one, else by that size (what a download without a hash is proven by).
fn prove_part(
    conn: &mut Connection,
    remote: &RemotePath,
    part: &Path,
    have: u64,
    verify: Verify,
) -> Result<Moved> {
    let proven = Moved {
        resumed_from: have,
        size_checked: true,
        proven: true,
        ..Moved::default()
    };
    match proof::same_content(conn, remote, part, have, verify)? {
        Some((true, algo, digest)) => {
            conn.transcript_mut().note(&format!(
                "verified: the server's {} matches the bytes received",
                algo.name()
            ));
            Ok(Moved {
                hash_checked: true,
                hash: Some(algo),
                digest: Some((algo, digest)),
                ..proven
            })
        }
        Some((false, algo, _)) => Err(Error::not_confirmed(format!(
            "the server's {} differs from the bytes received; not kept",
            algo.name()
        ))),
        None => {
            conn.transcript_mut()
                .note(&format!("verified by size ({have} bytes)"));
            Ok(proven)
        }
    }
}

/// DELE of a moved file's source. A transient failure (the reply lost with the connection)
/// is never answered by sending DELE again blindly: on a new login SIZE tells whether the
/// file is still there; only then is DELE sent again.
pub fn delete_source(
    conn: &mut Connection,
    settings: &Settings,
    remote: &RemotePath,
) -> Result<()> {
    let mut done = 0u32;
    let mut result = super::ops::delete(conn, remote);
    loop {
        let e = match result {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if !e.transient() || done >= settings.retry.times.max(1) {
            return Err(e);
        }
        done += 1;
        pause(conn, settings.retry.wait(done))?;
        reconnect(conn, settings).map_err(|_| e.clone())?;
        match proof::size(conn, remote)? {
            SizeAnswer::Failed(r) if r.code == 550 => {
                conn.transcript_mut()
                    .note("the DELE's reply was lost; SIZE says the source is gone: deleted");
                return Ok(());
            }
            SizeAnswer::Known(_) => result = super::ops::delete(conn, remote),
            _ => {
                return Err(e.also(
                    "whether the source was deleted is not known (the server has no SIZE to ask)",
                ))
            }
        }
    }
}
