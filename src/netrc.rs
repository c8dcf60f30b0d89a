//! `~/.netrc` support, as curl and BSD ftp read it.
//!
//! This module owns finding the netrc file (`$NETRC`, else `HOME/.netrc`), parsing it
//! (`machine`, `default`, `login`, `password`, `account`, `macdef`, `#` comments, curl-style
//! double-quoted tokens) and choosing the entry for a host and user.
//!
//! It must never touch any file but the one it is given, never print (a permission warning is
//! returned for the caller to show), and never reveal a password: [`Entry`]'s `Debug` masks it.
//! Parsing never panics, whatever the input.

use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The credentials of one `machine` (or `default`) entry.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// The `login` value, if given.
    pub login: Option<String>,
    /// The `password` value, if given.
    pub password: Option<String>,
    /// The `account` value (sent with ACCT), if given.
    pub account: Option<String>,
}

/// Shown in place of a secret by `Debug`.
struct Masked;

impl fmt::Debug for Masked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("login", &self.login)
            .field("password", &self.password.as_ref().map(|_| Masked))
            .field("account", &self.account.as_ref().map(|_| Masked))
            .finish()
    }
}

/// A cursor over the netrc text that yields whitespace-separated tokens.
struct Lexer<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Lexer { text, pos: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    /// Moves past the end of the current line (or to the end of the text).
    fn skip_line(&mut self) {
        match self.rest().find('\n') {
            Some(i) => self.pos += i + 1,
            None => self.pos = self.text.len(),
        }
    }

    /// Skips whitespace and `#` comments (a `#` starting a token comments out the line).
    fn skip_blanks(&mut self) {
        loop {
            let rest = self.rest();
            let trimmed = rest.trim_start();
            self.pos += rest.len() - trimmed.len();
            if trimmed.starts_with('#') {
                self.skip_line();
            } else {
                return;
            }
        }
    }

    /// The next token, unquoted and unescaped when it was double-quoted; None at the end.
    fn next_token(&mut self) -> Option<String> {
        self.skip_blanks();
        let rest = self.rest();
        if rest.is_empty() {
            return None;
        }
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    '\\' => match chars.next() {
                        Some((_, 'n')) => out.push('\n'),
                        Some((_, 'r')) => out.push('\r'),
                        Some((_, 't')) => out.push('\t'),
                        Some((_, other)) => out.push(other),
                        None => out.push('\\'),
                    },
                    c => out.push(c),
                }
            }
            self.pos += 1 + end;
            Some(out)
        } else {
            let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
            self.pos += len;
            Some(rest[..len].to_string())
        }
    }

    /// Skips a `macdef` body: the rest of the current line, then every line up to and
    /// including the next empty (or blank) line.
    fn skip_macro_body(&mut self) {
        self.skip_line();
        while self.pos < self.text.len() {
            let line_end = self.rest().find('\n').unwrap_or(self.rest().len());
            let blank = self.rest()[..line_end].trim().is_empty();
            self.skip_line();
            if blank {
                return;
            }
        }
    }
}

/// Parses netrc text into its entries in file order: `(Some(host), entry)` for `machine host`,
/// `(None, entry)` for `default`. Keywords are ASCII case-insensitive; unknown keywords are
/// skipped with their value; `login`/`password`/`account` before any `machine` are ignored.
/// Tokens may be double-quoted with backslash escapes (`\"`, `\\`, `\n`, `\r`, `\t`), so a
/// value may contain spaces or start with `#`. Never panics.
pub fn parse(text: &str) -> Vec<(Option<String>, Entry)> {
    let mut lexer = Lexer::new(text);
    let mut entries = Vec::new();
    let mut current: Option<(Option<String>, Entry)> = None;
    while let Some(token) = lexer.next_token() {
        match token.to_ascii_lowercase().as_str() {
            "machine" => {
                entries.extend(current.take());
                let Some(host) = lexer.next_token() else {
                    break;
                };
                current = Some((Some(host), Entry::default()));
            }
            "default" => {
                entries.extend(current.take());
                current = Some((None, Entry::default()));
            }
            keyword @ ("login" | "password" | "account") => {
                let value = lexer.next_token();
                if let Some((_, entry)) = current.as_mut() {
                    let field = match keyword {
                        "login" => &mut entry.login,
                        "password" => &mut entry.password,
                        _ => &mut entry.account,
                    };
                    *field = value;
                }
            }
            "macdef" => {
                lexer.next_token();
                lexer.skip_macro_body();
            }
            _ => {
                lexer.next_token();
            }
        }
    }
    entries.extend(current);
    entries
}

/// The entry for `host`: the first `machine` entry whose name equals `host` (ASCII
/// case-insensitive) and, when `user` is given, whose login equals `user`. Without such an
/// entry, the first `default` entry, under the same login rule (so a default password is
/// never offered for a different user).
pub fn lookup(text: &str, host: &str, user: Option<&str>) -> Option<Entry> {
    let entries = parse(text);
    let login_ok = |entry: &Entry| user.is_none_or(|u| entry.login.as_deref() == Some(u));
    let machine = entries.iter().find(|(name, entry)| {
        name.as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(host))
            && login_ok(entry)
    });
    machine
        .or_else(|| {
            entries
                .iter()
                .find(|(name, entry)| name.is_none() && login_ok(entry))
        })
        .map(|(_, entry)| entry.clone())
}

/// Where the netrc file is: `$NETRC` when set and non-empty, else `HOME/.netrc`; None when
/// neither is known.
pub fn netrc_path(env_netrc: Option<OsString>, home: Option<PathBuf>) -> Option<PathBuf> {
    match env_netrc {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => home
            .filter(|h| !h.as_os_str().is_empty())
            .map(|h| h.join(".netrc")),
    }
}

/// Reads the netrc file at `path` and looks up `host` and `user` in it. Returns the entry and,
/// on unix, a warning when group or others have any access to the file. A missing file is
/// `Ok((None, None))`; any other read failure is a `Local` error naming the path.
pub fn load(
    path: &Path,
    host: &str,
    user: Option<&str>,
) -> Result<(Option<Entry>, Option<String>)> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((None, None)),
        Err(e) => return Err(Error::local(path.display(), &e)),
    };
    let warning = permission_warning(&file, path)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| Error::local(path.display(), &e))?;
    let text = String::from_utf8_lossy(&bytes);
    Ok((lookup(&text, host, user), warning))
}

/// A warning when the open netrc file is accessible by group or others.
#[cfg(unix)]
fn permission_warning(file: &File, path: &Path) -> Result<Option<String>> {
    use std::os::unix::fs::PermissionsExt;
    let mode = file
        .metadata()
        .map_err(|e| Error::local(path.display(), &e))?
        .permissions()
        .mode();
    if mode & 0o077 == 0 {
        return Ok(None);
    }
    let access = match (mode & 0o044 != 0, mode & 0o022 != 0) {
        (true, true) => "readable and writable",
        (true, false) => "readable",
        (false, true) => "writable",
        (false, false) => "accessible",
    };
    Ok(Some(format!(
        "{} is {access} by other users (chmod 600 it)",
        path.display()
    )))
}

/// Permission bits are a unix notion; elsewhere there is nothing to warn about.
#[cfg(not(unix))]
fn permission_warning(_file: &File, _path: &Path) -> Result<Option<String>> {
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use std::io::Write;

    fn entry(login: Option<&str>, password: Option<&str>, account: Option<&str>) -> Entry {
        Entry {
            login: login.map(String::from),
            password: password.map(String::from),
            account: account.map(String::from),
        }
    }

    #[test]
    fn parses_every_keyword() {
        let text = "machine ftp.example.com login alice password s3cret account acct1\n";
        assert_eq!(
            parse(text),
            vec![(
                Some("ftp.example.com".to_string()),
                entry(Some("alice"), Some("s3cret"), Some("acct1"))
            )]
        );
    }

    #[test]
    fn any_whitespace_separates_tokens() {
        let text = "machine\thost\n\n  login\r\n bob\tpassword   pw\n";
        assert_eq!(
            parse(text),
            vec![(Some("host".into()), entry(Some("bob"), Some("pw"), None))]
        );
    }

    #[test]
    fn keywords_are_case_insensitive() {
        let text = "MACHINE h Login u PASSWORD p";
        assert_eq!(
            parse(text),
            vec![(Some("h".into()), entry(Some("u"), Some("p"), None))]
        );
    }

    #[test]
    fn multiple_machines_and_default() {
        let text = "machine a login ua password pa\n\
                    machine b login ub\n\
                    default login anonymous password me@example.com\n";
        assert_eq!(
            parse(text),
            vec![
                (Some("a".into()), entry(Some("ua"), Some("pa"), None)),
                (Some("b".into()), entry(Some("ub"), None, None)),
                (None, entry(Some("anonymous"), Some("me@example.com"), None)),
            ]
        );
    }

    #[test]
    fn quoted_tokens_with_escapes() {
        let text = r#"machine "my host" login "a b" password "p \"q\" \\ r\tx\n" account "#;
        let parsed = parse(text);
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].0.as_deref(), Some("my host"));
        assert_eq!(parsed[0].1.login.as_deref(), Some("a b"));
        assert_eq!(parsed[0].1.password.as_deref(), Some("p \"q\" \\ r\tx\n"));
        assert_eq!(parsed[0].1.account, None, "a keyword without a value");
    }

    #[test]
    fn quoted_values_may_contain_hash_and_be_empty() {
        let text = "machine h login \"\" password \"#not a comment\"";
        assert_eq!(
            parse(text),
            vec![(
                Some("h".into()),
                entry(Some(""), Some("#not a comment"), None)
            )]
        );
    }

    #[test]
    fn unterminated_quote_runs_to_the_end() {
        let text = "machine h password \"abc def\\";
        assert_eq!(
            parse(text),
            vec![(Some("h".into()), entry(None, Some("abc def\\"), None))]
        );
    }

    #[test]
    fn unquoted_tokens_keep_backslashes_and_quotes() {
        let text = "machine h password a\\b\"c";
        assert_eq!(parse(text)[0].1.password.as_deref(), Some("a\\b\"c"));
    }

    #[test]
    fn comments_run_to_end_of_line_only_at_token_start() {
        let text = "# a comment line machine evil login x\n\
                    machine h # trailing comment password nope\n\
                    \tlogin u password pa#ss # another\n\
                    #machine other\n";
        assert_eq!(
            parse(text),
            vec![(Some("h".into()), entry(Some("u"), Some("pa#ss"), None))]
        );
    }

    #[test]
    fn macdef_body_is_skipped_up_to_an_empty_line() {
        let text = "machine a login ua\n\
                    macdef init\n\
                    machine inside login no\n\
                    password nope\n\
                    \n\
                    password pa\n\
                    machine b login ub\n";
        assert_eq!(
            parse(text),
            vec![
                (Some("a".into()), entry(Some("ua"), Some("pa"), None)),
                (Some("b".into()), entry(Some("ub"), None, None)),
            ]
        );
    }

    #[test]
    fn macdef_blank_line_may_hold_spaces_and_crlf() {
        let text = "machine a\r\nmacdef m\r\ncd /x\r\n  \r\nlogin u\r\n";
        assert_eq!(
            parse(text),
            vec![(Some("a".into()), entry(Some("u"), None, None))]
        );
    }

    #[test]
    fn macdef_without_an_end_swallows_the_rest() {
        let text = "machine a login u\nmacdef m\nmachine b login v\n";
        assert_eq!(
            parse(text),
            vec![(Some("a".into()), entry(Some("u"), None, None))]
        );
    }

    #[test]
    fn unknown_keywords_are_skipped_with_their_value() {
        let text = "machine h port 2121 login u protocol ftp password p";
        assert_eq!(
            parse(text),
            vec![(Some("h".into()), entry(Some("u"), Some("p"), None))]
        );
    }

    #[test]
    fn values_before_any_machine_are_ignored() {
        let text = "login stray password stray\nmachine h login u";
        assert_eq!(
            parse(text),
            vec![(Some("h".into()), entry(Some("u"), None, None))]
        );
    }

    #[test]
    fn truncated_input() {
        assert_eq!(parse(""), vec![]);
        assert_eq!(parse("   \n\t"), vec![]);
        assert_eq!(parse("machine"), vec![]);
        assert_eq!(
            parse("machine h login"),
            vec![(Some("h".into()), Entry::default())]
        );
        assert_eq!(parse("default"), vec![(None, Entry::default())]);
        assert_eq!(parse("macdef"), vec![]);
        assert_eq!(parse("\""), vec![]);
    }

    #[test]
    fn never_panics_on_generated_input() {
        let pieces = [
            "machine", "default", "login", "password", "account", "macdef", "#", "\"", "\\", " ",
            "\n", "\t", "\r\n", "\n\n", "x", "é", "日本", "😀", "\"a b\"", "\\\"", "port",
        ];
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..5000 {
            let mut text = String::new();
            for _ in 0..(state % 16) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push_str(pieces[(state % pieces.len() as u64) as usize]);
            }
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let _ = parse(&text);
            let _ = lookup(&text, "x", Some("x"));
        }
        // Every prefix of a rich file, cut at every char boundary.
        let rich =
            "machine \"h é\" login u password \"p\\\" w\" # c\nmacdef m\nx\n\ndefault login 日本\n";
        for (i, _) in rich.char_indices() {
            let _ = parse(&rich[..i]);
        }
    }

    const FILE: &str = "machine Example.COM login alice password pa\n\
                        machine example.com login bob password pb account ab\n\
                        machine other login carol password pc\n\
                        default login anonymous password guest@\n";

    #[test]
    fn lookup_matches_host_case_insensitively_first_wins() {
        assert_eq!(
            lookup(FILE, "example.com", None),
            Some(entry(Some("alice"), Some("pa"), None))
        );
        assert_eq!(
            lookup(FILE, "EXAMPLE.com", None),
            Some(entry(Some("alice"), Some("pa"), None))
        );
    }

    #[test]
    fn lookup_honours_the_user() {
        assert_eq!(
            lookup(FILE, "example.com", Some("bob")),
            Some(entry(Some("bob"), Some("pb"), Some("ab")))
        );
        assert_eq!(
            lookup(FILE, "example.com", Some("alice")),
            Some(entry(Some("alice"), Some("pa"), None))
        );
        assert_eq!(lookup(FILE, "example.com", Some("Alice")), None);
        assert_eq!(lookup(FILE, "other", Some("bob")), None);
    }

    #[test]
    fn lookup_falls_back_to_default() {
        let anon = Some(entry(Some("anonymous"), Some("guest@"), None));
        assert_eq!(lookup(FILE, "unknown.host", None), anon);
        assert_eq!(lookup(FILE, "unknown.host", Some("anonymous")), anon);
        assert_eq!(lookup(FILE, "example.com", Some("anonymous")), anon);
        assert_eq!(lookup("machine a login u", "b", None), None);
        assert_eq!(lookup("", "b", None), None);
    }

    #[test]
    fn lookup_prefers_a_machine_even_after_default() {
        let text = "default login d password dp\nmachine h login u password up";
        assert_eq!(
            lookup(text, "h", None),
            Some(entry(Some("u"), Some("up"), None))
        );
    }

    #[test]
    fn debug_never_shows_secrets() {
        let e = entry(Some("alice"), Some("hunter2-secret"), Some("acct-secret"));
        let shown = format!("{e:?}");
        assert!(!shown.contains("hunter2-secret"), "{shown}");
        assert!(!shown.contains("acct-secret"), "{shown}");
        assert!(shown.contains("****"), "{shown}");
        assert!(shown.contains("alice"), "{shown}");
        let pretty = format!("{e:#?}");
        assert!(!pretty.contains("hunter2-secret"), "{pretty}");
        let parsed = lookup("machine h login u password topsecret", "h", None);
        assert!(!format!("{parsed:?}").contains("topsecret"));
        assert_eq!(
            format!("{:?}", Entry::default()),
            "Entry { login: None, password: None, account: None }"
        );
    }

    #[test]
    fn netrc_path_prefers_the_environment() {
        assert_eq!(
            netrc_path(Some("/etc/my-netrc".into()), Some("/home/u".into())),
            Some(PathBuf::from("/etc/my-netrc"))
        );
        assert_eq!(
            netrc_path(Some("".into()), Some("/home/u".into())),
            Some(PathBuf::from("/home/u/.netrc"))
        );
        assert_eq!(
            netrc_path(None, Some("/home/u".into())),
            Some(PathBuf::from("/home/u/.netrc"))
        );
        assert_eq!(netrc_path(None, None), None);
        assert_eq!(netrc_path(None, Some(PathBuf::new())), None);
    }

    fn write_netrc(dir: &tempfile::TempDir, text: &str) -> PathBuf {
        let path = dir.path().join("netrc");
        let mut f = File::create(&path).unwrap();
        f.write_all(text.as_bytes()).unwrap();
        path
    }

    #[cfg(unix)]
    fn chmod(path: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn load_missing_file_is_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let got = load(&dir.path().join("absent"), "h", None).unwrap();
        assert_eq!(got, (None, None));
    }

    #[test]
    fn load_finds_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_netrc(&dir, FILE);
        #[cfg(unix)]
        chmod(&path, 0o600);
        let (e, warning) = load(&path, "other", Some("carol")).unwrap();
        assert_eq!(e, Some(entry(Some("carol"), Some("pc"), None)));
        assert_eq!(warning, None);
        let (e, _) = load(&path, "nowhere", Some("zed")).unwrap();
        assert_eq!(e, None);
    }

    #[test]
    fn load_tolerates_invalid_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("netrc");
        std::fs::write(&path, b"machine h login u password p\xff\xfeq\n").unwrap();
        let (e, _) = load(&path, "h", None).unwrap();
        assert_eq!(e.unwrap().password.as_deref(), Some("p\u{fffd}\u{fffd}q"));
    }

    #[test]
    fn load_other_errors_are_local_and_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let err = load(dir.path(), "h", None).unwrap_err();
        assert_eq!(err.kind(), Kind::Local);
        let shown = err.to_string();
        assert!(shown.contains(&dir.path().display().to_string()), "{shown}");
        assert_eq!(shown, shown.trim_end_matches('.'));
    }

    #[cfg(unix)]
    #[test]
    fn load_warns_when_others_can_access_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_netrc(&dir, FILE);
        let shown = path.display().to_string();
        let cases = [
            (0o600, None),
            (0o400, None),
            (0o644, Some("readable")),
            (0o640, Some("readable")),
            (0o604, Some("readable")),
            (0o620, Some("writable")),
            (0o666, Some("readable and writable")),
            (0o610, Some("accessible")),
        ];
        for (mode, want) in cases {
            chmod(&path, mode);
            let (e, warning) = load(&path, "other", None).unwrap();
            assert_eq!(e, Some(entry(Some("carol"), Some("pc"), None)), "{mode:o}");
            let want = want.map(|w| format!("{shown} is {w} by other users (chmod 600 it)"));
            assert_eq!(warning, want, "mode {mode:o}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn load_warns_even_when_nothing_matches() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_netrc(&dir, "machine a login u");
        chmod(&path, 0o644);
        let (e, warning) = load(&path, "b", None).unwrap();
        assert_eq!(e, None);
        assert!(warning.unwrap().contains("readable by other users"));
    }
}
