//! The `-v` sink: every line sent (`> `) and received (`< `) on a control connection.
//!
//! The control connection hands each command and reply to a [`Transcript`]; the transcript
//! decides whether to write, to the writer the edge handed in (stdout for `-v`, a buffer in
//! tests). Masking happens here, once: a `PASS` or `ACCT` line is shown as `PASS ****`
//! whatever the caller passed in; server text and notes have control characters escaped.

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::ftp::reply::Reply;
// Server text as every other place shows it: controls, bidi and bytes that are not UTF-8
// escaped.
use crate::text::printable;

/// The writer transcript lines go to, shared by every clone.
type Sink = Arc<Mutex<Box<dyn Write + Send>>>;

/// A switchable writer of protocol lines, cheap to clone (clones share the writer).
#[derive(Clone)]
pub struct Transcript {
    on: bool,
    sink: Sink,
}

/// A writer into a shared buffer.
struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Transcript {
    /// A transcript into `writer` (the edge decides: stdout for `-v`), writing when `on`.
    pub fn new(on: bool, writer: Box<dyn Write + Send>) -> Transcript {
        Transcript {
            on,
            sink: Arc::new(Mutex::new(writer)),
        }
    }

    /// A transcript into a shared buffer, for tests.
    pub fn buffer(buf: Arc<Mutex<Vec<u8>>>) -> Transcript {
        Transcript::new(true, Box::new(SharedBuffer(buf)))
    }

    /// Whether lines are printed.
    pub fn is_on(&self) -> bool {
        self.on
    }

    /// Turns printing on or off.
    pub fn set_on(&mut self, on: bool) {
        self.on = on;
    }

    /// Records a command line sent to the server; secrets are masked.
    pub fn sent(&mut self, line: &str) {
        if self.on {
            // A command may carry server text (a CWD back to a PWD the server named).
            let shown = mask(line);
            self.write(&format!("> {}\n", printable(&shown)));
        }
    }

    /// Records a reply received from the server, line by line as it arrived.
    pub fn received(&mut self, reply: &Reply) {
        if !self.on {
            return;
        }
        let n = reply.lines.len();
        let mut text = String::new();
        for (i, line) in reply.lines.iter().enumerate() {
            let shown = if n == 1 {
                format!("{} {line}", reply.code)
            } else if i == 0 {
                format!("{}-{line}", reply.code)
            } else if i + 1 == n {
                format!("{} {line}", reply.code)
            } else {
                line.clone()
            };
            text.push_str("< ");
            text.push_str(&printable(&shown));
            text.push('\n');
        }
        self.write(&text);
    }

    /// Records a note about the connection (connecting, TLS, data channel), marked `* `.
    pub fn note(&mut self, text: &str) {
        if self.on {
            self.write(&format!("* {}\n", printable(text)));
        }
    }

    fn write(&mut self, text: &str) {
        // A closed stdout must not break the transfer; the transcript is best effort.
        if let Ok(mut w) = self.sink.lock() {
            let _ = w.write_all(text.as_bytes());
            let _ = w.flush();
        }
    }
}

/// `PASS secret` → `PASS ****` (also ACCT), whatever the letter case.
fn mask(line: &str) -> String {
    let verb = line.split(' ').next().unwrap_or("");
    if verb.eq_ignore_ascii_case("PASS") || verb.eq_ignore_ascii_case("ACCT") {
        format!("{} ****", verb.to_ascii_uppercase())
    } else {
        line.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture() -> (Transcript, Arc<Mutex<Vec<u8>>>) {
        let buf = Arc::new(Mutex::new(Vec::new()));
        (Transcript::buffer(buf.clone()), buf)
    }

    fn text(buf: &Arc<Mutex<Vec<u8>>>) -> String {
        String::from_utf8(buf.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn pass_is_masked_in_the_sink() {
        let (mut t, buf) = capture();
        t.sent("USER bob");
        t.sent("PASS s3cret");
        t.sent("pass s3cret");
        assert_eq!(text(&buf), "> USER bob\n> PASS ****\n> PASS ****\n");
    }

    #[test]
    fn multi_line_replies_are_shown_as_sent() {
        let (mut t, buf) = capture();
        t.received(&Reply {
            code: 230,
            lines: vec!["Welcome".into(), " middle".into(), "ok".into()],
        });
        assert_eq!(text(&buf), "< 230-Welcome\n<  middle\n< 230 ok\n");
    }

    #[test]
    fn server_text_in_a_command_line_is_escaped() {
        let (mut t, buf) = capture();
        t.sent("CWD /a\u{1b}[2Jb\u{7}");
        assert_eq!(text(&buf), "> CWD /a\\u{1b}[2Jb\\u{7}\n");
    }

    #[test]
    fn off_prints_nothing() {
        let (mut t, buf) = capture();
        t.set_on(false);
        t.sent("USER x");
        t.note("hello");
        assert_eq!(text(&buf), "");
    }
}
