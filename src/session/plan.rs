//! Plans of multi-file operations: walking a remote or local tree into the jobs, the
//! directories to create and the ones to remove after a move.
//!
//! Names a server returns are untrusted: a name with `/`, `\\`, NUL or a control character,
//! `.` or `..`, an empty name, or one over 255 bytes is skipped with a warning, so nothing
//! is ever written outside the destination directory. Symbolic links are not followed.
//! Recursion is bounded in depth and entry count; what lies deeper is reported, not copied.

use std::path::{Path, PathBuf};

use crate::error::{Error, Kind, Result};
use crate::ftp::connection::Connection;
use crate::ftp::list::Kind as EntryKind;
use crate::remote_path::RemotePath;

use super::jobs::Job;
use super::listing::{self, Want};
use super::ops;

/// The deepest tree 3700ftp walks.
pub const MAX_DEPTH: usize = 64;
/// The most entries one operation walks.
pub const MAX_ENTRIES: usize = 200_000;
/// The longest name (in bytes) taken from a listing: what local file systems allow. With
/// it, a path is at most [`MAX_DEPTH`] × 256 bytes, so a hostile listing (long names, deep
/// trees) costs memory linear in its size.
pub const MAX_NAME: usize = 255;

/// What a multi-file operation will do.
#[derive(Default)]
pub struct Planned {
    pub jobs: Vec<Job>,
    /// Local directories to create before downloading (parents first).
    pub local_dirs: Vec<PathBuf>,
    /// Remote directories to create before uploading (parents first).
    pub remote_dirs: Vec<RemotePath>,
    /// Source directories to remove after `mv -r` (children first).
    pub remove_remote_dirs: Vec<RemotePath>,
    pub remove_local_dirs: Vec<PathBuf>,
    pub warnings: Vec<String>,
    pub entries: usize,
}

/// Why a listed name is skipped, as a warning, or None when it can be used. Long names
/// are shown cut, so warnings stay small too.
pub fn skip_reason(dir: &str, name: &str) -> Option<String> {
    let place = if dir.is_empty() {
        String::new()
    } else {
        format!(" in {dir}")
    };
    if name.len() > MAX_NAME {
        let head: String = name.chars().take(40).collect();
        return Some(format!(
            "skipping a name longer than {MAX_NAME} bytes{place}: {head:?}…"
        ));
    }
    if !safe_name(name) {
        return Some(format!(
            "skipping unsafe name from the server{place}: {name:?}"
        ));
    }
    None
}

/// True when a name from a server can be used as one path component here.
pub fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && !name.chars().any(|c| c.is_control())
}

/// The last component of a path.
pub fn last_component(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
}
/// Plans the download of the remote tree `dir` into `local`: one listing per directory.
pub fn walk_remote(
    conn: &mut Connection,
    dir: &RemotePath,
    local: &Path,
    depth: usize,
    delete_source: bool,
    restore: Option<&RemotePath>,
    plan: &mut Planned,
) -> Result<()> {
    if depth > MAX_DEPTH {
        // What lies within the limit is still copied; this part is reported.
        plan.warnings
            .push(format!("skipping {dir}: deeper than {MAX_DEPTH} levels"));
        return Ok(());
    }
    let entries = listing::fetch(conn, dir, Want::Entries, restore)?;
    plan.local_dirs.push(local.to_path_buf());
    for e in entries {
        plan.entries += 1;
        if plan.entries > MAX_ENTRIES {
            return Err(Error::new(
                Kind::Refused,
                format!("more than {MAX_ENTRIES} entries; not going further"),
            ));
        }
        let name = e.name.as_str();
        if name == "." || name == ".." {
            continue;
        }
        if let Some(why) = skip_reason(dir, name) {
            plan.warnings.push(why);
            continue;
        }
        // `skip_reason` refused control characters, so the join cannot fail.
        let path = dir.join(name)?;
        match e.kind {
            EntryKind::File => plan.jobs.push(Job {
                download: true,
                remote: path,
                local: local.join(crate::text::to_os(name)),
                delete_source,
            }),
            EntryKind::Dir => walk_remote(
                conn,
                &path,
                &local.join(crate::text::to_os(name)),
                depth + 1,
                delete_source,
                restore,
                plan,
            )?,
            EntryKind::Link => plan
                .warnings
                .push(format!("not following symbolic link {path}")),
            EntryKind::Unknown => plan.warnings.push(format!(
                "skipping a listing line not understood in {dir}: {:?}",
                e.raw
            )),
        }
    }
    if delete_source {
        plan.remove_remote_dirs.push(dir.clone());
    }
    Ok(())
}

/// Plans the upload of the local tree `dir` into `remote`.
pub fn walk_local(
    dir: &Path,
    remote: &RemotePath,
    depth: usize,
    delete_source: bool,
    plan: &mut Planned,
) -> Result<()> {
    if depth > MAX_DEPTH {
        plan.warnings.push(format!(
            "skipping {}: deeper than {MAX_DEPTH} levels",
            dir.display()
        ));
        return Ok(());
    }
    plan.remote_dirs.push(remote.clone());
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::local(dir.display(), &e))?
        .filter_map(|e| e.ok())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        plan.entries += 1;
        if plan.entries > MAX_ENTRIES {
            return Err(Error::new(
                Kind::Local,
                format!("more than {MAX_ENTRIES} entries"),
            ));
        }
        let path = e.path();
        // A name that is not UTF-8 goes to the server as its bytes.
        let name = crate::text::from_os(&e.file_name());
        let Ok(target) = remote.join(&name) else {
            plan.warnings.push(format!(
                "skipping a name with CR, LF or NUL: {}",
                path.display()
            ));
            continue;
        };
        let meta =
            std::fs::symlink_metadata(&path).map_err(|err| Error::local(path.display(), &err))?;
        if meta.file_type().is_symlink() {
            plan.warnings
                .push(format!("not following symbolic link {}", path.display()));
        } else if meta.is_dir() {
            walk_local(&path, &target, depth + 1, delete_source, plan)?;
        } else if meta.is_file() {
            plan.jobs.push(Job {
                download: false,
                remote: target,
                local: path,
                delete_source,
            });
        }
    }
    if delete_source {
        plan.remove_local_dirs.push(dir.to_path_buf());
    }
    Ok(())
}

/// Removes emptied source directories (children first); failures become warnings.
pub fn remove_remote_dirs(conn: &mut Connection, dirs: &[RemotePath], warnings: &mut Vec<String>) {
    for dir in dirs {
        let removed = ops::rmdir(conn, dir);
        if let Err(e) = removed {
            warnings.push(format!("{dir} was not removed: {}", e.message()));
        }
    }
}
