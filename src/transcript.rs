//! The `-v` sink: every line sent (`> `) and received (`< `) on a control connection.
//!
//! The control connection hands each command and reply to a [`Transcript`]; the transcript
//! decides whether to print. Masking happens here, once: a `PASS` or `ACCT` line is shown as
//! `PASS ****` whatever the caller passed in.

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::ftp::reply::Reply;

/// Where transcript lines go.
#[derive(Clone)]
enum Sink {
    Stdout,
    Buffer(Arc<Mutex<Vec<u8>>>),
}

/// A switchable writer of protocol lines, cheap to clone (clones share the sink).
#[derive(Clone)]
pub struct Transcript {
    on: bool,
    sink: Sink,
}

impl Transcript {
    /// A transcript to stdout, printing when `on`.
    pub fn stdout(on: bool) -> Transcript {
        Transcript {
            on,
            sink: Sink::Stdout,
        }
    }

    /// A transcript into a shared buffer, for tests.
    pub fn buffer(buf: Arc<Mutex<Vec<u8>>>) -> Transcript {
        Transcript {
            on: true,
            sink: Sink::Buffer(buf),
        }
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
            let shown = mask(line);
            self.write(&format!("> {shown}\n"));
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
            text.push_str(&crate::output::printable(&shown));
            text.push('\n');
        }
        self.write(&text);
    }

    /// Records a note about the connection (connecting, TLS, data channel), marked `* `.
    pub fn note(&mut self, text: &str) {
        if self.on {
            self.write(&format!("* {}\n", crate::output::printable(text)));
        }
    }

    fn write(&mut self, text: &str) {
        match &self.sink {
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                // A closed stdout must not break the transfer; the transcript is best effort.
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
            Sink::Buffer(b) => {
                if let Ok(mut b) = b.lock() {
                    b.extend_from_slice(text.as_bytes());
                }
            }
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
    fn off_prints_nothing() {
        let (mut t, buf) = capture();
        t.set_on(false);
        t.sent("USER x");
        t.note("hello");
        assert_eq!(text(&buf), "");
    }
}
