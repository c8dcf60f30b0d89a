//! `ftp://` URLs: from the text a user typed to host, port, credentials and server path.
//!
//! `ftp://[USER[:PASSWORD]@]HOST[:PORT]/PATH`. User, password and path are percent-decoded,
//! so a password may contain `@`, `:`, `/` and `%` when written `%40`, `%3A`, `%2F`, `%25`.
//! The path is the absolute path on the server (`ftp://h/dir/f.txt` is `/dir/f.txt`); a path
//! relative to the login directory is written with a `~` first segment (`ftp://h/~/f.txt`
//! is `f.txt`, `ftp://h/~` is the login directory itself). Anything that would put CR, LF or
//! NUL on the wire, or any other control character in the text typed, is refused here,
//! before a connection is made.

use std::fmt;

use percent_encoding::percent_decode_str;

use crate::error::{Error, Result};
use crate::remote_path::is_safe;

/// The user name sent when a URL names none.
pub const ANONYMOUS: &str = "anonymous";
/// The password sent for `anonymous` when the server asks for one (the protocol layer's).
pub use crate::ftp::connection::ANONYMOUS_PASSWORD;

/// A parsed `ftp://` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct FtpUrl {
    /// Host name or address, without IPv6 brackets.
    pub host: String,
    /// TCP port, 21 unless given.
    pub port: u16,
    /// User name, decoded; `anonymous` unless given.
    pub user: String,
    /// Password, decoded, when the URL has one.
    pub password: Option<String>,
    /// True when the URL names a user (else `anonymous`, unless netrc says otherwise).
    pub user_given: bool,
    /// Path on the server, decoded: absolute (`/dir/f`) or relative to the login directory.
    pub path: String,
    /// `ftps://`: TLS from the first byte (implicit FTPS, port 990 by default).
    pub implicit_tls: bool,
    /// The path as a wildcard pattern: `*`, `?`, `[` typed in the URL are wildcards, the
    /// same characters percent-encoded (`%2A`) are literal (backslash-escaped here).
    pub glob_path: String,
}

/// True when `s` is written as a URL (`scheme://...`) rather than a local path.
pub fn looks_like_url(s: &str) -> bool {
    match s.find("://") {
        Some(i) => {
            i > 0
                && s[..i]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '+')
        }
        None => false,
    }
}

impl FtpUrl {
    /// Parses and validates an `ftp://` URL.
    ///
    /// ```
    /// use ftp3700::url::FtpUrl;
    /// let u = FtpUrl::parse("ftp://bob:p%40ss%3Aw%2Frd@example.org:2121/pub/a%20b.txt").unwrap();
    /// assert_eq!((u.user.as_str(), u.password.as_deref()), ("bob", Some("p@ss:w/rd")));
    /// assert_eq!((u.port, u.path.as_str()), (2121, "/pub/a b.txt"));
    /// ```
    pub fn parse(text: &str) -> Result<FtpUrl> {
        let bad = |why: &str| Error::usage(format!("bad URL {}: {why}", mask_raw(text)));
        if text.chars().any(|c| c.is_control()) {
            return Err(bad("it contains a control character"));
        }
        // `ftp:u:p@h/` and `ftp:/u:p@h/` parse too, but nobody means them, and they would
        // slip past the checks that look for `scheme://` (history, masking).
        if !looks_like_url(text) {
            return Err(bad("write it as ftp://host/path"));
        }
        // The URL parser skips any run of slashes after `ftp:`, so `ftp:///path` would
        // name the host "path" (and look it up); an empty authority is no host.
        let authority = &text[text.find("://").map_or(0, |i| i + 3)..];
        if authority.starts_with(['/', '\\']) || authority.is_empty() {
            return Err(bad("no host (write it as ftp://host/path)"));
        }
        let parsed = ::url::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
        let implicit_tls = match parsed.scheme() {
            "ftp" => false,
            "ftps" => true,
            other => {
                return Err(bad(&format!(
                    "unsupported scheme {other}:// (use ftp:// or ftps://)"
                )))
            }
        };
        let host = match parsed.host() {
            Some(::url::Host::Domain(d)) if !d.is_empty() => d.to_string(),
            Some(::url::Host::Ipv4(a)) => a.to_string(),
            Some(::url::Host::Ipv6(a)) => a.to_string(),
            _ => return Err(bad("no host")),
        };
        let port = parsed.port().unwrap_or(if implicit_tls { 990 } else { 21 });
        if port == 0 {
            return Err(bad("port 0"));
        }
        let decode = |part: &str, what: &str| -> Result<String> {
            let s = percent_decode_str(part)
                .decode_utf8()
                .map_err(|_| bad(&format!("the {what} is not valid UTF-8")))?
                .into_owned();
            if !is_safe(&s) {
                return Err(bad(&format!("the {what} contains CR, LF or NUL")));
            }
            Ok(s)
        };
        let user_given = !parsed.username().is_empty();
        let user = if user_given {
            decode(parsed.username(), "user name")?
        } else {
            ANONYMOUS.to_string()
        };
        let password = match parsed.password() {
            Some(p) => Some(decode(p, "password")?),
            None => None,
        };
        // A '?' or '#' typed in a path is part of a file name, not a query or fragment.
        let mut raw_path = parsed.path().to_string();
        if raw_path.is_empty() {
            raw_path.push('/');
        }
        if let Some(q) = parsed.query() {
            raw_path.push('?');
            raw_path.push_str(q);
        }
        if let Some(f) = parsed.fragment() {
            raw_path.push('#');
            raw_path.push_str(f);
        }
        // A path's bytes that are not UTF-8 (`caf%E9.txt`, a Latin-1 name) are kept as
        // bytes: the server gets exactly them (`text::decode_wire`).
        let mut path =
            crate::text::decode_wire(&percent_decode_str(&raw_path).collect::<Vec<u8>>());
        if !is_safe(&path) {
            return Err(bad("the path contains CR, LF or NUL"));
        }
        let mut glob_path = decode_glob(&raw_path);
        for p in [&mut path, &mut glob_path] {
            if p == "/~" {
                p.clear();
            } else if let Some(rest) = p.strip_prefix("/~/") {
                *p = rest.to_string();
            }
        }
        Ok(FtpUrl {
            host,
            port,
            user,
            password,
            user_given,
            path,
            implicit_tls,
            glob_path,
        })
    }

    /// How a connection to this URL uses TLS: `ftps://` is implicit TLS; a plain
    /// `ftp://` URL is upgraded with AUTH TLS when `explicit` (`--tls`, `open --tls`).
    pub fn tls_mode(&self, explicit: bool) -> crate::ftp::tls::Mode {
        use crate::ftp::tls::Mode;
        if self.implicit_tls {
            Mode::Implicit
        } else if explicit {
            Mode::Explicit
        } else {
            Mode::Off
        }
    }

    /// True when the path ends with `/`: the URL names a directory.
    pub fn names_directory(&self) -> bool {
        self.path.is_empty() || self.path.ends_with('/')
    }

    /// The last path component (the file name), if any.
    pub fn file_name(&self) -> Option<&str> {
        self.path.rsplit('/').next().filter(|s| !s.is_empty())
    }

    /// `host:port` as a user would read it (IPv6 in brackets).
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The URL as `--json` records name it: no password at all (not even `****`).
    pub fn without_password(&self) -> String {
        FtpUrl {
            password: None,
            ..self.clone()
        }
        .to_string()
    }

    /// The same URL with another (literal) path.
    pub fn with_path(&self, path: &str) -> FtpUrl {
        FtpUrl {
            path: path.to_string(),
            glob_path: crate::glob::escape(path),
            ..self.clone()
        }
    }
}

impl fmt::Display for FtpUrl {
    /// The URL as a user reads it, with the password shown as `****`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", if self.implicit_tls { "ftps" } else { "ftp" })?;
        if self.user != ANONYMOUS || self.password.is_some() {
            write!(f, "{}", self.user)?;
            if self.password.is_some() {
                write!(f, ":****")?;
            }
            write!(f, "@")?;
        }
        write!(f, "{}", self.authority())?;
        if !self.path.starts_with('/') {
            write!(f, "/~/")?;
        }
        write!(f, "{}", self.path)
    }
}

impl fmt::Debug for FtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FtpUrl({self})")
    }
}

/// Percent-decodes a raw URL path into a glob pattern: decoded characters that are
/// wildcards (or a backslash) are escaped, raw `*?[]` stay wildcards.
fn decode_glob(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let hex = |c: u8| (c as char).to_digit(16);
        if b == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                let decoded = (h * 16 + l) as u8;
                if b"*?[]\\".contains(&decoded) {
                    out.push(b'\\');
                }
                out.push(decoded);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    crate::text::decode_wire(&out)
}

/// Masks the password part of a URL the user typed, for error messages about that URL.
///
/// A URL that reaches an error message may be one the parser refused because its password
/// holds an unencoded `/` (`ftp://bob:Sec/ret@host/`): then the authority as the parser
/// reads it (up to the first `/`) has no `@`, and the password is whatever lies between
/// the first `:` and the last `@`. Masking too much in an error message is harmless.
pub fn mask_raw(text: &str) -> String {
    // As the URL parser reads it: the scheme ends at the first ':', and the authority starts
    // after any run of '/' and '\\' (none at all in "ftp:u:p@h"), tabs and newlines ignored.
    let Some(scheme_end) = text.find(':') else {
        return text.to_string();
    };
    let after = &text[scheme_end + 1..];
    let skip = after
        .find(|c| !matches!(c, '/' | '\\' | '\t' | '\n' | '\r'))
        .unwrap_or(after.len());
    let rest_start = scheme_end + 1 + skip;
    let rest = &text[rest_start..];
    let auth_end = rest.find('/').unwrap_or(rest.len());
    let auth = match rest[..auth_end].contains('@') {
        true => &rest[..auth_end],
        false => rest,
    };
    let Some(at) = auth.rfind('@') else {
        return text.to_string();
    };
    let userinfo = &auth[..at];
    let Some(colon) = userinfo.find(':') else {
        return text.to_string();
    };
    format!(
        "{}{}:****{}",
        &text[..rest_start],
        &userinfo[..colon],
        &rest[at..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let u = FtpUrl::parse("ftp://example.org/").unwrap();
        assert_eq!(u.host, "example.org");
        assert_eq!(u.port, 21);
        assert_eq!(u.user, "anonymous");
        assert_eq!(u.password, None);
        assert_eq!(u.path, "/");
        assert!(u.names_directory());
    }

    #[test]
    fn host_without_path_is_the_root() {
        assert_eq!(FtpUrl::parse("ftp://h").unwrap().path, "/");
    }

    #[test]
    fn password_with_reserved_characters() {
        let u = FtpUrl::parse("ftp://us%20er:a%40b%3Ac%2Fd%25e@h:2121/x").unwrap();
        assert_eq!(u.user, "us er");
        assert_eq!(u.password.as_deref(), Some("a@b:c/d%e"));
        assert_eq!(u.port, 2121);
    }

    #[test]
    fn unencoded_at_in_password_uses_the_last_at() {
        let u = FtpUrl::parse("ftp://bob:p@ss@h/").unwrap();
        assert_eq!(u.password.as_deref(), Some("p@ss"));
        assert_eq!(u.host, "h");
    }

    #[test]
    fn path_is_absolute_and_decoded() {
        let u = FtpUrl::parse("ftp://h/directory/send%20test%C3%BC.txt").unwrap();
        assert_eq!(u.path, "/directory/send testü.txt");
        assert_eq!(u.file_name(), Some("send testü.txt"));
        assert!(!u.names_directory());
    }

    #[test]
    fn hash_and_question_mark_belong_to_the_file_name() {
        let u = FtpUrl::parse("ftp://h/a#1?.txt").unwrap();
        assert_eq!(u.path, "/a#1?.txt");
    }

    #[test]
    fn tilde_means_the_login_directory() {
        assert_eq!(
            FtpUrl::parse("ftp://h/~/notes.txt").unwrap().path,
            "notes.txt"
        );
        assert_eq!(FtpUrl::parse("ftp://h/~").unwrap().path, "");
        assert_eq!(FtpUrl::parse("ftp://h/~/d/").unwrap().path, "d/");
    }

    #[test]
    fn ftps_is_implicit_tls_on_port_990() {
        let u = FtpUrl::parse("ftps://Example.org/x").unwrap();
        assert!(u.implicit_tls);
        assert_eq!((u.port, u.path.as_str()), (990, "/x"));
        assert_eq!(FtpUrl::parse("ftps://h").unwrap().path, "/");
        assert_eq!(
            FtpUrl::parse("ftps://u:p%40@h:2990/a%20b").unwrap().path,
            "/a b"
        );
        assert!(!FtpUrl::parse("ftp://h/").unwrap().implicit_tls);
    }

    #[test]
    fn ipv6_host() {
        let u = FtpUrl::parse("ftp://[::1]:2121/x").unwrap();
        assert_eq!(u.host, "::1");
        assert_eq!(u.authority(), "[::1]:2121");
    }

    #[test]
    fn crlf_and_nul_are_refused_encoded_or_raw() {
        for bad in [
            "ftp://h/a%0D%0ADELE%20x",
            "ftp://h/a%00b",
            "ftp://u%0A:p@h/",
            "ftp://u:p%0D@h/",
            "ftp://h/a\r\nDELE x",
            "ftp://h/a\tb",
        ] {
            let e = FtpUrl::parse(bad).unwrap_err();
            assert_eq!(e.kind(), crate::error::Kind::Usage, "{bad:?}");
        }
    }

    #[test]
    fn malformed_urls_are_usage_errors() {
        for bad in [
            "ftp://",
            "ftp://:21/x",
            "http://h/x",
            "ftp://h:99999/",
            "ftp://h:0/",
        ] {
            let e = FtpUrl::parse(bad).unwrap_err();
            assert_eq!(e.kind(), crate::error::Kind::Usage, "{bad:?}");
        }
    }

    #[test]
    fn display_masks_the_password() {
        let u = FtpUrl::parse("ftp://bob:s3cret@h/p").unwrap();
        assert_eq!(u.to_string(), "ftp://bob:****@h:21/p");
        assert!(!format!("{u:?}").contains("s3cret"));
        let e = FtpUrl::parse("http://bob:s3cret@h/p").unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
        assert_eq!(mask_raw("ftp://a:b@c/d@e"), "ftp://a:****@c/d@e");
    }

    #[test]
    fn mask_raw_finds_the_password_wherever_the_url_parser_does() {
        // The URL parser accepts any number of slashes (or backslashes) after "ftp:", and a
        // URL refused later (port 0) is echoed in the error: found by fuzzing.
        for (text, masked) in [
            ("ftp:u:s3cret@h:0/", "ftp:u:****@h:0/"),
            ("ftp:/u:s3cret@h:0/", "ftp:/u:****@h:0/"),
            ("ftp:///u:s3cret@h:0/", "ftp:///u:****@h:0/"),
            ("ftp:\\\\u:s3cret@h:0/", "ftp:\\\\u:****@h:0/"),
            ("ftp:/\t/u:s3cret@h/", "ftp:/\t/u:****@h/"),
        ] {
            assert_eq!(mask_raw(text), masked);
            let e = FtpUrl::parse(text).unwrap_err();
            assert!(!e.to_string().contains("s3cret"), "{e}");
        }
        assert_eq!(mask_raw("no-colon@h"), "no-colon@h");
        assert_eq!(mask_raw("ftp://h/a@b"), "ftp://h/a@b");
        assert_eq!(mask_raw("ftp:"), "ftp:");
    }

    #[test]
    fn raw_wildcards_are_patterns_and_encoded_ones_are_literal() {
        let u = FtpUrl::parse("ftp://h/dir/*.txt").unwrap();
        assert_eq!(
            (u.path.as_str(), u.glob_path.as_str()),
            ("/dir/*.txt", "/dir/*.txt")
        );
        let u = FtpUrl::parse("ftp://h/dir/a%2Ab%20c").unwrap();
        assert_eq!(
            (u.path.as_str(), u.glob_path.as_str()),
            ("/dir/a*b c", "/dir/a\\*b c")
        );
        assert!(!crate::glob::has_wildcards(&u.glob_path));
        let u = FtpUrl::parse("ftp://h/%E2%82%AC%").unwrap();
        assert_eq!(u.glob_path, "/€%");
    }

    #[test]
    fn a_password_with_an_unencoded_slash_is_masked_in_the_error() {
        for (text, masked) in [
            ("ftp://bob:Sec/ret@host/", "ftp://bob:****@host/"),
            ("ftp://bob:a/b/c@host:21/x", "ftp://bob:****@host:21/x"),
            ("ftps://bob:Sec/r@t@host/", "ftps://bob:****@host/"),
        ] {
            assert_eq!(mask_raw(text), masked);
            let e = FtpUrl::parse(text).unwrap_err();
            assert!(
                !e.to_string().contains("Sec") && !e.to_string().contains("/b/c"),
                "{e}"
            );
        }
    }

    #[test]
    fn a_url_without_a_host_is_refused_not_read_as_host_path() {
        for text in [
            "ftp:///path",
            "ftp:////path/x",
            "ftps:///",
            "ftp://",
            "ftp://\\path",
        ] {
            let e = FtpUrl::parse(text).unwrap_err();
            assert_eq!(e.kind(), crate::error::Kind::Usage, "{text}");
            assert!(e.to_string().contains("no host"), "{text}: {e}");
        }
        assert_eq!(FtpUrl::parse("ftp://h/path").unwrap().host, "h");
    }

    #[test]
    fn urls_without_double_slash_are_refused() {
        for bad in ["ftp:u:s3cret@h/", "ftp:/u:s3cret@h/", "ftp:\\u:s3cret@h/"] {
            let e = FtpUrl::parse(bad).unwrap_err();
            assert!(!e.to_string().contains("s3cret"), "{e}");
        }
    }

    #[test]
    fn url_detection() {
        assert!(looks_like_url("ftp://h/x"));
        assert!(looks_like_url("FTP://h/x"));
        assert!(looks_like_url("ftps://h/x"));
        assert!(!looks_like_url("./ftp:/x"));
        assert!(!looks_like_url("file.txt"));
        assert!(!looks_like_url("dir/a://b"));
    }
}
