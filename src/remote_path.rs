//! A path on the server, checked once.
//!
//! A [`RemotePath`] can only hold text free of CR, LF and NUL: the characters that would end
//! an FTP command line early and let a path smuggle a second command onto the control
//! connection. Operands are checked when they are resolved (`Ctx::remote`, the URL parser),
//! names from a server when they are joined to a directory ([`RemotePath::join`]); from then
//! on the session layer and the protocol pass the value along without checking it again
//! (`ftp::command::Arg` is built from it as is).
//!
//! A leaf: it imports nothing of the crate. Its refusal, [`UnsafePath`], becomes the crate's
//! usage error in `error.rs`.

use std::fmt;
use std::ops::Deref;

/// Text that cannot be sent in an FTP command: it contains CR, LF or NUL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsafePath;

impl fmt::Display for UnsafePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("refusing a path or credential that contains CR, LF or NUL")
    }
}

impl std::error::Error for UnsafePath {}

/// True when `s` can be one FTP command argument: no CR, LF or NUL. The one rule, used by
/// [`RemotePath`] and by the protocol's own argument type.
pub fn is_safe(s: &str) -> bool {
    !s.contains(['\r', '\n', '\0'])
}

/// A remote path proven free of CR, LF and NUL. Absolute, or relative to the connection's
/// working directory; empty means the working directory itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RemotePath(String);

impl RemotePath {
    /// Accepts `s` unless it contains CR, LF or NUL.
    pub fn new(s: impl Into<String>) -> Result<RemotePath, UnsafePath> {
        let s = s.into();
        if is_safe(&s) {
            Ok(RemotePath(s))
        } else {
            Err(UnsafePath)
        }
    }

    /// The path's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `self/name` (just `name` when `self` is empty); `name` is checked, `self` already was.
    pub fn join(&self, name: &str) -> Result<RemotePath, UnsafePath> {
        let dir = &self.0;
        if dir.is_empty() {
            RemotePath::new(name)
        } else if name.is_empty() {
            Ok(self.clone())
        } else if dir.ends_with('/') {
            RemotePath::new(format!("{dir}{name}"))
        } else {
            RemotePath::new(format!("{dir}/{name}"))
        }
    }

    /// The directory part (`/a/b` → `/a`, `/a` → `/`, `b` → empty). Needs no check: it is a
    /// prefix of a checked path.
    pub fn parent(&self) -> RemotePath {
        let trimmed = self.0.trim_end_matches('/');
        match trimmed.rfind('/') {
            Some(0) => RemotePath("/".into()),
            Some(i) => RemotePath(trimmed[..i].to_string()),
            None => RemotePath::default(),
        }
    }

    /// The last component (`/a/b/` → `b`).
    pub fn file_name(&self) -> &str {
        let trimmed = self.0.trim_end_matches('/');
        trimmed.rsplit('/').next().unwrap_or(trimmed)
    }

    /// An absolute path with `.` and `..` resolved, for servers whose PWD echoes the path as
    /// typed (`/pub/docs/..`); a relative or non-Unix one is left as it is.
    pub fn normalised(&self) -> RemotePath {
        if !self.0.starts_with('/') {
            return self.clone();
        }
        let mut parts: Vec<&str> = Vec::new();
        for part in self.0.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                p => parts.push(p),
            }
        }
        RemotePath(format!("/{}", parts.join("/")))
    }

    /// The same directory, another last component (checked).
    pub fn with_file_name(&self, name: &str) -> Result<RemotePath, UnsafePath> {
        let trimmed = self.0.trim_end_matches('/');
        match trimmed.rfind('/') {
            Some(i) => RemotePath::new(format!("{}{name}", &trimmed[..=i])),
            None => RemotePath::new(name),
        }
    }
}

impl Deref for RemotePath {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for RemotePath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RemotePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<&str> for RemotePath {
    type Error = UnsafePath;

    fn try_from(s: &str) -> Result<RemotePath, UnsafePath> {
        RemotePath::new(s)
    }
}

impl TryFrom<String> for RemotePath {
    type Error = UnsafePath;

    fn try_from(s: String) -> Result<RemotePath, UnsafePath> {
        RemotePath::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_would_end_a_command_line() {
        for bad in ["a\r\nDELE x", "a\nb", "a\rb", "a\0b"] {
            assert_eq!(RemotePath::new(bad), Err(UnsafePath), "{bad:?}");
        }
        assert_eq!(
            RemotePath::new("/pub/a b.txt").unwrap().as_str(),
            "/pub/a b.txt"
        );
    }

    #[test]
    fn join_checks_the_name_and_keeps_the_separator_single() {
        let root = RemotePath::new("/").unwrap();
        let dir = RemotePath::new("/pub").unwrap();
        let here = RemotePath::default();
        assert_eq!(root.join("x").unwrap().as_str(), "/x");
        assert_eq!(dir.join("x").unwrap().as_str(), "/pub/x");
        assert_eq!(here.join("x").unwrap().as_str(), "x");
        assert_eq!(dir.join("").unwrap().as_str(), "/pub");
        assert_eq!(dir.join("x\r\nDELE y"), Err(UnsafePath));
    }

    #[test]
    fn parent_and_names() {
        let p = RemotePath::new("/a/b/c.txt").unwrap();
        assert_eq!(p.parent().as_str(), "/a/b");
        assert_eq!(p.file_name(), "c.txt");
        assert_eq!(
            p.with_file_name(".c.txt.part").unwrap().as_str(),
            "/a/b/.c.txt.part"
        );
        assert_eq!(RemotePath::new("/a").unwrap().parent().as_str(), "/");
        assert_eq!(RemotePath::new("b").unwrap().parent().as_str(), "");
        assert_eq!(
            RemotePath::new("b")
                .unwrap()
                .with_file_name("c")
                .unwrap()
                .as_str(),
            "c"
        );
        assert_eq!(RemotePath::new("/d/").unwrap().file_name(), "d");
    }

    #[test]
    fn normalised_resolves_dots() {
        let n = |s: &str| {
            RemotePath::new(s)
                .unwrap()
                .normalised()
                .as_str()
                .to_string()
        };
        assert_eq!(n("/pub/docs/.."), "/pub");
        assert_eq!(n("/pub/./docs/../.."), "/");
        assert_eq!(n("/.."), "/");
        assert_eq!(n("/a b/c"), "/a b/c");
        assert_eq!(n("C:\\x"), "C:\\x");
    }
}
