//! Segmented download of one large file (`--segments N`, lftp's `pget -n`): the file is
//! split into N byte ranges fetched over N connections at once (the caller's and N-1 new
//! logins), each with REST + RETR, read to exactly its range's end and then ended with ABOR
//! on that connection (the last range reads to the server's end and its 226). Bytes go with
//! pwrite into a preallocated temporary file beside the destination,
//! `.NAME.3700ftp-part`; each finished range is recorded in `.NAME.3700ftp-segments`, so
//! `-c` (or a retry) fetches only the ranges not done. The whole file is proven at the end
//! (SIZE asked again and equal; the server's hash over the whole file where it offers one)
//! and only then renamed over the destination. A server that refuses REST, does not report
//! SIZE, or takes no more connections gets one stream (or fewer connections), said in a
//! notice. A failure keeps the part and its record for `-c`.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::ftp::command::{Arg, Command};
use crate::ftp::connection::Connection;
use crate::remote_path::RemotePath;
use crate::verify::PipedHasher as Hasher;

use super::download;
use super::local::{self, Dest, PART_SUFFIX};
use super::proof::{self, SizeAnswer};
use super::ranges::{
    open_part, ranges, recorded, sibling, Range, MIN_RANGE, STATE_HEADER, STATE_SUFFIX,
};
use super::transfer::{hash_prefix, Login, Moved, Notices, Settings, CHUNK};

/// Downloads `remote` into `dest` in segments, or as one stream where segments cannot work.
pub fn download(
    conn: &mut Connection,
    remote: &RemotePath,
    dest: &Path,
    settings: &mut Settings,
    notices: &mut Notices,
) -> Result<Moved> {
    let target = Dest::inspect(dest)?;
    let (part, state) = (sibling(dest, PART_SUFFIX), sibling(dest, STATE_SUFFIX));
    let continuing = (settings.resume || settings.retrying) && state.exists() && part.exists();
    let plain_resume = settings.resume && !continuing && target.partial_len().unwrap_or(0) > 0;
    if matches!(target, Dest::Special(_)) || plain_resume || settings.part.is_some() {
        return super::retry::download(conn, remote, dest, settings, notices);
    }
    let one_stream = |why: String, notices: &mut Notices| {
        notices.push(format!("--segments: {why}; downloading as one stream"));
    };
    conn.ensure_binary()?;
    let Some(size) = proof::expected(conn, remote, settings.moving)? else {
        one_stream("the server does not report the file's SIZE".into(), notices);
        return download::download(conn, remote, dest, settings, notices);
    };
    let n = settings.segments.min((size / MIN_RANGE) as usize).max(1);
    if size < settings.segment_threshold || n < 2 {
        return download::download(conn, remote, dest, settings, notices);
    }
    let Some(login) = settings.login.clone() else {
        one_stream("no way to open more connections here".into(), notices);
        return download::download(conn, remote, dest, settings, notices);
    };
    let mdtm = proof::mdtm(conn, remote)?;
    let plan = proof::hash_plan(conn, settings.verify)?;
    let header = format!(
        "{STATE_HEADER}\nsize {size}\nmdtm {}\n",
        mdtm.map_or("-".into(), |t| t.to_string())
    );
    let done = if continuing {
        recorded(&state, &header, &part, size, notices)
    } else {
        Vec::new()
    };
    let file = open_part(&part, size, done.is_empty())?;
    if done.is_empty() {
        std::fs::write(&state, &header).map_err(|e| Error::local(state.display(), &e))?;
    }
    // REST works here, or the file goes as one stream. The probe is the first range's own
    // REST: a RETR follows it on this connection.
    let mut todo = ranges(size, &done, n);
    let first = todo.pop_front();
    if let Some((start, _)) = first {
        // With the transfer's EPSV in the same write (REST then EPSV then RETR, as before).
        let reply = conn.exec_before_transfer(&Command::Rest(start))?;
        if reply.code != 350 {
            drop(file);
            let _ = std::fs::remove_file(&part);
            let _ = std::fs::remove_file(&state);
            one_stream(format!("the server refuses REST ({reply})"), notices);
            return download::download(conn, remote, dest, settings, notices);
        }
    }
    let kept: u64 = done.iter().map(|(a, b)| b - a).sum();
    // No more connections than ranges.
    let wanted = if first.is_some() {
        n.min(todo.len() + 1)
    } else {
        1
    };
    let shared = Shared {
        remote,
        size,
        file: &file,
        todo: Mutex::new(todo),
        record: Mutex::new(&state),
        moved: AtomicU64::new(0),
        connected: AtomicUsize::new(1),
        failures: Mutex::new(Vec::new()),
        limiter: settings.limiter.clone(),
        active: Mutex::new(Vec::new()),
    };
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    settings.progress.begin(&name, Some(size), kept);
    let refused_logins = std::thread::scope(|scope| {
        let workers: Vec<_> = (1..wanted)
            .map(|_| {
                let (shared, login) = (&shared, &login);
                scope.spawn(move || {
                    // Not staggered here: logins started early (a single-file copy, see
                    // [`super::early`]) are waiting already, and lftp's pget opens its
                    // connections at once too.
                    match (login.0)() {
                        Ok(mut c) => {
                            shared.connected.fetch_add(1, Ordering::SeqCst);
                            // The connection's setup goes in the write of its first REST.
                            shared.work(&mut c, None, login, false);
                            c.hang_up();
                            false
                        }
                        Err(_) => true,
                    }
                })
            })
            .collect();
        // This connection works too, and takes back what a failed worker left.
        let mut usable = first.is_none() || shared.work(conn, first, &login, true);
        let mut shown = 0;
        loop {
            let now = shared.moved.load(Ordering::SeqCst);
            settings.progress.advance(now - shown);
            shown = now;
            let pending = shared.todo.lock().map(|q| !q.is_empty()).unwrap_or(false);
            if usable && pending {
                usable = shared.work(conn, None, &login, true);
                continue;
            }
            if workers.iter().all(|w| w.is_finished()) {
                let pending = shared.todo.lock().map(|q| !q.is_empty()).unwrap_or(false);
                if !(usable && pending) {
                    break;
                }
                continue;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        workers
            .into_iter()
            .map(|w| w.join())
            .filter(|r| matches!(r, Ok(true) | Err(_)))
            .count()
    });
    settings.progress.end();
    let connected = shared.connected.load(Ordering::SeqCst);
    if refused_logins > 0 {
        notices.push(format!(
            "--segments: the server accepted {connected} of {wanted} connections; continued with {connected}"
        ));
    }
    let left = shared.todo.lock().map(|q| q.len()).unwrap_or(1);
    let mut failures = shared.failures.into_inner().unwrap_or_default();
    let moved_now = shared.moved.load(Ordering::SeqCst);
    if left > 0 {
        let cause = if failures.is_empty() {
            Error::connection("no connection was left to fetch the remaining ranges")
        } else {
            failures.swap_remove(0)
        };
        return Err(cause.also(format!(
            "{left} range(s) not fetched; the part is kept as {}: the same command with -c continues it",
            part.display()
        )));
    }
    // Proven as a whole: the server still reports this size, and its hash of the whole
    // file equals ours of the part where it offers one.
    if !conn.is_alive() {
        *conn = (login.0)()?;
    }
    let digest = prove(conn, remote, &part, size, plan, settings)?;
    finish(
        conn, remote, &part, &state, &target, &file, settings, notices,
    )?;
    Ok(Moved {
        bytes: moved_now,
        size_checked: true,
        resumed_from: kept,
        hash_checked: digest.is_some(),
        hash: digest.as_ref().map(|d| d.0),
        digest,
        proven: true,
        ..Moved::default()
    })
}

/// What the connections of one segmented download share.
struct Shared<'a> {
    remote: &'a RemotePath,
    size: u64,
    file: &'a File,
    todo: Mutex<VecDeque<Range>>,
    record: Mutex<&'a PathBuf>,
    moved: AtomicU64,
    connected: AtomicUsize,
    failures: Mutex<Vec<Error>>,
    limiter: Option<Arc<crate::ratelimit::Limiter>>,
    /// The ranges being fetched, which a connection left without work may split.
    active: Mutex<Vec<Arc<Mutex<Span>>>>,
}

/// A range being fetched: where its bytes have reached, how far the read under way may
/// go, and where it ends (moved back when another connection takes over its second half).
#[derive(Debug)]
struct Span {
    start: u64,
    at: u64,
    reserved: u64,
    end: u64,
}

/// The least a connection takes over from a range still being fetched: less is done
/// sooner by the connection that has it than by a new REST and RETR.
pub const MIN_STEAL: u64 = 256 * 1024;

impl Shared<'_> {
    /// Fetches ranges on `conn` until none is left (true) or this connection fails (false;
    /// its range goes back for the others). `first` is a range whose REST was already sent.
    /// With the queue empty, the connection takes over the second half of the range with
    /// the most left to fetch (at least [`MIN_STEAL`]): over a lossy link one connection
    /// stalled by a loss otherwise holds up the end of the whole download.
    ///
    /// A range that ended before the file's end leaves its transfer to be aborted; the ABOR
    /// goes only when this connection has more to do, or when `kept` (the connection is
    /// used after the download). A worker with nothing left hangs up instead (see
    /// [`Connection::hang_up`]): over a slow link the ABOR and QUIT exchanges of the
    /// connection that finishes last are round trips at the end of the whole download.
    fn work(
        &self,
        conn: &mut Connection,
        mut first: Option<Range>,
        login: &Login,
        kept: bool,
    ) -> bool {
        let mut to_abort = false;
        loop {
            let next = match first.take() {
                Some(r) => Some((r, true)),
                None => match self.todo.lock().ok().and_then(|mut q| q.pop_front()) {
                    Some(r) => Some((r, false)),
                    None => self.steal().map(|r| (r, false)),
                },
            };
            if std::mem::take(&mut to_abort) && (kept || next.is_some()) {
                conn.abort_transfer();
            }
            let Some((range, rest_sent)) = next else {
                return true;
            };
            if !conn.is_alive() {
                match (login.0)() {
                    Ok(c) => *conn = c,
                    Err(e) => {
                        self.failed(range, e);
                        return false;
                    }
                }
            }
            let span = Arc::new(Mutex::new(Span {
                start: range.0,
                at: range.0,
                reserved: range.0,
                end: range.1,
            }));
            lock(&self.active).push(span.clone());
            let result = self.fetch(conn, &span, rest_sent);
            lock(&self.active).retain(|s| !Arc::ptr_eq(s, &span));
            // The range as it ended: its end moved back if another connection took over.
            let range = {
                let s = lock(&span);
                (s.start, s.end)
            };
            match result {
                Ok(open) => {
                    self.done(range);
                    to_abort = open;
                }
                Err(e) => {
                    self.failed(range, e);
                    return false;
                }
            }
        }
    }

    /// Splits the range with the most left beyond its read under way, when that is at
    /// least twice [`MIN_STEAL`]: its end moves back to the middle of what is left, and
    /// the second half is returned for the caller to fetch.
    fn steal(&self) -> Option<Range> {
        let active = lock(&self.active);
        let left = |s: &Span| s.end.saturating_sub(s.reserved.max(s.at));
        let victim = active.iter().max_by_key(|s| left(&lock(s)))?;
        let mut span = lock(victim);
        if left(&span) < 2 * MIN_STEAL {
            return None;
        }
        let from = span.reserved.max(span.at);
        let mid = from + left(&span) / 2;
        let taken = (mid, span.end);
        span.end = mid;
        Some(taken)
    }

    fn failed(&self, range: Range, e: Error) {
        if let Ok(mut q) = self.todo.lock() {
            q.push_back(range);
        }
        if let Ok(mut f) = self.failures.lock() {
            f.push(e);
        }
    }

    fn done(&self, (a, b): Range) {
        if let Ok(path) = self.record.lock() {
            if let Ok(mut f) = File::options().append(true).open(path.as_path()) {
                let _ = writeln!(f, "done {a} {b}");
            }
        }
    }

    /// REST + RETR of one range, read to exactly its end (which another connection may
    /// move back meanwhile, see [`Shared::steal`]). True when the range ended before the
    /// file's end: its transfer is still open on the server, for the caller to abort.
    fn fetch(&self, conn: &mut Connection, span: &Mutex<Span>, rest_sent: bool) -> Result<bool> {
        let start = lock(span).start;
        if !rest_sent {
            // One write: the setup still to do, REST, and the EPSV of the RETR after it.
            let reply = conn.exec_before_transfer(&Command::Rest(start))?;
            if reply.code != 350 {
                return Err(Error::refused(reply.code, reply.text()).context("REST for a segment"));
            }
        }
        let mut data = conn.open_data(&Command::Retr(Arg::from(self.remote)))?;
        let mut buf = vec![0u8; CHUNK];
        let mut at = start;
        let read: Result<()> = loop {
            let want = {
                let mut s = lock(span);
                if at >= s.end {
                    break Ok(());
                }
                let want = ((s.end - at) as usize).min(buf.len());
                // What this read may bring: a split never takes it away.
                s.reserved = at + want as u64;
                want
            };
            match data.read(&mut buf[..want]) {
                Ok(0) => {
                    let end = lock(span).end;
                    break Err(Error::not_confirmed(format!(
                        "the server ended a segment at byte {at} of {start}..{end}"
                    ))
                    .broke_off());
                }
                Ok(k) => {
                    if let Err(e) = self.file.write_all_at(&buf[..k], at) {
                        break Err(Error::local("the part file", &e));
                    }
                    at += k as u64;
                    lock(span).at = at;
                    self.moved.fetch_add(k as u64, Ordering::SeqCst);
                    if let Some(l) = &self.limiter {
                        l.take(k);
                    }
                }
                Err(e) => break Err(e),
            }
        };
        if let Err(e) = read {
            drop(data);
            conn.abort_transfer();
            return Err(e);
        }
        let end = lock(span).end;
        if end < self.size {
            // The rest of the file is the other connections' work.
            drop(data);
            return Ok(true);
        }
        // The last range: the server's end of data, with nothing past SIZE.
        match data.read(&mut buf[..1]) {
            Ok(0) => {}
            Ok(_) => {
                drop(data);
                conn.abort_transfer();
                return Err(Error::not_confirmed(format!(
                    "{} ({} bytes)",
                    super::transfer::MORE_THAN_ANNOUNCED,
                    self.size
                )));
            }
            Err(e) => {
                drop(data);
                conn.abort_transfer();
                return Err(e);
            }
        }
        let early = data.finish_download();
        conn.finish_data(early, end - start)?;
        Ok(false)
    }
}

/// `m` locked, even if a thread panicked while holding it (the data stays consistent:
/// every update is one assignment).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// SIZE again (the file did not change meanwhile) and the server's hash of the whole file
/// against ours of the part, where offered: the algorithm and digest when the hash proved it.
fn prove(
    conn: &mut Connection,
    remote: &RemotePath,
    part: &Path,
    size: u64,
    plan: Option<(crate::verify::Algo, crate::verify::HashCommand)>,
    settings: &Settings,
) -> Result<Option<(crate::verify::Algo, String)>> {
    match proof::size(conn, remote)? {
        SizeAnswer::Known(n) if n == size => {}
        SizeAnswer::Known(n) => {
            return Err(Error::not_confirmed(format!(
                "the remote file changed during the download ({size} bytes before, {n} now)"
            )))
        }
        other => {
            return Err(Error::not_confirmed(format!(
            "the server no longer gives the file's size ({other:?}); the segments are not proven"
        )))
        }
    }
    let Some(plan) = plan else {
        conn.transcript_mut()
            .note(&format!("verified by size ({size} bytes, in segments)"));
        return Ok(None);
    };
    let mut hasher = Hasher::new(plan.0);
    hash_prefix(&mut hasher, part, size)?;
    proof::check_hash(conn, remote, plan, hasher.finish(), settings.verify)
}

/// Renames the proven part over the destination (keeping a replaced file's nature) and
/// removes the record.
#[allow(clippy::too_many_arguments)]
fn finish(
    conn: &mut Connection,
    remote: &RemotePath,
    part: &Path,
    state: &Path,
    target: &Dest,
    file: &File,
    settings: &Settings,
    notices: &mut Notices,
) -> Result<()> {
    let dest = target.path();
    let replaces = match target {
        Dest::Regular(_, m) => Some(m),
        _ => None,
    };
    local::keep_nature(file, replaces);
    if settings.moving {
        file.sync_all()
            .map_err(|e| Error::local(part.display(), &e))?;
    }
    std::fs::rename(part, dest).map_err(|e| Error::local(dest.display(), &e))?;
    let _ = std::fs::remove_file(state);
    if settings.moving {
        local::sync_parent(dest)?;
    }
    if settings.preserve {
        super::times::keep_remote_time(conn, remote, dest, notices)?;
    }
    Ok(())
}
