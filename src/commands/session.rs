//! Session commands: lcd, lpwd, open, close, verbose, active, passive, limit-rate, help, quit.

use super::{help_for, lookup, ArgKind, Args, Flag, Scope, Spec};
use crate::ctx::Ctx;
use crate::error::{Error, Kind, Result};

pub(super) const LCD: Spec = Spec {
    name: "lcd",
    aliases: &[],
    usage: "[PATH]",
    summary: "change the local working directory (home when bare)",
    args: &[ArgKind::LocalDir],
    min_args: 0,
    flags: &[],
    scope: Scope::SessionOnly,
    run: lcd,
};

pub(super) const LPWD: Spec = Spec {
    name: "lpwd",
    aliases: &[],
    usage: "",
    summary: "print the local working directory",
    args: &[],
    min_args: 0,
    flags: &[],
    scope: Scope::SessionOnly,
    run: lpwd,
};

pub(super) const OPEN: Spec = Spec {
    name: "open",
    aliases: &["connect"],
    usage: "URL|SITE",
    summary: "log in to a server, or a site of the config file (closing the current connection)",
    args: &[ArgKind::Url],
    min_args: 1,
    flags: &[Flag {
        short: None,
        long: "tls",
        value: None,
        value_kind: None,
        help: "upgrade the connection with AUTH TLS (explicit FTPS)",
    }],
    scope: Scope::SessionOnly,
    run: open,
};

pub(super) const CLOSE: Spec = Spec {
    name: "close",
    aliases: &["disconnect"],
    usage: "",
    summary: "log out and close the connection",
    args: &[],
    min_args: 0,
    flags: &[],
    scope: Scope::SessionOnly,
    run: close,
};

pub(super) const VERBOSE: Spec = Spec {
    name: "verbose",
    aliases: &[],
    usage: "[on|off]",
    summary: "show the protocol exchange (toggles when bare)",
    args: &[ArgKind::Toggle],
    min_args: 0,
    flags: &[],
    scope: Scope::SessionOnly,
    run: verbose,
};

pub(super) const ACTIVE: Spec = Spec {
    name: "active",
    aliases: &[],
    usage: "[on|off]",
    summary: "active mode: the server connects to us (toggles when bare; passive is the default)",
    args: &[ArgKind::Toggle],
    min_args: 0,
    flags: &[],
    scope: Scope::SessionOnly,
    run: active,
};

pub(super) const PASSIVE: Spec = Spec {
    name: "passive",
    aliases: &[],
    usage: "[on|off]",
    summary:
        "passive mode: we connect to the server (the default; off means active; toggles when bare)",
    args: &[ArgKind::Toggle],
    min_args: 0,
    flags: &[],
    scope: Scope::SessionOnly,
    run: passive,
};

pub(super) const LIMIT_RATE: Spec = Spec {
    name: "limit-rate",
    aliases: &[],
    usage: "RATE|off",
    summary: "cap the transfer speed (500K, 2M) or lift the cap",
    args: &[ArgKind::Word],
    min_args: 1,
    flags: &[],
    scope: Scope::SessionOnly,
    run: limit_rate,
};

pub(super) const HELP: Spec = Spec {
    name: "help",
    aliases: &["?"],
    usage: "[COMMAND]",
    summary: "list the commands, or explain one",
    args: &[ArgKind::CommandName],
    min_args: 0,
    flags: &[],
    scope: Scope::SessionOnly,
    run: help,
};

pub(super) const QUIT: Spec = Spec {
    name: "quit",
    aliases: &["exit", "bye"],
    usage: "",
    summary: "log out and leave",
    args: &[],
    min_args: 0,
    flags: &[],
    scope: Scope::SessionOnly,
    run: quit,
};

fn lcd(ctx: &mut Ctx, args: &Args) -> Result<()> {
    let target = ctx.local(args.pos.first().map_or("~", String::as_str));
    let canonical = target
        .canonicalize()
        .map_err(|e| Error::local(target.display(), &e).context("lcd"))?;
    if !canonical.is_dir() {
        return Err(Error::new(
            Kind::Local,
            format!("lcd {}: not a directory", target.display()),
        ));
    }
    ctx.local_dir = canonical;
    Ok(())
}

fn lpwd(ctx: &mut Ctx, _args: &Args) -> Result<()> {
    let dir = ctx.local_dir.display().to_string();
    ctx.out.line(&dir);
    Ok(())
}

fn open(ctx: &mut Ctx, args: &Args) -> Result<()> {
    ctx.open_word(&args.pos[0], args.has("tls"))
}

fn close(ctx: &mut Ctx, _args: &Args) -> Result<()> {
    ctx.close();
    Ok(())
}

fn verbose(ctx: &mut Ctx, args: &Args) -> Result<()> {
    let on = on_off("verbose", ctx.verbose, args)?;
    ctx.set_verbose(on);
    ctx.out.line(if on { "verbose on" } else { "verbose off" });
    Ok(())
}

/// `on`, `off`, or a toggle of `current` when bare.
fn on_off(name: &str, current: bool, args: &Args) -> Result<bool> {
    match args.pos.first().map(String::as_str) {
        None => Ok(!current),
        Some("on") => Ok(true),
        Some("off") => Ok(false),
        Some(other) => Err(Error::usage(format!(
            "{name}: say on or off, not '{other}'"
        ))),
    }
}

fn active(ctx: &mut Ctx, args: &Args) -> Result<()> {
    let on = on_off("active", ctx.opts.active, args)?;
    ctx.set_active(on);
    ctx.out.line(if on {
        "active mode on"
    } else {
        "active mode off (passive)"
    });
    Ok(())
}

/// `passive on` is `active off`: the same setting, named the way ftp(1) users know it.
fn passive(ctx: &mut Ctx, args: &Args) -> Result<()> {
    let on = on_off("passive", !ctx.opts.active, args)?;
    ctx.set_active(!on);
    ctx.out.line(if on {
        "passive mode on"
    } else {
        "passive mode off (active)"
    });
    Ok(())
}

fn limit_rate(ctx: &mut Ctx, args: &Args) -> Result<()> {
    let word = args.pos[0].as_str();
    if word == "off" {
        ctx.limiter = None;
        ctx.out.line("no rate limit");
        return Ok(());
    }
    let rate =
        crate::ratelimit::parse_rate(word).map_err(|e| Error::usage(format!("limit-rate: {e}")))?;
    ctx.limiter = Some(std::sync::Arc::new(crate::ratelimit::Limiter::new(rate)));
    ctx.out.line(&format!(
        "rate limit {}/s",
        crate::session::jobs::human_bytes(rate)
    ));
    Ok(())
}

fn help(ctx: &mut Ctx, args: &Args) -> Result<()> {
    let text = match args.pos.first() {
        None => format!(
            "commands:\n{}",
            super::help_table_width(None, crate::output::terminal_width(false))
        ),
        Some(name) => help_for(
            lookup(name).ok_or_else(|| Error::usage(format!("help: unknown command '{name}'")))?,
        ),
    };
    let _ = ctx.out.out().write_all(text.as_bytes());
    Ok(())
}

fn quit(ctx: &mut Ctx, _args: &Args) -> Result<()> {
    ctx.quit = true;
    Ok(())
}
