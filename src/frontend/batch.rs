//! Batch mode: commands from a non-terminal stdin, one per line, no prompt or banner.
//!
//! Blank lines and `#` comments are skipped; words are split like a shell. The first failing
//! command stops the run with its exit code and an error naming the line number, except on a
//! line that starts with `-`, whose failure is reported and passed over (sftp -b's rule).
//! A signal (Ctrl-C, SIGTERM, SIGHUP) always stops the run, on a `-` line too and while the
//! run waits for its next line.

use std::io::BufRead;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::Duration;

use super::execute_line;
use crate::ctx::Ctx;
use crate::error::{Error, Kind, EXIT_OK};

/// How often the wait for the next line looks at the cancel flag.
const POLL: Duration = Duration::from_millis(100);

/// Runs every line of `input`; returns the exit code. Lines are read on a thread of their
/// own, so a signal is seen while stdin has nothing to give.
pub fn run(ctx: &mut Ctx, input: impl BufRead + Send + 'static) -> u8 {
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::spawn(move || {
        for line in input.split(b'\n') {
            let stop = line.is_err();
            if tx.send(line).is_err() || stop {
                break;
            }
        }
    });
    let mut number = 0;
    let code = loop {
        let line = match rx.recv_timeout(POLL) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) if !cancelled(ctx) => continue,
            Err(mpsc::RecvTimeoutError::Timeout) => break interrupted(ctx, number),
            Err(mpsc::RecvTimeoutError::Disconnected) => break EXIT_OK,
        };
        if cancelled(ctx) {
            break interrupted(ctx, number);
        }
        number += 1;
        let line = match line {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => {
                let err = Error::local("stdin", &e);
                ctx.out.error("", &err);
                break err.kind().exit_code();
            }
        };
        let trimmed = line.trim();
        let (tolerant, command) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        if let Err(e) = execute_line(ctx, command) {
            ctx.out.error(&format!("line {number}: "), &e);
            if !tolerant || e.kind() == Kind::Interrupted {
                break e.kind().exit_code();
            }
        }
        if cancelled(ctx) {
            break interrupted(ctx, number);
        }
        if ctx.quit {
            break EXIT_OK;
        }
    };
    ctx.close();
    code
}

fn cancelled(ctx: &Ctx) -> bool {
    ctx.opts.cancel.load(Ordering::SeqCst)
}

/// A signal came between commands (or after one that finished anyway): the run stops.
fn interrupted(ctx: &mut Ctx, after_line: usize) -> u8 {
    let e = Error::new(Kind::Interrupted, "interrupted");
    let at = match after_line {
        0 => String::new(),
        n => format!("after line {n}: "),
    };
    ctx.out.error(&at, &e);
    e.kind().exit_code()
}
