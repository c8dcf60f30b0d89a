//! The prompt driven through a pseudo-terminal, as a person at a keyboard would drive it:
//! type a line only once the prompt is back, and wait for what the command prints.
//!
//! Why the waits are shaped this way: the line editor redraws the prompt on every key
//! while a hint is shown (and once more on Enter), so "the prompt appeared" is not proof
//! that the command ran. [`Pty::enter`] waits for the newline that ends the typed line
//! first; the next prompt after it is the one printed once the command is done. Anything
//! typed while a command runs lands in cooked mode, where Ctrl-C is a signal that flushes
//! typed input and Ctrl-D an end-of-file marker the line editor never sees, so nothing is
//! typed ahead. Every wait has a generous window ([`WAIT`]): it costs time only when
//! something is wrong, and a loaded CI machine must not fail a working prompt. A failed
//! wait panics with everything the terminal showed, so the cause is in the log.

use std::process::Command;
use std::time::Duration;

use expectrl::{ControlCode, Expect, Session};

/// How long one wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(30);

/// A running 3700ftp on a pseudo-terminal, with what it has shown so far.
pub struct Pty {
    session: expectrl::session::OsSession,
    /// Everything read from the terminal so far (for failure messages).
    shown: Vec<u8>,
}

impl Pty {
    /// Starts `cmd` (from `common::command`) on a pseudo-terminal with `TERM=xterm`.
    pub fn spawn(mut cmd: Command) -> Pty {
        cmd.env("TERM", "xterm");
        let mut session = Session::spawn(cmd).expect("spawn in a pty");
        session.set_expect_timeout(Some(WAIT));
        Pty {
            session,
            shown: Vec::new(),
        }
    }

    /// Waits until `text` is shown; returns what was shown before it.
    pub fn expect(&mut self, text: &str) -> String {
        match self.session.expect(text) {
            Ok(found) => {
                let before = String::from_utf8_lossy(found.before()).into_owned();
                self.shown.extend_from_slice(found.as_bytes());
                before
            }
            Err(e) => self.fail(&format!("waiting for {text:?}: {e}")),
        }
    }

    /// Types `keys` (no Enter).
    pub fn send(&mut self, keys: &str) {
        if let Err(e) = self.session.send(keys) {
            self.fail(&format!("typing {keys:?}: {e}"));
        }
    }

    /// Presses Enter on what is typed and waits until the line editor has taken the line
    /// (its newline), so that the next prompt is the one after the command.
    pub fn enter(&mut self) {
        self.send("\r");
        self.expect("\r\n");
    }

    /// Types `line` and Enter (see [`Pty::enter`]).
    pub fn line(&mut self, line: &str) {
        self.send(line);
        self.enter();
    }

    /// Runs `line` and waits for the prompt `prompt` after it; returns what the command
    /// printed (with the prompt's line-editor control sequences around it).
    pub fn run(&mut self, line: &str, prompt: &str) -> String {
        self.line(line);
        self.expect(prompt)
    }

    /// Sends Ctrl-C.
    pub fn ctrl_c(&mut self) {
        if let Err(e) = self.session.send(ControlCode::EndOfText) {
            self.fail(&format!("sending Ctrl-C: {e}"));
        }
    }

    /// Sends Ctrl-D (to be called only with the prompt shown, see the module comment)
    /// and returns the exit status, e.g. `Exited(Pid(1234), 0)`.
    pub fn ctrl_d_and_exit(&mut self) -> String {
        if let Err(e) = self.session.send(ControlCode::EndOfTransmission) {
            self.fail(&format!("sending Ctrl-D: {e}"));
        }
        self.exit_status()
    }

    /// The exit status once the program exits, waiting at most [`WAIT`] (a program that
    /// does not exit is killed and the test fails instead of hanging).
    pub fn exit_status(&mut self) -> String {
        let deadline = std::time::Instant::now() + WAIT;
        while std::time::Instant::now() < deadline {
            let status = format!("{:?}", self.session.get_process().status());
            if !status.contains("StillAlive") {
                return status
                    .trim_start_matches("Ok(")
                    .trim_end_matches(')')
                    .to_string()
                    + ")";
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.session.get_process_mut().exit(true);
        self.fail("the program did not exit");
    }

    /// The process (to resize its terminal, say).
    pub fn process(&mut self) -> &mut expectrl::session::OsProcess {
        self.session.get_process_mut()
    }

    /// Fails the test with `what` and everything the terminal showed, including what
    /// was not yet matched (a message printed before the program exited, say).
    fn fail(&mut self, what: &str) -> ! {
        self.session
            .set_expect_timeout(Some(Duration::from_millis(500)));
        if let Ok(rest) = self.session.check(expectrl::Regex("(?s).+")) {
            self.shown.extend_from_slice(rest.as_bytes());
        }
        panic!(
            "{what}\n--- the terminal showed ---\n{}\n--- end ---",
            String::from_utf8_lossy(&self.shown)
        );
    }
}
