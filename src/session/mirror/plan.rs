//! The pure half of `mirror`: two trees in, actions with their reasons out. No socket, no
//! file system: the walkers (`run.rs`) hand in what they saw, and this module decides.

use std::collections::{BTreeMap, BTreeSet};

/// One file as a walker saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileInfo {
    /// Size in bytes, where known.
    pub size: Option<u64>,
    /// Modification time in seconds since the epoch (UTC), where known to the second.
    pub mtime: Option<i64>,
}

/// What a path in a tree is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// A regular file.
    File(FileInfo),
    /// A directory.
    Dir,
    /// Something mirror never writes over nor deletes: a symbolic link, a device.
    Other,
}

/// A tree: every path relative to its root (`a/b.txt`), `/`-separated, parents included.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    /// The paths and what they are.
    pub nodes: BTreeMap<String, Node>,
    /// False when the root directory itself does not exist (a destination to create).
    pub root_exists: bool,
}

impl Tree {
    /// An existing, empty tree.
    pub fn empty() -> Tree {
        Tree {
            nodes: BTreeMap::new(),
            root_exists: true,
        }
    }

    /// Adds a path (test and walker helper).
    pub fn with(mut self, path: &str, node: Node) -> Tree {
        self.nodes.insert(path.to_string(), node);
        self
    }
}

/// Why a file is transferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Missing at the destination.
    New,
    /// Sizes differ.
    Size,
    /// Modification times differ (beyond the window).
    Time,
    /// The server's hash differs (`--checksum`).
    Content,
}

impl Reason {
    /// The word the plan shows.
    pub fn word(self) -> &'static str {
        match self {
            Reason::New => "new",
            Reason::Size => "size",
            Reason::Time => "time",
            Reason::Content => "content",
        }
    }
}

/// How files are compared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Compare {
    /// `--size-only`: equal sizes are equal files.
    pub size_only: bool,
    /// `--only-newer`: a destination newer than its source is never replaced.
    pub only_newer: bool,
    /// `--ignore-existing`: a file present at the destination is never replaced.
    pub ignore_existing: bool,
    /// `--checksum`: files of equal size are compared by content (the server's hash).
    pub checksum: bool,
    /// `--modify-window SECS`: times this close are equal.
    pub window: i64,
    /// False when the destination cannot be given the source's time (a server without
    /// MFMT): a destination newer than its source, of the same size, is then taken to be
    /// that earlier transfer, not a change.
    pub dest_times_settable: bool,
    /// `--max-size`: larger source files are not transferred (nor deleted at the destination).
    pub max_size: Option<u64>,
    /// `--min-size`: smaller source files are not transferred (nor deleted at the destination).
    pub min_size: Option<u64>,
    /// `--newer-than`: source files modified before this time (seconds since the epoch)
    /// are not transferred (nor deleted at the destination).
    pub newer_than: Option<i64>,
}

impl Compare {
    /// Whether a source file is left alone by `--max-size`, `--min-size` or `--newer-than`.
    fn leaves(&self, src: &FileInfo) -> bool {
        let size = src.size.unwrap_or(0);
        self.max_size.is_some_and(|m| size > m)
            || self.min_size.is_some_and(|m| size < m)
            || self
                .newer_than
                .is_some_and(|t| src.mtime.is_some_and(|m| m < t))
    }
}

/// A file to transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// The path relative to both roots.
    pub path: String,
    /// Why.
    pub reason: Reason,
    /// The source's size, where known.
    pub size: Option<u64>,
}

/// A file whose content decides (`--checksum`, equal sizes): if the server's hash cannot
/// be had, `fallback` is what size and time said (None: equal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The path relative to both roots.
    pub path: String,
    /// The size both sides have.
    pub size: u64,
    /// The decision without a hash.
    pub fallback: Option<Reason>,
}

/// What a mirror run will do, in the order it does it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The destination root is missing and is created first.
    pub create_root: bool,
    /// Directories to create, parents first.
    pub mkdirs: Vec<String>,
    /// Files to transfer.
    pub transfers: Vec<Transfer>,
    /// Files to compare by content before deciding.
    pub checks: Vec<Check>,
    /// Files left as they are (equal, or kept by an option).
    pub skipped: usize,
    /// Destination files to delete (`--delete`), done only when everything else succeeded.
    pub deletes: Vec<String>,
    /// Destination directories to remove, children first.
    pub rmdirs: Vec<String>,
    /// Paths neither copied nor deleted, with why (a file here and a directory there…).
    pub conflicts: Vec<(String, String)>,
}

impl Plan {
    /// How many deletes (files and directories) the plan holds.
    pub fn delete_count(&self) -> usize {
        self.deletes.len() + self.rmdirs.len()
    }

    /// The plan as `--dry-run` shows it, one action a line. `get`/`put` name transfers.
    pub fn lines(&self, download: bool) -> Vec<String> {
        let verb = if download { "get" } else { "put" };
        let mut out = Vec::new();
        if self.create_root {
            out.push("mkdir .".to_string());
        }
        out.extend(self.mkdirs.iter().map(|d| format!("mkdir {d}")));
        out.extend(
            self.transfers
                .iter()
                .map(|t| format!("{verb} {} ({})", t.path, t.reason.word())),
        );
        out.extend(
            self.checks
                .iter()
                .map(|c| format!("{verb} {} (content, if the server's hash differs)", c.path)),
        );
        out.extend(self.deletes.iter().map(|d| format!("rm {d}")));
        out.extend(self.rmdirs.iter().map(|d| format!("rmdir {d}")));
        out
    }
}

/// Compares `source` with `dest` (the walkers already left excluded paths out of both; a
/// destination path that is not in the source is deleted when `delete`).
pub fn plan(source: &Tree, dest: &Tree, how: &Compare, delete: bool) -> Plan {
    let mut plan = Plan {
        create_root: !dest.root_exists,
        ..Plan::default()
    };
    for (path, node) in &source.nodes {
        let there = dest.nodes.get(path);
        match (node, there) {
            (Node::Other, _) => {}
            (Node::File(info), _) if how.leaves(info) => plan.skipped += 1,
            (Node::Dir, None) => plan.mkdirs.push(path.clone()),
            (Node::Dir, Some(Node::Dir)) => {}
            (Node::Dir, Some(_)) => plan.conflicts.push((
                path.clone(),
                "a directory in the source but not at the destination; not replaced".into(),
            )),
            (Node::File(info), None) => plan.transfers.push(Transfer {
                path: path.clone(),
                reason: Reason::New,
                size: info.size,
            }),
            (Node::File(src), Some(Node::File(dst))) => match compare(src, dst, how) {
                Decision::Equal => plan.skipped += 1,
                Decision::Differ(reason) => plan.transfers.push(Transfer {
                    path: path.clone(),
                    reason,
                    size: src.size,
                }),
                Decision::Check(size, fallback) => plan.checks.push(Check {
                    path: path.clone(),
                    size,
                    fallback,
                }),
            },
            (Node::File(_), Some(_)) => plan.conflicts.push((
                path.clone(),
                "a file in the source but not at the destination (a directory or a link); not replaced"
                    .into(),
            )),
        }
    }
    // Parents sort before their children in a BTreeMap of paths ("a" < "a/b"), except when
    // a sibling's name sorts between ("a b" < "a/b"): sort by depth to be sure.
    plan.mkdirs.sort_by_key(|p| p.matches('/').count());
    if delete {
        let mut gone_dirs: BTreeSet<&str> = BTreeSet::new();
        for (path, node) in &dest.nodes {
            if source.nodes.contains_key(path) {
                continue;
            }
            match node {
                Node::File(_) => plan.deletes.push(path.clone()),
                Node::Dir => {
                    gone_dirs.insert(path);
                }
                Node::Other => {}
            }
        }
        let mut rmdirs: Vec<String> = gone_dirs.into_iter().map(String::from).collect();
        rmdirs.sort_by_key(|p| std::cmp::Reverse(p.matches('/').count()));
        // A directory that holds something mirror does not delete cannot go.
        rmdirs.retain(|d| {
            let prefix = format!("{d}/");
            !dest
                .nodes
                .iter()
                .any(|(p, n)| p.starts_with(&prefix) && *n == Node::Other)
        });
        plan.rmdirs = rmdirs;
    }
    plan
}

enum Decision {
    Equal,
    Differ(Reason),
    Check(u64, Option<Reason>),
}

fn compare(src: &FileInfo, dst: &FileInfo, how: &Compare) -> Decision {
    if how.ignore_existing {
        return Decision::Equal;
    }
    // Seconds the destination is newer than its source (negative: older).
    let newer_by = match (src.mtime, dst.mtime) {
        (Some(s), Some(d)) => Some(d - s),
        _ => None,
    };
    if how.only_newer && newer_by.is_some_and(|n| n > how.window) {
        return Decision::Equal;
    }
    if src.size != dst.size && src.size.is_some() && dst.size.is_some() {
        return Decision::Differ(Reason::Size);
    }
    if how.size_only {
        return Decision::Equal;
    }
    let by_time = match newer_by {
        Some(n) if n.abs() <= how.window => None,
        // The destination is its own earlier transfer whose time could not be kept.
        Some(n) if n > 0 && !how.dest_times_settable => None,
        Some(_) => Some(Reason::Time),
        // A time not known on one side: the size decides.
        None => None,
    };
    match (how.checksum, src.size) {
        (true, Some(size)) => Decision::Check(size, by_time),
        _ => match by_time {
            None => Decision::Equal,
            Some(r) => Decision::Differ(r),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(size: u64, mtime: i64) -> Node {
        Node::File(FileInfo {
            size: Some(size),
            mtime: Some(mtime),
        })
    }

    fn plain() -> Compare {
        Compare {
            dest_times_settable: true,
            ..Compare::default()
        }
    }

    fn reasons(p: &Plan) -> Vec<(&str, Reason)> {
        p.transfers
            .iter()
            .map(|t| (t.path.as_str(), t.reason))
            .collect()
    }

    #[test]
    fn new_changed_and_equal_files() {
        let src = Tree::empty()
            .with("a", file(1, 100))
            .with("b", file(2, 100))
            .with("c", file(3, 100))
            .with("d", file(4, 100));
        let dst = Tree::empty()
            .with("b", file(9, 100))
            .with("c", file(3, 50))
            .with("d", file(4, 100));
        let p = plan(&src, &dst, &plain(), false);
        assert_eq!(
            reasons(&p),
            [("a", Reason::New), ("b", Reason::Size), ("c", Reason::Time)]
        );
        assert_eq!(p.skipped, 1);
        assert!(p.deletes.is_empty() && !p.create_root);
    }

    #[test]
    fn the_window_and_unknown_times() {
        let src = Tree::empty().with("a", file(1, 100)).with(
            "b",
            Node::File(FileInfo {
                size: Some(1),
                mtime: None,
            }),
        );
        let dst = Tree::empty().with("a", file(1, 102)).with("b", file(1, 5));
        let mut how = plain();
        assert_eq!(
            reasons(&plan(&src, &dst, &how, false)),
            [("a", Reason::Time)]
        );
        how.window = 2;
        let p = plan(&src, &dst, &how, false);
        assert!(p.transfers.is_empty(), "{p:?}");
        assert_eq!(p.skipped, 2, "an unknown time leaves the size to decide");
    }

    #[test]
    fn options_that_keep_destination_files() {
        let src = Tree::empty()
            .with("old", file(1, 100))
            .with("new", file(2, 300));
        let dst = Tree::empty()
            .with("old", file(5, 200))
            .with("new", file(2, 100));
        let only_newer = Compare {
            only_newer: true,
            ..plain()
        };
        assert_eq!(
            reasons(&plan(&src, &dst, &only_newer, false)),
            [("new", Reason::Time)],
            "a newer destination is kept even when sizes differ"
        );
        let ignore = Compare {
            ignore_existing: true,
            ..plain()
        };
        assert!(plan(&src, &dst, &ignore, false).transfers.is_empty());
        let size_only = Compare {
            size_only: true,
            ..plain()
        };
        assert_eq!(
            reasons(&plan(&src, &dst, &size_only, false)),
            [("old", Reason::Size)]
        );
    }

    #[test]
    fn checksum_defers_equal_sizes_to_the_hash() {
        let src = Tree::empty()
            .with("a", file(3, 100))
            .with("b", file(4, 100));
        let dst = Tree::empty()
            .with("a", file(3, 999))
            .with("b", file(5, 100));
        let how = Compare {
            checksum: true,
            ..plain()
        };
        let p = plan(&src, &dst, &how, false);
        assert_eq!(reasons(&p), [("b", Reason::Size)]);
        assert_eq!(
            p.checks,
            [Check {
                path: "a".into(),
                size: 3,
                fallback: Some(Reason::Time)
            }]
        );
    }

    #[test]
    fn a_destination_that_cannot_keep_times_is_not_re_sent() {
        let src = Tree::empty()
            .with("a", file(3, 100))
            .with("b", file(3, 500));
        let dst = Tree::empty()
            .with("a", file(3, 400))
            .with("b", file(3, 400));
        let how = Compare {
            dest_times_settable: false,
            ..Compare::default()
        };
        // a: the upload of a (newer, same size); b: changed since.
        assert_eq!(
            reasons(&plan(&src, &dst, &how, false)),
            [("b", Reason::Time)]
        );
    }

    #[test]
    fn size_and_age_limits_leave_source_files_alone_and_keep_their_copies() {
        let src = Tree::empty()
            .with("big", file(1000, 500))
            .with("small", file(1, 500))
            .with("old", file(50, 10))
            .with("ok", file(50, 500));
        let dst = Tree::empty()
            .with("big", file(3, 1))
            .with("old", file(1, 1));
        let how = Compare {
            max_size: Some(100),
            min_size: Some(10),
            newer_than: Some(100),
            ..plain()
        };
        let p = plan(&src, &dst, &how, true);
        assert_eq!(reasons(&p), [("ok", Reason::New)]);
        assert_eq!(p.skipped, 3);
        assert!(
            p.deletes.is_empty(),
            "files left alone are still in the source"
        );
    }

    #[test]
    fn directories_are_made_parents_first_and_removed_children_first() {
        let src = Tree::empty()
            .with("a b", Node::Dir)
            .with("a", Node::Dir)
            .with("a/b", Node::Dir)
            .with("a/b/f", file(1, 1));
        let dst = Tree::empty()
            .with("x", Node::Dir)
            .with("x/y", Node::Dir)
            .with("x/y/f", file(1, 1))
            .with("x/z", file(1, 1))
            .with("top", file(1, 1));
        let p = plan(&src, &dst, &plain(), true);
        assert_eq!(p.mkdirs, ["a", "a b", "a/b"]);
        assert_eq!(p.deletes, ["top", "x/y/f", "x/z"]);
        assert_eq!(p.rmdirs, ["x/y", "x"]);
        assert_eq!(p.delete_count(), 5);
        let without = plan(&src, &dst, &plain(), false);
        assert!(without.deletes.is_empty() && without.rmdirs.is_empty());
    }

    #[test]
    fn links_and_type_changes_are_never_replaced_nor_deleted() {
        let src = Tree::empty()
            .with("f", file(1, 1))
            .with("d", Node::Dir)
            .with("l", file(1, 1));
        let dst = Tree::empty()
            .with("f", Node::Dir)
            .with("d", file(1, 1))
            .with("l", Node::Other)
            .with("keep", Node::Dir)
            .with("keep/link", Node::Other);
        let p = plan(&src, &dst, &plain(), true);
        assert!(p.transfers.is_empty() && p.mkdirs.is_empty());
        let conflicted: Vec<&str> = p.conflicts.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(conflicted, ["d", "f", "l"]);
        assert!(p.rmdirs.is_empty(), "keep holds a link: {p:?}");
        assert!(p.deletes.is_empty());
    }

    #[test]
    fn a_missing_destination_is_created_and_the_plan_reads_as_lines() {
        let src = Tree::empty().with("d", Node::Dir).with("d/f", file(1, 1));
        let dst = Tree {
            root_exists: false,
            ..Tree::default()
        };
        let p = plan(&src, &dst, &plain(), true);
        assert!(p.create_root);
        assert_eq!(p.lines(true), ["mkdir .", "mkdir d", "get d/f (new)"]);
        let gone = plan(
            &Tree::empty(),
            &Tree::empty().with("x", file(1, 1)),
            &plain(),
            true,
        );
        assert_eq!(gone.lines(false), ["rm x"]);
    }
}
