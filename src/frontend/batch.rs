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
use crate::error::{Error, Kind, Result};

/// How often the wait for the next line looks at the cancel flag.
const POLL: Duration = Duration::from_millis(100);

/// Runs every line of `input`. The error that stopped the run says where (`line 4: rm x:
/// …`). Lines are read on a thread of their own, so a signal is seen while stdin has
/// nothing to give.
pub fn run(ctx: &mut Ctx, input: impl BufRead + Send + 'static) -> Result<()> {
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::spawn(move || {
        for line in input.split(b'\n') {
            let stop = line.is_err();
            if tx.send(line).is_err() || stop {
                break;
            }
        }
    });
    let result = lines(ctx, &rx);
    ctx.close();
    result
}

fn lines(ctx: &mut Ctx, rx: &mpsc::Receiver<std::io::Result<Vec<u8>>>) -> Result<()> {
    let mut number = 0;
    loop {
        let line = match rx.recv_timeout(POLL) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) if !cancelled(ctx) => continue,
            Err(mpsc::RecvTimeoutError::Timeout) => return Err(interrupted(number)),
            Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
        };
        if cancelled(ctx) {
            return Err(interrupted(number));
        }
        number += 1;
        let line = match line {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => return Err(Error::local("stdin", &e)),
        };
        let trimmed = line.trim();
        let (tolerant, command) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        if let Err(e) = execute_line(ctx, command) {
            let e = e.within(format!("line {number}"));
            if !tolerant || e.kind() == Kind::Interrupted {
                return Err(e);
            }
            ctx.out.error(&e);
        }
        if cancelled(ctx) {
            return Err(interrupted(number));
        }
        if ctx.quit {
            return Ok(());
        }
    }
}

fn cancelled(ctx: &Ctx) -> bool {
    ctx.opts.cancel.load(Ordering::SeqCst)
}

/// A signal came between commands (or after one that finished anyway): the run stops.
fn interrupted(after_line: usize) -> Error {
    let e = Error::new(Kind::Interrupted, "interrupted");
    match after_line {
        0 => e,
        n => e.within(format!("after line {n}")),
    }
}
