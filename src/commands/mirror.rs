//! `mirror`: make a destination tree hold what a source tree holds, transferring only what
//! differs. This handler parses the options, resolves the two roots, calls
//! [`crate::session::mirror`] and prints what it returns.
//!
//! One-shot: `mirror [OPTIONS] SRC DST`, exactly one operand an ftp:// URL (a URL source
//! downloads, a URL destination uploads). Session: `mirror [OPTIONS] REMOTE [LOCAL]`
//! downloads and `mirror -R [OPTIONS] LOCAL [REMOTE]` uploads (lftp's convention), the
//! working directories by default.

use std::path::{Path, PathBuf};

use super::{ArgKind, Args, Flag, Scope, Spec};
use crate::ctx::{Ctx, Remote};
use crate::error::{Error, Result};
use crate::output::Bar;
use crate::session::jobs::human_bytes;
use crate::session::mirror::{self, Compare, Filter, Parallel, Pattern, Report, Request, Verdict};
use crate::session::transfer::{Policy, Retry};
use std::time::Duration;

const fn flag(
    short: Option<char>,
    long: &'static str,
    value: Option<&'static str>,
    help: &'static str,
) -> Flag {
    Flag {
        short,
        long,
        value,
        value_kind: None,
        help,
    }
}

const MIRROR_FLAGS: &[Flag] = &[
    flag(Some('R'), "reverse", None, "in a session: upload LOCAL to REMOTE (default: download REMOTE to LOCAL)"),
    flag(None, "delete", None, "remove destination files and directories not in the source (only when nothing failed)"),
    flag(None, "max-delete", Some("N"), "do no delete at all when more than N would go"),
    flag(None, "delete-excluded", None, "with --delete, also remove destination files the filters exclude"),
    flag(None, "allow-empty-source", None, "let --delete empty the destination when the source is empty"),
    flag(None, "follow-symlinks", None, "upload what local symbolic links point to (never outside the tree; loops skipped)"),
    flag(None, "exclude", Some("PATTERN"), "leave out paths matching PATTERN (* ? within a name, ** across, /x anchored, x/ directories only)"),
    flag(None, "include", Some("PATTERN"), "keep paths matching PATTERN (rules are tried in order; the first match wins)"),
    flag(None, "exclude-from", Some("FILE"), "--exclude each pattern in FILE (one a line, # comments)"),
    flag(None, "include-from", Some("FILE"), "--include each pattern in FILE"),
    flag(Some('n'), "dry-run", None, "print the plan (get/put/mkdir/rm/rmdir with reasons) and change nothing"),
    flag(None, "size-only", None, "files of equal size are equal (times ignored)"),
    flag(None, "checksum", None, "files of equal size are compared by the server's hash, whatever their times"),
    flag(None, "only-newer", None, "never replace a destination file newer than its source"),
    flag(None, "ignore-existing", None, "never replace a file that exists at the destination"),
    flag(None, "modify-window", Some("SECS"), "times this many seconds apart are equal (default 0)"),
    flag(
        None,
        "newer-than",
        Some("WHEN"),
        "only source files modified after WHEN: a date (2026-12-01, 2026-12-01T08:00:00, UTC) or an age (90m, 36h, 7d)",
    ),
    flag(None, "max-size", Some("SIZE"), "only source files of at most SIZE bytes (K, M, G suffixes: powers of 1024)"),
    flag(None, "min-size", Some("SIZE"), "only source files of at least SIZE bytes"),
    flag(Some('j'), "parallel", Some("N"), "transfer over N connections at once"),
    flag(None, "retry", Some("N"), "try a file that failed for a transient reason N more times, resuming (default 3)"),
    flag(None, "retry-delay", Some("SECS"), "the wait before the first retry, doubled each time up to 30 s (default 1)"),
];

pub(super) const MIRROR: Spec = Spec {
    name: "mirror",
    aliases: &[],
    usage: "SRC DST",
    summary: "make a directory tree a copy of another, transferring only what differs (one operand is an ftp:// URL; in a session: mirror REMOTE [LOCAL], mirror -R LOCAL [REMOTE])",
    args: &[ArgKind::RemoteDir, ArgKind::LocalDir],
    min_args: 1,
    scope: Scope::Everywhere,
    flags: MIRROR_FLAGS,
    run: mirror_cmd,
};

fn mirror_cmd(ctx: &mut Ctx, args: &Args) -> Result<()> {
    let (download, remote, local) = roots(ctx, args)?;
    let shown = format!(
        "mirror {} {}",
        if download {
            remote.shown().to_string()
        } else {
            local.display().to_string()
        },
        if download {
            local.display().to_string()
        } else {
            remote.shown().to_string()
        },
    );
    let local_root = local.clone();
    let request =
        request(ctx, args, download, &remote, local).map_err(|e| e.context(shown.clone()))?;
    let dry_run = args.has("dry-run");
    let max_delete = request.max_delete;
    let bars_enabled = ctx.progress && !ctx.verbose;
    let ctx_cancel = ctx.opts.cancel.clone();
    let result = ctx.with_conn(&remote, |conn, _| {
        let prepared = mirror::prepare(conn, request)?;
        if dry_run {
            return Ok(Done::Planned {
                lines: prepared.plan.lines(download),
                deletes: prepared.plan.delete_count(),
                warnings: prepared.warnings,
                failures: prepared.failures,
            });
        }
        let mut bars = Bar::many(bars_enabled, prepared.plan.transfers.len() as u64)
            .watching(ctx_cancel.clone());
        let report = mirror::execute(conn, prepared, &bars);
        bars.finish_all();
        Ok(Done::Ran(Box::new(report)))
    });
    match result.map_err(|e| e.context(shown.clone()))? {
        Done::Ran(report) => {
            records(ctx, download, &remote, &local_root, &report);
            finish(ctx, &shown, *report)
        }
        Done::Planned {
            lines,
            deletes,
            warnings,
            failures,
        } => {
            for w in &warnings {
                ctx.out.notice(w);
            }
            for line in &lines {
                ctx.out.line(line);
            }
            for (what, err) in &failures {
                ctx.out.error(&err.clone().context(what.clone()));
            }
            if deletes > 0 && !failures.is_empty() {
                ctx.out.notice(&format!(
                    "the run would delete nothing: {} failure{} ({deletes} deletes planned)",
                    failures.len(),
                    if failures.len() == 1 { "" } else { "s" }
                ));
            } else if let Some(max) = max_delete.filter(|&m| deletes > m) {
                ctx.out.notice(&format!(
                    "--max-delete {max}: {deletes} deletes planned; the run would do none"
                ));
            }
            ctx.out.status(&format!(
                "{shown}: dry run, {} actions planned; nothing changed",
                lines.len()
            ));
            match failures.first() {
                None => Ok(()),
                Some((_, e)) => {
                    Err(Error::new(e.kind(), format!("{} failed", failures.len())).context(shown))
                }
            }
        }
    }
}

/// What the run ended with: a plan shown (`--dry-run`) or a report.
enum Done {
    Planned {
        lines: Vec<String>,
        deletes: usize,
        warnings: Vec<String>,
        failures: Vec<(String, Error)>,
    },
    Ran(Box<Report>),
}

/// `--json`: a record for each file transferred, directory made, file or directory
/// deleted, and each failure.
fn records(ctx: &mut Ctx, download: bool, remote: &Remote, local_root: &Path, report: &Report) {
    if !ctx.reports_json() {
        return;
    }
    let join = |rel: &str| match rel {
        "." | "" => remote.path.to_string(),
        rel => format!("{}/{rel}", remote.path.trim_end_matches('/')),
    };
    for d in &report.done {
        let r = super::records::of_job(ctx, "mirror", remote, &d.job, Ok(&d.moved), d.elapsed);
        ctx.emit(r);
    }
    for (action, rel) in &report.actions {
        let mut r = crate::record::Record::new("mirror", action);
        let target = if download {
            local_root.join(rel).display().to_string()
        } else {
            super::records::url_of(ctx, remote, &join(rel))
        };
        if *action == "mkdir" {
            r.destination = Some(target);
        } else {
            r.source = Some(target);
        }
        ctx.emit(r);
    }
    for (rel, err) in &report.failures {
        let mut r =
            crate::record::Record::new("mirror", if download { "download" } else { "upload" });
        r.source = Some(if download {
            super::records::url_of(ctx, remote, &join(rel))
        } else {
            local_root.join(rel).display().to_string()
        });
        r.error = Some(err.clone());
        ctx.emit(r);
    }
    if let Some(summary) = ctx.records.as_mut() {
        summary.skipped += report.skipped;
    }
}

/// Prints the report and turns it into the command's result.
fn finish(ctx: &mut Ctx, shown: &str, report: Report) -> Result<()> {
    for n in &report.notices {
        ctx.out.notice(n);
    }
    for (what, err) in &report.failures {
        ctx.out.error(&err.clone().context(what.clone()));
    }
    let summary = summary(&report);
    if let Some(e) = &report.deletes_withheld {
        ctx.out.error(&e.clone().context(shown.to_string()));
    }
    let first = report
        .failures
        .first()
        .map(|(_, e)| e.clone())
        .or(report.deletes_withheld.clone());
    match first {
        None => {
            ctx.out.status(&format!("{shown}: {summary}"));
            Ok(())
        }
        Some(e) => {
            let mut err = Error::new(e.kind(), summary);
            if let Some(code) = e.code() {
                err = err.with_code(code);
            }
            Err(err.context(shown.to_string()))
        }
    }
}

/// `3 files transferred, 5 skipped, 1 deleted, 2 directories created, 0 removed; 1.2 KiB in 0.3 s (proven: …)`.
fn summary(r: &Report) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut text = format!(
        "{} transferred, {} skipped, {} deleted, {} created, {} removed; {} in {:.1} s",
        plural(r.transferred, "file", "files"),
        r.skipped,
        r.deleted,
        plural(r.dirs_created, "directory", "directories"),
        r.dirs_removed,
        human_bytes(r.bytes),
        r.elapsed.as_secs_f64()
    );
    if r.transferred > 0 {
        let by_reply = r.transferred - r.hash_checked - r.size_checked;
        text.push_str(&format!(
            " (proven: {} by hash, {} by size, {} by the server's reply only)",
            r.hash_checked, r.size_checked, by_reply
        ));
    }
    if !r.failures.is_empty() {
        text.push_str(&format!("; {} failed", r.failures.len()));
    }
    text
}

/// Which way, and the two roots.
fn roots(ctx: &Ctx, args: &Args) -> Result<(bool, Remote, PathBuf)> {
    let reverse = args.has("reverse");
    let first = args.pos[0].as_str();
    let second = args.pos.get(1).map(String::as_str);
    let urls = (
        ctx.is_remote_word(first),
        second.is_some_and(|w| ctx.is_remote_word(w)),
    );
    let (download, remote_word, local_word) = match (urls, second) {
        ((true, true), _) => {
            return Err(Error::usage("mirror: both operands are URLs; one must be a local directory"))
        }
        ((true, false), Some(local)) if !reverse => (true, first, local),
        ((false, true), Some(remote)) if !reverse || ctx.in_session => (false, remote, first),
        _ if !ctx.in_session && reverse => {
            return Err(Error::usage(
                "mirror: -R is for sessions; on the command line the URL's place gives the direction (a URL source downloads, a URL destination uploads)",
            ))
        }
        _ if !ctx.in_session => {
            return Err(Error::usage(
                "mirror: one operand must be an ftp:// URL (usage: mirror [OPTIONS] SRC DST; a URL source downloads, a URL destination uploads)",
            ))
        }
        (_, second) if reverse => (false, second.unwrap_or(""), first),
        (_, second) => (true, first, second.unwrap_or(".")),
    };
    let remote = ctx.remote(remote_word)?;
    if remote.pattern.is_some() {
        return Err(Error::usage(format!(
            "mirror: {remote_word}: mirror takes a directory, not a wildcard (escape [ * ? with \\)"
        )));
    }
    Ok((download, remote, ctx.local(local_word)))
}

fn request(
    ctx: &mut Ctx,
    args: &Args,
    download: bool,
    remote: &Remote,
    local: PathBuf,
) -> Result<Request> {
    let number = |long: &str, what: &str| -> Result<Option<u64>> {
        args.value(long)
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| Error::usage(format!("--{long} needs {what}, not '{v}'")))
            })
            .transpose()
    };
    let parallel = super::options::parallel(ctx, args)?;
    let window = number("modify-window", "a number of seconds")?.unwrap_or(0);
    let max_delete = number("max-delete", "a number")?.map(|n| n as usize);
    let filter = filter(ctx, args)?;
    let exclusive = ["size-only", "checksum", "ignore-existing"]
        .iter()
        .filter(|f| args.has(f))
        .count();
    if exclusive > 1 {
        return Err(Error::usage(
            "--size-only, --checksum and --ignore-existing exclude each other",
        ));
    }
    let parallel = if parallel > 1 {
        let url = match (&remote.url, &ctx.session) {
            (Some(u), _) if !ctx.uses_session(remote) => u.clone(),
            (_, Some(s)) => s.url.clone(),
            (Some(u), None) => u.clone(),
            (None, None) => return Err(Error::usage("not connected")),
        };
        Some(Parallel {
            login: std::sync::Arc::new(ctx.connector(&url)?),
            cancel: ctx.opts.cancel.clone(),
            n: parallel,
        })
    } else {
        None
    };
    let in_session = ctx.uses_session(remote);
    let session_cwd = ctx.session.as_ref().and_then(|s| s.cwd.clone());
    Ok(Request {
        download,
        remote_root: remote.path.clone(),
        local_root: local,
        compare: Compare {
            size_only: args.has("size-only"),
            only_newer: args.has("only-newer"),
            ignore_existing: args.has("ignore-existing"),
            checksum: args.has("checksum"),
            window: i64::try_from(window).unwrap_or(i64::MAX),
            dest_times_settable: true,
            max_size: size_option(args, "max-size")?,
            min_size: size_option(args, "min-size")?,
            newer_than: args
                .value("newer-than")
                .map(|v| {
                    when(v, now()).ok_or_else(|| {
                        Error::usage(format!(
                            "--newer-than needs a date (2026-12-01, 2026-12-01T08:00:00) or an age (90m, 36h, 7d), not '{v}'"
                        ))
                    })
                })
                .transpose()?,
        },
        delete: args.has("delete") || args.has("delete-excluded"),
        delete_excluded: args.has("delete-excluded"),
        max_delete,
        allow_empty_source: args.has("allow-empty-source"),
        follow_symlinks: args.has("follow-symlinks"),
        filter,
        policy: Policy {
            resume: false,
            verify: ctx.verify,
            preserve: true,
            limiter: ctx.limiter.clone(),
            inplace: false,
            retry: Retry {
                times: number("retry", "a number")?
                    .map_or(super::options::MANY_RETRIES, |n| n.min(1000) as u32),
                delay: number("retry-delay", "a number of seconds")?
                    .map_or(Retry::default().delay, |s| Duration::from_secs(s.min(3600))),
            },
            login: ctx.reconnector(remote),
            keep_parts: true,
            // Many files on each connection: a download's next EPSV rides with its RETR.
            ready_for_next: true,
            ..Policy::default()
        },
        restore: if in_session {
            session_cwd.clone()
        } else {
            None
        },
        absolute_base: if remote.url.is_none() {
            session_cwd
        } else {
            None
        },
        parallel,
    })
}

/// The rules, in the order given on the line (a rules file's lines take its place).
fn filter(ctx: &Ctx, args: &Args) -> Result<Filter> {
    let mut filter = Filter::default();
    for (long, value) in args.values_of(&["exclude", "include", "exclude-from", "include-from"]) {
        let verdict = if long.starts_with("exclude") {
            Verdict::Exclude
        } else {
            Verdict::Include
        };
        if long.ends_with("-from") {
            let path = ctx.local(value);
            let text =
                std::fs::read_to_string(&path).map_err(|e| Error::local(path.display(), &e))?;
            for line in mirror::filter::patterns_in(&text) {
                filter.push(verdict, Pattern::new(line)?);
            }
        } else {
            filter.push(verdict, Pattern::new(value)?);
        }
    }
    Ok(filter)
}

fn size_option(args: &Args, long: &str) -> Result<Option<u64>> {
    args.value(long)
        .map(|v| {
            size(v).ok_or_else(|| {
                Error::usage(format!(
                    "--{long} needs a size in bytes (K, M, G: powers of 1024), not '{v}'"
                ))
            })
        })
        .transpose()
}

/// `1500`, `10K`, `2M`, `1G` (powers of 1024).
fn size(text: &str) -> Option<u64> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&t[..i], c.to_ascii_uppercase()),
        _ => (t, 'B'),
    };
    let n: u64 = digits.parse().ok()?;
    let scale: u64 = match unit {
        'B' => 1,
        'K' => 1 << 10,
        'M' => 1 << 20,
        'G' => 1 << 30,
        'T' => 1 << 40,
        _ => return None,
    };
    n.checked_mul(scale)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `--newer-than`: `2026-12-01`, `2026-12-01T08:00:00` (UTC), or an age before `now`
/// (`90s`, `90m`, `36h`, `7d`). Seconds since the epoch.
fn when(text: &str, now: i64) -> Option<i64> {
    let t = text.trim();
    if let Some(last) = t.chars().last().filter(|c| "smhd".contains(*c)) {
        let n: i64 = t[..t.len() - 1].parse().ok().filter(|n: &i64| *n >= 0)?;
        let unit = match last {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => 86_400,
        };
        return Some(now - n.checked_mul(unit)?);
    }
    let digits: String = t.chars().filter(|c| c.is_ascii_digit()).collect();
    let shape_ok = t.chars().all(|c| c.is_ascii_digit() || "-:T ".contains(c));
    match digits.len() {
        8 if shape_ok => crate::ftp::time::parse_ftp_time(&format!("{digits}000000")),
        14 if shape_ok => crate::ftp::time::parse_ftp_time(&digits),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_with_units() {
        assert_eq!(size("1500"), Some(1500));
        assert_eq!(size("10K"), Some(10_240));
        assert_eq!(size("2m"), Some(2 << 20));
        assert_eq!(size("1G"), Some(1 << 30));
        assert_eq!(size("x"), None);
        assert_eq!(size("5Q"), None);
        assert_eq!(size("99999999999T"), None);
    }

    #[test]
    fn dates_and_ages() {
        assert_eq!(when("1970-01-02", 0), Some(86_400));
        assert_eq!(when("1970-01-02T00:00:10", 0), Some(86_410));
        assert_eq!(when("1970-01-02 00:01:00", 0), Some(86_460));
        assert_eq!(when("7d", 1_000_000), Some(1_000_000 - 7 * 86_400));
        assert_eq!(when("90m", 10_000), Some(10_000 - 5400));
        assert_eq!(when("yesterday", 0), None);
        assert_eq!(when("2026-13-01", 0), None);
        assert_eq!(when("-5d", 0), None);
    }
}
