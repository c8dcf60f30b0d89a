//! The local side of a transfer: what the destination is (a regular file, nothing yet, a
//! device or FIFO, a symbolic link), the temporary file a download lands in, the permissions
//! the result gets, syncing before a source is deleted, and whether a source changed.

use std::fs::{File, Metadata};
use std::path::{Path, PathBuf};

use crate::error::{Error, Kind, Result};

/// The suffix of every temporary file 3700ftp writes (local or remote).
pub const PART_SUFFIX: &str = ".3700ftp-part";
/// The longest name part kept in a temporary name, so that `.NAME.XXXXXX.3700ftp-part` stays
/// within the usual 255-byte limit of a file name.
const MAX_NAME_IN_TEMP: usize = 200;

/// What a download's destination is.
#[derive(Debug)]
pub enum Dest {
    /// Nothing there yet; the path to create.
    Missing(PathBuf),
    /// A regular file (reached through symbolic links: the path is the file's own).
    Regular(PathBuf, Metadata),
    /// A device node or FIFO: written through, never replaced.
    Special(PathBuf),
}

impl Dest {
    /// Looks at `dest`. A symbolic link is followed to the file it names, so `cp` and
    /// `cp -c` both write that file and the link stays; a link to nothing is an error.
    pub fn inspect(dest: &Path) -> Result<Dest> {
        let meta = match std::fs::symlink_metadata(dest) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Dest::Missing(dest.to_path_buf()))
            }
            Err(e) => return Err(Error::local(dest.display(), &e)),
        };
        if meta.file_type().is_symlink() {
            let real = std::fs::canonicalize(dest).map_err(|_| {
                Error::new(
                    Kind::Local,
                    format!(
                        "{}: a symbolic link to a file that does not exist; not written",
                        dest.display()
                    ),
                )
            })?;
            return match Dest::inspect(&real)? {
                Dest::Missing(_) => Err(Error::new(
                    Kind::Local,
                    format!(
                        "{}: a symbolic link to nothing; not written",
                        dest.display()
                    ),
                )),
                found => Ok(found),
            };
        }
        if meta.is_file() {
            return Ok(Dest::Regular(dest.to_path_buf(), meta));
        }
        if meta.is_dir() {
            return Err(Error::new(
                Kind::Local,
                format!("{}: is a directory", dest.display()),
            ));
        }
        if is_socket(&meta) {
            return Err(Error::new(
                Kind::Local,
                format!("{}: is a socket; not written", dest.display()),
            ));
        }
        Ok(Dest::Special(dest.to_path_buf()))
    }

    /// The path written.
    pub fn path(&self) -> &Path {
        match self {
            Dest::Missing(p) | Dest::Regular(p, _) | Dest::Special(p) => p,
        }
    }

    /// The length of a regular file to continue, when there is one.
    pub fn partial_len(&self) -> Option<u64> {
        match self {
            Dest::Regular(_, m) => Some(m.len()),
            _ => None,
        }
    }
}

#[cfg(unix)]
fn is_socket(meta: &Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_socket()
}

#[cfg(not(unix))]
fn is_socket(_meta: &Metadata) -> bool {
    false
}

/// `name`, cut at a character boundary so a temporary name built on it stays short enough.
pub fn short_name(name: &str) -> &str {
    if name.len() <= MAX_NAME_IN_TEMP {
        return name;
    }
    let mut end = MAX_NAME_IN_TEMP;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// The fixed part name beside `dest` (`.NAME.3700ftp-part`) that `mirror` downloads
/// through and keeps when interrupted, the same name an upload's part has on the server.
pub fn fixed_part(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "download".into());
    dest.with_file_name(format!(".{}{PART_SUFFIX}", short_name(&name)))
}

/// A new temporary file beside `dest` (`.NAME.XXXXXX.3700ftp-part`), removed when dropped.
/// It is created with the mode a new file gets (0666 less the umask), or, when it will
/// replace a file, with that file's permission bits.
pub fn new_part(dest: &Path, replaces: Option<&Metadata>) -> Result<tempfile::NamedTempFile> {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "download".into());
    let prefix = format!(".{}.", short_name(&name));
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(PART_SUFFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = replaces.map_or(0o666, |m| m.permissions().mode() & 0o7777);
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    builder
        .tempfile_in(dir)
        .map_err(|e| Error::local(dir.display(), &e))
}

/// Gives the finished temporary file the replaced file's exact permission bits (the umask
/// may have taken some away at creation) and, where allowed, its owner and group.
pub fn keep_nature(part: &File, replaces: Option<&Metadata>) {
    #[cfg(unix)]
    if let Some(old) = replaces {
        use std::os::unix::fs::MetadataExt;
        let _ = std::os::unix::fs::fchown(part, Some(old.uid()), Some(old.gid()));
        let _ = part.set_permissions(old.permissions());
    }
    #[cfg(not(unix))]
    let _ = (part, replaces);
}

/// Syncs a written file's data and the directory entry naming it, so that what a `mv` is
/// about to delete at the source survives a crash here.
pub fn make_durable(file: &File, path: &Path) -> Result<()> {
    file.sync_all()
        .map_err(|e| Error::local(path.display(), &e))?;
    sync_parent(path)
}

/// Syncs the directory holding `path` (its entry for `path`).
pub fn sync_parent(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    #[cfg(unix)]
    {
        let d = File::open(dir).map_err(|e| Error::local(dir.display(), &e))?;
        d.sync_all().map_err(|e| Error::local(dir.display(), &e))?;
    }
    Ok(())
}

/// A local source's size and modification time, to tell whether it changed during an
/// upload (a file still being written must not be deleted by `mv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl Snapshot {
    /// The file's state now.
    pub fn of(path: &Path) -> Result<Snapshot> {
        let meta = std::fs::metadata(path).map_err(|e| Error::local(path.display(), &e))?;
        Ok(Snapshot {
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

/// A local file's modification time as seconds since the epoch.
pub fn mtime(path: &Path) -> Option<i64> {
    let t = std::fs::metadata(path).ok()?.modified().ok()?;
    let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    i64::try_from(d.as_secs()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_cut_at_a_character_boundary() {
        let name = "é".repeat(120); // 240 bytes
        let cut = short_name(&name);
        assert!(cut.len() <= MAX_NAME_IN_TEMP);
        assert!(cut.chars().all(|c| c == 'é'));
        assert_eq!(short_name("a.txt"), "a.txt");
    }
}
