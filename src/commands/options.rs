//! The options every transfer command takes (`-c`, `-r`, `-p`, `-j N`, `--inplace`) and
//! what they resolve to, shared by single-file and multi-file copies.

use super::{ArgKind, Args, Flag};
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::session::transfer::{Policy, Retry};

const CONTINUE: Flag = Flag {
    short: Some('c'),
    long: "continue",
    value: None,
    value_kind: None,
    help: "resume: continue from where the destination ends (restarts when the source changed)",
};
const RECURSIVE: Flag = Flag {
    short: Some('r'),
    long: "recursive",
    value: None,
    value_kind: None,
    help: "copy a whole directory tree",
};
const PRESERVE: Flag = Flag {
    short: Some('p'),
    long: "preserve",
    value: None,
    value_kind: None,
    help: "keep the modification time (MDTM/MFMT)",
};
const PARALLEL: Flag = Flag {
    short: Some('j'),
    long: "parallel",
    value: Some("N"),
    value_kind: None,
    help: "move the files of a multi-file operation over N connections at once",
};
const INPLACE: Flag = Flag {
    short: None,
    long: "inplace",
    value: None,
    value_kind: None,
    help: "upload straight onto the final name (no temporary name + rename), for servers that forbid renames",
};
const CREATE_DIRS: Flag = Flag {
    short: None,
    long: "create-dirs",
    value: None,
    value_kind: None,
    help: "make the destination's missing directories (remote: MKD each, robust when another client makes them too)",
};
const RETRY: Flag = Flag {
    short: None,
    long: "retry",
    value: Some("N"),
    value_kind: None,
    help: "try a transfer that failed for a transient reason N more times, resuming (default 0 for one file, 3 for several)",
};
const RETRY_DELAY: Flag = Flag {
    short: None,
    long: "retry-delay",
    value: Some("SECS"),
    value_kind: None,
    help: "the wait before the first retry, doubled each time up to 30 s (default 1)",
};
const SEGMENTS: Flag = Flag {
    short: None,
    long: "segments",
    value: Some("N"),
    value_kind: None,
    help:
        "download one file as N ranges over N connections (several files: those of 64 MiB or more)",
};
const QUIET: Flag = Flag {
    short: Some('q'),
    long: "quiet",
    value: None,
    value_kind: None,
    help: "no line about the transfer when it succeeds",
};

/// The options every transfer command takes.
pub(super) const TRANSFER_FLAGS: &[Flag] = &[
    CONTINUE,
    RECURSIVE,
    PRESERVE,
    PARALLEL,
    CREATE_DIRS,
    RETRY,
    RETRY_DELAY,
    SEGMENTS,
    INPLACE,
];

/// get's options: the transfer options and lftp's `-o LOCAL` and `-O DIR`.
pub(super) const GET_FLAGS: &[Flag] = &[
    CONTINUE,
    RECURSIVE,
    PRESERVE,
    PARALLEL,
    CREATE_DIRS,
    RETRY,
    RETRY_DELAY,
    SEGMENTS,
    INPLACE,
    QUIET,
    Flag {
        short: Some('o'),
        long: "output",
        value: Some("LOCAL"),
        value_kind: Some(ArgKind::Local),
        help: "the local file to write (instead of a second operand)",
    },
    Flag {
        short: Some('O'),
        long: "target-directory",
        value: Some("DIR"),
        value_kind: Some(ArgKind::LocalDir),
        help: "the local directory to write into (an existing one; -o names are taken inside it)",
    },
];

/// put's options: the transfer options and lftp's `-o REMOTE` and `-O DIR`.
pub(super) const PUT_FLAGS: &[Flag] = &[
    CONTINUE,
    RECURSIVE,
    PRESERVE,
    PARALLEL,
    CREATE_DIRS,
    RETRY,
    RETRY_DELAY,
    INPLACE,
    QUIET,
    Flag {
        short: Some('o'),
        long: "output",
        value: Some("REMOTE"),
        value_kind: Some(ArgKind::Remote),
        help: "the remote file to write (instead of a second operand)",
    },
    Flag {
        short: Some('O'),
        long: "target-directory",
        value: Some("DIR"),
        value_kind: Some(ArgKind::RemoteDir),
        help: "the remote directory to write into (-o names are taken inside it)",
    },
];

/// The destination of get/put as typed: the second operand or `-o`, inside `-O DIR` when
/// given (`-O DIR` alone names the directory, ending in `/`). None when neither is given.
pub(super) fn destination(verb: &str, args: &Args) -> Result<Option<String>> {
    let named = match (args.value("output"), args.pos.get(1)) {
        (Some(_), Some(_)) => {
            return Err(Error::usage(format!(
                "{verb}: -o and a second operand both name the destination; give one"
            )))
        }
        (Some(o), None) => Some(o.to_string()),
        (None, p) => p.cloned(),
    };
    Ok(match (args.value("target-directory"), named) {
        (None, named) => named,
        (Some(dir), None) => Some(format!("{}/", dir.trim_end_matches('/'))),
        (Some(_), Some(n)) if n.starts_with('/') || crate::url::looks_like_url(&n) => Some(n),
        (Some(dir), Some(n)) => Some(format!("{}/{n}", dir.trim_end_matches('/'))),
    })
}

/// The parsed options of a transfer command.
#[derive(Debug, Clone)]
pub(super) struct Opts {
    pub(super) recursive: bool,
    pub(super) parallel: usize,
    pub(super) delete_source: bool,
    /// `-q`: no line about a successful transfer.
    pub(super) quiet: bool,
    /// `--create-dirs`: make the destination's missing directories first.
    pub(super) create_dirs: bool,
    pub(super) policy: Policy,
    /// `--retry` was given (else multi-file runs take [`MANY_RETRIES`]).
    pub(super) retry_given: bool,
}

/// How many connections a multi-file operation (a wildcard, `-r`, mirror) uses when `-j`
/// is not given: like rclone's 4 transfers; the server's refusal of more logins backs the
/// run off to fewer. `-j 1` keeps to one connection.
pub const DEFAULT_PARALLEL: usize = 4;

/// The retries of a multi-file run when `--retry` is not given.
pub(super) const MANY_RETRIES: u32 = 3;
/// The smallest file a multi-file run segments (`--segments`).
pub(super) const MANY_SEGMENT_THRESHOLD: u64 = 64 * 1024 * 1024;

/// A whole number option within `range`.
fn number(args: &Args, long: &str, range: std::ops::RangeInclusive<u64>) -> Result<Option<u64>> {
    args.value(long)
        .map(|v| {
            v.parse::<u64>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| {
                    Error::usage(format!(
                        "--{long} needs a number from {} to {}, not '{v}'",
                        range.start(),
                        range.end()
                    ))
                })
        })
        .transpose()
}

/// `-j N`: from 1 to 64 connections (when not given, `parallel` of the config file, else
/// [`DEFAULT_PARALLEL`]; a single-file copy uses one anyway); cp, get, put and mirror read it here.
pub(super) fn parallel(ctx: &Ctx, args: &Args) -> Result<usize> {
    match args.value("parallel") {
        None => Ok(ctx.parallel.unwrap_or(DEFAULT_PARALLEL)),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=64).contains(n))
            .ok_or_else(|| {
                Error::usage(format!(
                    "-j needs a number of connections from 1 to 64, not '{v}'"
                ))
            }),
    }
}

impl Opts {
    /// The defaults of a multi-file run: retries unless `--retry` said otherwise, and
    /// segments only for large files.
    pub(super) fn for_many(mut self) -> Opts {
        if !self.retry_given {
            self.policy.retry.times = MANY_RETRIES;
        }
        self.policy.segment_threshold = MANY_SEGMENT_THRESHOLD;
        self.policy.ready_for_next = true;
        self
    }

    pub(super) fn from(ctx: &Ctx, args: &Args, delete_source: bool) -> Result<Opts> {
        let parallel = parallel(ctx, args)?;
        let retry = number(args, "retry", 0..=1000)?;
        let delay = number(args, "retry-delay", 0..=3600)?;
        let segments = number(args, "segments", 1..=16)?.unwrap_or(1) as usize;
        Ok(Opts {
            retry_given: retry.is_some(),
            recursive: args.has("recursive"),
            parallel,
            delete_source,
            quiet: args.has("quiet"),
            create_dirs: args.has("create-dirs"),
            policy: Policy {
                resume: args.has("continue"),
                verify: ctx.verify,
                preserve: args.has("preserve"),
                limiter: ctx.limiter.clone(),
                inplace: args.has("inplace"),
                retry: Retry {
                    times: retry.unwrap_or(0) as u32,
                    delay: delay.map_or(Retry::default().delay, std::time::Duration::from_secs),
                },
                login: None,
                segments,
                segment_threshold: 0,
                keep_parts: false,
                continue_parts: false,
                ready_for_next: ctx.in_session,
            },
        })
    }
}
