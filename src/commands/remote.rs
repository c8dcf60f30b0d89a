//! Commands on remote paths: ls, mkdir, rm, rmdir, cd, pwd.

use super::{ArgKind, Args, Scope, Spec};
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::ftp::command::{Arg, Command};
use crate::ftp::connection::Connection;
use crate::transfer;

pub(super) const LS: Spec = Spec {
    name: "ls",
    aliases: &["dir"],
    usage: "[URL|PATH]",
    summary: "list a remote directory (the server's LIST output)",
    args: &[ArgKind::Remote],
    min_args: 0,
    flags: &[],
    scope: Scope::Everywhere,
    run: ls,
};

pub(super) const MKDIR: Spec = Spec {
    name: "mkdir",
    aliases: &[],
    usage: "URL|PATH",
    summary: "create a remote directory",
    args: &[ArgKind::Remote],
    min_args: 1,
    flags: &[],
    scope: Scope::Everywhere,
    run: mkdir,
};

pub(super) const RM: Spec = Spec {
    name: "rm",
    aliases: &["delete"],
    usage: "URL|PATH",
    summary: "delete a remote file",
    args: &[ArgKind::Remote],
    min_args: 1,
    flags: &[],
    scope: Scope::Everywhere,
    run: rm,
};

pub(super) const RMDIR: Spec = Spec {
    name: "rmdir",
    aliases: &[],
    usage: "URL|PATH",
    summary: "delete an empty remote directory",
    args: &[ArgKind::Remote],
    min_args: 1,
    flags: &[],
    scope: Scope::Everywhere,
    run: rmdir,
};

pub(super) const CD: Spec = Spec {
    name: "cd",
    aliases: &["cwd"],
    usage: "PATH",
    summary: "change the remote working directory",
    args: &[ArgKind::Remote],
    min_args: 1,
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

fn ls(ctx: &mut Ctx, args: &Args) -> Result<()> {
    if args.pos.is_empty() && !ctx.in_session {
        return Err(Error::usage("usage: ls URL"));
    }
    let remote = match args.pos.first() {
        Some(a) => ctx.remote(a)?,
        None => ctx.remote("")?,
    };
    let shown = format!("ls {}", remote.shown());
    // Checking a directory with CWD moves the session; it must come back.
    let restore = if ctx.uses_session(&remote) {
        ctx.session.as_ref().and_then(|s| s.cwd.clone())
    } else {
        None
    };
    ctx.with_conn(&remote, |conn, out| {
        let path = remote.path.as_str();
        let restore_cwd = |conn: &mut Connection| -> Result<()> {
            if let Some(dir) = &restore {
                conn.exec_ok(&Command::Cwd(Arg::new(dir)?))?;
            }
            Ok(())
        };
        // pure-ftpd splits LIST's argument at spaces and expands globs in it; for such a
        // path, enter the directory and list it bare.
        if path.contains([' ', '\t', '*', '?', '[']) {
            let entered = conn.exec(&Command::Cwd(Arg::new(path)?))?;
            if entered.is_completion() {
                let listed = transfer::list(conn, "", out.out());
                restore_cwd(conn)?;
                return listed.map(|_| ());
            }
        }
        let listed = transfer::list(conn, path, out.out())?;
        if listed == 0 && !path.is_empty() {
            // vsftpd and pure-ftpd answer LIST of a missing directory with an empty listing
            // and 226; an empty listing is believed only for a directory CWD can enter.
            conn.exec_ok(&Command::Cwd(Arg::new(path)?))?;
            restore_cwd(conn)?;
        }
        Ok(())
    })
    .map_err(|e| e.context(shown))
}

fn simple(ctx: &mut Ctx, verb: &str, operand: &str, make: fn(Arg) -> Command) -> Result<()> {
    let remote = ctx.remote(operand)?;
    let shown = format!("{verb} {}", remote.shown());
    let arg = Arg::new(&remote.path).map_err(|e| e.context(shown.clone()))?;
    if remote.path.is_empty() {
        return Err(Error::usage(format!("{verb}: the URL has no path")));
    }
    ctx.with_conn(&remote, |conn, _| conn.exec_ok(&make(arg)).map(|_| ()))
        .map_err(|e| e.context(shown))
}

fn mkdir(ctx: &mut Ctx, args: &Args) -> Result<()> {
    simple(ctx, "mkdir", &args.pos[0], Command::Mkd)
}

fn rm(ctx: &mut Ctx, args: &Args) -> Result<()> {
    simple(ctx, "rm", &args.pos[0], Command::Dele)
}

fn rmdir(ctx: &mut Ctx, args: &Args) -> Result<()> {
    simple(ctx, "rmdir", &args.pos[0], Command::Rmd)
}

fn cd(ctx: &mut Ctx, args: &Args) -> Result<()> {
    let remote = ctx.remote(&args.pos[0])?;
    let shown = format!("cd {}", remote.shown());
    if let Some(url) = &remote.url {
        if !ctx.uses_session(&remote) {
            return Err(Error::usage(format!(
                "{shown}: that URL is on another server (use: open {url})"
            )));
        }
    }
    let path = if remote.path.is_empty() {
        "~"
    } else {
        &remote.path
    };
    let path = if path == "~" {
        // The login directory: the path the session started from, or the server's home.
        ctx.session
            .as_ref()
            .and_then(|s| s.home.clone())
            .unwrap_or_else(|| "/".into())
    } else {
        path.to_string()
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
