//! The options every transfer command takes (`-c`, `-r`, `-p`, `-j N`, `--inplace`) and
//! what they resolve to, shared by single-file and multi-file copies.

use super::{Args, Flag};
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::session::transfer::Policy;

/// The options every transfer command takes.
pub(super) const TRANSFER_FLAGS: &[Flag] = &[
    Flag {
        short: Some('c'),
        long: "continue",
        value: None,
        help: "resume: continue from where the destination ends (restarts when the source changed)",
    },
    Flag {
        short: Some('r'),
        long: "recursive",
        value: None,
        help: "copy a whole directory tree",
    },
    Flag {
        short: Some('p'),
        long: "preserve",
        value: None,
        help: "keep the modification time (MDTM/MFMT)",
    },
    Flag {
        short: Some('j'),
        long: "parallel",
        value: Some("N"),
        help: "move the files of a multi-file operation over N connections at once",
    },
    Flag {
        short: None,
        long: "create-dirs",
        value: None,
        help: "make the destination's missing directories (remote: MKD each, robust when another client makes them too)",
    },
    Flag {
        short: None,
        long: "inplace",
        value: None,
        help: "upload straight onto the final name (no temporary name + rename), for servers that forbid renames",
    },
];

/// The parsed options of a transfer command.
#[derive(Debug, Clone)]
pub(super) struct Opts {
    pub(super) recursive: bool,
    pub(super) parallel: usize,
    pub(super) delete_source: bool,
    /// `--create-dirs`: make the destination's missing directories first.
    pub(super) create_dirs: bool,
    pub(super) policy: Policy,
}

/// `-j N`: from 1 to 64 connections (1 when not given); cp, get, put and mirror read it here.
pub(super) fn parallel(args: &Args) -> Result<usize> {
    match args.value("parallel") {
        None => Ok(1),
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
    pub(super) fn from(ctx: &Ctx, args: &Args, delete_source: bool) -> Result<Opts> {
        let parallel = parallel(args)?;
        Ok(Opts {
            recursive: args.has("recursive"),
            parallel,
            delete_source,
            create_dirs: args.has("create-dirs"),
            policy: Policy {
                resume: args.has("continue"),
                verify: ctx.verify,
                preserve: args.has("preserve"),
                limiter: ctx.limiter.clone(),
                inplace: args.has("inplace"),
            },
        })
    }
}
