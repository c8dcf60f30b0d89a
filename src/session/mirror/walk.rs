//! The walks of `mirror`: the remote tree (one listing a directory, MLSD where the server
//! has it, names checked as `cp -r` checks them) and the local tree (symbolic links
//! skipped), each into a [`Tree`] the planner compares.

use std::path::{Path, PathBuf};

use crate::error::{Error, Kind, Result};
use crate::ftp::connection::Connection;
use crate::ftp::list::{Entry, Kind as EntryKind};
use crate::remote_path::RemotePath;
use crate::session::listing::{self, Want};
use crate::session::ops;

use super::filter::Filter;
use super::plan::{FileInfo, Node, Tree};
use crate::session::local::PART_SUFFIX;
use crate::session::plan::{MAX_DEPTH, MAX_ENTRIES};

pub use crate::session::plan::safe_name;

pub(super) fn rel_join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// An MLSD time (`2024-01-31T10:00:00Z`) as seconds; None for the inexact times of LIST.
pub(super) fn exact_time(modified: Option<&str>) -> Option<i64> {
    let m = modified?;
    let b = m.as_bytes();
    if b.len() != 20 || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let digits: String = m.chars().filter(|c| c.is_ascii_digit()).collect();
    crate::ftp::time::parse_ftp_time(&digits)
}

/// How a walker treats what the filter excludes.
#[derive(Clone, Copy)]
pub(super) enum Excluded {
    /// Left out (the source).
    Drop,
    /// Kept as [`Node::Other`]: never written over, never deleted (the destination).
    Keep,
    /// The filter is not applied (`--delete-excluded` at the destination).
    Ignore,
}

pub(super) struct Walk<'a> {
    pub(super) filter: &'a Filter,
    pub(super) excluded: Excluded,
    pub(super) tree: Tree,
    pub(super) warnings: Vec<String>,
    pub(super) failures: Vec<(String, Error)>,
    pub(super) entries: usize,
    /// Every listed entry kept with its path relative to the root (`ls -R`, `du`), when
    /// Some; the tree alone when None (mirror).
    pub(super) listed: Option<Vec<(String, Entry)>>,
    /// True when a root that is a file is that file's own entry (`rm -r FILE`, `du FILE`),
    /// false when it is an error (mirror copies directory trees).
    pub(super) file_root_ok: bool,
    /// The root's own entry when the root is a file and `file_root_ok`.
    pub(super) root_file: Option<Entry>,
    /// mirror: the temporary files (`*.3700ftp-part`) found, relative to the root; they are
    /// not in the tree (never copied, never compared, never deleted as user files).
    pub(super) parts: Vec<String>,
    /// `--follow-symlinks` (a local walk): links are followed, never out of the root.
    pub(super) follow_links: bool,
}

impl<'a> Walk<'a> {
    pub(super) fn new(filter: &'a Filter, excluded: Excluded) -> Walk<'a> {
        Walk {
            filter,
            excluded,
            tree: Tree::empty(),
            warnings: Vec::new(),
            failures: Vec::new(),
            entries: 0,
            listed: None,
            file_root_ok: false,
            root_file: None,
            parts: Vec::new(),
            follow_links: false,
        }
    }

    /// Applies the filter: true when the entry goes on into the tree (and is descended).
    pub(super) fn admit(&mut self, rel: &str, is_dir: bool) -> bool {
        match self.excluded {
            Excluded::Ignore => true,
            _ if !self.filter.excludes(rel, is_dir) => true,
            Excluded::Drop => false,
            Excluded::Keep => {
                self.tree.nodes.insert(rel.to_string(), Node::Other);
                false
            }
        }
    }

    /// mirror: true when `path` names a temporary file, which goes to [`Walk::parts`].
    pub(super) fn is_part(&mut self, path: &str) -> bool {
        if self.listed.is_some() || !path.ends_with(PART_SUFFIX) {
            return false;
        }
        self.parts.push(path.to_string());
        true
    }

    pub(super) fn count(&mut self) -> Result<()> {
        self.entries += 1;
        if self.entries > MAX_ENTRIES {
            return Err(Error::new(
                Kind::Refused,
                format!("more than {MAX_ENTRIES} entries; not going further"),
            ));
        }
        Ok(())
    }
}

pub(super) fn too_deep(dir: &str) -> Error {
    Error::new(
        Kind::Refused,
        format!("{dir}: deeper than {MAX_DEPTH} levels; not going further"),
    )
}

/// Lists the remote tree at `root`, one listing a directory; a missing root is a tree
/// whose `root_exists` is false when `may_be_missing`.
pub(super) fn walk_remote(
    conn: &mut Connection,
    root: &RemotePath,
    restore: Option<&RemotePath>,
    walk: &mut Walk,
    may_be_missing: bool,
) -> Result<()> {
    let Some(first) = list_dir(conn, root, "", restore, walk, may_be_missing)? else {
        return Ok(());
    };
    walk_from(conn, root, restore, walk, first)
}

/// Lists `first` (the root's subdirectories) and everything below them, depth first.
pub(super) fn walk_from(
    conn: &mut Connection,
    root: &RemotePath,
    restore: Option<&RemotePath>,
    walk: &mut Walk,
    first: Vec<String>,
) -> Result<()> {
    let mut stack: Vec<(String, usize)> = first.into_iter().rev().map(|d| (d, 1)).collect();
    while let Some((rel, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(too_deep(&root.join(&rel)?));
        }
        let subdirs = list_dir(conn, root, &rel, restore, walk, false)?.unwrap_or_default();
        for sub in subdirs.into_iter().rev() {
            stack.push((sub, depth + 1));
        }
    }
    Ok(())
}

/// Lists one directory (`rel` below `root`) into `walk`: its subdirectories to descend, in
/// name order; None when the root is missing or a file (nothing to descend).
pub(super) fn list_dir(
    conn: &mut Connection,
    root: &RemotePath,
    rel: &str,
    restore: Option<&RemotePath>,
    walk: &mut Walk,
    may_be_missing: bool,
) -> Result<Option<Vec<String>>> {
    let rel = rel.to_string();
    let dir = root.join(&rel)?;
    let entries = match listing::fetch(conn, &dir, Want::Entries, restore) {
        Ok(e) => e,
        Err(e) if rel.is_empty() && may_be_missing && e.kind() == Kind::Refused => {
            walk.tree.root_exists = false;
            return Ok(None);
        }
        Err(e) if rel.is_empty() => return Err(e.context(format!("listing {}", shown(&dir)))),
        Err(e) if e.kind() == Kind::Refused => {
            walk.failures
                .push((shown(&dir), e.context("listing the directory")));
            return Ok(Some(Vec::new()));
        }
        Err(e) => return Err(e.context(format!("listing {}", shown(&dir)))),
    };
    if rel.is_empty() && lists_only_itself(&entries, &dir) && !is_remote_dir(conn, &dir, restore)? {
        if walk.file_root_ok {
            walk.root_file = entries.into_iter().next();
            return Ok(None);
        }
        return Err(Error::new(
            Kind::Refused,
            format!(
                "{}: not a directory (mirror copies directory trees; cp copies a file)",
                shown(&dir)
            ),
        ));
    }
    let mut subdirs = Vec::new();
    for e in entries {
        walk.count()?;
        let name = e.name.as_str();
        if !safe_name(name) {
            if name != "." && name != ".." {
                walk.warnings.push(format!(
                    "skipping unsafe name from the server in {}: {name:?}",
                    shown(&dir)
                ));
            }
            continue;
        }
        let path = rel_join(&rel, name);
        if e.kind != EntryKind::Unknown && !walk.filter.excludes(&path, e.kind == EntryKind::Dir) {
            if let Some(listed) = walk.listed.as_mut() {
                listed.push((path.clone(), e.clone()));
            }
        }
        match e.kind {
            EntryKind::File => {
                if !walk.is_part(&path) && walk.admit(&path, false) {
                    let info = FileInfo {
                        size: e.size,
                        mtime: exact_time(e.modified.as_deref()),
                    };
                    walk.tree.nodes.insert(path, Node::File(info));
                }
            }
            EntryKind::Dir => {
                if walk.admit(&path, true) {
                    walk.tree.nodes.insert(path.clone(), Node::Dir);
                    subdirs.push(path);
                }
            }
            EntryKind::Link => {
                walk.warnings
                    .push(format!("not following symbolic link {}", root.join(&path)?));
                walk.tree.nodes.insert(path, Node::Other);
            }
            EntryKind::Unknown => walk.warnings.push(format!(
                "skipping a listing line not understood in {}: {:?}",
                shown(&dir),
                e.raw
            )),
        }
    }
    // Depth first, in name order (servers list in any order).
    subdirs.sort();
    Ok(Some(subdirs))
}

/// A remote tree as one walk saw it, for the commands around `mirror` (`rm -r`, `ls -R`,
/// `du`): the same walk, one listing a directory, names checked as mirror checks them.
pub struct Listed {
    /// Every entry the filter admitted, with its path relative to the root, in walk order
    /// (a directory before what it holds).
    pub entries: Vec<(String, Entry)>,
    /// The same paths as a tree (links are [`Node::Other`]).
    pub tree: Tree,
    /// The root's own entry when the root is a file, not a directory.
    pub root_file: Option<Entry>,
    /// Things the user should know (unsafe names, links not followed).
    pub warnings: Vec<String>,
    /// Listings that failed below the root, with their paths.
    pub failures: Vec<(String, Error)>,
}

/// Walks the remote tree at `root` (a directory, or a file that is then its own entry);
/// what `filter` excludes is neither kept nor listed. A root that cannot be listed fails.
pub fn list_remote(
    conn: &mut Connection,
    root: &RemotePath,
    restore: Option<&RemotePath>,
    filter: &Filter,
) -> Result<Listed> {
    let mut walk = Walk::new(filter, Excluded::Drop);
    walk.listed = Some(Vec::new());
    walk.file_root_ok = true;
    walk_remote(conn, root, restore, &mut walk, false)?;
    Ok(Listed {
        entries: walk.listed.take().unwrap_or_default(),
        tree: walk.tree,
        root_file: walk.root_file,
        warnings: walk.warnings,
        failures: walk.failures,
    })
}

/// A listing of a file gives that file's own entry: a root whose listing is one file of
/// the root's own name may be a file, not a directory.
pub(super) fn lists_only_itself(entries: &[crate::ftp::list::Entry], dir: &str) -> bool {
    let own = dir.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    matches!(entries, [only] if only.kind == EntryKind::File && !own.is_empty() && only.name == own)
}

/// Whether CWD can enter `dir` (then back to `restore`).
pub(super) fn is_remote_dir(
    conn: &mut Connection,
    dir: &RemotePath,
    restore: Option<&RemotePath>,
) -> Result<bool> {
    if ops::cwd(conn, dir).is_err() {
        return Ok(false);
    }
    if let Some(back) = restore {
        ops::cwd(conn, back)?;
    }
    Ok(true)
}

pub(super) fn shown(remote: &str) -> String {
    if remote.is_empty() {
        ".".into()
    } else {
        remote.to_string()
    }
}

/// Walks the local tree at `root`; symbolic links are not followed (a warning, and they
/// are never written over nor deleted).
pub(super) fn walk_local(root: &Path, walk: &mut Walk, may_be_missing: bool) -> Result<()> {
    match std::fs::symlink_metadata(root) {
        Ok(m) if m.is_dir() => {}
        // A link to a directory given as the root is followed: it is what the user named.
        Ok(m) if m.file_type().is_symlink() && root.is_dir() => {}
        Ok(_) => {
            return Err(Error::new(
                Kind::Local,
                format!("{}: not a directory", root.display()),
            ))
        }
        Err(e) if may_be_missing && e.kind() == std::io::ErrorKind::NotFound => {
            walk.tree.root_exists = false;
            return Ok(());
        }
        Err(e) => return Err(Error::local(root.display(), &e)),
    }
    // With --follow-symlinks: the real root, and each directory's real ancestors (loops).
    let real_root = if walk.follow_links {
        Some(std::fs::canonicalize(root).map_err(|e| Error::local(root.display(), &e))?)
    } else {
        None
    };
    let mut stack: Vec<(String, usize, Vec<PathBuf>)> =
        vec![(String::new(), 0, real_root.iter().cloned().collect())];
    while let Some((rel, depth, chain)) = stack.pop() {
        let dir = if rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(crate::text::to_os(&rel))
        };
        if depth > MAX_DEPTH {
            return Err(Error::new(
                Kind::Local,
                format!("{}: deeper than {MAX_DEPTH} levels", dir.display()),
            ));
        }
        let read = match std::fs::read_dir(&dir) {
            Ok(r) => r,
            Err(e) if rel.is_empty() => return Err(Error::local(dir.display(), &e)),
            Err(e) => {
                walk.failures
                    .push((dir.display().to_string(), Error::local(dir.display(), &e)));
                continue;
            }
        };
        let mut entries: Vec<_> = read.filter_map(|e| e.ok()).collect();
        entries.sort_by_key(|e| e.file_name());
        let mut subdirs = Vec::new();
        for e in entries {
            walk.count()?;
            let full = e.path();
            // A name that is not UTF-8 goes to the server as its bytes.
            let name = crate::text::from_os(&e.file_name());
            let path = rel_join(&rel, &name);
            let mut meta = match std::fs::symlink_metadata(&full) {
                Ok(m) => m,
                Err(err) => {
                    walk.failures.push((
                        full.display().to_string(),
                        Error::local(full.display(), &err),
                    ));
                    continue;
                }
            };
            let mut real = None;
            if let (true, Some(real_root)) = (meta.file_type().is_symlink(), &real_root) {
                match follow(&full, real_root, &chain) {
                    Ok((target, m)) => {
                        meta = m;
                        real = Some(target);
                    }
                    Err(why) => {
                        walk.warnings
                            .push(format!("skipping symbolic link {}: {why}", full.display()));
                        walk.tree.nodes.insert(path, Node::Other);
                        continue;
                    }
                }
            } else if meta.is_dir() && real_root.is_some() {
                real = std::fs::canonicalize(&full).ok();
            }
            if meta.file_type().is_symlink() {
                walk.warnings
                    .push(format!("skipping symbolic link {}", full.display()));
                walk.tree.nodes.insert(path, Node::Other);
            } else if meta.is_dir() {
                if walk.admit(&path, true) {
                    walk.tree.nodes.insert(path.clone(), Node::Dir);
                    let mut below = chain.clone();
                    below.extend(real);
                    subdirs.push((path, below));
                }
            } else if meta.is_file() {
                if !walk.is_part(&path) && walk.admit(&path, false) {
                    let mtime = meta
                        .modified()
                        .ok()
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .and_then(|d| i64::try_from(d.as_secs()).ok());
                    let info = FileInfo {
                        size: Some(meta.len()),
                        mtime,
                    };
                    walk.tree.nodes.insert(path, Node::File(info));
                }
            } else {
                walk.tree.nodes.insert(path, Node::Other);
            }
        }
        for (sub, below) in subdirs.into_iter().rev() {
            stack.push((sub, depth + 1, below));
        }
    }
    Ok(())
}

/// `--follow-symlinks`: what the link at `link` points to (its real path and metadata), or
/// why it is not followed: it is broken, leads out of `real_root`, or into a directory
/// `chain` (the real directories above it) already holds, a loop.
fn follow(
    link: &Path,
    real_root: &Path,
    chain: &[PathBuf],
) -> std::result::Result<(PathBuf, std::fs::Metadata), String> {
    let target = std::fs::canonicalize(link)
        .map_err(|e| format!("it points nowhere ({})", crate::error::describe_io(&e)))?;
    if !target.starts_with(real_root) {
        return Err(format!(
            "it points out of the tree, to {}",
            target.display()
        ));
    }
    let meta = std::fs::metadata(&target).map_err(|e| crate::error::describe_io(&e))?;
    if meta.is_dir() && chain.iter().any(|c| c == &target) {
        return Err("a loop (it points to a directory above it)".into());
    }
    Ok((target, meta))
}
