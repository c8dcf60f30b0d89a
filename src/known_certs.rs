//! `known_certs`: the certificates accepted at the prompt (trust on first use, as ssh's
//! `known_hosts`), one per server: `HOST:PORT SHA256:AB:CD:…` per line (`[::1]:21` for
//! IPv6), `#` comments. Found at `$XDG_DATA_HOME/3700ftp/known_certs`, else
//! `~/.local/share/3700ftp/known_certs`. Read once per run above the protocol layer,
//! which is handed the fingerprints.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::fingerprint::Fingerprint;

/// One remembered certificate.
pub type Known = (String, u16, Fingerprint);

/// Where the file is: `$XDG_DATA_HOME` when set to an absolute path, else under `home`.
pub fn path(xdg_data_home: Option<std::ffi::OsString>, home: Option<PathBuf>) -> Option<PathBuf> {
    let base = xdg_data_home
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| home.map(|h| h.join(".local/share")))?;
    Some(base.join("3700ftp").join("known_certs"))
}

/// `host:port` as the file writes it.
pub fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{}:{port}", host.to_ascii_lowercase())
    }
}

/// Reads the file's text; lines that cannot be read are returned as warnings (with their
/// number), never trusted.
pub fn parse(text: &str) -> (Vec<Known>, Vec<String>) {
    let mut known = Vec::new();
    let mut warnings = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let parsed = (|| {
            let (server, fp) = (words.next()?, words.next()?);
            let (host, port) = server.rsplit_once(':')?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            Some((
                host.to_ascii_lowercase(),
                port.parse().ok()?,
                Fingerprint::parse(fp)?,
            ))
        })();
        match parsed {
            Some(k) => known.push(k),
            None => warnings.push(format!(
                "known_certs line {}: not HOST:PORT SHA256:…; ignored",
                i + 1
            )),
        }
    }
    (known, warnings)
}

/// The certificates in the file at `path` (none when it does not exist), and warnings.
pub fn load(path: &Path) -> (Vec<Known>, Vec<String>) {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Vec::new(), Vec::new()),
        Err(e) => (
            Vec::new(),
            vec![format!(
                "{}: {e}; no certificate remembered",
                path.display()
            )],
        ),
    }
}

/// Appends `host:port fingerprint` to the file (made, with its directory, when missing;
/// readable by its owner only).
pub fn remember(path: &Path, host: &str, port: u16, fp: Fingerprint) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    writeln!(file, "{} {fp}", authority(host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_back_as_written_and_bad_ones_named() {
        let fp = Fingerprint::of_der(b"x");
        let text = format!(
            "# comment\n{} {fp}\n[::1]:990 {fp}\ngarbage\nh:notaport {fp}\n",
            authority("Example.ORG", 21)
        );
        let (known, warnings) = parse(&text);
        assert_eq!(
            known,
            vec![("example.org".into(), 21, fp), ("::1".into(), 990, fp)]
        );
        assert_eq!(warnings.len(), 2);
        assert!(warnings[0].contains("line 4"), "{warnings:?}");
    }

    #[test]
    fn the_file_is_under_xdg_data_home_else_the_home() {
        assert_eq!(
            path(Some("/x".into()), Some("/h".into())),
            Some(PathBuf::from("/x/3700ftp/known_certs"))
        );
        assert_eq!(
            path(Some("relative".into()), Some("/h".into())),
            Some(PathBuf::from("/h/.local/share/3700ftp/known_certs"))
        );
        assert_eq!(path(None, None), None);
    }

    #[test]
    fn remembered_certificates_are_appended() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a/b/known_certs");
        let fp = Fingerprint::of_der(b"y");
        remember(&file, "h", 21, fp).unwrap();
        remember(&file, "::1", 22, fp).unwrap();
        let (known, warnings) = load(&file);
        assert!(warnings.is_empty());
        assert_eq!(known, vec![("h".into(), 21, fp), ("::1".into(), 22, fp)]);
    }
}
