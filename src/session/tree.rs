//! Operations on a whole remote tree, over the one walk `mirror` uses
//! ([`crate::session::mirror::walk::list_remote`]: one listing a directory, names checked):
//! `rm -r` (deepest first), `ls -R` and `du` (sizes summed per directory).

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Kind, Result};
use crate::ftp::connection::Connection;
use crate::ftp::list::{Entry, Kind as EntryKind};
use crate::remote_path::RemotePath;

use super::listing::{self, Want};
use super::mirror::plan::Node;
use super::mirror::walk::{list_remote, Listed};
use super::mirror::{Filter, Pattern, Verdict};
use super::ops;

/// Lists the tree at `root`; names starting with a dot (and what lies below them) are left
/// out unless `all`.
pub fn list(
    conn: &mut Connection,
    root: &RemotePath,
    restore: Option<&RemotePath>,
    all: bool,
) -> Result<Listed> {
    let mut filter = Filter::default();
    if !all {
        filter.push(Verdict::Exclude, Pattern::new(".*")?);
    }
    list_remote(conn, root, restore, &filter)
}

/// What `rm -r` did.
#[derive(Debug, Default)]
pub struct Removed {
    /// Files (and symbolic links) deleted.
    pub files: usize,
    /// Directories removed, the root included.
    pub dirs: usize,
    /// Every failure, with the path it concerns; nothing above a failure is removed.
    pub failures: Vec<(String, Error)>,
    /// Things the user should know (an unsafe name skipped keeps its directory, whose RMD
    /// then fails and is reported).
    pub warnings: Vec<String>,
}

/// `rm -r`: one walk of `root`, then every file deleted and every directory removed,
/// deepest first, the root last. A failure keeps the directories above it (their RMD could
/// only fail). `home` is the login directory and `cwd` the connection's directory (where
/// relative paths start, and where a listing that had to enter a directory returns);
/// `root` resolving to `/`, the login directory or one of its parents is refused unless
/// `force`.
pub fn remove(
    conn: &mut Connection,
    root: &RemotePath,
    cwd: &RemotePath,
    home: &RemotePath,
    force: bool,
) -> Result<Removed> {
    let absolute = absolute(cwd, home, root);
    if !force && holds(&absolute, &normalize(home)) {
        let what = if absolute == "/" {
            "the root directory".to_string()
        } else if absolute == normalize(home) {
            "the login directory".to_string()
        } else {
            format!("a parent of the login directory {home}")
        };
        return Err(Error::usage(format!(
            "rm -r {root}: refusing to remove {what} ({absolute}); --force does it"
        )));
    }
    // A symbolic link is removed itself, never what it points to (rm -r link/ in POSIX);
    // the walk below would list through it.
    let own = listing::itself(conn, root, Want::Entries, Some(cwd))?;
    if matches!(own.kind, EntryKind::Link | EntryKind::File) {
        ops::delete(conn, &RemotePath::new(root.trim_end_matches('/'))?)
            .map_err(|e| e.context(format!("rm {root}")))?;
        return Ok(Removed {
            files: 1,
            ..Removed::default()
        });
    }
    let listed = list(conn, root, Some(cwd), true)?;
    let mut done = Removed {
        warnings: listed.warnings,
        failures: listed.failures,
        ..Removed::default()
    };
    if listed.root_file.is_some() {
        match ops::delete(conn, root) {
            Ok(_) => done.files += 1,
            Err(e) => done.failures.push((root.to_string(), e)),
        }
        return Ok(done);
    }
    // A skipped name stays in its directory, which then cannot be removed.
    let mut kept: BTreeSet<String> = done
        .failures
        .iter()
        .map(|(p, _)| relative_to(root, p))
        .collect();
    // In reverse path order a directory comes after everything it holds ("a/x" > "a").
    for (path, node) in listed.tree.nodes.iter().rev() {
        let full = root.join(path)?;
        match node {
            Node::Dir => {
                if beneath(&kept, path) {
                    continue;
                }
                match ops::rmdir(conn, &full) {
                    Ok(_) => done.dirs += 1,
                    Err(e) => {
                        if matches!(e.kind(), Kind::Interrupted | Kind::Connection) {
                            return Err(e.context(format!("rmdir {full}")));
                        }
                        kept.insert(path.clone());
                        done.failures.push((full.to_string(), e));
                    }
                }
            }
            Node::File(_) | Node::Other => match ops::delete(conn, &full) {
                Ok(_) => done.files += 1,
                Err(e) => {
                    if matches!(e.kind(), Kind::Interrupted | Kind::Connection) {
                        return Err(e.context(format!("rm {full}")));
                    }
                    kept.insert(path.clone());
                    done.failures.push((full.to_string(), e));
                }
            },
        }
    }
    if kept.is_empty() {
        match ops::rmdir(conn, &RemotePath::new(root.trim_end_matches('/'))?) {
            Ok(_) => done.dirs += 1,
            Err(e) => done.failures.push((root.to_string(), e)),
        }
    }
    Ok(done)
}

/// True when something in `kept` lies inside the directory `dir`.
fn beneath(kept: &BTreeSet<String>, dir: &str) -> bool {
    kept.iter().any(|k| k.starts_with(&format!("{dir}/")))
}

fn relative_to(root: &str, path: &str) -> String {
    let root = root.trim_end_matches('/');
    path.strip_prefix(root)
        .map(|p| p.trim_start_matches('/').to_string())
        .unwrap_or_else(|| path.to_string())
}

/// `path` made absolute from `cwd` (a path starting `~` from `home`), with `.`, `..`,
/// repeated and trailing slashes resolved: what the server would act on.
pub fn absolute(cwd: &str, home: &str, path: &str) -> String {
    let joined = if path.starts_with('/') {
        path.to_string()
    } else if path == "~" || path.starts_with("~/") {
        format!("{home}/{}", &path[1..])
    } else {
        format!("{cwd}/{path}")
    };
    normalize(&joined)
}

/// `/a//b/./c/../` → `/a/b`.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// True when the directory `outer` is `inner` or holds it.
fn holds(outer: &str, inner: &str) -> bool {
    outer == "/" || inner == outer || inner.starts_with(&format!("{outer}/"))
}

/// `du`: the bytes under every directory of the tree (files only; links count nothing),
/// each directory after the ones it holds, the root (`""`) last.
pub fn sizes(entries: &[(String, Entry)]) -> Vec<(String, u64)> {
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    totals.insert(String::new(), 0);
    for (path, e) in entries {
        if e.kind == EntryKind::Dir {
            totals.entry(path.clone()).or_insert(0);
        }
    }
    for (path, e) in entries {
        if e.kind != EntryKind::File {
            continue;
        }
        let size = e.size.unwrap_or(0);
        let mut dir = path.as_str();
        loop {
            dir = dir.rsplit_once('/').map_or("", |(d, _)| d);
            *totals.entry(dir.to_string()).or_insert(0) += size;
            if dir.is_empty() {
                break;
            }
        }
    }
    // Post-order: by path components, each directory after its subdirectories.
    let mut dirs: Vec<(String, u64)> = totals.into_iter().collect();
    dirs.sort_by(|(a, _), (b, _)| post_order(a, b));
    dirs
}

fn post_order(a: &str, b: &str) -> std::cmp::Ordering {
    let split = |p: &str| -> Vec<String> {
        if p.is_empty() {
            Vec::new()
        } else {
            p.split('/').map(String::from).collect()
        }
    };
    let (a, b) = (split(a), split(b));
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    match (a.get(common), b.get(common)) {
        (Some(x), Some(y)) => x.cmp(y),
        // A directory after what it holds.
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, None) => std::cmp::Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, kind: EntryKind, size: Option<u64>) -> Entry {
        Entry {
            name: name.into(),
            kind,
            size,
            modified: None,
            perms: None,
            raw: name.into(),
        }
    }

    #[test]
    fn paths_resolve_as_the_server_would() {
        assert_eq!(absolute("/home/u", "/home/u", "."), "/home/u");
        assert_eq!(absolute("/home/u/x", "/home/u", ".."), "/home/u");
        assert_eq!(absolute("/home/u", "/home/u", "a//b/"), "/home/u/a/b");
        assert_eq!(absolute("/srv", "/home/u", "~/a"), "/home/u/a");
        assert_eq!(absolute("/srv", "/home/u", "/../.."), "/");
        assert!(holds("/", "/home/u"));
        assert!(holds("/home", "/home/u"));
        assert!(holds("/home/u", "/home/u"));
        assert!(!holds("/home/u/a", "/home/u"));
        assert!(!holds("/home/us", "/home/u"));
    }

    #[test]
    fn du_sums_each_directory_after_its_subdirectories() {
        let entries = vec![
            ("a".to_string(), entry("a", EntryKind::Dir, None)),
            ("a/x".to_string(), entry("x", EntryKind::File, Some(3))),
            ("a b".to_string(), entry("a b", EntryKind::File, Some(5))),
            ("a/c".to_string(), entry("c", EntryKind::Dir, None)),
            ("a/c/y".to_string(), entry("y", EntryKind::File, Some(7))),
            ("e".to_string(), entry("e", EntryKind::Dir, None)),
            ("l".to_string(), entry("l", EntryKind::Link, Some(99))),
        ];
        assert_eq!(
            sizes(&entries),
            [
                ("a/c".to_string(), 7),
                ("a".to_string(), 10),
                ("e".to_string(), 0),
                (String::new(), 15),
            ]
        );
    }
}
