//! A certificate's SHA-256 fingerprint (of its DER bytes), read and written as
//! `openssl x509 -fingerprint -sha256` prints it: `AB:CD:…` (32 bytes in hex), with or
//! without the colons, any case, optionally after `SHA256:` or `sha256 Fingerprint=`.
//! A leaf: it imports nothing of the crate.

use std::fmt;

use sha2::{Digest, Sha256};

/// The SHA-256 of a certificate's DER encoding.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of a DER-encoded certificate.
    pub fn of_der(der: &[u8]) -> Fingerprint {
        Fingerprint(Sha256::digest(der).into())
    }

    /// Reads `text`; None when it is not 32 bytes of hex (colons and a `SHA256:` prefix allowed).
    pub fn parse(text: &str) -> Option<Fingerprint> {
        let text = text.trim();
        let lower = text.to_ascii_lowercase();
        let rest = [
            "sha256 fingerprint=",
            "sha256fingerprint=",
            "sha256:",
            "sha-256:",
        ]
        .iter()
        .find_map(|p| lower.strip_prefix(p))
        .unwrap_or(&lower);
        let hex: String = rest.chars().filter(|c| *c != ':').collect();
        if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Fingerprint(out))
    }
}

impl fmt::Display for Fingerprint {
    /// `SHA256:AB:CD:…`, the form `--pin` takes and `known_certs` stores.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SHA256:")?;
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_openssl_prints_with_or_without_colons_any_case() {
        let fp = Fingerprint::of_der(b"not really a certificate");
        let shown = fp.to_string();
        assert!(
            shown.starts_with("SHA256:") && shown.len() == 7 + 64 + 31,
            "{shown}"
        );
        let bare = &shown["SHA256:".len()..];
        assert_eq!(Fingerprint::parse(bare), Some(fp));
        assert_eq!(Fingerprint::parse(&bare.to_lowercase()), Some(fp));
        assert_eq!(Fingerprint::parse(&bare.replace(':', "")), Some(fp));
        assert_eq!(
            Fingerprint::parse(&format!("sha256 Fingerprint={bare}")),
            Some(fp)
        );
        assert_eq!(Fingerprint::parse(&shown), Some(fp));
        assert_eq!(Fingerprint::parse("AB:CD"), None);
        assert_eq!(Fingerprint::parse(&"zz".repeat(32)), None);
    }
}
