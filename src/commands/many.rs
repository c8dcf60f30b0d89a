//! Multi-file operations: wildcards (`cp ftp://h/dir/*.txt .`, `put *.log`, `rm *.tmp`) and
//! whole trees (`cp -r`, `mv -r`): the operands are resolved here, the plan is made by
//! [`crate::session::plan`] and run by [`crate::session::jobs`], and the report is shown.

use std::path::PathBuf;

use super::options::Opts;
use crate::ctx::{Ctx, Remote};
use crate::error::{Error, Kind, Result};
use crate::ftp::connection::Connection;
use crate::ftp::list::Kind as EntryKind;
use crate::glob;
use crate::output::Bar;
use crate::remote_path::RemotePath;
use crate::session::jobs::{self, Job, Outcome};
use crate::session::listing::{self, Want};
use crate::session::ops;
use crate::session::plan::{
    last_component, remove_remote_dirs, safe_name, skip_reason, walk_local, walk_remote, Planned,
};

/// Local sources of an upload.
pub(super) enum Sources {
    /// Files a wildcard matched.
    Files(Vec<PathBuf>),
    /// A directory tree (`-r`).
    Tree(PathBuf),
}

/// Downloads what a remote pattern matches, or a remote tree, into `local`.
pub(super) fn many_down(
    ctx: &mut Ctx,
    verb: &str,
    remote: Remote,
    local: PathBuf,
    opts: Opts,
) -> Result<()> {
    let shown = format!(
        "{verb} {}",
        remote.pattern.as_deref().unwrap_or(&remote.path)
    );
    let restore = session_cwd(ctx, &remote);
    let absolute_base = absolute_base(ctx, &remote);
    let bars_enabled = ctx.progress && !ctx.verbose;
    let mut opts = opts.for_many();
    opts.policy.login = ctx.reconnector(&remote);
    let login = worker_login(ctx, &remote, opts.parallel)?;
    let cancel = ctx.opts.cancel.clone();
    let result = ctx.with_conn(&remote, |conn, _| {
        // This connection is up: the other workers log in while it lists.
        let early = login.map(|(login, n)| jobs::start_logins(&login, n));
        // The setup the transfers need, with FEAT (pipelined, one round trip): it also
        // says whether MLSD exists before a listing tries it.
        conn.ensure_binary()?;
        let walked = remote.pattern.as_deref().unwrap_or(&remote.path);
        let restore = return_dir(conn, restore, walked)?;
        let mut plan = Planned::default();
        if let Some(pattern) = &remote.pattern {
            if !local.is_dir() {
                return Err(Error::new(
                    Kind::Local,
                    format!(
                        "{}: not a directory (several files need one)",
                        local.display()
                    ),
                ));
            }
            let (dir, pat) = glob::split(pattern);
            let dir = RemotePath::new(dir)?;
            let entries = listing::fetch(conn, &dir, Want::Entries, restore.as_ref())?;
            let mut matched = 0;
            for e in entries {
                // The name exactly as listed: a server's `../x` or `a/b` is skipped below,
                // never shortened into a name the listing did not give.
                let name = e.name.clone();
                if e.kind == EntryKind::Unknown || !glob::matches(&pat, &name) {
                    continue;
                }
                matched += 1;
                if let Some(why) = skip_reason("", &name) {
                    plan.warnings.push(why);
                    continue;
                }
                let path = dir.join(&name)?;
                match e.kind {
                    EntryKind::File => plan.jobs.push(Job {
                        download: true,
                        remote: path,
                        local: local.join(crate::text::to_os(&name)),
                        delete_source: opts.delete_source,
                    }),
                    EntryKind::Dir if opts.recursive => walk_remote(
                        conn,
                        &path,
                        &local.join(crate::text::to_os(&name)),
                        1,
                        opts.delete_source,
                        restore.as_ref(),
                        &mut plan,
                    )?,
                    EntryKind::Dir => plan
                        .warnings
                        .push(format!("skipping directory {path} (use -r)")),
                    _ => plan
                        .warnings
                        .push(format!("not following symbolic link {path}")),
                }
            }
            if matched == 0 {
                return Err(Error::new(
                    Kind::Refused,
                    format!("no remote file matches {pat}"),
                ));
            }
        } else {
            let name = last_component(&remote.path);
            let target = if local.is_dir() && safe_name(name) {
                local.join(crate::text::to_os(name))
            } else {
                local.clone()
            };
            walk_remote(
                conn,
                &remote.path,
                &target,
                0,
                opts.delete_source,
                restore.as_ref(),
                &mut plan,
            )?;
        }
        for dir in &plan.local_dirs {
            std::fs::create_dir_all(dir).map_err(|e| Error::local(dir.display(), &e))?;
        }
        if let Some(base) = &absolute_base {
            for job in &mut plan.jobs {
                if !job.remote.starts_with('/') {
                    job.remote = base.join(&job.remote)?;
                }
            }
        }
        let o = run_jobs(
            conn,
            early,
            &cancel,
            &mut plan.jobs,
            bars_enabled,
            &opts.policy,
        );
        if o.failures.is_empty() {
            remove_remote_dirs(conn, &plan.remove_remote_dirs, &mut plan.warnings);
        }
        Ok((plan, o))
    });
    let (plan, outcome) = result.map_err(|e| e.context(shown.clone()))?;
    finish(ctx, (verb, true), &remote, plan, outcome, opts, shown)
}

/// Uploads the files a local pattern matched, or a local tree, under `remote`.
pub(super) fn many_up(
    ctx: &mut Ctx,
    verb: &str,
    sources: Sources,
    remote: Remote,
    opts: Opts,
) -> Result<()> {
    let shown = format!("{verb} {}", remote.shown());
    let mut plan = Planned::default();
    let base_dir = remote.path.clone();
    match &sources {
        Sources::Files(files) => {
            if !remote.names_directory() {
                return Err(Error::usage(format!(
                    "{shown}: several files need a remote directory (end the path with /)"
                )));
            }
            for f in files {
                let Some(name) = f.file_name().map(crate::text::from_os) else {
                    continue;
                };
                plan.jobs.push(Job {
                    download: false,
                    remote: base_dir.join(&name)?,
                    local: f.clone(),
                    delete_source: opts.delete_source,
                });
            }
        }
        Sources::Tree(dir) => {
            let meta =
                std::fs::symlink_metadata(dir).map_err(|e| Error::local(dir.display(), &e))?;
            if !meta.is_dir() {
                return Err(Error::new(
                    Kind::Local,
                    format!("{}: not a directory", dir.display()),
                ));
            }
            let name = dir
                .canonicalize()
                .ok()
                .and_then(|p| p.file_name().map(crate::text::from_os))
                .unwrap_or_default();
            let target = if remote.names_directory() && !name.is_empty() {
                base_dir.join(&name)?
            } else {
                RemotePath::new(base_dir.trim_end_matches('/'))?
            };
            walk_local(dir, &target, 0, opts.delete_source, &mut plan)?;
        }
    }
    let absolute_base = absolute_base(ctx, &remote);
    if let Some(base) = &absolute_base {
        for job in &mut plan.jobs {
            if !job.remote.starts_with('/') {
                job.remote = base.join(&job.remote)?;
            }
        }
    }
    let bars_enabled = ctx.progress && !ctx.verbose;
    let mut opts = opts.for_many();
    opts.policy.login = ctx.reconnector(&remote);
    let login = worker_login(ctx, &remote, opts.parallel)?;
    let cancel = ctx.opts.cancel.clone();
    // --create-dirs: the directory the files go into, with its parents.
    let create = match &sources {
        _ if !opts.create_dirs => None,
        Sources::Files(_) => Some(base_dir.clone()),
        Sources::Tree(_) => plan.remote_dirs.first().cloned(),
    };
    let restore = session_cwd(ctx, &remote);
    let result = ctx.with_conn(&remote, |conn, _| {
        let early = login.map(|(login, n)| jobs::start_logins(&login, n));
        if let Some(dir) = &create {
            ops::mkdir_p(conn, dir, restore.as_ref())?;
        }
        for dir in &plan.remote_dirs {
            // An existing directory refuses MKD; a real problem shows in the uploads.
            ops::mkdir_if_missing(conn, dir)?;
        }
        let o = run_jobs(
            conn,
            early,
            &cancel,
            &mut plan.jobs,
            bars_enabled,
            &opts.policy,
        );
        Ok(o)
    });
    let outcome = result.map_err(|e| e.context(shown.clone()))?;
    if outcome.failures.is_empty() {
        for dir in plan.remove_local_dirs.drain(..) {
            if let Err(e) = std::fs::remove_dir(&dir) {
                plan.warnings.push(format!(
                    "{} was not removed: {}",
                    dir.display(),
                    crate::error::describe_io(&e)
                ));
            }
        }
    }
    finish(ctx, (verb, false), &remote, plan, outcome, opts, shown)
}

/// With `-j N` (N > 1; multi-file operations default to
/// [`super::options::DEFAULT_PARALLEL`]): how the other N - 1 workers log in. They are
/// started once the command's own connection is up, before the listing or walk that makes
/// the job list, so they log in while it runs; the connection that listed works as the Nth.
fn worker_login(ctx: &mut Ctx, remote: &Remote, n: usize) -> Result<Option<(jobs::Login, usize)>> {
    if n <= 1 {
        return Ok(None);
    }
    let url = match (&remote.url, &ctx.session) {
        (Some(u), _) if !ctx.uses_session(remote) => u.clone(),
        (_, Some(s)) => s.url.clone(),
        (Some(u), None) => u.clone(),
        (None, None) => return Err(Error::usage("not connected")),
    };
    let login: jobs::Login = std::sync::Arc::new(ctx.connector(&url)?);
    Ok(Some((login, n - 1)))
}

/// Runs the jobs: over the listing's connection and the early logins when there are any
/// and more than one file, else one after another on `conn`.
fn run_jobs(
    conn: &mut Connection,
    early: Option<jobs::Logins>,
    cancel: &std::sync::Arc<std::sync::atomic::AtomicBool>,
    jobs: &mut Vec<Job>,
    bars_enabled: bool,
    policy: &crate::session::transfer::Policy,
) -> Outcome {
    let mut bars = Bar::many(bars_enabled, jobs.len() as u64).watching(cancel.clone());
    let o = match early {
        Some(logins) if jobs.len() > 1 => jobs::run_parallel(
            Some(conn),
            logins,
            cancel,
            std::mem::take(jobs),
            &bars,
            policy,
        ),
        _ => jobs::run_sequential(conn, jobs, &bars, policy),
    };
    bars.finish_all();
    o
}

/// Prints warnings and the summary, and turns the outcome into the command's result.
fn finish(
    ctx: &mut Ctx,
    (verb, download): (&str, bool),
    remote: &Remote,
    plan: Planned,
    outcome: Outcome,
    opts: Opts,
    shown: String,
) -> Result<()> {
    for w in plan.warnings.iter().chain(outcome.notices.iter()) {
        ctx.out.notice(w);
    }
    super::records::of_run(
        ctx,
        verb,
        remote,
        download,
        &outcome.done,
        &outcome.failures,
    );
    for (what, err) in &outcome.failures {
        ctx.out
            .error(&Error::new(err.kind(), err.to_string()).context(what.clone()));
    }
    if outcome.failures.is_empty() && ctx.report {
        // At the prompt: one plain line, worded as a summary, on stdout.
        if !opts.quiet {
            ctx.out.line(&crate::report::summary_line(&outcome));
        }
    } else if outcome.failures.is_empty() {
        ctx.out.status(&format!("{}: {}", shown, outcome.summary()));
    }
    outcome.into_result().map_err(|e| e.context(shown))
}

/// The session's working directory when `remote` is on the session's server: where a
/// listing or a CWD probe that moved the connection returns to.
pub(super) fn session_cwd(ctx: &Ctx, remote: &Remote) -> Option<RemotePath> {
    if ctx.uses_session(remote) {
        ctx.session.as_ref().and_then(|s| s.cwd.clone())
    } else {
        None
    }
}

/// Where a listing that had to enter a directory (CWD) returns to: the session's working
/// directory, or, for a path relative to the login directory (`ftp://h/~/dir/*.txt`) on a
/// connection of its own, the login directory, asked once with PWD. Relative job paths are
/// resolved from there, so the connection must not stay where a listing left it.
fn return_dir(
    conn: &mut Connection,
    restore: Option<RemotePath>,
    path: &str,
) -> Result<Option<RemotePath>> {
    if restore.is_some() || path.starts_with('/') {
        return Ok(restore);
    }
    ops::pwd(conn).map(Some)
}

/// Where relative job paths start, for connections that did not `cd` (parallel workers).
fn absolute_base(ctx: &Ctx, remote: &Remote) -> Option<RemotePath> {
    if remote.url.is_none() {
        ctx.session.as_ref().and_then(|s| s.cwd.clone())
    } else {
        None
    }
}

/// `rm` with a wildcard: deletes every matching file, accounting for each.
pub(super) fn rm_many(ctx: &mut Ctx, remote: Remote) -> Result<()> {
    let pattern = remote.pattern.clone().unwrap_or_default();
    let shown = format!("rm {pattern}");
    let restore = session_cwd(ctx, &remote);
    let result = ctx.with_conn(&remote, |conn, _| {
        let restore = return_dir(conn, restore, &pattern)?;
        let (dir, pat) = glob::split(&pattern);
        let dir = RemotePath::new(dir)?;
        let entries = listing::fetch(conn, &dir, Want::Entries, restore.as_ref())?;
        let mut names = Vec::new();
        let mut unsafe_names = Vec::new();
        for e in entries.iter().filter(|e| e.kind == EntryKind::File) {
            if !glob::matches(&pat, &e.name) {
                continue;
            }
            if safe_name(&e.name) {
                names.push(e.name.clone());
            } else {
                unsafe_names.push(format!(
                    "skipping unsafe name from the server: {:?}",
                    e.name
                ));
            }
        }
        if names.is_empty() {
            return Err(Error::new(
                Kind::Refused,
                format!("no remote file matches {pat}"),
            ));
        }
        let mut outcome = Outcome {
            notices: unsafe_names,
            ..Outcome::default()
        };
        let mut deleted = Vec::new();
        for name in names {
            // A safe name (no control character) joins without a refusal.
            let path = dir.join(&name)?;
            let began = std::time::Instant::now();
            match ops::delete(conn, &path) {
                Ok(code) => {
                    outcome.files += 1;
                    deleted.push((path, Ok(code), began.elapsed()));
                }
                Err(e) => {
                    deleted.push((path.clone(), Err(e.clone()), began.elapsed()));
                    outcome.failures.push((path.to_string(), e));
                }
            }
        }
        Ok((outcome, deleted))
    });
    let (outcome, deleted) = result.map_err(|e| e.context(shown.clone()))?;
    for (path, result, elapsed) in &deleted {
        super::records::of_op(ctx, "rm", &remote, path, result, *elapsed);
    }
    for w in &outcome.notices {
        ctx.out.notice(w);
    }
    for (what, err) in &outcome.failures {
        ctx.out
            .error(&Error::new(err.kind(), err.to_string()).context(what.clone()));
    }
    match outcome.failures.first() {
        None => {
            if outcome.files > 1 {
                ctx.out
                    .status(&format!("{shown}: {} deleted", outcome.files));
            }
            Ok(())
        }
        Some((_, first)) => {
            let mut e = Error::new(
                first.kind(),
                format!(
                    "{} deleted, {} failed",
                    outcome.files,
                    outcome.failures.len()
                ),
            );
            if let Some(code) = first.code() {
                e = e.with_code(code);
            }
            Err(e.context(shown))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_names_are_refused() {
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "/etc",
            "..\\x",
            "a\0b",
            "a\nb",
            "\u{1b}[31m",
        ] {
            assert!(!safe_name(bad), "{bad:?}");
        }
        for good in ["a", "a b", "ünï", ".hidden", "..dots", "a..b"] {
            assert!(safe_name(good), "{good:?}");
        }
    }
}
