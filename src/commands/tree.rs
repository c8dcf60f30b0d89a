//! Commands on whole remote trees, over the walk `mirror` uses ([`crate::session::tree`]):
//! `rm -r`, `mkdir -p`, `ls -R` and `du`.

use super::{ArgKind, Args, Flag, Scope, Spec};
use crate::ctx::{Ctx, Remote};
use crate::error::{Error, Result};
use crate::ftp::list::{Entry, Kind as EntryKind};
use crate::output::ListStyle;
use crate::remote_path::RemotePath;
use crate::session::{ops, tree};

pub(super) const DU: Spec = Spec {
    name: "du",
    aliases: &[],
    usage: "[URL|PATH]",
    summary:
        "bytes under a remote directory: one line per directory, deepest first (-s the total only)",
    args: &[ArgKind::Remote],
    min_args: 0,
    flags: &[
        Flag {
            short: Some('s'),
            long: "summarize",
            value: None,
            value_kind: None,
            help: "the total only",
        },
        Flag {
            short: Some('h'),
            long: "human",
            value: None,
            value_kind: None,
            help: "sizes as 1.5K, 23M",
        },
    ],
    scope: Scope::Everywhere,
    run: du,
};

/// The session's directory and login directory when `remote` is on the session's server.
fn session_dirs(ctx: &Ctx, remote: &Remote) -> (Option<RemotePath>, Option<RemotePath>) {
    match ctx.session.as_ref() {
        Some(s) if ctx.uses_session(remote) => (s.cwd.clone(), s.home.clone()),
        _ => (None, None),
    }
}

fn one_path(ctx: &Ctx, verb: &str, operand: &str) -> Result<Remote> {
    let remote = ctx.remote(operand)?;
    if remote.pattern.is_some() {
        return Err(Error::usage(format!(
            "{verb} {operand}: takes one path, not a wildcard"
        )));
    }
    Ok(remote)
}

/// `rm -r PATH`: the tree removed deepest first; `/`, the login directory and its parents
/// refused without `--force`.
pub(super) fn rm_r(ctx: &mut Ctx, operand: &str, force: bool) -> Result<()> {
    let remote = one_path(ctx, "rm -r", operand)?;
    let shown = format!("rm -r {}", remote.shown());
    let (restore, home) = session_dirs(ctx, &remote);
    let removed = ctx
        .with_conn(&remote, |conn, _| {
            // A connection of its own starts in the login directory.
            let cwd = match restore {
                Some(dir) => dir,
                None => ops::pwd(conn)?,
            };
            let home = home.unwrap_or_else(|| cwd.clone());
            tree::remove(conn, &remote.path, &cwd, &home, force)
        })
        .map_err(|e| e.context(shown.clone()))?;
    for w in &removed.warnings {
        ctx.out.notice(w);
    }
    for (path, err) in &removed.failures {
        ctx.out
            .error(&Error::new(err.kind(), err.to_string()).context(path.clone()));
    }
    let summary = format!(
        "{} file{} and {} director{} removed",
        removed.files,
        if removed.files == 1 { "" } else { "s" },
        removed.dirs,
        if removed.dirs == 1 { "y" } else { "ies" }
    );
    match removed.failures.first() {
        None => {
            ctx.out.status(&format!("{shown}: {summary}"));
            Ok(())
        }
        Some((_, first)) => {
            let mut e = Error::new(
                first.kind(),
                format!("{summary}, {} failed", removed.failures.len()),
            );
            if let Some(code) = first.code() {
                e = e.with_code(code);
            }
            Err(e.context(shown))
        }
    }
}

/// `mkdir -p PATH`: parents made as needed, an existing directory is fine.
pub(super) fn mkdir_p(ctx: &mut Ctx, operand: &str) -> Result<()> {
    let remote = one_path(ctx, "mkdir -p", operand)?;
    let shown = format!("mkdir -p {}", remote.shown());
    let (restore, _) = session_dirs(ctx, &remote);
    ctx.with_conn(&remote, |conn, _| {
        ops::mkdir_p(conn, &remote.path, restore.as_ref())
    })
    .map(|_| ())
    .map_err(|e| e.context(shown))
}

/// `ls -R`: every entry of the tree with its path, sorted by path (a directory before
/// what it holds); names, `-l` lines or JSON objects.
pub(super) fn ls_r(ctx: &mut Ctx, operand: &str, style: ListStyle, all: bool) -> Result<()> {
    let remote = one_path(ctx, "ls -R", operand)?;
    let shown = format!("ls -R {}", remote.shown());
    let (restore, _) = session_dirs(ctx, &remote);
    let listed = ctx
        .with_conn(&remote, |conn, _| {
            tree::list(conn, &remote.path, restore.as_ref(), all)
        })
        .map_err(|e| e.context(shown.clone()))?;
    for w in &listed.warnings {
        ctx.out.notice(w);
    }
    let mut entries: Vec<Entry> = match listed.root_file {
        Some(e) => vec![Entry {
            name: remote.path.to_string(),
            ..e
        }],
        None => {
            let mut entries = listed.entries;
            entries.sort_by(|(a, _), (b, _)| a.split('/').cmp(b.split('/')));
            entries
                .into_iter()
                .map(|(rel, e)| Entry {
                    name: shown_join(&remote.path, &rel),
                    ..e
                })
                .collect()
        }
    };
    if style == ListStyle::Long {
        for e in &mut entries {
            e.raw = long_line(e);
        }
    }
    ctx.out.entries(&entries, style);
    for (path, err) in &listed.failures {
        ctx.out
            .error(&Error::new(err.kind(), err.to_string()).context(path.clone()));
    }
    match listed.failures.into_iter().next() {
        None => Ok(()),
        Some((path, err)) => Err(err.context(format!("{shown}: {path}"))),
    }
}

/// `root/rel` as shown (an empty `root` is the working directory, shown as `rel` alone).
fn shown_join(root: &str, rel: &str) -> String {
    match (root, rel) {
        ("", _) => rel.to_string(),
        (_, "") => root.to_string(),
        _ if root.ends_with('/') => format!("{root}{rel}"),
        _ => format!("{root}/{rel}"),
    }
}

/// One `ls -R -l` line, the same on every server (MLSD has no long line of its own):
/// permissions or type, size, time, path.
fn long_line(e: &Entry) -> String {
    let kind = match e.kind {
        EntryKind::Dir => "d",
        EntryKind::Link => "l",
        EntryKind::File => "-",
        EntryKind::Unknown => "?",
    };
    let perms = e.perms.clone().unwrap_or_else(|| kind.to_string());
    let size = e.size.map_or("-".to_string(), |s| s.to_string());
    let modified = e.modified.as_deref().unwrap_or("-");
    format!("{perms:<10} {size:>12} {modified:<20} {}", e.name)
}

fn du(ctx: &mut Ctx, args: &Args) -> Result<()> {
    if args.pos.is_empty() && !ctx.in_session {
        return Err(Error::usage("usage: du [-s] [-h] URL"));
    }
    let remote = one_path(ctx, "du", args.pos.first().map_or("", String::as_str))?;
    let shown = format!("du {}", remote.shown());
    let (restore, _) = session_dirs(ctx, &remote);
    let listed = ctx
        .with_conn(&remote, |conn, _| {
            tree::list(conn, &remote.path, restore.as_ref(), true)
        })
        .map_err(|e| e.context(shown.clone()))?;
    for w in &listed.warnings {
        ctx.out.notice(w);
    }
    let sizes = match &listed.root_file {
        Some(e) => vec![(String::new(), e.size.unwrap_or(0))],
        None => tree::sizes(&listed.entries),
    };
    let human = args.has("human");
    for (rel, bytes) in &sizes {
        if args.has("summarize") && !rel.is_empty() {
            continue;
        }
        let size = if human {
            human_size(*bytes)
        } else {
            bytes.to_string()
        };
        let path = shown_join(remote.shown(), rel);
        ctx.out.line(&format!("{size}\t{path}"));
    }
    for (path, err) in &listed.failures {
        ctx.out
            .error(&Error::new(err.kind(), err.to_string()).context(path.clone()));
    }
    match listed.failures.into_iter().next() {
        None => Ok(()),
        Some((path, err)) => Err(err.context(format!("{shown}: {path} not counted"))),
    }
}

/// A size as ls -h shows it: bytes below 1024, else one decimal below 10 units (`1.5K`),
/// whole units above (`23M`).
pub(super) fn human_size(n: u64) -> String {
    const UNITS: [&str; 6] = ["K", "M", "G", "T", "P", "E"];
    if n < 1024 {
        return n.to_string();
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if v < 10.0 {
        format!("{:.1}{}", (v * 10.0).ceil() / 10.0, UNITS[unit])
    } else {
        format!("{}{}", v.ceil() as u64, UNITS[unit])
    }
}
