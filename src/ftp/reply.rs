//! Sans-IO parser for FTP replies (RFC 959 §4.2).
//!
//! [`parse`] looks at the bytes received so far and either returns one complete reply and
//! how many bytes it used, or says that more bytes are needed. It never touches a socket,
//! so every corner case (multi-line replies, free-text continuation lines that begin with
//! digits, bare LF endings, replies split at any byte) is a unit test. It bounds what a
//! hostile server can make us hold: a line longer than [`MAX_LINE`] or a reply longer than
//! [`MAX_REPLY`] is an error, and a first line that is not `NNN` + space/hyphen is an error
//! at once (an SSH banner or an HTML page is not an FTP server).

use std::fmt;

/// The longest line we accept (64 KiB).
pub const MAX_LINE: usize = 64 * 1024;
/// The longest multi-line reply we accept (1 MiB).
pub const MAX_REPLY: usize = 1024 * 1024;

/// One complete reply: a three-digit code and its text lines (without CR/LF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The reply code, 100..=599.
    pub code: u16,
    /// The text of each line, with the leading `NNN-`/`NNN ` of the first and last lines removed.
    pub lines: Vec<String>,
}

impl Reply {
    /// True when this FEAT reply lists `feature` (a line of just that word, any case).
    pub fn lists_feature(&self, feature: &str) -> bool {
        self.feature_lines()
            .iter()
            .any(|l| l.trim().eq_ignore_ascii_case(feature))
    }

    /// The feature lines of a FEAT reply (none when FEAT was refused).
    pub fn feature_lines(&self) -> Vec<String> {
        if self.is_completion() && self.lines.len() > 2 {
            self.lines[1..self.lines.len() - 1].to_vec()
        } else {
            Vec::new()
        }
    }

    /// The first digit: 1 preliminary, 2 completion, 3 intermediate, 4 transient, 5 permanent.
    pub fn class(&self) -> u16 {
        self.code / 100
    }

    /// True for 1xx.
    pub fn is_preliminary(&self) -> bool {
        self.class() == 1
    }

    /// True for 2xx.
    pub fn is_completion(&self) -> bool {
        self.class() == 2
    }

    /// True for 4xx and 5xx.
    pub fn is_negative(&self) -> bool {
        self.class() >= 4
    }

    /// The text of the reply on one line: the last line of a multi-line reply when the first
    /// is empty, otherwise the first line.
    pub fn text(&self) -> &str {
        let first = self.lines.first().map(String::as_str).unwrap_or("");
        if first.trim().is_empty() {
            self.lines.last().map(String::as_str).unwrap_or("").trim()
        } else {
            first.trim()
        }
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.text())
    }
}

/// Why the bytes received cannot be an FTP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyError {
    /// The first line does not start with a reply code; carries a printable excerpt.
    NotFtp(String),
    /// A line grew past [`MAX_LINE`] without ending.
    LineTooLong,
    /// A multi-line reply grew past [`MAX_REPLY`] without its last line.
    ReplyTooLong,
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyError::NotFtp(excerpt) => {
                write!(f, "the server does not speak FTP (it sent \"{excerpt}\")")
            }
            ReplyError::LineTooLong => write!(
                f,
                "the server sent a reply line longer than {} KiB",
                MAX_LINE / 1024
            ),
            ReplyError::ReplyTooLong => write!(
                f,
                "the server sent a reply longer than {} MiB",
                MAX_REPLY / (1024 * 1024)
            ),
        }
    }
}

/// Parses one reply from the front of `buf`.
///
/// Returns `Ok(None)` when `buf` holds only part of a reply, and `Ok(Some((reply, used)))`
/// when the first `used` bytes form a complete reply.
///
/// ```
/// use ftp3700::ftp::reply::parse;
/// let (reply, used) = parse(b"230-Welcome\r\n230 ok\r\nrest").unwrap().unwrap();
/// assert_eq!((reply.code, used), (230, 21));
/// assert_eq!(reply.lines, ["Welcome", "ok"]);
/// assert_eq!(parse(b"220 half").unwrap(), None);
/// ```
pub fn parse(buf: &[u8]) -> Result<Option<(Reply, usize)>, ReplyError> {
    // The first line decides whether this is FTP at all, even before it is complete.
    let first_end = buf.iter().position(|&b| b == b'\n');
    let head_len = first_end.unwrap_or(buf.len()).min(4);
    check_code_prefix(&buf[..head_len], first_end.is_some(), buf)?;
    let Some(first_end) = first_end else {
        if buf.len() > MAX_LINE {
            return Err(ReplyError::LineTooLong);
        }
        return Ok(None);
    };
    if first_end > MAX_LINE {
        return Err(ReplyError::LineTooLong);
    }
    let first = strip_cr(&buf[..first_end]);
    let code = code_of(first);
    let multi = first.get(3) == Some(&b'-');
    let mut lines = vec![text_after_code(first)];
    let mut pos = first_end + 1;
    if !multi {
        return Ok(Some((Reply { code, lines }, pos)));
    }
    let terminator = [first[0], first[1], first[2], b' '];
    loop {
        let rest = &buf[pos..];
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            if rest.len() > MAX_LINE {
                return Err(ReplyError::LineTooLong);
            }
            if buf.len() > MAX_REPLY {
                return Err(ReplyError::ReplyTooLong);
            }
            return Ok(None);
        };
        if end > MAX_LINE {
            return Err(ReplyError::LineTooLong);
        }
        let line = strip_cr(&rest[..end]);
        pos += end + 1;
        if pos > MAX_REPLY {
            return Err(ReplyError::ReplyTooLong);
        }
        // RFC 959 §4.2: the last line is the same code followed by a space (or the bare code).
        if line.starts_with(&terminator) || line == &terminator[..3] {
            lines.push(text_after_code(line));
            return Ok(Some((Reply { code, lines }, pos)));
        }
        lines.push(crate::text::decode_wire(line));
    }
}

/// Fails at once when the first bytes cannot begin a reply: `[1-5][0-9][0-9]` then ` `, `-`
/// or the end of the line.
fn check_code_prefix(head: &[u8], line_complete: bool, buf: &[u8]) -> Result<(), ReplyError> {
    let ok = head.iter().enumerate().all(|(i, &b)| match i {
        0 => (b'1'..=b'5').contains(&b),
        1 | 2 => b.is_ascii_digit(),
        _ => b == b' ' || b == b'-' || b == b'\r',
    });
    let short_complete_line = line_complete && head.len() < 3;
    if ok && !short_complete_line {
        return Ok(());
    }
    // The first line that has something to show (garbage may begin with a CR or LF).
    let text = String::from_utf8_lossy(&buf[..buf.len().min(200)]);
    let first = text
        .split(['\r', '\n'])
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let excerpt: String = first
        .chars()
        .take(60)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    Err(ReplyError::NotFtp(excerpt))
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn code_of(line: &[u8]) -> u16 {
    line[..3]
        .iter()
        .fold(0u16, |acc, b| acc * 10 + u16::from(b - b'0'))
}

fn text_after_code(line: &[u8]) -> String {
    crate::text::decode_wire(line.get(4..).unwrap_or(b""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(input: &[u8]) -> Reply {
        let (reply, used) = parse(input).unwrap().expect("complete reply");
        assert_eq!(used, input.len(), "the whole input is one reply");
        reply
    }

    #[test]
    fn single_line_reply() {
        let r = one(b"220 Service ready\r\n");
        assert_eq!(r.code, 220);
        assert_eq!(r.lines, ["Service ready"]);
        assert_eq!(r.text(), "Service ready");
    }

    #[test]
    fn bare_code_without_text() {
        let r = one(b"200\r\n");
        assert_eq!((r.code, r.lines.len()), (200, 1));
        assert_eq!(r.text(), "");
    }

    #[test]
    fn multi_line_reply_with_free_text_middle_lines() {
        let r = one(b"230-Welcome\r\n 230 is not the end\r\n123 digits but another code\r\n230-still going\r\n230 done\r\n");
        assert_eq!(r.code, 230);
        assert_eq!(
            r.lines,
            [
                "Welcome",
                " 230 is not the end",
                "123 digits but another code",
                "230-still going",
                "done"
            ]
        );
    }

    #[test]
    fn bare_lf_line_endings() {
        let r = one(b"211-Features:\n EPSV\n211 End\n");
        assert_eq!(r.lines, ["Features:", " EPSV", "End"]);
    }

    #[test]
    fn reply_split_at_every_byte_needs_more_until_the_end() {
        let input = b"230-Hello\r\n there\r\n230 ok\r\n";
        for cut in 0..input.len() {
            assert_eq!(parse(&input[..cut]).unwrap(), None, "cut at {cut}");
        }
        assert_eq!(one(input).lines, ["Hello", " there", "ok"]);
    }

    #[test]
    fn leaves_the_next_reply_in_the_buffer() {
        let (r, used) = parse(b"150 Opening\r\n226 Done\r\n").unwrap().unwrap();
        assert_eq!((r.code, used), (150, 13));
    }

    #[test]
    fn ssh_banner_and_html_are_not_ftp_even_before_the_line_ends() {
        assert!(matches!(
            parse(b"SSH-2.0-OpenSSH_9.2\r\n"),
            Err(ReplyError::NotFtp(_))
        ));
        assert!(matches!(parse(b"<!DOCTYPE"), Err(ReplyError::NotFtp(_))));
        match parse(b"\r\n\x01garbage here\r\n") {
            Err(ReplyError::NotFtp(excerpt)) => assert_eq!(excerpt, "?garbage here"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse(b"HTTP/1.1 400"), Err(ReplyError::NotFtp(_))));
        assert!(matches!(parse(b"2x"), Err(ReplyError::NotFtp(_))));
        assert!(matches!(parse(b"22\r\n"), Err(ReplyError::NotFtp(_))));
        assert!(matches!(parse(b"600 x\r\n"), Err(ReplyError::NotFtp(_))));
        assert!(matches!(parse(b"220x\r\n"), Err(ReplyError::NotFtp(_))));
    }

    #[test]
    fn a_line_that_never_ends_is_an_error_past_the_cap() {
        let mut buf = b"220 ".to_vec();
        buf.resize(MAX_LINE, b'a');
        assert_eq!(parse(&buf).unwrap(), None);
        buf.resize(MAX_LINE + 2, b'a');
        assert_eq!(parse(&buf), Err(ReplyError::LineTooLong));
    }

    #[test]
    fn a_multi_line_reply_past_the_cap_is_an_error() {
        let mut buf = b"220-start\r\n".to_vec();
        while buf.len() <= MAX_REPLY {
            buf.extend_from_slice(b" more text on another line of the banner\r\n");
        }
        assert_eq!(parse(&buf), Err(ReplyError::ReplyTooLong));
    }

    #[test]
    fn non_utf8_text_is_kept_lossily() {
        let r = one(b"257 \"/caf\xe9\" created\r\n");
        assert_eq!(r.code, 257);
        assert!(r.text().starts_with("\"/caf"));
    }

    #[test]
    fn classes() {
        let r = one(b"550 No\r\n");
        assert!(r.is_negative() && !r.is_completion());
        assert!(one(b"150 go\r\n").is_preliminary());
    }
}

/// Extracts the directory from a 257 reply text: `"/a ""b"" c" is current` → `/a "b" c`
/// (RFC 959 Appendix II: a quote inside the name is doubled).
///
/// ```
/// use ftp3700::ftp::reply::parse_pwd;
/// assert_eq!(parse_pwd("\"/pub/x\" is the current directory").as_deref(), Some("/pub/x"));
/// ```
pub fn parse_pwd(text: &str) -> Option<String> {
    let start = text.find('"')? + 1;
    let mut out = String::new();
    let mut chars = text[start..].chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            if chars.peek() == Some(&'"') {
                chars.next();
                out.push('"');
            } else {
                return Some(out);
            }
        } else {
            out.push(c);
        }
    }
    None
}

#[cfg(test)]
mod pwd_tests {
    use super::parse_pwd;

    #[test]
    fn pwd_with_doubled_quotes_and_garbage() {
        assert_eq!(
            parse_pwd("\"/a \"\"b\"\" c\" is cwd").as_deref(),
            Some("/a \"b\" c")
        );
        assert_eq!(parse_pwd("\"/\"").as_deref(), Some("/"));
        assert_eq!(parse_pwd("no quotes"), None);
        assert_eq!(parse_pwd("\"unterminated"), None);
    }
}
