//! Multi-file transfers: the files of a wildcard or recursive `cp`/`mv`/`get`/`put`, run one
//! after another on one connection or over N logged-in connections at once (`-j N`).
//!
//! Every file is accounted for: the [`Outcome`] counts what was moved and keeps each
//! failure, so the summary and the exit status cover all of them. With `-j N`, a worker
//! whose login the server refuses (421, 530 "too many connections") stops and leaves its
//! files to the others, so the run backs off to fewer connections instead of failing.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, Kind, Result};
use crate::ftp::command::{Arg, Command};
use crate::ftp::connection::{Connection, Options};
use crate::output::Bar;
use crate::transcript::Transcript;
use crate::transfer::{self, Notices, Policy, Progress, Settings};
use crate::url::FtpUrl;

/// One file to move.
#[derive(Debug, Clone)]
pub struct Job {
    /// True for a download (remote → local), false for an upload.
    pub download: bool,
    /// The remote path.
    pub remote: String,
    /// The local path.
    pub local: PathBuf,
    /// Delete the source once the copy is confirmed (`mv`).
    pub delete_source: bool,
}

impl Job {
    /// The source, as messages name it.
    pub fn shown(&self) -> String {
        if self.download {
            self.remote.clone()
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
    /// Failures, with the file each concerns.
    pub failures: Vec<(String, Error)>,
    /// Notices to show (resume decisions, back-off).
    pub notices: Notices,
    /// How long it took.
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

/// `1234567` → `1.2 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Moves one file, then deletes its source when asked and the copy was confirmed.
pub fn run_one(
    conn: &mut Connection,
    job: &Job,
    progress: &mut dyn Progress,
    policy: &Policy,
    notices: &mut Notices,
) -> Result<transfer::Moved> {
    let mut settings = Settings::new(progress, policy);
    let moved = if job.download {
        transfer::download(conn, &job.remote, &job.local, &mut settings, notices)?
    } else {
        transfer::upload(conn, &job.local, &job.remote, &mut settings, notices)?
    };
    if job.delete_source {
        if job.download {
            conn.exec_ok(&Command::Dele(Arg::new(&job.remote)?))
                .map_err(|e| e.context("copied, but deleting the source"))?;
        } else {
            std::fs::remove_file(&job.local).map_err(|e| {
                Error::local(job.local.display(), &e).context("copied, but deleting the source")
            })?;
        }
    }
    Ok(moved)
}

fn record(outcome: &mut Outcome, job: &Job, result: Result<transfer::Moved>) {
    match result {
        Ok(m) => {
            outcome.files += 1;
            outcome.bytes += m.bytes;
            if m.hash_checked {
                outcome.hash_checked += 1;
            } else if m.size_checked {
                outcome.size_checked += 1;
            }
        }
        Err(e) => outcome.failures.push((job.shown(), e)),
    }
}

/// Runs the jobs in order on one connection. An interrupt or a lost connection stops the
/// run (the remaining files are reported as not done); other failures are recorded and
/// the run goes on.
pub fn run_sequential(conn: &mut Connection, jobs: &[Job], bars: &Bar, policy: &Policy) -> Outcome {
    let start = Instant::now();
    let mut outcome = Outcome::default();
    for (i, job) in jobs.iter().enumerate() {
        let mut bar = bars.for_file();
        let result = run_one(conn, job, &mut bar, policy, &mut outcome.notices);
        let fatal = result
            .as_ref()
            .err()
            .is_some_and(|e| matches!(e.kind(), Kind::Interrupted | Kind::Connection));
        record(&mut outcome, job, result);
        if fatal {
            for rest in &jobs[i + 1..] {
                outcome.failures.push((
                    rest.shown(),
                    Error::new(Kind::Interrupted, "not transferred"),
                ));
            }
            break;
        }
    }
    outcome.elapsed = start.elapsed();
    outcome
}

/// Runs the jobs over up to `n` connections to `url`, each logged in separately.
pub fn run_parallel(
    url: &FtpUrl,
    opts: &Options,
    transcript: &Transcript,
    jobs: Vec<Job>,
    n: usize,
    bars: &Bar,
    policy: &Policy,
) -> Outcome {
    let start = Instant::now();
    let queue = Arc::new(Mutex::new(jobs.into_iter().collect::<VecDeque<Job>>()));
    let shared = Arc::new(Mutex::new(Outcome::default()));
    let workers = n.max(1);
    let mut handles = Vec::new();
    for index in 0..workers {
        let queue = queue.clone();
        let shared = shared.clone();
        let url = url.clone();
        let opts = opts.clone();
        let transcript = transcript.clone();
        let bars = bars.for_file();
        let policy = policy.clone();
        // Stagger logins a little so a server's per-second connection limit is not hit at once.
        let delay = Duration::from_millis(20 * index as u64);
        handles.push(std::thread::spawn(move || {
            std::thread::sleep(delay);
            let mut conn = match login(&url, &opts, transcript) {
                Ok(c) => c,
                Err(e) => return Some(e),
            };
            loop {
                if opts.cancel.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Some(job) = queue.lock().expect("queue").pop_front() else {
                    break;
                };
                let mut bar = bars.for_file();
                let mut notices = Vec::new();
                let result = run_one(&mut conn, &job, &mut bar, &policy, &mut notices);
                let lost = result
                    .as_ref()
                    .err()
                    .is_some_and(|e| e.kind() == Kind::Connection);
                let mut out = shared.lock().expect("outcome");
                out.notices.extend(notices);
                if lost {
                    // Give the file back to the others; this connection is gone.
                    out.notices.push(format!(
                        "a connection was lost; {} goes back in the queue",
                        job.shown()
                    ));
                    queue.lock().expect("queue").push_back(job);
                    return None;
                }
                record(&mut out, &job, result);
            }
            conn.quit();
            None
        }));
    }
    let mut login_errors = Vec::new();
    for h in handles {
        if let Ok(Some(e)) = h.join() {
            login_errors.push(e);
        }
    }
    let mut outcome = std::mem::take(&mut *shared.lock().expect("outcome"));
    let connected = workers - login_errors.len();
    if !login_errors.is_empty() && connected > 0 {
        outcome.notices.push(format!(
            "the server accepted {connected} of {workers} connections; continued with {connected}"
        ));
    }
    // Whatever is left (every login refused, or the last connection lost) is not done.
    let left: Vec<Job> = queue.lock().expect("queue").drain(..).collect();
    for job in left {
        let err = login_errors
            .first()
            .map(|e| Error::new(e.kind(), e.to_string()))
            .unwrap_or_else(|| Error::new(Kind::Interrupted, "not transferred"));
        outcome.failures.push((job.shown(), err));
    }
    outcome.elapsed = start.elapsed();
    outcome
}

/// Connects and logs in to `url`.
pub fn login(url: &FtpUrl, opts: &Options, transcript: Transcript) -> Result<Connection> {
    let mut conn = Connection::connect(
        &url.host,
        url.port,
        opts.clone(),
        transcript,
        url.tls_mode(),
    )?;
    if let Err(e) = conn.login(&url.user, url.password.as_deref()) {
        conn.quit();
        return Err(e);
    }
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_person_wrote_them() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }
}
