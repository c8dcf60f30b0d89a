//! One-shot mode: the words from argv are one command; its result is the exit code.

use crate::commands::dispatch;
use crate::ctx::Ctx;
use crate::error::Result;

/// Runs the operation named by `words[0]` with its operands.
pub fn run(ctx: &mut Ctx, words: &[String]) -> Result<()> {
    dispatch(ctx, words)
}
