//! The I/O half of `mirror`: the walks ([`super::walk`]), then running the plan through
//! [`crate::session::jobs`] (every file atomic and proven, the source's time kept) and,
//! last, the deletes, only when everything before succeeded.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::error::{Error, Kind, Result};
use crate::ftp::connection::Connection;
use crate::remote_path::RemotePath;
use crate::session::jobs::{self, Job, Outcome};
use crate::session::transfer::{Bars, Policy};
use crate::session::{ops, proof};

use super::filter::Filter;
use super::plan::{plan, Compare, Node, Plan, Reason, Transfer, Tree};

pub use crate::session::plan::{MAX_DEPTH, MAX_ENTRIES};

/// `-j N`: the logins the workers make.
#[derive(Clone)]
pub struct Parallel {
    /// Logs a worker in (credentials resolved once, by the caller).
    pub login: std::sync::Arc<dyn Fn() -> Result<Connection> + Send + Sync>,
    /// Ctrl-C: workers take no more files once it is set.
    pub cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// How many connections.
    pub n: usize,
}

/// One mirror run, as the command resolved it.
#[derive(Clone)]
pub struct Request {
    /// True: server → local; false: local → server.
    pub download: bool,
    /// The remote directory, as the connection names it (relative to its working directory
    /// when not absolute).
    pub remote_root: RemotePath,
    /// The local directory.
    pub local_root: PathBuf,
    /// How files are compared (`dest_times_settable` is found out here).
    pub compare: Compare,
    /// `--delete`.
    pub delete: bool,
    /// `--delete-excluded`.
    pub delete_excluded: bool,
    /// `--max-delete N`.
    pub max_delete: Option<usize>,
    /// `--allow-empty-source`.
    pub allow_empty_source: bool,
    /// `--follow-symlinks`: an upload's local source links are followed inside the tree.
    pub follow_symlinks: bool,
    /// `--exclude`/`--include`.
    pub filter: Filter,
    /// `--verify`, `--limit-rate` (the time is always kept).
    pub policy: Policy,
    /// The directory to return to after a listing moved the connection (None: asked).
    pub restore: Option<RemotePath>,
    /// Where relative remote paths start, for workers that log in afresh.
    pub absolute_base: Option<RemotePath>,
    /// `-j N` (None: one connection).
    pub parallel: Option<Parallel>,
}

/// The trees compared and what will be done.
pub struct Prepared {
    /// The request.
    pub request: Request,
    /// The plan, with `--checksum` already decided.
    pub plan: Plan,
    /// Things the user should know (skipped links, unsafe names).
    pub warnings: Vec<String>,
    /// Listings that failed (their subtrees are not mirrored and nothing is deleted).
    pub failures: Vec<(String, Error)>,
    /// How many source entries were compared.
    pub source_entries: usize,
    /// The temporary files (`*.3700ftp-part`) at the destination: a transferred file's
    /// own part is continued, the others are removed after the transfers.
    pub dest_parts: Vec<String>,
    started: Instant,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Report {
    /// Files transferred and proven.
    pub transferred: usize,
    /// Files left as they were.
    pub skipped: usize,
    /// Destination files deleted.
    pub deleted: usize,
    /// Destination directories created (the root included).
    pub dirs_created: usize,
    /// Destination directories removed.
    pub dirs_removed: usize,
    /// Bytes moved.
    pub bytes: u64,
    /// Transfers proven by the server's hash.
    pub hash_checked: usize,
    /// Transfers proven by SIZE.
    pub size_checked: usize,
    /// How long the whole run took (walks included).
    pub elapsed: Duration,
    /// Every failure, with the path it concerns.
    pub failures: Vec<(String, Error)>,
    /// Warnings and notices.
    pub notices: Vec<String>,
    /// Why the deletes were not done, when they were planned and not done.
    pub deletes_withheld: Option<Error>,
    /// Each file transferred, with what moved and how it was proven.
    pub done: Vec<crate::session::jobs::Done>,
    /// What else was done to the destination, in order: (`mkdir`, `rm` or `rmdir`, the
    /// path relative to the destination root; `.` for the root itself).
    pub actions: Vec<(&'static str, String)>,
}

use super::pwalk::walk_remote_with;
use super::walk::{walk_local, Excluded, Walk};

/// Walks both trees, plans, and settles `--checksum` by the server's hash. Changes nothing
/// anywhere: a `--dry-run` stops after this.
pub fn prepare(conn: &mut Connection, mut request: Request) -> Result<Prepared> {
    let started = Instant::now();
    if request.restore.is_none() {
        request.restore = ops::pwd(conn).ok();
    }
    let restore = request.restore.clone();
    let remote_root = request.remote_root.clone();
    let filter = request.filter.clone();
    let dest_mode = if request.delete_excluded {
        Excluded::Ignore
    } else {
        Excluded::Keep
    };
    let workers = request.parallel.as_ref().map(|p| super::pwalk::Workers {
        login: p.login.clone(),
        n: p.n,
        base: request.absolute_base.clone(),
    });
    let workers = workers.as_ref();
    let mut src = Walk::new(&filter, Excluded::Drop);
    let mut dst = Walk::new(&filter, dest_mode);
    if request.download {
        walk_remote_with(
            conn,
            &remote_root,
            restore.as_ref(),
            &mut src,
            false,
            workers,
        )?;
        walk_local(&request.local_root, &mut dst, true)?;
        // A download's time comes from MDTM: a server without it leaves download times.
        request.compare.dest_times_settable = lists_feature(conn, "MDTM");
    } else {
        src.follow_links = request.follow_symlinks;
        walk_local(&request.local_root, &mut src, false)?;
        walk_remote_with(
            conn,
            &remote_root,
            restore.as_ref(),
            &mut dst,
            true,
            workers,
        )?;
        request.compare.dest_times_settable = lists_feature(conn, "MFMT");
    }
    let mut warnings = std::mem::take(&mut src.warnings);
    warnings.append(&mut dst.warnings);
    let mut failures = std::mem::take(&mut src.failures);
    failures.append(&mut dst.failures);
    let dest_parts = std::mem::take(&mut dst.parts);
    let (mut source, mut dest) = (src.tree, dst.tree);
    fill_remote_times(conn, &request, &mut source, &mut dest)?;
    let source_entries = source.nodes.len();
    let mut the_plan = plan(&source, &dest, &request.compare, request.delete);
    if request.delete
        && source_entries == 0
        && the_plan.delete_count() > 0
        && !request.allow_empty_source
    {
        return Err(Error::usage(format!(
            "the source is empty: --delete would remove all {} entries at the destination; nothing done (--allow-empty-source does it)",
            the_plan.delete_count()
        )));
    }
    settle_checks(conn, &request, &mut the_plan, &mut warnings)?;
    for (path, why) in std::mem::take(&mut the_plan.conflicts) {
        failures.push((path, Error::new(Kind::Local, why)));
    }
    Ok(Prepared {
        request,
        plan: the_plan,
        warnings,
        failures,
        source_entries,
        dest_parts,
        started,
    })
}

/// Whether the server's FEAT lists `feature` (false when FEAT fails).
fn lists_feature(conn: &mut Connection, feature: &str) -> bool {
    conn.features()
        .map(|f| {
            f.iter().any(|l| {
                l.split_whitespace()
                    .next()
                    .is_some_and(|w| w.eq_ignore_ascii_case(feature))
            })
        })
        .unwrap_or(false)
}

/// LIST gives times to the minute at best: where a remote file's time decides (both sides
/// have the file, at the same size), MDTM gives it to the second.
fn fill_remote_times(
    conn: &mut Connection,
    request: &Request,
    source: &mut Tree,
    dest: &mut Tree,
) -> Result<()> {
    let how = &request.compare;
    if how.size_only || how.ignore_existing {
        return Ok(());
    }
    let (remote, local) = if request.download {
        (source, &*dest)
    } else {
        (dest, &*source)
    };
    let wanted: Vec<String> = remote
        .nodes
        .iter()
        .filter_map(|(path, node)| match (node, local.nodes.get(path)) {
            (Node::File(r), Some(Node::File(l))) if r.mtime.is_none() && r.size == l.size => {
                Some(path.clone())
            }
            _ => None,
        })
        .collect();
    let full = wanted
        .iter()
        .map(|p| at(&request.remote_root, p))
        .collect::<Result<Vec<_>>>()?;
    let times = proof::mdtm_many(conn, &full)?;
    for (path, secs) in wanted.into_iter().zip(times) {
        if let Some(Node::File(info)) = remote.nodes.get_mut(&path) {
            info.mtime = secs;
        }
    }
    Ok(())
}

/// `--checksum`: equal content by the server's hash is skipped whatever the times; where
/// the server gives no hash, size and time decide (said once).
fn settle_checks(
    conn: &mut Connection,
    request: &Request,
    plan: &mut Plan,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let mut no_hash = false;
    for check in std::mem::take(&mut plan.checks) {
        let remote = at(&request.remote_root, &check.path)?;
        let local = request.local_root.join(crate::text::to_os(&check.path));
        let verify = match request.policy.verify {
            crate::verify::Verify::None | crate::verify::Verify::Size => {
                crate::verify::Verify::Auto
            }
            v => v,
        };
        let decided = match proof::same_content(conn, &remote, &local, check.size, verify)? {
            Some((true, ..)) => None,
            Some((false, ..)) => Some(Reason::Content),
            None => {
                no_hash = true;
                check.fallback
            }
        };
        match decided {
            None => plan.skipped += 1,
            Some(reason) => plan.transfers.push(Transfer {
                path: check.path,
                reason,
                size: Some(check.size),
            }),
        }
    }
    if no_hash {
        warnings.push(
            "--checksum: the server offers no hash command; files of equal size were compared by time"
                .into(),
        );
    }
    Ok(())
}

/// Runs a prepared plan: directories, transfers (atomic, proven, times kept), then the
/// deletes if and only if nothing failed and `--max-delete` allows them.
pub fn execute(conn: &mut Connection, prepared: Prepared, bars: &dyn Bars) -> Report {
    let Prepared {
        request,
        plan,
        warnings,
        failures,
        started,
        dest_parts,
        ..
    } = prepared;
    let mut report = Report {
        skipped: plan.skipped,
        notices: warnings,
        failures,
        ..Report::default()
    };
    let remote_path = |rel: &str| -> Result<RemotePath> {
        let p = at(&request.remote_root, rel)?;
        match &request.absolute_base {
            Some(base) if request.parallel.is_some() && !p.starts_with('/') => at(base, &p),
            _ => Ok(p),
        }
    };
    // Directories, parents first; a directory that cannot be made fails the files below it.
    let mut dirs: Vec<&str> = Vec::new();
    if plan.create_root {
        dirs.push("");
    }
    dirs.extend(plan.mkdirs.iter().map(String::as_str));
    let mut failed_dirs: BTreeSet<String> = BTreeSet::new();
    for dir in dirs {
        let made = if request.download {
            let path = request.local_root.join(crate::text::to_os(dir));
            let r = if dir.is_empty() {
                std::fs::create_dir_all(&path)
            } else {
                std::fs::create_dir(&path)
            };
            r.map_err(|e| Error::local(path.display(), &e))
        } else if dir.is_empty() {
            // With its parents, and fine when another client made it meanwhile.
            ops::mkdir_p(conn, &request.remote_root, request.restore.as_ref()).map(|_| ())
        } else {
            at(&request.remote_root, dir)
                .and_then(|p| ops::mkdir(conn, &p))
                .map(|_| ())
        };
        match made {
            Ok(()) => {
                report.dirs_created += 1;
                let name = if dir.is_empty() { "." } else { dir };
                report.actions.push(("mkdir", name.to_string()));
            }
            Err(e) => {
                let name = if dir.is_empty() { "." } else { dir };
                failed_dirs.insert(dir.to_string());
                let fatal = matches!(e.kind(), Kind::Interrupted | Kind::Connection);
                report
                    .failures
                    .push((name.to_string(), e.context(format!("mkdir {name}"))));
                if fatal || dir.is_empty() {
                    report.elapsed = started.elapsed();
                    report.deletes_withheld = withheld(&plan, "a directory could not be made");
                    return report;
                }
            }
        }
    }
    let mut policy = request.policy.clone();
    policy.preserve = true;
    policy.resume = false;
    policy.keep_parts = true;
    let mut jobs: Vec<Job> = Vec::new();
    let wanted = plan.transfers.iter().filter(|t| {
        !failed_dirs
            .iter()
            .any(|d| t.path.starts_with(&format!("{d}/")))
    });
    for t in wanted {
        match remote_path(&t.path) {
            Ok(remote) => jobs.push(Job {
                download: request.download,
                remote,
                local: request.local_root.join(crate::text::to_os(&t.path)),
                delete_source: false,
            }),
            Err(e) => report.failures.push((t.path.clone(), e)),
        }
    }
    // An upload asks the server for its part only where the listing saw one (a SIZE
    // saved for every other file): those go first, in a batch of their own.
    let (with_part, jobs): (Vec<Job>, Vec<Job>) = jobs.into_iter().partition(|j| {
        !j.download
            && j.local
                .strip_prefix(&request.local_root)
                .ok()
                .and_then(|rel| rel.to_str())
                .is_some_and(|rel| dest_parts.contains(&part_of(rel)))
    });
    let run_batch = |conn: &mut Connection, jobs: Vec<Job>, policy: &Policy| match &request.parallel
    {
        Some(p) if p.n > 1 && jobs.len() > 1 => {
            // The walk's connection works too: N - 1 more logins.
            let logins = jobs::start_logins(&p.login, p.n - 1);
            jobs::run_parallel(Some(conn), logins, &p.cancel, jobs, bars, policy)
        }
        _ => jobs::run_sequential(conn, &jobs, bars, policy),
    };
    let mut outcome = Outcome::default();
    if !with_part.is_empty() {
        let continuing = Policy {
            continue_parts: true,
            ..policy.clone()
        };
        outcome = run_batch(conn, with_part, &continuing);
    }
    let stopped = outcome
        .failures
        .iter()
        .any(|(_, e)| matches!(e.kind(), Kind::Interrupted | Kind::Connection));
    if !stopped && !jobs.is_empty() {
        let rest = run_batch(conn, jobs, &policy);
        outcome.files += rest.files;
        outcome.bytes += rest.bytes;
        outcome.hash_checked += rest.hash_checked;
        outcome.size_checked += rest.size_checked;
        outcome.notices.extend(rest.notices);
        outcome.done.extend(rest.done);
        outcome.failures.extend(rest.failures);
    }
    report.transferred = outcome.files;
    report.bytes = outcome.bytes;
    report.hash_checked = outcome.hash_checked;
    report.size_checked = outcome.size_checked;
    report.notices.extend(outcome.notices);
    report.done = outcome.done;
    let fatal = outcome
        .failures
        .iter()
        .any(|(_, e)| matches!(e.kind(), Kind::Interrupted | Kind::Connection));
    report.failures.extend(outcome.failures);
    if !fatal {
        remove_stale_parts(conn, &request, &plan, dest_parts, &mut report);
    }
    if plan.delete_count() > 0 {
        if !report.failures.is_empty() {
            report.deletes_withheld = withheld(
                &plan,
                &format!(
                    "{} failure{} in this run",
                    report.failures.len(),
                    if report.failures.len() == 1 { "" } else { "s" }
                ),
            );
        } else if let Some(max) = request.max_delete.filter(|&m| plan.delete_count() > m) {
            report.deletes_withheld = Some(Error::usage(format!(
                "--max-delete {max}: {} deletes were planned; none done",
                plan.delete_count()
            )));
        } else if !fatal {
            delete_all(conn, &request, &plan, &mut report);
        }
    }
    report.elapsed = started.elapsed();
    report
}

/// `root/rel` on the server (`rel` is a relative path made of names already checked).
fn at(root: &RemotePath, rel: &str) -> Result<RemotePath> {
    Ok(root.join(rel)?)
}

fn withheld(plan: &Plan, why: &str) -> Option<Error> {
    (plan.delete_count() > 0).then(|| {
        Error::new(
            Kind::NotConfirmed,
            format!(
                "nothing deleted: {why} ({} deletes planned)",
                plan.delete_count()
            ),
        )
    })
}

/// The fixed part name of the file at `rel` (`d/.NAME.3700ftp-part`).
fn part_of(rel: &str) -> String {
    let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    let part = format!(
        ".{}{}",
        crate::session::local::short_name(name),
        crate::session::local::PART_SUFFIX
    );
    super::walk::rel_join(dir, &part)
}

/// Removes the destination's temporary files that no transfer of this run continued: parts
/// of files no longer in the source (or complete now), and leftovers of other runs.
fn remove_stale_parts(
    conn: &mut Connection,
    request: &Request,
    plan: &Plan,
    parts: Vec<String>,
    report: &mut Report,
) {
    let kept: BTreeSet<String> = plan.transfers.iter().map(|t| part_of(&t.path)).collect();
    for part in parts.into_iter().filter(|p| !kept.contains(p)) {
        let done = if request.download {
            let local = request.local_root.join(&part);
            std::fs::remove_file(&local).map_err(|e| Error::local(local.display(), &e))
        } else {
            at(&request.remote_root, &part)
                .and_then(|p| ops::delete(conn, &p))
                .map(|_| ())
        };
        match done {
            Ok(()) => report
                .notices
                .push(format!("removed the leftover temporary file {part}")),
            Err(e) => report.notices.push(format!(
                "could not remove the leftover temporary file {part}: {e}"
            )),
        }
    }
}

fn delete_all(conn: &mut Connection, request: &Request, plan: &Plan, report: &mut Report) {
    for path in &plan.deletes {
        let done = if request.download {
            let local = request.local_root.join(crate::text::to_os(path));
            std::fs::remove_file(&local).map_err(|e| Error::local(local.display(), &e))
        } else {
            at(&request.remote_root, path)
                .and_then(|p| ops::delete(conn, &p))
                .map(|_| ())
        };
        match done {
            Ok(()) => {
                report.deleted += 1;
                report.actions.push(("rm", path.clone()));
            }
            Err(e) => report
                .failures
                .push((path.clone(), e.context(format!("rm {path}")))),
        }
    }
    for dir in &plan.rmdirs {
        let done = if request.download {
            let local = request.local_root.join(crate::text::to_os(dir));
            std::fs::remove_dir(&local).map_err(|e| Error::local(local.display(), &e))
        } else {
            at(&request.remote_root, dir)
                .and_then(|p| ops::rmdir(conn, &p))
                .map(|_| ())
        };
        match done {
            Ok(()) => {
                report.dirs_removed += 1;
                report.actions.push(("rmdir", dir.clone()));
            }
            Err(e) => report
                .failures
                .push((dir.clone(), e.context(format!("rmdir {dir}")))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::walk::exact_time;
    use super::*;

    #[test]
    fn remote_paths_join() {
        let j = |root: &str, rel: &str| at(&RemotePath::new(root).unwrap(), rel).unwrap();
        assert_eq!(j("", "a/b").as_str(), "a/b");
        assert_eq!(j("/", "a").as_str(), "/a");
        assert_eq!(j("/x/", "a").as_str(), "/x/a");
        assert_eq!(j("/x", "a").as_str(), "/x/a");
        assert_eq!(j("/x", "").as_str(), "/x");
        assert!(at(&RemotePath::new("/x").unwrap(), "a\r\nDELE b").is_err());
    }

    #[test]
    fn only_mlsd_times_are_exact() {
        assert_eq!(exact_time(Some("1970-01-02T00:00:00Z")), Some(86_400));
        assert_eq!(exact_time(Some("2024-01-31")), None);
        assert_eq!(exact_time(Some("--01-31T10:00")), None);
        assert_eq!(exact_time(None), None);
    }

    #[test]
    fn local_walks_skip_links_and_honour_filters() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/skip")).unwrap();
        std::fs::write(root.join("a/f.txt"), b"1").unwrap();
        std::fs::write(root.join("a/skip/g"), b"1").unwrap();
        std::fs::write(root.join("x.log"), b"1").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("a", root.join("link")).unwrap();
        let mut filter = Filter::default();
        filter.push(
            super::super::filter::Verdict::Exclude,
            super::super::filter::Pattern::new("skip/").unwrap(),
        );
        filter.push(
            super::super::filter::Verdict::Exclude,
            super::super::filter::Pattern::new("*.log").unwrap(),
        );
        let mut walk = Walk::new(&filter, Excluded::Keep);
        walk_local(root, &mut walk, false).unwrap();
        let got: Vec<(&str, bool)> = walk
            .tree
            .nodes
            .iter()
            .map(|(p, n)| (p.as_str(), *n == Node::Other))
            .collect();
        let mut want = vec![
            ("a", false),
            ("a/f.txt", false),
            ("a/skip", true),
            ("x.log", true),
        ];
        if cfg!(unix) {
            want.insert(2, ("link", true));
            want.sort();
        }
        assert_eq!(got, want);
        let mut missing = Walk::new(&filter, Excluded::Drop);
        walk_local(&root.join("nope"), &mut missing, true).unwrap();
        assert!(!missing.tree.root_exists);
    }
}
