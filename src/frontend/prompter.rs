//! The terminal's password question: typed without echo (rpassword). Handed to the context
//! by the front end when stdin is a terminal; nothing below the front ends reads the
//! terminal.

use crate::session::credentials::Prompter;

/// Asks on the controlling terminal.
pub struct TerminalPrompter;

impl Prompter for TerminalPrompter {
    fn password(&self, prompt: &str) -> Option<String> {
        rpassword::prompt_password(prompt).ok()
    }

    fn confirm(&self, question: &str) -> bool {
        use std::io::Write;
        let mut err = std::io::stderr();
        let _ = write!(err, "{question} ");
        let _ = err.flush();
        let mut answer = String::new();
        if std::io::stdin().read_line(&mut answer).is_err() {
            return false;
        }
        answer.trim().eq_ignore_ascii_case("yes")
    }
}
