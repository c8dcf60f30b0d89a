//! Server text made safe for a terminal: the one place that decides which characters are
//! escaped, for every place that shows text a server chose (errors, listings, the prompt's
//! directory, completion candidates, `ls --json`). A leaf: it imports nothing of the crate.
//!
//! Unsafe are the control characters (C0, DEL, C1: ESC and CSI drive the terminal; a lone
//! CR overwrites the line) and the bidirectional-formatting characters (U+202A–U+202E,
//! U+2066–U+2069, U+200E, U+200F, U+061C), which reorder what is shown so that
//! `evil\u{202e}txt.exe` reads as `evilexe.txt`. Tabs are kept.

use std::borrow::Cow;

/// True for a character that must not reach a terminal as it is.
pub fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\t') || is_bidi_control(c)
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

/// `text` with every unsafe character written as a visible escape such as `\u{1b}`, for
/// messages and lines (the escape says exactly what the server sent).
pub fn printable(text: &str) -> Cow<'_, str> {
    replace(text, |c, out| out.push_str(&c.escape_unicode().to_string()))
}

/// A name as a listing shows it: every unsafe character becomes `?`, as GNU `ls` shows
/// control characters on a terminal (`--json` has the exact name, escaped).
pub fn name(text: &str) -> Cow<'_, str> {
    replace(text, |_, out| out.push('?'))
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
