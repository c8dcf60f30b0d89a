//! The three front ends. Each only turns input into words and calls
//! [`crate::commands::dispatch`]: `oneshot` (argv), `batch` (stdin lines) and `repl`
//! (the rustyline prompt, the only module that uses rustyline). `complete` is the pure
//! completion logic the prompt uses.

pub mod batch;
pub mod complete;
pub mod generate;
pub mod oneshot;
pub mod prompter;
pub mod repl;

use crate::commands::dispatch;
use crate::ctx::Ctx;
use crate::error::{Error, Result};

/// Splits a line with shell-like quoting. Wildcards that were quoted or escaped come out
/// backslash-escaped (`'*.txt'` → `\*.txt`), so the glob layer treats them as literal.
pub fn words(line: &str) -> Result<Vec<String>> {
    shell_words::split(&protect_quoted_wildcards(line))
        .map_err(|e| Error::usage(format!("cannot split the line: {e}")))
}

/// Rewrites the line so wildcards inside quotes or after a backslash survive shell-words
/// as `\*`: inside quotes a backslash before them is kept literally, and outside quotes
/// `\*` becomes `\\*`, which shell-words turns back into `\*`.
fn protect_quoted_wildcards(line: &str) -> String {
    const GLOB: &[char] = &['*', '?', '[', ']'];
    let mut out = String::with_capacity(line.len() + 8);
    let mut quote: Option<char> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\\') => match chars.peek() {
                Some(&n) if GLOB.contains(&n) => {
                    out.push_str("\\\\");
                    out.push(n);
                    chars.next();
                }
                Some(&n) => {
                    out.push('\\');
                    out.push(n);
                    chars.next();
                }
                None => out.push('\\'),
            },
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (Some('"'), '\\') => {
                out.push('\\');
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), c) if GLOB.contains(&c) => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Runs one typed or scripted line. Returns Ok for blank lines and comments. The cancel
/// flag is left as it is: the prompt clears it before a line, batch mode stops on it.
pub fn execute_line(ctx: &mut Ctx, line: &str) -> Result<()> {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(());
    }
    // `!COMMAND` hands the rest of the line, unsplit, to the local shell.
    if let Some(rest) = trimmed.strip_prefix('!') {
        return dispatch(
            ctx,
            &["!".to_string(), "--".to_string(), rest.trim().to_string()],
        );
    }
    dispatch(ctx, &words(trimmed)?)
}

#[cfg(test)]
mod tests {
    use super::words;

    #[test]
    fn quoted_and_escaped_wildcards_stay_literal() {
        assert_eq!(words("get *.txt").unwrap(), ["get", "*.txt"]);
        assert_eq!(words("get '*.txt'").unwrap(), ["get", "\\*.txt"]);
        assert_eq!(words("get \"a b?.txt\"").unwrap(), ["get", "a b\\?.txt"]);
        assert_eq!(words("get a\\*b").unwrap(), ["get", "a\\*b"]);
        assert_eq!(
            words("put 'it''s' \"x\\\"y\" a\\ b").unwrap(),
            ["put", "its", "x\"y", "a b"]
        );
    }
}
