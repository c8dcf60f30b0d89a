//! The options every transfer command takes (`-c`, `-r`, `-p`, `-j N`, `--inplace`) and
//! what they resolve to, shared by single-file and multi-file copies.

use super::{ArgKind, Args, Flag};
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::session::transfer::Policy;

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
    INPLACE,
];

/// get's options: the transfer options and lftp's `-o LOCAL` and `-O DIR`.
pub(super) const GET_FLAGS: &[Flag] = &[
    CONTINUE,
    RECURSIVE,
    PRESERVE,
    PARALLEL,
    CREATE_DIRS,
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
            quiet: args.has("quiet"),
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
