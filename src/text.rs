//! Server text made safe for a terminal: the one place that decides which characters are
//! escaped, for every place that shows text a server chose (errors, listings, the prompt's
//! directory, completion candidates, `ls --json`). A leaf: it imports nothing of the crate.
//!
//! Unsafe are the control characters (C0, DEL, C1: ESC and CSI drive the terminal; a lone
//! CR overwrites the line) and the bidirectional-formatting characters (U+202A–U+202E,
//! U+2066–U+2069, U+200E, U+200F, U+061C), which reorder what is shown so that
//! `evil\u{202e}txt.exe` reads as `evilexe.txt`. Tabs are kept.
//!
//! It also holds the reversible decoding of the server's bytes ([`decode_wire`],
//! [`encode_wire`]): a name that is not UTF-8 (a Latin-1 `caf\xe9.txt`) is kept as the
//! server's bytes through every `&str` of the program. Each byte of an invalid sequence
//! becomes one private-use character U+EF80..U+EFFF (the byte plus U+EF00, as MirBSD's
//! OPTU-8 does), and the UTF-8 of those characters themselves is treated the same way, so
//! `encode_wire(&decode_wire(b)) == b` for every byte string. Such a character is shown as
//! `\xNN`.

use std::borrow::Cow;
use std::ffi::{OsStr, OsString};

/// The character a raw byte (0x80..=0xFF) becomes: U+EF00 + the byte.
const RAW_BASE: u32 = 0xEF00;

/// The byte a raw character stands for, when `c` is one (U+EF80..=U+EFFF).
pub fn raw_byte(c: char) -> Option<u8> {
    let v = c as u32;
    (RAW_BASE + 0x80..=RAW_BASE + 0xFF)
        .contains(&v)
        .then(|| (v - RAW_BASE) as u8)
}

/// True when `text` holds bytes that are not UTF-8 (decoded by [`decode_wire`]).
pub fn has_raw(text: &str) -> bool {
    text.chars().any(|c| raw_byte(c).is_some())
}

/// The server's bytes as text, reversibly: valid UTF-8 as it is, every other byte (and
/// the UTF-8 of U+EF80..U+EFFF itself) as its raw character.
pub fn decode_wire(bytes: &[u8]) -> String {
    // The common case, at the speed of a UTF-8 check: valid, and no 0xEE lead byte (which
    // the raw range's own UTF-8 would start with).
    if !bytes.contains(&0xEE) {
        if let Ok(text) = std::str::from_utf8(bytes) {
            return text.to_string();
        }
    }
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        if !valid.as_bytes().contains(&0xEE) {
            out.push_str(valid);
        } else {
            for c in valid.chars() {
                match raw_byte(c) {
                    // A raw-range character the server really sent: its own bytes, raw.
                    Some(_) => c
                        .encode_utf8(&mut [0u8; 4])
                        .bytes()
                        .for_each(|b| push_raw(b, &mut out)),
                    None => out.push(c),
                }
            }
        }
        chunk.invalid().iter().for_each(|&b| push_raw(b, &mut out));
    }
    out
}

/// Appends the character that stands for the byte `b` (0x80..=0xFF).
fn push_raw(b: u8, out: &mut String) {
    out.push(char::from_u32(RAW_BASE + u32::from(b)).expect("a private-use character"));
}

/// The bytes `text` stands for: raw characters back to their bytes, the rest as UTF-8.
pub fn encode_wire(text: &str) -> Cow<'_, [u8]> {
    if !has_raw(text) {
        return Cow::Borrowed(text.as_bytes());
    }
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match raw_byte(c) {
            Some(b) => out.push(b),
            None => out.extend_from_slice(c.encode_utf8(&mut [0u8; 4]).as_bytes()),
        }
    }
    Cow::Owned(out)
}

/// A local file name for a remote name: on Unix exactly the server's bytes.
pub fn to_os(name: &str) -> OsString {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        OsStr::from_bytes(&encode_wire(name)).to_os_string()
    }
    #[cfg(not(unix))]
    {
        OsString::from(
            name.chars()
                .map(|c| if raw_byte(c).is_some() { '\u{fffd}' } else { c })
                .collect::<String>(),
        )
    }
}

/// A local file name as a remote name: on Unix its bytes, decoded as the server's are.
pub fn from_os(name: &OsStr) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        decode_wire(name.as_bytes())
    }
    #[cfg(not(unix))]
    {
        name.to_string_lossy().into_owned()
    }
}

/// True for a character that must not reach a terminal as it is.
pub fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\t') || is_bidi_control(c) || raw_byte(c).is_some()
}

/// The bidirectional-formatting characters (embeddings, overrides, isolates, marks).
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// True when `text` holds no unsafe character.
pub fn is_safe(text: &str) -> bool {
    !text.chars().any(is_unsafe)
}

/// `text` with every unsafe character written as a visible escape such as `\u{1b}` (a
/// byte that is not UTF-8 as `\xe9`), for messages and lines (the escape says exactly
/// what the server sent).
pub fn printable(text: &str) -> Cow<'_, str> {
    replace(text, |c, out| match raw_byte(c) {
        Some(b) => out.push_str(&format!("\\x{b:02x}")),
        None => out.push_str(&c.escape_unicode().to_string()),
    })
}

/// A name as a listing shows it: every unsafe character becomes `?`, as GNU `ls` shows
/// control characters on a terminal, but a byte that is not UTF-8 shows as `\xNN` (so
/// `caf\xe9.txt` can be told from `caf\xe8.txt`); `--json` has the exact name.
pub fn name(text: &str) -> Cow<'_, str> {
    replace(text, |c, out| match raw_byte(c) {
        Some(b) => out.push_str(&format!("\\x{b:02x}")),
        None => out.push('?'),
    })
}

/// The name's bytes in hex when they are not UTF-8 (`--json`'s `name_bytes`), else None.
pub fn hex_bytes(text: &str) -> Option<String> {
    has_raw(text).then(|| {
        encode_wire(text)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    })
}

fn replace(text: &str, escape: impl Fn(char, &mut String)) -> Cow<'_, str> {
    if is_safe(text) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            escape(c, &mut out);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A JSON string literal (RFC 8259), with every unsafe character as a `\uXXXX` escape too
/// (DEL, C1 and bidi controls are legal raw in JSON, but `ls --json` is read on terminals).
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if raw_byte(c).is_some() => {
                out.push_str(&format!("\\\\x{:02x}", raw_byte(c).unwrap_or(0)))
            }
            c if is_unsafe(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON object on one line, built field by field in order: the one JSON writer of
/// 3700ftp (`ls --json` entries and the `--json` records), strings through [`json_string`].
#[derive(Debug, Default)]
pub struct JsonObject(String);

impl JsonObject {
    /// An empty object.
    pub fn new() -> JsonObject {
        JsonObject::default()
    }

    fn key(&mut self, key: &str) {
        self.0.push(if self.0.is_empty() { '{' } else { ',' });
        self.0.push_str(&json_string(key));
        self.0.push(':');
    }

    /// `"key":"value"`.
    pub fn str(mut self, key: &str, value: &str) -> JsonObject {
        self.key(key);
        self.0.push_str(&json_string(value));
        self
    }

    /// `"key":"value"`, or `"key":null`.
    pub fn opt_str(self, key: &str, value: Option<&str>) -> JsonObject {
        match value {
            Some(v) => self.str(key, v),
            None => self.raw(key, "null"),
        }
    }

    /// `"key":123`, or `null`.
    pub fn num(self, key: &str, value: Option<u64>) -> JsonObject {
        match value {
            Some(v) => self.raw(key, &v.to_string()),
            None => self.raw(key, "null"),
        }
    }

    /// `"key":1.234` (three decimals), or `null`.
    pub fn float(self, key: &str, value: Option<f64>) -> JsonObject {
        match value.filter(|v| v.is_finite()) {
            Some(v) => self.raw(key, &format!("{v:.3}")),
            None => self.raw(key, "null"),
        }
    }

    /// `"key":` followed by `json`, already encoded (a nested object, `true`, `null`).
    pub fn raw(mut self, key: &str, json: &str) -> JsonObject {
        self.key(key);
        self.0.push_str(json);
        self
    }

    /// The object's text.
    pub fn finish(mut self) -> String {
        if self.0.is_empty() {
            self.0.push('{');
        }
        self.0.push('}');
        self.0
    }
}

/// Greedy word wrap into lines of at most `width` characters, breaking only between words;
/// a word longer than `width` has a line of its own and is never broken (help texts).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_tabs_and_letters_kept() {
        assert_eq!(printable("plain\ttext été"), "plain\ttext été");
        assert_eq!(
            printable("No\x1b[31m such\x07 file\rINJECTED"),
            "No\\u{1b}[31m such\\u{7} file\\u{d}INJECTED"
        );
        assert_eq!(printable("c1 \u{9b}2J del\x7f"), "c1 \\u{9b}2J del\\u{7f}");
        assert_eq!(name("evil\x1b]0;owned\x07name"), "evil?]0;owned?name");
        assert_eq!(name("été.txt"), "été.txt");
    }

    #[test]
    fn bidi_overrides_cannot_make_a_name_look_like_another() {
        for c in [
            '\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}', '\u{200E}', '\u{200F}',
        ] {
            let evil = format!("invoice{c}fdp.exe");
            assert_eq!(name(&evil), "invoice?fdp.exe");
            assert!(!printable(&evil).contains(c));
            assert!(!json_string(&evil).contains(c));
        }
        assert_eq!(printable("a\u{202e}b"), "a\\u{202e}b");
    }

    #[test]
    fn every_byte_string_round_trips() {
        // Every single byte, every pair, and sequences around the raw range's own UTF-8.
        let mut cases: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
        for a in 0..=255u8 {
            for b in [0x00, 0x41, 0x80, 0xa9, 0xbf, 0xc3, 0xe9, 0xee, 0xff] {
                cases.push(vec![a, b]);
                cases.push(vec![b, a, b'x']);
            }
        }
        cases.push("café ☕ 𝄞".as_bytes().to_vec());
        cases.push("\u{ef80}\u{efff}\u{ef7f}\u{f000}".as_bytes().to_vec());
        cases.push(vec![0xee, 0xbe, 0x80, 0xee, 0xbf]);
        cases.push(vec![0xf0, 0x9f, 0x98]);
        for bytes in cases {
            let text = decode_wire(&bytes);
            assert_eq!(&*encode_wire(&text), &bytes[..], "{bytes:x?} -> {text:?}");
            assert_eq!(
                has_raw(&text),
                std::str::from_utf8(&bytes)
                    .map_or(true, |s| s.chars().any(|c| raw_byte(c).is_some()))
            );
            assert_eq!(from_os(&to_os(&text)), text);
        }
        assert_eq!(decode_wire("café".as_bytes()), "café");
        assert_eq!(decode_wire(b"caf\xe9"), "caf\u{efe9}");
    }

    #[test]
    fn bytes_that_are_not_utf8_show_as_hex() {
        let latin1 = decode_wire(b"caf\xe9.txt");
        assert_eq!(name(&latin1), "caf\\xe9.txt");
        assert_eq!(printable(&latin1), "caf\\xe9.txt");
        assert_eq!(json_string(&latin1), "\"caf\\\\xe9.txt\"");
        assert_eq!(hex_bytes(&latin1).as_deref(), Some("636166e92e747874"));
        assert_eq!(hex_bytes("café"), None);
    }

    #[test]
    fn json_objects_keep_field_order_and_escape_strings() {
        let o = JsonObject::new()
            .str("a", "x\"y")
            .num("n", Some(5))
            .num("none", None)
            .float("s", Some(0.5))
            .raw("e", &JsonObject::new().finish())
            .finish();
        assert_eq!(
            o,
            "{\"a\":\"x\\\"y\",\"n\":5,\"none\":null,\"s\":0.500,\"e\":{}}"
        );
    }

    #[test]
    fn json_escapes_del_c1_and_bidi() {
        assert_eq!(json_string("a\"b\\c\n\u{1}é"), "\"a\\\"b\\\\c\\n\\u0001é\"");
        assert_eq!(
            json_string("x\x7fy\u{85}z\u{9b}\u{202e}"),
            "\"x\\u007fy\\u0085z\\u009b\\u202e\""
        );
    }
}
