//! `ls` with the flags ls users type (`-l`, `-a`, `-h`, `-t`, `-S`, `-r`, `-1`, `-d`, in any
//! cluster: `ls -la`, `ls -lt`), wildcards (`ls *.log`, `ls -l /pub/*.iso`) and `--json`.
//! What the server lists is filtered (dot files unless `-a`) and sorted (by name unless
//! `-t` or `-S`) here, so every server's listing looks the same.

use super::{ArgKind, Args, Flag, Scope, Spec};
use crate::ctx::Ctx;
use crate::error::{Error, Kind, Result};
use crate::ftp::list::{Entry, Kind as EntryKind};
use crate::glob;
use crate::output::ListStyle;
use crate::remote_path::RemotePath;
use crate::session::listing::{self, Want};

use super::tree::human_size;

const fn flag(short: char, long: &'static str, help: &'static str) -> Flag {
    Flag {
        short: Some(short),
        long,
        value: None,
        value_kind: None,
        help,
    }
}

pub(super) const LS: Spec = Spec {
    name: "ls",
    aliases: &["dir"],
    usage: "[URL|PATH]",
    summary: "list a remote directory (names; -l the server's long listing; --json for scripts)",
    args: &[ArgKind::Remote],
    min_args: 0,
    flags: &[
        flag(
            'l',
            "long",
            "the server's long listing (LIST), one line per entry",
        ),
        flag('a', "all", "include names starting with a dot"),
        flag('h', "human", "sizes as 1.5K, 23M in the long listing"),
        flag('t', "time", "newest first"),
        flag('S', "size", "largest first"),
        flag('r', "reverse", "reverse the order"),
        flag('1', "one", "one name per line (always so)"),
        flag('d', "directory", "the directory itself, not what it holds"),
        flag(
            'R',
            "recursive",
            "the whole tree, one line (or JSON object) per entry with its path",
        ),
        Flag {
            short: None,
            long: "json",
            value: None,
            value_kind: None,
            help: "one JSON object per entry: name, type, size, modified, permissions",
        },
    ],
    scope: Scope::Everywhere,
    run: ls,
};

fn ls(ctx: &mut Ctx, args: &Args) -> Result<()> {
    if args.pos.is_empty() && !ctx.in_session {
        return Err(Error::usage("usage: ls [OPTIONS] URL"));
    }
    let style = if args.has("json") || ctx.reports_json() {
        ListStyle::Json
    } else if args.has("long") {
        ListStyle::Long
    } else {
        ListStyle::Names
    };
    let operand = args.pos.first().map_or("", String::as_str);
    if args.has("recursive") {
        if ["time", "size", "reverse", "directory"]
            .iter()
            .any(|f| args.has(f))
        {
            return Err(Error::usage(
                "ls -R lists by path: -t, -S, -r and -d do not go with it",
            ));
        }
        return super::tree::ls_r(ctx, operand, style, args.has("all"));
    }
    let remote = ctx.remote(operand)?;
    let shown = format!("ls {}", remote.shown());
    let want = match style {
        ListStyle::Long => Want::LongLines,
        ListStyle::Names => Want::Names,
        ListStyle::Json => Want::Entries,
    };
    // Checking a directory with CWD moves the session; it must come back.
    let restore = super::many::session_cwd(ctx, &remote);
    // A wildcard lists the directory it is in and keeps what matches.
    let (path, pattern) = match &remote.pattern {
        Some(p) => {
            let (dir, pat) = glob::split(p);
            (RemotePath::new(dir)?, Some(pat))
        }
        None => (remote.path.clone(), None),
    };
    let directory = args.has("directory") && pattern.is_none();
    let mut entries = ctx
        .with_conn(&remote, |conn, _| {
            if directory {
                listing::itself(conn, &path, want, restore.as_ref()).map(|e| vec![e])
            } else {
                listing::fetch(conn, &path, want, restore.as_ref())
            }
        })
        .map_err(|e| e.context(shown.clone()))?;
    if let Some(pat) = &pattern {
        entries.retain(|e| glob::matches(pat, own_name(&e.name)));
        if entries.is_empty() {
            return Err(Error::new(
                Kind::Refused,
                format!("{shown}: nothing matches {pat}"),
            ));
        }
    }
    let order = Order {
        all: args.has("all") || directory,
        by: if args.has("time") {
            By::Time
        } else if args.has("size") {
            By::Size
        } else {
            By::Name
        },
        reverse: args.has("reverse"),
    };
    let mut entries = arrange(entries, order);
    if args.has("human") && style == ListStyle::Long {
        for e in &mut entries {
            e.raw = human_line(e);
        }
    }
    ctx.out.entries(&entries, style);
    Ok(())
}

fn own_name(name: &str) -> &str {
    name.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(name)
}

/// How a listing is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Name,
    Time,
    Size,
}

#[derive(Debug, Clone, Copy)]
struct Order {
    all: bool,
    by: By,
    reverse: bool,
}

/// Drops dot files (unless `all`) and sorts: by name, newest first, or largest first
/// (ties by name), reversed with `reverse`. Lines the parser did not understand stay, in
/// name order of their raw text.
fn arrange(mut entries: Vec<Entry>, order: Order) -> Vec<Entry> {
    if !order.all {
        entries.retain(|e| e.kind == EntryKind::Unknown || !own_name(&e.name).starts_with('.'));
    }
    entries.sort_by(|a, b| {
        let by_name = a.name.cmp(&b.name);
        match order.by {
            By::Name => by_name,
            By::Time => b.modified.cmp(&a.modified).then(by_name),
            By::Size => b.size.cmp(&a.size).then(by_name),
        }
    });
    if order.reverse {
        entries.reverse();
    }
    entries
}

/// The long line with its size written as ls -h writes it (`1.5K`, `23M`): the first word
/// before the name that is exactly the entry's size is replaced.
fn human_line(e: &Entry) -> String {
    let Some(size) = e.size else {
        return e.raw.clone();
    };
    let Some(head) = e.raw.strip_suffix(e.name.as_str()) else {
        return e.raw.clone();
    };
    let digits = size.to_string();
    let mut start = 0;
    for word in head.split(' ') {
        if word == digits {
            let human = human_size(size);
            let pad = digits.len().saturating_sub(human.len());
            return format!(
                "{}{}{human}{}{}",
                &head[..start],
                " ".repeat(pad),
                &head[start + word.len()..],
                e.name
            );
        }
        start += word.len() + 1;
    }
    e.raw.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, size: u64, modified: &str) -> Entry {
        Entry {
            name: name.into(),
            kind: EntryKind::File,
            size: Some(size),
            modified: Some(modified.into()),
            perms: None,
            raw: format!("-rw-r--r-- 1 ftp ftp {size} Jan 01 10:00 {name}"),
        }
    }

    fn names(entries: &[Entry]) -> Vec<&str> {
        entries.iter().map(|e| e.name.as_str()).collect()
    }

    #[test]
    fn sorted_by_name_dot_files_hidden_unless_all() {
        let list = vec![
            entry("b", 1, "2024-01-02"),
            entry(".hidden", 1, "2024-01-01"),
            entry("a", 3, "2024-01-01"),
        ];
        let order = Order {
            all: false,
            by: By::Name,
            reverse: false,
        };
        assert_eq!(names(&arrange(list.clone(), order)), ["a", "b"]);
        let all = Order { all: true, ..order };
        assert_eq!(names(&arrange(list.clone(), all)), [".hidden", "a", "b"]);
        let time = Order {
            by: By::Time,
            ..order
        };
        assert_eq!(names(&arrange(list.clone(), time)), ["b", "a"]);
        let size = Order {
            by: By::Size,
            reverse: true,
            ..order
        };
        assert_eq!(names(&arrange(list, size)), ["b", "a"]);
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_size(512), "512");
        assert_eq!(human_size(1536), "1.5K");
        assert_eq!(human_size(23 * 1024 * 1024), "23M");
        let e = entry("big.iso", 1536, "2024-01-01");
        assert_eq!(
            human_line(&e),
            "-rw-r--r-- 1 ftp ftp 1.5K Jan 01 10:00 big.iso"
        );
    }
}
