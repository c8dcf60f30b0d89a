//! Commands that reach outside the session: `!COMMAND` (a local shell), `more`/`less` (a
//! remote file through `$PAGER`) and `user` (log in again as someone else).

use std::io::Write;
use std::process::{Command, Stdio};

use super::{ArgKind, Args, Scope, Spec};
use crate::ctx::Ctx;
use crate::error::{Error, Kind, Result};
use crate::session::download;
use crate::session::transfer::{Quiet, Settings};

pub(super) const SHELL: Spec = Spec {
    name: "shell",
    aliases: &["!"],
    usage: "[COMMAND]",
    summary: "run COMMAND in a local shell ($SHELL -c, else /bin/sh), or open one (also written !COMMAND)",
    args: &[ArgKind::Word],
    min_args: 0,
    flags: &[],
    scope: Scope::SessionOnly,
    run: shell,
};

pub(super) const MORE: Spec = Spec {
    name: "more",
    aliases: &["less", "page"],
    usage: "REMOTE",
    summary: "show a remote file through $PAGER (else less, else more), escaped on a terminal",
    args: &[ArgKind::Remote],
    min_args: 1,
    flags: &[],
    scope: Scope::SessionOnly,
    run: more,
};

pub(super) const USER: Spec = Spec {
    name: "user",
    aliases: &["login"],
    usage: "USER [PASSWORD]",
    summary: "log in again as USER (the password is asked without echo when left out)",
    args: &[ArgKind::Word, ArgKind::Word],
    min_args: 1,
    flags: &[],
    scope: Scope::SessionOnly,
    run: user,
};

/// The user's shell: `$SHELL`, else `/bin/sh`.
fn user_shell() -> String {
    std::env::var("SHELL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "/bin/sh".to_string())
}

/// `!COMMAND` runs COMMAND with `$SHELL -c` in the local directory; `!` alone opens the
/// shell itself. A command that fails is a local error (a batch stops on it).
fn shell(ctx: &mut Ctx, args: &Args) -> Result<()> {
    let _ = ctx.out.out().flush();
    let sh = user_shell();
    let mut cmd = Command::new(&sh);
    let line = args.pos.first().map(String::as_str).unwrap_or("").trim();
    if !line.is_empty() {
        cmd.arg("-c").arg(line);
    }
    cmd.current_dir(&ctx.local_dir);
    let status = cmd
        .status()
        .map_err(|e| Error::local(&sh, &e).context("!"))?;
    if status.success() {
        Ok(())
    } else {
        let how = match status.code() {
            Some(code) => format!("exited with status {code}"),
            None => "was stopped by a signal".to_string(),
        };
        Err(Error::new(Kind::Local, format!("!{line}: {how}")))
    }
}

/// A pager's standard input that remembers the pager closing it (the user quit early),
/// which ends the transfer without being a failure.
struct PagerInput {
    stdin: std::process::ChildStdin,
    closed: bool,
}

impl Write for PagerInput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.stdin.write(buf).inspect_err(|e| {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                self.closed = true;
            }
        })
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.stdin.flush()
    }
}

/// Starts the pager: `$PAGER` (through the shell, it may carry options), else `less`,
/// else `more`.
fn start_pager(ctx: &Ctx) -> Result<std::process::Child> {
    let spawn = |cmd: &mut Command| {
        cmd.stdin(Stdio::piped())
            .current_dir(&ctx.local_dir)
            .spawn()
    };
    if let Some(pager) = std::env::var("PAGER").ok().filter(|p| !p.trim().is_empty()) {
        return spawn(Command::new("/bin/sh").arg("-c").arg(&pager))
            .map_err(|e| Error::local(&pager, &e));
    }
    match spawn(&mut Command::new("less")) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            spawn(&mut Command::new("more")).map_err(|e| Error::local("more", &e))
        }
        other => other.map_err(|e| Error::local("less", &e)),
    }
}

/// `more PATH`: the remote file streamed into the pager; quitting the pager early stops
/// the transfer (ABOR) and is not an error.
fn more(ctx: &mut Ctx, args: &Args) -> Result<()> {
    let remote = ctx.remote(&args.pos[0])?;
    let shown = format!("more {}", remote.shown());
    if remote.pattern.is_some() || remote.names_directory() {
        return Err(Error::usage(format!("{shown}: names one file")));
    }
    let mut child = start_pager(ctx).map_err(|e| e.context(shown.clone()))?;
    let stdin = child.stdin.take().expect("piped stdin");
    let mut input = PagerInput {
        stdin,
        closed: false,
    };
    let terminal = ctx.out.out_is_terminal();
    let policy = crate::session::transfer::Policy {
        verify: ctx.verify,
        ..Default::default()
    };
    let mut quiet = Quiet;
    let mut settings = Settings::new(&mut quiet, &policy, false);
    let result = ctx.with_conn(&remote, |conn, _| {
        if terminal {
            let mut safe = crate::terminal_writer::TerminalWriter::new(&mut input);
            let moved = download::download_to(conn, &remote.path, &mut safe, &mut settings);
            let _ = safe.flush();
            moved
        } else {
            download::download_to(conn, &remote.path, &mut input, &mut settings)
        }
    });
    let closed = input.closed;
    drop(input);
    let _ = child.wait();
    match result {
        Ok(_) => Ok(()),
        Err(_) if closed => Ok(()),
        Err(e) => Err(e.context(shown)),
    }
}

/// `user USER [PASSWORD]`: a new login on the session's server; only once it worked does
/// it replace the session, so a refused login leaves the old one as it was.
fn user(ctx: &mut Ctx, args: &Args) -> Result<()> {
    let name = &args.pos[0];
    let shown = format!("user {name}");
    let Some(session) = ctx.session.as_ref() else {
        return Err(Error::usage("user: not connected (use: open ftp://host/)"));
    };
    let old = session.url.user.clone();
    let mut url = session.url.clone();
    url.user = name.clone();
    url.user_given = true;
    url.password = args.pos.get(1).cloned();
    url.path = String::new();
    if url.password.is_none() {
        let prompt = format!("Password for {name}@{}: ", url.host);
        url.password = ctx.prompter.password(&prompt);
        if url.password.is_none() {
            return Err(Error::usage(format!(
                "{shown}: no password given, and no terminal to ask on (user {name} PASSWORD)"
            )));
        }
    }
    match ctx.switch_user(url) {
        Ok(()) => {
            ctx.out.line(&format!("logged in as {name}"));
            Ok(())
        }
        Err(e) => Err(e.also(format!("still logged in as {old}")).context(shown)),
    }
}
