//! Multi-file transfers: the files of a wildcard or recursive `cp`/`mv`/`get`/`put`, run one
//! after another on one connection or over N logged-in connections at once (`-j N`).
//!
//! Every file is accounted for: the [`Outcome`] counts what was moved and keeps each
//! failure, so the summary and the exit status cover all of them. With `-j N`, the
//! connection that made the job list works as one worker from the first file on, and the
//! other logins are started while the list is made ([`start_logins`]); a worker
//! whose login the server refuses (421, 530 "too many connections") stops and leaves its
//! files to the others, so the run backs off to fewer connections instead of failing.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, Kind, Result};
use crate::ftp::connection::Connection;
use crate::remote_path::RemotePath;

use super::local::Snapshot;
use super::transfer::{Bars, Moved, Notices, Policy, Progress, Settings};
use super::{retry, segments, upload};

/// One file to move.
#[derive(Debug, Clone)]
pub struct Job {
    /// True for a download (remote → local), false for an upload.
    pub download: bool,
    /// The remote path.
    pub remote: RemotePath,
    /// The local path.
    pub local: PathBuf,
    /// Delete the source once the copy is confirmed (`mv`).
    pub delete_source: bool,
}

impl Job {
    /// The destination, as a string.
    pub fn destination(&self) -> String {
        if self.download {
            self.local.display().to_string()
        } else {
            self.remote.to_string()
        }
    }

    /// The source, as messages name it.
    pub fn shown(&self) -> String {
        if self.download {
            self.remote.to_string()
        } else {
            self.local.display().to_string()
        }
    }
}

/// What a multi-file run did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Files confirmed.
    pub files: usize,
    /// Bytes moved.
    pub bytes: u64,
    /// Files whose size was checked with SIZE (the rest by the final reply only).
    pub size_checked: usize,
    /// Files the server's hash proved.
    pub hash_checked: usize,
    /// The hash that proved them (the last one used, when several servers differ).
    pub hash: Option<crate::verify::Algo>,
    /// Files already complete at the destination (nothing moved).
    pub already_complete: usize,
    /// Failures, with the file each concerns.
    pub failures: Vec<(String, Error)>,
    /// Notices to show (resume decisions, back-off).
    pub notices: Notices,
    /// How long it took.
    pub elapsed: Duration,
    /// Each file confirmed, with what its transfer moved and proved, in the order done.
    pub done: Vec<Done>,
}

/// One file a multi-file run confirmed.
#[derive(Debug, Clone)]
pub struct Done {
    /// The file.
    pub job: Job,
    /// What moved and how it was proven.
    pub moved: Moved,
    /// How long its transfer took.
    pub elapsed: Duration,
}

impl Outcome {
    /// `3 files, 1.2 MiB in 0.4 s (2 by size)`, plus failures.
    pub fn summary(&self) -> String {
        let mut text = format!(
            "{} file{}, {} in {:.1} s",
            self.files,
            if self.files == 1 { "" } else { "s" },
            human_bytes(self.bytes),
            self.elapsed.as_secs_f64()
        );
        if self.files > 0 {
            text.push_str(&format!(
                " ({} proven by hash, {} by size only)",
                self.hash_checked, self.size_checked
            ));
        }
        if !self.failures.is_empty() {
            text.push_str(&format!("; {} failed", self.failures.len()));
        }
        text
    }

    /// Ok when every file moved; otherwise an error of the first failure's class whose
    /// message is the summary (each failure is reported on its own by the caller).
    pub fn into_result(self) -> Result<()> {
        match self.failures.first() {
            None => Ok(()),
            Some((_, err)) => {
                let mut e = Error::new(err.kind(), self.summary());
                if let Some(code) = err.code() {
                    e = e.with_code(code);
                }
                Err(e)
            }
        }
    }
}

pub use super::transfer::human_bytes;

/// Between the files of a run, a control connection silent this long gets a NOOP first.
pub const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);

/// Copies one file; for `mv`, then deletes its source through [`copy_then_delete`].
pub fn run_one(
    conn: &mut Connection,
    job: &Job,
    progress: &mut dyn Progress,
    policy: &Policy,
    notices: &mut Notices,
) -> Result<Moved> {
    let start = Instant::now();
    let mut settings = Settings::new(progress, policy, job.delete_source);
    let moved = if job.delete_source {
        copy_then_delete(conn, job, &mut settings, notices)
    } else {
        retry::attempts(conn, &mut settings, notices, |conn, settings, notices| {
            copy(conn, job, settings, notices)
        })
    };
    moved.map(|m| Moved {
        reply: m.reply.or(settings.reply),
        elapsed: start.elapsed(),
        ..m
    })
}

fn copy(
    conn: &mut Connection,
    job: &Job,
    settings: &mut Settings,
    notices: &mut Notices,
) -> Result<Moved> {
    if job.download && settings.segments > 1 {
        segments::download(conn, &job.remote, &job.local, settings, notices)
    } else if job.download {
        retry::download(conn, &job.remote, &job.local, settings, notices)
    } else {
        upload::upload(conn, &job.local, &job.remote, settings, notices)
    }
}

/// THE move: copy, prove, then delete the source. This is the only place in 3700ftp that
/// deletes the source of a transfer, and it is reached only when the copy returned a
/// proof made in this run ([`Moved::proven`]): a transfer the server confirmed now, or
/// content equal by the server's hash. A downloaded file is on disk (synced) before the
/// remote source goes; a local source is deleted only if it did not change during the
/// upload.
pub fn copy_then_delete(
    conn: &mut Connection,
    job: &Job,
    settings: &mut Settings,
    notices: &mut Notices,
) -> Result<Moved> {
    settings.moving = true;
    let before = if job.download {
        None
    } else {
        Some(Snapshot::of(&job.local)?)
    };
    let moved = retry::attempts(conn, settings, notices, |conn, settings, notices| {
        copy(conn, job, settings, notices)
    })?;
    if !moved.proven {
        return Err(Error::not_confirmed(
            "the copy was not proven in this run; the source is kept",
        ));
    }
    if job.download {
        retry::delete_source(conn, settings, &job.remote)
            .map_err(|e| e.context("copied, but deleting the source"))?;
    } else {
        if before != Some(Snapshot::of(&job.local)?) {
            return Err(Error::new(
                Kind::Local,
                format!(
                    "{} changed during the upload (size or time); copied, but the source is kept",
                    job.local.display()
                ),
            ));
        }
        std::fs::remove_file(&job.local).map_err(|e| {
            Error::local(job.local.display(), &e).context("copied, but deleting the source")
        })?;
    }
    Ok(moved)
}

/// Takes out of `jobs` those that would write a destination another job writes: a name a
/// hostile listing gives twice, or names that differ only in case where the local file
/// system does not tell case apart. Each one taken out is a failure; the first one stays.
pub fn one_job_per_destination(jobs: Vec<Job>) -> (Vec<Job>, Vec<(String, Error)>) {
    use std::collections::HashMap;
    let mut kept: Vec<Job> = Vec::with_capacity(jobs.len());
    let mut failures = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut folded: HashMap<String, usize> = HashMap::new();
    let mut insensitive: HashMap<PathBuf, bool> = HashMap::new();
    for job in jobs {
        let dest = job.destination();
        if let Some(&first) = seen.get(&dest) {
            let first = kept[first].shown();
            failures.push((
                job.shown(),
                Error::new(
                    Kind::Refused,
                    format!("listed twice: {dest} is written once, for {first}"),
                ),
            ));
            continue;
        }
        if job.download {
            let key = dest.to_lowercase();
            if let Some(&first) = folded.get(&key) {
                let dir = job.local.parent().map(PathBuf::from).unwrap_or_default();
                let fold = *insensitive
                    .entry(dir.clone())
                    .or_insert_with(|| folds_case(&dir));
                if fold {
                    let first = kept[first].local.display().to_string();
                    failures.push((
                        job.shown(),
                        Error::new(
                            Kind::Local,
                            format!(
                                "{dest} and {first} are one file here (the file system ignores case); only {first} is written"
                            ),
                        ),
                    ));
                    continue;
                }
            } else {
                folded.insert(key, kept.len());
            }
        }
        seen.insert(dest, kept.len());
        kept.push(job);
    }
    (kept, failures)
}

/// Whether the file system holding `dir` treats names that differ in case as one.
fn folds_case(dir: &std::path::Path) -> bool {
    let Ok(probe) = tempfile::Builder::new()
        .prefix(".3700ftp-case-probe-")
        .tempfile_in(dir)
    else {
        return false;
    };
    let name = probe
        .path()
        .file_name()
        .map(|n| n.to_string_lossy().to_uppercase())
        .unwrap_or_default();
    dir.join(name).exists()
}

fn record(outcome: &mut Outcome, job: &Job, result: Result<Moved>, elapsed: Duration) {
    match result {
        Ok(m) => {
            outcome.files += 1;
            outcome.bytes += m.bytes;
            if m.already_complete {
                outcome.already_complete += 1;
            }
            if m.hash_checked {
                outcome.hash_checked += 1;
                outcome.hash = m.hash.or(outcome.hash);
            } else if m.size_checked {
                outcome.size_checked += 1;
            }
            outcome.done.push(Done {
                job: job.clone(),
                moved: m,
                elapsed,
            });
        }
        Err(e) => outcome.failures.push((job.shown(), e)),
    }
}

/// Runs the jobs in order on one connection. An interrupt or a lost connection stops the
/// run (the remaining files are reported as not done, with the reason); other failures are
/// recorded and the run goes on.
pub fn run_sequential(
    conn: &mut Connection,
    jobs: &[Job],
    bars: &dyn Bars,
    policy: &Policy,
) -> Outcome {
    let start = Instant::now();
    let mut outcome = Outcome::default();
    let (jobs, doubles) = one_job_per_destination(jobs.to_vec());
    outcome.failures.extend(doubles);
    for (i, job) in jobs.iter().enumerate() {
        conn.keep_alive_if_idle(KEEPALIVE_IDLE);
        let mut bar = bars.for_file();
        let began = Instant::now();
        let result = run_one(conn, job, &mut *bar, policy, &mut outcome.notices);
        let fatal = result
            .as_ref()
            .err()
            .filter(|e| matches!(e.kind(), Kind::Interrupted | Kind::Connection) || disk_full(e))
            .map(not_done);
        record(&mut outcome, job, result, began.elapsed());
        if let Some(reason) = fatal {
            for rest in &jobs[i + 1..] {
                outcome.failures.push((rest.shown(), reason()));
            }
            break;
        }
    }
    outcome.elapsed = start.elapsed();
    outcome
}

/// A server out of storage (452): every further file would fail the same way, so the run
/// stops (never retried either: [`Error::transient`]).
fn disk_full(e: &Error) -> bool {
    e.code() == Some(452)
}

/// The failure of a file that was never started because of `cause`.
fn not_done(cause: &Error) -> impl Fn() -> Error {
    let (kind, code) = (cause.kind(), cause.code());
    let text = if kind == Kind::Interrupted {
        "not transferred (interrupted)".to_string()
    } else {
        format!("not transferred: {cause}")
    };
    move || {
        let e = Error::new(kind, text.clone());
        match code {
            Some(c) => e.with_code(c),
            None => e,
        }
    }
}

/// What a worker thread ended with.
enum WorkerEnd {
    /// The queue ran dry (or the run was interrupted).
    Done,
    /// Its connection was lost; the file it held went back in the queue.
    Lost(Error),
}

/// A way to log in again and again (`-j N` workers).
pub type Login = Arc<dyn Fn() -> Result<Connection> + Send + Sync>;

/// Logins started ahead of the work (while the listing or walk that makes the job list
/// still runs): each lands in the channel as it completes.
pub struct Logins {
    rx: std::sync::mpsc::Receiver<Result<Connection>>,
    started: usize,
}

/// Starts `n` logins now, each on its own thread, a little staggered so a server's
/// per-second connection limit is not hit at once. A connection that arrives after the
/// run no longer wants it (every file handed out) is closed by its thread.
pub fn start_logins(login: &Login, n: usize) -> Logins {
    let (tx, rx) = std::sync::mpsc::channel();
    for index in 0..n {
        let (login, tx) = (login.clone(), tx.clone());
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20 * index as u64));
            if let Err(std::sync::mpsc::SendError(Ok(conn))) = tx.send(login()) {
                conn.quit();
            }
        });
    }
    Logins { rx, started: n }
}

/// Takes files from the queue until it is empty, the run is interrupted or the connection
/// is lost (the file it held goes back in the queue for the others, unless it is a move's).
fn work(
    conn: &mut Connection,
    queue: &Mutex<VecDeque<Job>>,
    shared: &Mutex<Outcome>,
    cancel: &std::sync::atomic::AtomicBool,
    full: &std::sync::atomic::AtomicBool,
    bars: &dyn Bars,
    policy: &Policy,
) -> WorkerEnd {
    loop {
        if cancel.load(std::sync::atomic::Ordering::SeqCst)
            || full.load(std::sync::atomic::Ordering::SeqCst)
        {
            return WorkerEnd::Done;
        }
        let Some(job) = lock(queue).pop_front() else {
            return WorkerEnd::Done;
        };
        conn.keep_alive_if_idle(KEEPALIVE_IDLE);
        let mut bar = bars.for_file();
        let mut notices = Vec::new();
        let began = Instant::now();
        // A panic in one file's transfer fails that file, not the run.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_one(conn, &job, &mut *bar, policy, &mut notices)
        }))
        .unwrap_or_else(|_| {
            Err(Error::new(
                Kind::NotConfirmed,
                "internal error while transferring this file (a bug in 3700ftp); not confirmed",
            ))
        });
        let mut out = lock(shared);
        out.notices.extend(notices);
        match result {
            Err(e) if e.kind() == Kind::Connection && !job.delete_source => {
                // Give the file back to the others; this connection is gone.
                out.notices.push(format!(
                    "a connection was lost ({e}); {} goes back in the queue",
                    job.shown()
                ));
                lock(queue).push_back(job);
                return WorkerEnd::Lost(e);
            }
            Err(e) if e.kind() == Kind::Connection || disk_full(&e) => {
                if disk_full(&e) {
                    // A server out of space (452) stops the run: no worker takes another file.
                    full.store(true, std::sync::atomic::Ordering::SeqCst);
                }
                record(&mut out, &job, Err(e.clone()), began.elapsed());
                return WorkerEnd::Lost(e);
            }
            result => record(&mut out, &job, result, began.elapsed()),
        }
    }
}

/// Runs the jobs over the connection that made the job list (`own`, which works from the
/// first file on and stays open for its owner) and the connections of `logins` as they
/// arrive (started early, while the list was made). A login the server refuses (421, 530
/// "too many") leaves its share to the others: the run backs off to fewer connections.
/// Once every file is handed out, logins still under way are not waited for. `cancel`
/// stops the workers taking more files.
pub fn run_parallel(
    own: Option<&mut Connection>,
    logins: Logins,
    cancel: &std::sync::atomic::AtomicBool,
    jobs: Vec<Job>,
    bars: &dyn Bars,
    policy: &Policy,
) -> Outcome {
    let start = Instant::now();
    let (jobs, doubles) = one_job_per_destination(jobs);
    let queue = Mutex::new(jobs.into_iter().collect::<VecDeque<Job>>());
    let shared = Mutex::new(Outcome {
        failures: doubles,
        ..Outcome::default()
    });
    let workers = logins.started + usize::from(own.is_some());
    let full = std::sync::atomic::AtomicBool::new(false);
    let mut login_errors = Vec::new();
    let mut lost = Vec::new();
    std::thread::scope(|scope| {
        let (queue, shared, full) = (&queue, &shared, &full);
        let mut handles = Vec::new();
        if let Some(conn) = own {
            handles
                .push(scope.spawn(move || work(conn, queue, shared, cancel, full, bars, policy)));
        }
        let mut pending = logins.started;
        while pending > 0
            && !cancel.load(std::sync::atomic::Ordering::SeqCst)
            && !full.load(std::sync::atomic::Ordering::SeqCst)
            && !lock(queue).is_empty()
        {
            match logins.rx.recv_timeout(Duration::from_millis(50)) {
                Ok(Ok(mut conn)) => {
                    pending -= 1;
                    handles.push(scope.spawn(move || {
                        let end = work(&mut conn, queue, shared, cancel, full, bars, policy);
                        conn.quit();
                        end
                    }));
                }
                Ok(Err(e)) => {
                    pending -= 1;
                    login_errors.push(e);
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        for h in handles {
            match h.join() {
                Ok(WorkerEnd::Lost(e)) => lost.push(e),
                Ok(WorkerEnd::Done) => {}
                Err(_) => lost.push(Error::new(
                    Kind::NotConfirmed,
                    "a transfer worker stopped on an internal error (a bug in 3700ftp)",
                )),
            }
        }
    });
    let mut outcome = std::mem::take(&mut *lock(&shared));
    let connected = workers - login_errors.len();
    if !login_errors.is_empty() && connected > 0 {
        outcome.notices.push(format!(
            "the server accepted {connected} of {workers} connections; continued with {connected}"
        ));
    }
    // Whatever is left (every login refused, every connection lost, or an interrupt) is
    // not done, and says why.
    let left: Vec<Job> = lock(&queue).drain(..).collect();
    let interrupted = cancel.load(std::sync::atomic::Ordering::SeqCst);
    let cause = if interrupted {
        Error::new(Kind::Interrupted, "interrupted")
    } else if let Some(e) = lost.first().or(login_errors.first()) {
        e.clone()
    } else {
        Error::new(Kind::Interrupted, "interrupted")
    };
    let reason = not_done(&cause);
    for job in left {
        outcome.failures.push((job.shown(), reason()));
    }
    outcome.elapsed = start.elapsed();
    outcome
}

/// Locks a mutex even if a worker panicked while holding it (the data stays consistent:
/// each holder only pushes or pops whole entries).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_never_started_carry_the_reason_and_class_of_what_stopped_the_run() {
        let lost = Error::connection("the server closed the connection").with_code(421);
        let e = not_done(&lost)();
        assert_eq!(e.kind(), Kind::Connection);
        assert_eq!(e.code(), Some(421));
        assert!(
            e.to_string().contains("the server closed the connection"),
            "{e}"
        );
        let e = not_done(&Error::new(Kind::Interrupted, "interrupted"))();
        assert_eq!(e.kind(), Kind::Interrupted);
    }

    #[test]
    fn a_destination_is_written_once() {
        let job = |remote: &str, local: &str| Job {
            download: true,
            remote: RemotePath::new(remote).unwrap(),
            local: local.into(),
            delete_source: false,
        };
        let (kept, failed) = one_job_per_destination(vec![
            job("/a", "/t/a"),
            job("/a", "/t/a"),
            job("/b", "/t/b"),
        ]);
        assert_eq!(kept.len(), 2);
        assert_eq!(failed.len(), 1);
        assert!(failed[0].1.to_string().contains("listed twice"));
    }

    #[test]
    fn sizes_read_like_a_person_wrote_them() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }
}
