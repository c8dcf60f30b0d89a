//! `--json` records filled from what the session layer returned (a transfer's `Moved`, a
//! multi-file run's `Done`s and failures): the values only; `record.rs` encodes them.

use std::time::Duration;

use crate::ctx::{Ctx, Remote};
use crate::error::{Error, Result};
use crate::record::{proof_name, Record};
use crate::session::jobs::{Done, Job};
use crate::session::transfer::Moved;

/// The URL of `path` on the server `remote` names (the session's for a plain path, resolved
/// against its directory), without the password.
pub(super) fn url_of(ctx: &Ctx, remote: &Remote, path: &str) -> String {
    let url = match (&remote.url, &ctx.session) {
        (Some(u), _) => u.clone(),
        (None, Some(s)) => s.url.clone(),
        (None, None) => return path.to_string(),
    };
    let cwd = ctx.session.as_ref().and_then(|s| s.cwd.clone());
    let path = match cwd {
        Some(cwd) if remote.url.is_none() && !path.starts_with('/') => {
            format!("{}/{path}", cwd.trim_end_matches('/'))
        }
        _ => path.to_string(),
    };
    url.with_path(&path).without_password()
}

/// Fills a transfer record from what moved and how it was proven.
fn fill(r: &mut Record, m: &Moved) {
    r.bytes = Some(m.bytes);
    r.resumed_from = Some(m.resumed_from);
    r.proof = Some(match &m.digest {
        Some((algo, _)) => proof_name(*algo),
        None if m.size_checked => "size",
        None => "none",
    });
    r.digest = m.digest.as_ref().map(|(_, d)| d.clone());
    r.reply = m.reply;
    r.skipped = m.already_complete;
}

/// The record of one file's transfer: `remote` is the server's side (a URL or a session
/// path), `job` the file.
pub(super) fn of_job(
    ctx: &Ctx,
    op: &str,
    remote: &Remote,
    job: &Job,
    result: std::result::Result<&Moved, &Error>,
    elapsed: Duration,
) -> Record {
    let mut r = Record::new(op, if job.download { "download" } else { "upload" });
    let there = url_of(ctx, remote, &job.remote);
    // `dir/./name` as `dir/name`: the components, without the `.` ones.
    let here: std::path::PathBuf = job.local.components().collect();
    let here = here.display().to_string();
    let (source, destination) = if job.download {
        (there, here)
    } else {
        (here, there)
    };
    r.source = Some(source);
    r.destination = Some(destination);
    r.elapsed = Some(elapsed);
    match result {
        Ok(m) => fill(&mut r, m),
        Err(e) => r.error = Some(e.clone()),
    }
    r
}

/// The records of a multi-file run: each file done, then each failure (named by its
/// source; `download` says which side that is).
pub(super) fn of_run(
    ctx: &mut Ctx,
    op: &str,
    remote: &Remote,
    download: bool,
    done: &[Done],
    failures: &[(String, Error)],
) {
    if !ctx.reports_json() {
        return;
    }
    for d in done {
        let r = of_job(ctx, op, remote, &d.job, Ok(&d.moved), d.elapsed);
        ctx.emit(r);
    }
    for (what, err) in failures {
        let mut r = Record::new(op, if download { "download" } else { "upload" });
        r.source = Some(if download {
            url_of(ctx, remote, what)
        } else {
            what.clone()
        });
        r.error = Some(err.clone());
        ctx.emit(r);
    }
}

/// The record of a command on one remote path (`mkdir`, `rm`, `rmdir`): the path is the
/// destination of a mkdir and the source of the others.
pub(super) fn of_op(
    ctx: &mut Ctx,
    op: &str,
    remote: &Remote,
    path: &str,
    result: &Result<u16>,
    elapsed: Duration,
) {
    if !ctx.reports_json() {
        return;
    }
    let mut r = Record::new(op, op);
    let url = url_of(ctx, remote, path);
    if op == "mkdir" {
        r.destination = Some(url);
    } else {
        r.source = Some(url);
    }
    r.elapsed = Some(elapsed);
    match result {
        Ok(code) => r.reply = Some(*code),
        Err(e) => r.error = Some(e.clone()),
    }
    ctx.emit(r);
}
