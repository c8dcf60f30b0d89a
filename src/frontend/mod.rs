//! The three front ends. Each only turns input into words and calls
//! [`crate::commands::dispatch`]: `oneshot` (argv), `batch` (stdin lines) and `repl`
//! (the rustyline prompt, the only module that uses rustyline). `complete` is the pure
//! completion logic the prompt uses.

pub mod batch;
pub mod complete;
pub mod oneshot;
pub mod repl;

use crate::commands::dispatch;
use crate::ctx::Ctx;
use crate::error::{Error, Result};

/// Splits a line with shell-like quoting.
pub fn words(line: &str) -> Result<Vec<String>> {
    shell_words::split(line).map_err(|e| Error::usage(format!("cannot split the line: {e}")))
}

/// Runs one typed or scripted line. Returns Ok for blank lines and comments.
pub fn execute_line(ctx: &mut Ctx, line: &str) -> Result<()> {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(());
    }
    let words = words(trimmed)?;
    ctx.opts
        .cancel
        .store(false, std::sync::atomic::Ordering::SeqCst);
    dispatch(ctx, &words)
}
