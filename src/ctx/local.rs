//! Local operands: a path against the local working directory (`~` as in a shell), and a
//! wildcard in its last component expanded against the files there.

use std::path::{Path, PathBuf};

use super::Ctx;
use crate::error::{Error, Kind, Result};
use crate::glob;

impl Ctx {
    /// Expands a local operand with wildcards in its last component against the local
    /// directory; None when it has none. A pattern that matches nothing is an error.
    pub fn local_matches(&self, operand: &str) -> Result<Option<Vec<PathBuf>>> {
        if !glob::has_wildcards(operand) {
            return Ok(None);
        }
        let (dir, pattern) = glob::split(operand);
        let base = self.local(if dir.is_empty() { "." } else { &dir });
        let read = std::fs::read_dir(&base).map_err(|e| Error::local(base.display(), &e))?;
        let names: Vec<String> = read
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let found = glob::expand(&pattern, names.iter().map(String::as_str));
        if found.is_empty() {
            return Err(Error::new(
                Kind::Local,
                format!("{operand}: no local file matches"),
            ));
        }
        Ok(Some(found.into_iter().map(|n| base.join(n)).collect()))
    }

    /// Resolves a local operand against the local working directory.
    pub fn local(&self, operand: &str) -> PathBuf {
        let operand = glob::unescape(operand);
        let p = expand_home(&operand);
        if p.is_absolute() {
            p
        } else {
            self.local_dir.join(p)
        }
    }
}

/// `~` and `~/x` mean the home directory, as in a shell.
fn expand_home(p: &str) -> PathBuf {
    if p == "~" || p.starts_with("~/") {
        if let Some(home) = dirs::home_dir() {
            return home.join(p.trim_start_matches('~').trim_start_matches('/'));
        }
    }
    Path::new(p).to_path_buf()
}
