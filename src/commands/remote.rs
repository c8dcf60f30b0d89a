//! Commands on remote paths: mkdir, rm, rmdir, rename, cd, pwd.

use super::{ArgKind, Args, Flag, Scope, Spec};
use crate::ctx::{Ctx, Remote};
use crate::error::{Error, Result};
use crate::ftp::connection::Connection;
use crate::remote_path::RemotePath;
use crate::session::ops;

pub(super) const MKDIR: Spec = Spec {
    name: "mkdir",
    aliases: &[],
    usage: "URL|PATH",
    summary: "create a remote directory (-p: and its parents; an existing one is fine)",
    args: &[ArgKind::Remote],
    min_args: 1,
    flags: &[Flag {
        short: Some('p'),
        long: "parents",
        value: None,
        value_kind: None,
        help: "make missing parents too; no error when the directory exists",
    }],
    scope: Scope::Everywhere,
    run: mkdir,
};

pub(super) const RM: Spec = Spec {
    name: "rm",
    aliases: &["delete"],
    usage: "URL|PATH",
    summary: "delete a remote file (-r: a whole directory tree)",
    args: &[ArgKind::Remote],
    min_args: 1,
    flags: &[
        Flag {
            short: Some('r'),
            long: "recursive",
            value: None,
            value_kind: None,
            help: "remove a directory and everything in it, deepest first",
        },
        Flag {
            short: None,
            long: "force",
            value: None,
            value_kind: None,
            help: "with -r: also the root, the login directory or a parent of it",
        },
    ],
    scope: Scope::Everywhere,
    run: rm,
};

pub(super) const RENAME: Spec = Spec {
    name: "rename",
    aliases: &["ren"],
    usage: "URL|PATH NEW",
    summary: "rename or move a file or directory on the server (NEW: a path there, or a URL on the same server)",
    args: &[ArgKind::Remote, ArgKind::Remote],
    min_args: 2,
    flags: &[],
    scope: Scope::Everywhere,
    run: rename,
};

pub(super) const MDELETE: Spec = Spec {
    name: "mdelete",
    aliases: &["mrm"],
    usage: "PATH...",
    summary: "delete each remote file or pattern",
    args: &[ArgKind::Remote],
    min_args: 1,
    flags: &[],
    scope: Scope::SessionOnly,
    run: mdelete,
};

pub(super) const RMDIR: Spec = Spec {
    name: "rmdir",
    aliases: &[],
    usage: "URL|PATH",
    summary: "delete an empty remote directory",
    args: &[ArgKind::RemoteDir],
    min_args: 1,
    flags: &[],
    scope: Scope::Everywhere,
    run: rmdir,
};

pub(super) const CD: Spec = Spec {
    name: "cd",
    aliases: &["cwd"],
    usage: "[PATH]",
    summary: "change the remote working directory (the login directory when bare)",
    args: &[ArgKind::RemoteDir],
    min_args: 0,
    flags: &[],
    scope: Scope::SessionOnly,
    run: cd,
};

pub(super) const PWD: Spec = Spec {
    name: "pwd",
    aliases: &[],
    usage: "",
    summary: "print the remote working directory",
    args: &[],
    min_args: 0,
    flags: &[],
    scope: Scope::SessionOnly,
    run: pwd,
};

fn simple(
    ctx: &mut Ctx,
    verb: &str,
    operand: &str,
    op: fn(&mut Connection, &RemotePath) -> Result<u16>,
) -> Result<()> {
    let mut remote = ctx.remote(operand)?;
    remote.pattern = None;
    let shown = format!("{verb} {}", remote.shown());
    if remote.path.is_empty() {
        return Err(Error::usage(format!("{verb}: the URL has no path")));
    }
    let began = std::time::Instant::now();
    let result = ctx
        .with_conn(&remote, |conn, _| op(conn, &remote.path))
        .map_err(|e| e.context(shown));
    super::records::of_op(ctx, verb, &remote, &remote.path, &result, began.elapsed());
    result.map(|_| ())
}

fn mkdir(ctx: &mut Ctx, args: &Args) -> Result<()> {
    if args.has("parents") {
        return super::tree::mkdir_p(ctx, &args.pos[0]);
    }
    simple(ctx, "mkdir", &args.pos[0], ops::mkdir)
}

fn mdelete(ctx: &mut Ctx, args: &Args) -> Result<()> {
    super::each_operand(ctx, "mdelete", args, rm)
}

fn rm(ctx: &mut Ctx, args: &Args) -> Result<()> {
    if args.has("recursive") {
        return super::tree::rm_r(ctx, &args.pos[0], args.has("force"));
    }
    if args.has("force") {
        return Err(Error::usage("rm: --force goes with -r"));
    }
    let remote = ctx.remote(&args.pos[0])?;
    if remote.pattern.is_some() {
        return super::many::rm_many(ctx, remote);
    }
    simple(ctx, "rm", &args.pos[0], ops::delete)
}

fn rename(ctx: &mut Ctx, args: &Args) -> Result<()> {
    let from = ctx.remote(&args.pos[0])?;
    let to = rename_target(ctx, &from, &args.pos[1])?;
    rename_on_server(ctx, "rename", from, to)
}

/// Where a rename of `from` goes: `operand` is a URL on the same server, or a path there
/// (absolute, else relative to the session's directory, or in one-shot mode to `from`'s
/// own directory); one ending in `/` keeps the name inside it, as `mv` does.
pub(super) fn rename_target(ctx: &Ctx, from: &Remote, operand: &str) -> Result<RemotePath> {
    let mut to = if ctx.is_remote_word(operand) || ctx.in_session {
        let to = ctx.remote(operand)?;
        if server_of(ctx, from) != server_of(ctx, &to) {
            return Err(Error::usage(format!(
                "rename {} {operand}: both must be on the same server (as the same user)",
                from.shown()
            )));
        }
        to.path.to_string()
    } else if operand.starts_with('/') {
        operand.to_string()
    } else {
        match from.path.trim_end_matches('/').rsplit_once('/') {
            Some((dir, _)) => format!("{dir}/{operand}"),
            None => operand.to_string(),
        }
    };
    if to.is_empty() || to.ends_with('/') {
        let name = from
            .path
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("");
        to.push_str(name);
    }
    Ok(RemotePath::new(to)?)
}

/// The server an operand is on: its URL's, or the session's for a plain path.
fn server_of(ctx: &Ctx, r: &Remote) -> Option<(String, u16, String)> {
    let url = r.url.as_ref().or(ctx.session.as_ref().map(|s| &s.url))?;
    Some((url.host.to_ascii_lowercase(), url.port, url.user.clone()))
}

/// RNFR then RNTO: a rename inside the server, no data moved.
pub(super) fn rename_on_server(
    ctx: &mut Ctx,
    op: &str,
    from: Remote,
    to: RemotePath,
) -> Result<()> {
    let shown = format!("rename {} {to}", from.shown());
    if from.pattern.is_some() {
        return Err(Error::usage(format!(
            "{shown}: rename takes one path, not a wildcard"
        )));
    }
    if from.path.is_empty() || to.is_empty() {
        return Err(Error::usage(format!("{shown}: both need a path")));
    }
    let began = std::time::Instant::now();
    let result = ctx
        .with_conn(&from, |conn, _| ops::rename(conn, &from.path, &to))
        .map_err(|e| e.context(shown));
    if ctx.reports_json() {
        let mut r = crate::record::Record::new(op, "rename");
        r.source = Some(super::records::url_of(ctx, &from, &from.path));
        r.destination = Some(super::records::url_of(ctx, &from, &to));
        r.elapsed = Some(began.elapsed());
        match &result {
            Ok(code) => r.reply = Some(*code),
            Err(e) => r.error = Some(e.clone()),
        }
        ctx.emit(r);
    }
    result.map(|_| ())
}

fn rmdir(ctx: &mut Ctx, args: &Args) -> Result<()> {
    simple(ctx, "rmdir", &args.pos[0], ops::rmdir)
}

fn cd(ctx: &mut Ctx, args: &Args) -> Result<()> {
    let remote = ctx.remote(args.pos.first().map_or("~", String::as_str))?;
    let shown = format!("cd {}", remote.shown());
    if let Some(url) = &remote.url {
        if !ctx.uses_session(&remote) {
            return Err(Error::usage(format!(
                "{shown}: that URL is on another server (use: open {url})"
            )));
        }
    }
    let path = if remote.path.is_empty() || remote.path.as_str() == "~" {
        // The login directory: the path the session started from, or the server's home.
        match ctx.session.as_ref().and_then(|s| s.home.clone()) {
            Some(home) => home,
            None => RemotePath::new("/")?,
        }
    } else {
        remote.path.clone()
    };
    ctx.change_dir(&path)
        .map(|_| ())
        .map_err(|e| e.context(shown))
}

fn pwd(ctx: &mut Ctx, _args: &Args) -> Result<()> {
    let cwd = ctx.remote_cwd().map_err(|e| e.context("pwd"))?;
    ctx.out.line(&cwd);
    Ok(())
}
