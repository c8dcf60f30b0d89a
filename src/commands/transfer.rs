//! Commands that move files: cp, mv (argv operands: one URL, one local path) and get, put
//! (session short forms: plain remote and local paths).
//!
//! `mv` is copy, prove, then delete the source: single files and many go through the one
//! [`jobs::copy_then_delete`], which deletes only after a proof made in this run.

use std::path::{Path, PathBuf};

use super::options::{destination, Opts, GET_FLAGS, PUT_FLAGS, TRANSFER_FLAGS};
use super::{ArgKind, Args, Scope, Spec};
use crate::ctx::{Ctx, Remote};
use crate::error::{Error, Result};
use crate::session::jobs::{self, Job};
use crate::session::{download, ops, upload};

use super::many::{many_down, many_up, Sources};
use super::records;

pub(super) const CP: Spec = Spec {
    name: "cp",
    aliases: &["copy"],
    usage: "SRC DST",
    summary: "copy a file between here and the server (one operand is an ftp:// URL)",
    args: &[ArgKind::Either, ArgKind::Either],
    min_args: 2,
    flags: TRANSFER_FLAGS,
    scope: Scope::Everywhere,
    run: cp,
};

pub(super) const MV: Spec = Spec {
    name: "mv",
    aliases: &["move"],
    usage: "SRC DST",
    summary: "move a file: copy, verify, then delete the source",
    args: &[ArgKind::Either, ArgKind::Either],
    min_args: 2,
    flags: TRANSFER_FLAGS,
    scope: Scope::Everywhere,
    run: mv,
};

pub(super) const CAT: Spec = Spec {
    name: "cat",
    aliases: &[],
    usage: "REMOTE",
    summary:
        "write a remote file to standard output (escaped on a terminal); cp URL - does the same",
    args: &[ArgKind::Remote],
    min_args: 1,
    flags: &[],
    scope: Scope::Everywhere,
    run: cat,
};

pub(super) const GET: Spec = Spec {
    name: "get",
    aliases: &["download"],
    usage: "REMOTE [LOCAL]",
    summary: "download a remote file (to the local directory by default)",
    args: &[ArgKind::Remote, ArgKind::Local],
    min_args: 1,
    flags: GET_FLAGS,
    scope: Scope::SessionOnly,
    run: get,
};

pub(super) const PUT: Spec = Spec {
    name: "put",
    aliases: &["upload"],
    usage: "LOCAL [REMOTE]",
    summary: "upload a local file (to the remote directory by default)",
    args: &[ArgKind::Local, ArgKind::Remote],
    min_args: 1,
    flags: PUT_FLAGS,
    scope: Scope::SessionOnly,
    run: put,
};

pub(super) const MGET: Spec = Spec {
    name: "mget",
    aliases: &[],
    usage: "REMOTE...",
    summary: "download each remote file or pattern into the local directory (-O DIR: into DIR)",
    args: &[ArgKind::Remote],
    min_args: 1,
    flags: GET_FLAGS,
    scope: Scope::SessionOnly,
    run: mget,
};

pub(super) const MPUT: Spec = Spec {
    name: "mput",
    aliases: &[],
    usage: "LOCAL...",
    summary: "upload each local file or pattern into the remote directory (-O DIR: into DIR)",
    args: &[ArgKind::Local],
    min_args: 1,
    flags: PUT_FLAGS,
    scope: Scope::SessionOnly,
    run: mput,
};

/// One direction of a copy, with both ends resolved.
enum Plan {
    Download {
        remote: Remote,
        local: PathBuf,
    },
    /// `probe`: the remote path was named without a trailing `/`, so it may be an existing
    /// directory the file goes into.
    Upload {
        local: PathBuf,
        remote: Remote,
        probe: bool,
    },
}

fn cp(ctx: &mut Ctx, args: &Args) -> Result<()> {
    copy(
        ctx,
        "cp",
        &args.pos[0],
        &args.pos[1],
        Opts::from(ctx, args, false)?,
    )
}

fn mv(ctx: &mut Ctx, args: &Args) -> Result<()> {
    copy(
        ctx,
        "mv",
        &args.pos[0],
        &args.pos[1],
        Opts::from(ctx, args, true)?,
    )
}

fn get(ctx: &mut Ctx, args: &Args) -> Result<()> {
    let opts = Opts::from(ctx, args, false)?;
    let remote = ctx.remote(&args.pos[0])?;
    let dest = destination("get", args)?;
    let local_word = dest.as_deref().unwrap_or(".");
    if remote.pattern.is_some() || opts.recursive {
        return many_down(ctx, "get", remote, ctx.local(local_word), opts);
    }
    let local = download_target("get", &remote, ctx.local(local_word))?;
    run_plan(ctx, "get", Plan::Download { remote, local }, opts)
}

/// `mget A B C` (BSD ftp's, lftp's): `get` of each operand into the local directory.
fn mget(ctx: &mut Ctx, args: &Args) -> Result<()> {
    super::each_operand(ctx, "mget", args, get)
}

/// `mput A B C`: `put` of each operand into the remote directory.
fn mput(ctx: &mut Ctx, args: &Args) -> Result<()> {
    super::each_operand(ctx, "mput", args, put)
}

fn put(ctx: &mut Ctx, args: &Args) -> Result<()> {
    let opts = Opts::from(ctx, args, false)?;
    let dest = destination("put", args)?;
    let remote = ctx.remote(dest.as_deref().unwrap_or(""))?;
    if let Some(files) = ctx.local_matches(&args.pos[0])? {
        return many_up(ctx, "put", Sources::Files(files), remote, opts);
    }
    let local = ctx.local(&args.pos[0]);
    if opts.recursive {
        return many_up(ctx, "put", Sources::Tree(local), remote, opts);
    }
    let probe = !remote.names_directory();
    let remote = upload_target(remote, &local)?;
    run_plan(
        ctx,
        "put",
        Plan::Upload {
            local,
            remote,
            probe,
        },
        opts,
    )
}

fn cat(ctx: &mut Ctx, args: &Args) -> Result<()> {
    let opts = Opts::from(ctx, args, false)?;
    to_stdout(ctx, "cat", &args.pos[0], &opts)
}

/// Streams a remote file to stdout; on a terminal its control characters are escaped.
fn to_stdout(ctx: &mut Ctx, verb: &str, operand: &str, opts: &Opts) -> Result<()> {
    let remote = ctx.remote(operand)?;
    let shown = format!("{verb} {}", remote.shown());
    if remote.pattern.is_some() || remote.names_directory() {
        return Err(Error::usage(format!("{shown}: names one file")));
    }
    if ctx.reports_json() {
        return Err(Error::usage(format!(
            "{shown}: --json needs standard output for its records; copy to a file instead"
        )));
    }
    let terminal = ctx.out.out_is_terminal();
    let mut quiet = crate::session::transfer::Quiet;
    let mut settings = crate::session::transfer::Settings::new(&mut quiet, &opts.policy, false);
    ctx.with_conn(&remote, |conn, out| {
        let stream = out.out();
        if terminal {
            let mut safe = crate::terminal_writer::TerminalWriter::new(stream);
            let moved = download::download_to(conn, &remote.path, &mut safe, &mut settings);
            let _ = std::io::Write::flush(&mut safe);
            moved
        } else {
            download::download_to(conn, &remote.path, stream, &mut settings)
        }
    })
    .map(|_| ())
    .map_err(|e| e.context(shown))
}

/// `cp - URL`: standard input, uploaded under a temporary name, renamed when it ends.
fn from_stdin(ctx: &mut Ctx, verb: &str, operand: &str, opts: &Opts) -> Result<()> {
    let remote = ctx.remote(operand)?;
    let shown = format!("{verb} - {}", remote.shown());
    if remote.pattern.is_some() || remote.names_directory() {
        return Err(Error::usage(format!(
            "{shown}: standard input needs a file name at the destination"
        )));
    }
    let mut bar = ctx.progress_bar();
    let mut notices = Vec::new();
    let mut settings = crate::session::transfer::Settings::new(&mut bar, &opts.policy, false);
    let began = std::time::Instant::now();
    let result = ctx.with_conn(&remote, |conn, _| {
        let mut input = std::io::stdin().lock();
        upload::upload_from(conn, &mut input, &remote.path, &mut settings, &mut notices)
    });
    for n in &notices {
        ctx.out.notice(n);
    }
    let result = result.map_err(|e| e.context(shown));
    if ctx.reports_json() {
        let job = Job {
            download: false,
            remote: remote.path.clone(),
            local: PathBuf::from("-"),
            delete_source: false,
        };
        let r = records::of_job(ctx, verb, &remote, &job, result.as_ref(), began.elapsed());
        ctx.emit(r);
    }
    result.map(|_| ())
}

/// cp and mv: exactly one operand is a URL; wildcards and -r make it a multi-file copy.
/// `-` is standard input or output (cp only).
fn copy(ctx: &mut Ctx, verb: &str, src: &str, dst: &str, opts: Opts) -> Result<()> {
    if src == "-" || dst == "-" {
        if verb != "cp" || opts.recursive || opts.policy.resume || (src == "-") == (dst == "-") {
            return Err(Error::usage(format!(
                "{verb}: '-' (standard input or output) works with plain cp, one side a URL"
            )));
        }
        return if dst == "-" {
            to_stdout(ctx, verb, src, &opts)
        } else {
            from_stdin(ctx, verb, dst, &opts)
        };
    }
    match (ctx.is_remote_word(src), ctx.is_remote_word(dst)) {
        (true, false) => {
            let remote = ctx.remote(src)?;
            if remote.pattern.is_some() || opts.recursive {
                return many_down(ctx, verb, remote, ctx.local(dst), opts);
            }
            let local = download_target(verb, &remote, ctx.local(dst))?;
            run_plan(ctx, verb, Plan::Download { remote, local }, opts)
        }
        (false, true) => {
            let remote = ctx.remote(dst)?;
            if let Some(files) = ctx.local_matches(src)? {
                return many_up(ctx, verb, Sources::Files(files), remote, opts);
            }
            let local = ctx.local(src);
            if opts.recursive {
                return many_up(ctx, verb, Sources::Tree(local), remote, opts);
            }
            let probe = !remote.names_directory();
            let remote = upload_target(remote, &local)?;
            run_plan(
                ctx,
                verb,
                Plan::Upload {
                    local,
                    remote,
                    probe,
                },
                opts,
            )
        }
        // mv inside one server is a rename (RNFR/RNTO): nothing is copied.
        (true, true) if verb == "mv" && !opts.recursive => {
            let from = ctx.remote(src)?;
            let to = super::remote::rename_target(ctx, &from, dst)?;
            super::remote::rename_on_server(ctx, verb, from, to)
        }
        (true, true) => Err(Error::usage(format!(
            "{verb}: both operands are URLs; one must be a local path"
        ))),
        (false, false) => Err(Error::usage(format!(
            "{verb}: one operand must be an ftp:// URL (usage: {verb} SRC DST)"
        ))),
    }
}

/// The local file a download writes: inside `local` when it is a directory.
/// "docs is a directory: use get -r", in the words of the command typed.
fn is_a_directory(verb: &str, remote: &Remote) -> Error {
    let path = remote.path.trim_end_matches('/');
    let name = path.rsplit('/').next().filter(|n| !n.is_empty());
    Error::usage(format!(
        "{} is a directory: use {verb} -r",
        name.unwrap_or(remote.shown())
    ))
}

fn download_target(verb: &str, remote: &Remote, local: PathBuf) -> Result<PathBuf> {
    if remote.names_directory() {
        return Err(is_a_directory(verb, remote));
    }
    let name = remote.path.rsplit('/').next().unwrap_or(&remote.path);
    if local.is_dir() {
        return Ok(local.join(crate::text::to_os(name)));
    }
    // `get f nosuch/` or `-O nosuch`: a directory was meant, never a file named after it.
    if local.as_os_str().to_string_lossy().ends_with('/') {
        return Err(Error::new(
            crate::error::Kind::Local,
            format!("{}: no such local directory", local.display()),
        ));
    }
    Ok(local)
}

/// The remote file an upload writes: inside the remote directory when it ends with `/`.
/// Where an upload of `local` goes when `remote` ends in `/`: inside it. (An existing
/// directory named without the slash is found on the transfer's connection, in `run_plan`.)
fn upload_target(mut remote: Remote, local: &Path) -> Result<Remote> {
    if remote.names_directory() {
        let name = local
            .file_name()
            .map(crate::text::from_os)
            .ok_or_else(|| Error::usage(format!("{}: not a file name", local.display())))?;
        remote.path = remote.path.join(&name)?;
    }
    Ok(remote)
}

fn run_plan(ctx: &mut Ctx, verb: &str, plan: Plan, mut opts: Opts) -> Result<()> {
    let base = ctx.local_dir.clone();
    let rel = |p: &Path| p.strip_prefix(&base).unwrap_or(p).display().to_string();
    let (remote, job, shown, probe, checked) = match plan {
        Plan::Download { remote, local } => {
            let shown = format!("{verb} {} {}", remote.shown(), rel(&local));
            let made = if opts.create_dirs {
                create_local_parent(&local)
            } else {
                Ok(())
            };
            let checked = made.and_then(|()| check_local_dir(&local)).and_then(|()| {
                if opts.delete_source {
                    check_keeps_a_file(&local)
                } else {
                    Ok(())
                }
            });
            let job = Job {
                download: true,
                remote: remote.path.clone(),
                local,
                delete_source: opts.delete_source,
            };
            (remote, job, shown, false, checked)
        }
        Plan::Upload {
            local,
            remote,
            probe,
        } => {
            let shown = format!("{verb} {} {}", rel(&local), remote.shown());
            let checked = check_local_file(&local);
            let job = Job {
                download: false,
                remote: remote.path.clone(),
                local,
                delete_source: opts.delete_source,
            };
            (remote, job, shown, probe, checked)
        }
    };
    // Refused before connecting (no directory to download into, nothing to upload).
    if let Err(e) = checked {
        let e = e.context(shown);
        if ctx.reports_json() {
            let r = records::of_job(ctx, verb, &remote, &job, Err(&e), Default::default());
            ctx.emit(r);
        }
        return Err(e);
    }
    let download = job.download;
    let mut bar = ctx.progress_bar();
    let mut notices = Vec::new();
    let restore = super::many::session_cwd(ctx, &remote);
    opts.policy.login = ctx.reconnector(&remote);
    let mut job = job;
    let mut is_dir = false;
    let began = std::time::Instant::now();
    let result = ctx.with_conn(&remote, |conn, _| {
        // An upload onto an existing directory named without its slash goes inside it.
        if probe && ops::is_dir(conn, &job.remote, restore.as_ref())? {
            let name = job
                .local
                .file_name()
                .map(crate::text::from_os)
                .unwrap_or_default();
            job.remote = job.remote.join(&name)?;
        }
        if opts.create_dirs && !job.download && job.remote.contains('/') {
            ops::mkdir_p(conn, &job.remote.parent(), restore.as_ref())?;
        }
        let mut policy = opts.policy.clone();
        if job.download && policy.segments > 1 {
            // The extra connections log in while this one asks for the size, and only
            // once this one is in (a server's per-address limit must not refuse it).
            let early = |l| crate::session::early::early_logins(l, policy.segments - 1);
            policy.login = policy.login.take().map(early);
        }
        let moved = jobs::run_one(conn, &job, &mut bar, &policy, &mut notices);
        // A refused download of a directory: say so, not the server's 550.
        if let Err(e) = &moved {
            if job.download && e.kind() == crate::error::Kind::Refused {
                is_dir = ops::is_dir(conn, &job.remote, restore.as_ref()).unwrap_or(false);
            }
        }
        moved
    });
    for n in &notices {
        ctx.out.notice(n);
    }
    let dest_shown = if download {
        rel(&job.local)
    } else {
        job.remote.to_string()
    };
    let result = match result {
        Ok(moved) => {
            if ctx.report && !opts.quiet {
                ctx.out
                    .line(&crate::report::transfer_line(&dest_shown, &moved));
            }
            Ok(moved)
        }
        Err(_) if is_dir => Err(is_a_directory(verb, &remote)),
        // An interrupted download without -c leaves nothing: say what would have.
        Err(e)
            if e.kind() == crate::error::Kind::Interrupted
                && download
                && !opts.policy.resume
                && ctx.in_session =>
        {
            Err(e
                .also(format!(
                    "nothing kept ({verb} -c would have kept the part received, to continue from)"
                ))
                .context(shown))
        }
        Err(e) => Err(e.context(shown)),
    };
    if ctx.reports_json() {
        let r = records::of_job(ctx, verb, &remote, &job, result.as_ref(), began.elapsed());
        ctx.emit(r);
    }
    result.map(|_| ())
}

/// `mv` to a device or FIFO would delete the source for a copy that is not kept: refused
/// before connecting.
fn check_keeps_a_file(local: &Path) -> Result<()> {
    match crate::session::local::Dest::inspect(local)? {
        crate::session::local::Dest::Special(_) => {
            Err(crate::session::download::special_refused(local))
        }
        _ => Ok(()),
    }
}

/// `--create-dirs` on a download: the local directory and its parents.
fn create_local_parent(local: &Path) -> Result<()> {
    match local.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            std::fs::create_dir_all(dir).map_err(|e| Error::local(dir.display(), &e))
        }
        _ => Ok(()),
    }
}

/// Fails before connecting when the download's directory does not exist.
fn check_local_dir(local: &Path) -> Result<()> {
    let dir = match local.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Error::new(
            crate::error::Kind::Local,
            format!("{}: no such directory", dir.display()),
        ));
    }
    Ok(())
}

/// Fails before connecting when the upload's source is not a readable file.
fn check_local_file(local: &Path) -> Result<()> {
    let meta = std::fs::metadata(local).map_err(|e| Error::local(local.display(), &e))?;
    if meta.is_dir() {
        return Err(Error::new(
            crate::error::Kind::Local,
            format!("{}: is a directory", local.display()),
        ));
    }
    std::fs::File::open(local).map_err(|e| Error::local(local.display(), &e))?;
    Ok(())
}
