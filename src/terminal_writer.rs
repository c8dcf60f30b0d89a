//! A writer that makes a byte stream safe to show on a terminal (`cat` of a remote file to
//! a terminal): text passes, control characters (but newline and tab), DEL, C1 controls and
//! bidirectional overrides become `\u{..}` escapes and bytes that are not UTF-8 become
//! `\x..`, so a file cannot drive the terminal. Imports nothing of the crate.

use std::io::{self, Write};

/// Escapes what passes through into `inner`.
pub struct TerminalWriter<W: Write> {
    inner: W,
    /// The start of a UTF-8 character cut by the end of the last write.
    carry: Vec<u8>,
}

impl<W: Write> TerminalWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> TerminalWriter<W> {
        TerminalWriter {
            inner,
            carry: Vec::new(),
        }
    }

    fn emit(&mut self, bytes: &[u8], last: bool) -> io::Result<()> {
        let mut out = String::with_capacity(bytes.len());
        let mut rest = bytes;
        loop {
            match std::str::from_utf8(rest) {
                Ok(text) => {
                    push_text(&mut out, text);
                    break;
                }
                Err(e) => {
                    let (good, bad) = rest.split_at(e.valid_up_to());
                    push_text(&mut out, std::str::from_utf8(good).unwrap_or_default());
                    match e.error_len() {
                        Some(n) => {
                            for b in &bad[..n] {
                                out.push_str(&format!("\\x{b:02x}"));
                            }
                            rest = &bad[n..];
                        }
                        None if !last => {
                            self.carry = bad.to_vec();
                            break;
                        }
                        None => {
                            for b in bad {
                                out.push_str(&format!("\\x{b:02x}"));
                            }
                            break;
                        }
                    }
                }
            }
        }
        self.inner.write_all(out.as_bytes())
    }
}

fn push_text(out: &mut String, text: &str) {
    for c in text.chars() {
        let unsafe_char = (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if unsafe_char {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
}

impl<W: Write> Write for TerminalWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut bytes = std::mem::take(&mut self.carry);
        bytes.extend_from_slice(buf);
        self.emit(&bytes, false)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.carry.is_empty() {
            let bytes = std::mem::take(&mut self.carry);
            self.emit(&bytes, true)?;
        }
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(chunks: &[&[u8]]) -> String {
        let mut w = TerminalWriter::new(Vec::new());
        for c in chunks {
            w.write_all(c).unwrap();
        }
        w.flush().unwrap();
        String::from_utf8(w.inner).unwrap()
    }

    #[test]
    fn text_passes_and_controls_are_escaped() {
        assert_eq!(through(&[b"caf\xc3\xa9\n\tok"]), "café\n\tok");
        assert_eq!(through(&[b"\x1b[31mred"]), "\\u{1b}[31mred");
        assert_eq!(through(&[b"\xc2\x9b2J"]), "\\u{9b}2J");
        assert_eq!(through(&["a\u{202e}b".as_bytes()]), "a\\u{202e}b");
        assert_eq!(through(&[b"\xff!"]), "\\xff!");
    }

    #[test]
    fn a_character_cut_between_writes_is_kept_whole() {
        assert_eq!(through(&[b"\xe2\x82", b"\xac euro"]), "€ euro");
        assert_eq!(through(&[b"end\xe2\x82"]), "end\\xe2\\x82");
    }
}
