//! Commands people coming from lftp, ftp(1) and sftp reach for: lls, lmkdir, size, modtime,
//! binary, ascii, chmod, quote, site, status.

use super::{ArgKind, Args, Flag, Scope, Spec};
use crate::ctx::Ctx;
use crate::error::{Error, Kind, Result};
use crate::remote_path::RemotePath;
use crate::session::ops;

const fn spec(
    name: &'static str,
    usage: &'static str,
    summary: &'static str,
    args: &'static [ArgKind],
    min_args: usize,
    run: fn(&mut Ctx, &Args) -> Result<()>,
) -> Spec {
    Spec {
        name,
        aliases: &[],
        usage,
        summary,
        args,
        min_args,
        scope: Scope::SessionOnly,
        flags: &[],
        run,
    }
}

/// `lls`'s options: ls's own letters, handed to the local ls.
const LLS_FLAGS: &[Flag] = &[
    Flag {
        short: Some('l'),
        long: "long",
        value: None,
        value_kind: None,
        help: "long listing",
    },
    Flag {
        short: Some('a'),
        long: "all",
        value: None,
        value_kind: None,
        help: "include names starting with a dot",
    },
    Flag {
        short: Some('h'),
        long: "human",
        value: None,
        value_kind: None,
        help: "human sizes",
    },
    Flag {
        short: Some('t'),
        long: "time",
        value: None,
        value_kind: None,
        help: "newest first",
    },
    Flag {
        short: Some('S'),
        long: "size",
        value: None,
        value_kind: None,
        help: "largest first",
    },
    Flag {
        short: Some('r'),
        long: "reverse",
        value: None,
        value_kind: None,
        help: "reverse the order",
    },
    Flag {
        short: Some('1'),
        long: "one",
        value: None,
        value_kind: None,
        help: "one name per line",
    },
    Flag {
        short: Some('d'),
        long: "directory",
        value: None,
        value_kind: None,
        help: "the directory itself",
    },
];

pub(super) const LLS: Spec = Spec {
    flags: LLS_FLAGS,
    ..spec(
        "lls",
        "[PATH...]",
        "list local files or directories (the local working directory when bare), with the system's ls",
        &[ArgKind::Local; 8],
        0,
        lls,
    )
};

pub(super) const LMKDIR: Spec = spec(
    "lmkdir",
    "DIR",
    "create a local directory",
    &[ArgKind::LocalDir],
    1,
    lmkdir,
);

pub(super) const SIZE: Spec = spec(
    "size",
    "PATH",
    "print a remote file's size in bytes (SIZE)",
    &[ArgKind::Remote],
    1,
    size,
);

pub(super) const MODTIME: Spec = spec(
    "modtime",
    "PATH",
    "print a remote file's modification time, UTC (MDTM)",
    &[ArgKind::Remote],
    1,
    modtime,
);

pub(super) const BINARY: Spec = spec(
    "binary",
    "",
    "binary transfers: always on (3700ftp never changes line endings)",
    &[],
    0,
    binary,
);

pub(super) const ASCII: Spec = spec(
    "ascii",
    "",
    "changes nothing: 3700ftp always transfers in binary",
    &[],
    0,
    ascii,
);

pub(super) const CHMOD: Spec = Spec {
    flags: &[super::Flag {
        short: Some('R'),
        long: "recursive",
        value: None,
        value_kind: None,
        help: "change every file and directory of the tree under PATH too",
    }],
    ..spec(
        "chmod",
        "MODE PATH",
        "change a remote file's permissions (SITE CHMOD; MODE in octal: 644)",
        &[ArgKind::Word, ArgKind::Remote],
        2,
        chmod,
    )
};

/// The most words a `quote` or `site` line takes.
const RAW_ARGS: &[ArgKind] = &[ArgKind::Word; 16];

pub(super) const QUOTE: Spec = spec(
    "quote",
    "COMMAND [ARGS]",
    "send a command to the server as typed and print its whole reply",
    RAW_ARGS,
    1,
    quote,
);

pub(super) const SITE: Spec = spec(
    "site",
    "ARGS",
    "send SITE ARGS to the server and print its whole reply (site help)",
    RAW_ARGS,
    1,
    site,
);

pub(super) const STATUS: Spec = spec(
    "status",
    "",
    "show the server, user, TLS, transfer mode, verification, rate cap and both working directories",
    &[],
    0,
    status,
);

fn lls(ctx: &mut Ctx, args: &Args) -> Result<()> {
    let mut letters = String::new();
    for f in LLS_FLAGS {
        if args.has(f.long) {
            letters.extend(f.short);
        }
    }
    let mut cmd = std::process::Command::new("ls");
    cmd.current_dir(&ctx.local_dir);
    if !letters.is_empty() {
        cmd.arg(format!("-{letters}"));
    }
    cmd.arg("--");
    cmd.args(&args.pos);
    let out = cmd
        .output()
        .map_err(|e| Error::new(Kind::Local, format!("lls: cannot run ls: {e}")))?;
    let _ = ctx.out.out().write_all(&out.stdout);
    if !out.status.success() {
        let text = String::from_utf8_lossy(&out.stderr);
        return Err(Error::new(
            Kind::Local,
            format!("lls: {}", text.trim().trim_start_matches("ls: ")),
        ));
    }
    Ok(())
}

fn lmkdir(ctx: &mut Ctx, args: &Args) -> Result<()> {
    let dir = ctx.local(&args.pos[0]);
    std::fs::create_dir(&dir).map_err(|e| Error::local(dir.display(), &e).context("lmkdir"))
}

/// Runs `op` on the remote path `operand`, with errors named `verb operand`.
fn on_remote<T>(
    ctx: &mut Ctx,
    verb: &str,
    operand: &str,
    op: impl FnOnce(&mut crate::ftp::connection::Connection, &RemotePath) -> Result<T>,
) -> Result<T> {
    let remote = ctx.remote(operand)?;
    let shown = format!("{verb} {}", remote.shown());
    if remote.path.is_empty() {
        return Err(Error::usage(format!("{verb}: which file?")));
    }
    ctx.with_conn(&remote, |conn, _| op(conn, &remote.path))
        .map_err(|e| e.context(shown))
}

fn size(ctx: &mut Ctx, args: &Args) -> Result<()> {
    let n = on_remote(ctx, "size", &args.pos[0], ops::size)?;
    ctx.out.line(&n.to_string());
    Ok(())
}

fn modtime(ctx: &mut Ctx, args: &Args) -> Result<()> {
    let (raw, secs) = on_remote(ctx, "modtime", &args.pos[0], ops::modtime)?;
    let shown = match secs.and_then(iso_utc) {
        Some(iso) => iso,
        None => raw,
    };
    ctx.out.line(&crate::text::printable(&shown));
    Ok(())
}

/// Seconds since the epoch as `2024-01-31 10:00:00 UTC`.
fn iso_utc(secs: i64) -> Option<String> {
    let rest = secs.rem_euclid(86_400);
    let (y, m, d) = crate::ftp::time::civil_date(secs);
    Some(format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    ))
}

fn binary(ctx: &mut Ctx, _args: &Args) -> Result<()> {
    ctx.out
        .line("binary mode: always on (files arrive byte for byte)");
    Ok(())
}

fn ascii(ctx: &mut Ctx, _args: &Args) -> Result<()> {
    ctx.out
        .line("3700ftp always transfers in binary, byte for byte; ascii changes nothing");
    Ok(())
}

fn chmod(ctx: &mut Ctx, args: &Args) -> Result<()> {
    let mode = args.pos[0].clone();
    if args.has("recursive") {
        return chmod_tree(ctx, &mode, &args.pos[1]);
    }
    on_remote(ctx, "chmod", &args.pos[1], |conn, path| {
        ops::chmod(conn, &mode, path)
    })
}

/// `chmod -R MODE DIR`: the tree is walked first (the walk `cp -r` uses, with its bounds
/// and skipped names), then every file, every directory below (deepest first) and DIR
/// itself are changed; each failure is reported and the rest goes on.
fn chmod_tree(ctx: &mut Ctx, mode: &str, operand: &str) -> Result<()> {
    use crate::session::plan::{walk_remote, Planned};
    let remote = ctx.remote(operand)?;
    let shown = format!("chmod -R {mode} {}", remote.shown());
    if remote.path.is_empty() || remote.pattern.is_some() {
        return Err(Error::usage(format!("{shown}: names one directory")));
    }
    crate::session::ops::check_mode(mode).map_err(|e| e.context(shown.clone()))?;
    let restore = super::many::session_cwd(ctx, &remote);
    let root = crate::remote_path::RemotePath::new(remote.path.trim_end_matches('/'))?;
    let result = ctx.with_conn(&remote, |conn, _| {
        let mut plan = Planned::default();
        // Walked as a move would be, only for its list of directories (children first):
        // nothing is transferred or deleted here.
        walk_remote(
            conn,
            &root,
            std::path::Path::new(""),
            0,
            true,
            restore.as_ref(),
            &mut plan,
        )?;
        let mut failures = Vec::new();
        let mut changed = 0;
        let paths = plan
            .jobs
            .iter()
            .map(|j| j.remote.clone())
            .chain(plan.remove_remote_dirs.iter().cloned());
        for path in paths {
            match ops::chmod(conn, mode, &path) {
                Ok(()) => changed += 1,
                Err(e) => failures.push(e.context(format!("chmod {mode} {path}"))),
            }
        }
        Ok((changed, failures, plan.warnings))
    });
    let (changed, failures, warnings) = result.map_err(|e| e.context(shown.clone()))?;
    for w in &warnings {
        ctx.out.notice(w);
    }
    for e in &failures {
        ctx.out.error(e);
    }
    match failures.first() {
        None => {
            ctx.out.line(&format!("{shown}: {changed} changed"));
            Ok(())
        }
        Some(first) => Err(Error::new(
            first.kind(),
            format!("{changed} changed, {} failed", failures.len()),
        )
        .context(shown)),
    }
}

/// Sends `line` on the session's connection and prints the reply.
fn raw(ctx: &mut Ctx, verb: &str, line: String) -> Result<()> {
    let remote = ctx.remote("")?;
    let lines = ctx
        .with_conn(&remote, |conn, _| ops::raw(conn, &line))
        .map_err(|e| e.context(verb))?;
    for l in lines {
        ctx.out.line(&crate::text::printable(&l));
    }
    Ok(())
}

fn quote(ctx: &mut Ctx, args: &Args) -> Result<()> {
    raw(ctx, "quote", args.pos.join(" "))
}

fn site(ctx: &mut Ctx, args: &Args) -> Result<()> {
    raw(ctx, "site", format!("SITE {}", args.pos.join(" ")))
}

fn status(ctx: &mut Ctx, _args: &Args) -> Result<()> {
    let mut lines = Vec::new();
    match &ctx.session {
        Some(s) => {
            lines.push(format!("server: {}", s.url.authority()));
            lines.push(format!("user: {}", s.url.user));
            lines.push(format!(
                "TLS: {}",
                match s.tls {
                    crate::ftp::tls::Mode::Off => "off",
                    crate::ftp::tls::Mode::Explicit => "explicit (AUTH TLS)",
                    crate::ftp::tls::Mode::Implicit => "implicit (ftps://)",
                }
            ));
            lines.push(format!(
                "remote directory: {}",
                s.cwd.as_deref().unwrap_or("(not known yet)")
            ));
        }
        None => lines.push("not connected".into()),
    }
    lines.push(format!(
        "mode: {}",
        if ctx.opts.active { "active" } else { "passive" }
    ));
    lines.push(format!("verify: {:?}", ctx.verify).to_lowercase());
    lines.push(match &ctx.limiter {
        Some(l) => format!(
            "rate limit: {}/s",
            crate::session::jobs::human_bytes(l.rate())
        ),
        None => "rate limit: none".into(),
    });
    lines.push(format!("local directory: {}", ctx.local_dir.display()));
    lines.push(format!(
        "verbose: {}",
        if ctx.verbose { "on" } else { "off" }
    ));
    for l in lines {
        ctx.out.line(&crate::text::printable(&l));
    }
    Ok(())
}
