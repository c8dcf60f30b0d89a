//! Batch mode: commands from a non-terminal stdin, one per line, no prompt or banner.
//!
//! Blank lines and `#` comments are skipped; words are split like a shell. The first failing
//! command stops the run with its exit code and an error naming the line number, except on a
//! line that starts with `-`, whose failure is reported and passed over (sftp -b's rule).

use std::io::BufRead;

use super::execute_line;
use crate::ctx::Ctx;
use crate::error::EXIT_OK;

/// Runs every line of `input`; returns the exit code.
pub fn run(ctx: &mut Ctx, input: impl BufRead) -> u8 {
    for (index, line) in input.split(b'\n').enumerate() {
        let number = index + 1;
        let line = match line {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => {
                let err = crate::error::Error::local("stdin", &e);
                ctx.out.error("", &err);
                return err.kind().exit_code();
            }
        };
        let trimmed = line.trim();
        let (tolerant, command) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        if let Err(e) = execute_line(ctx, command) {
            ctx.out.error(&format!("line {number}: "), &e);
            if !tolerant {
                ctx.close();
                return e.kind().exit_code();
            }
        }
        if ctx.quit {
            break;
        }
    }
    ctx.close();
    EXIT_OK
}
