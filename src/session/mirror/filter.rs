//! `--exclude` / `--include` rules, rsync's model: the rules are tried in the order given and
//! the first that matches decides; a path no rule matches is included.
//!
//! Pattern syntax (pure, no I/O):
//! - `*` and `?` stay within one name; `[abc]`, `[a-z]`, `[!x]` are classes; `\` escapes.
//! - `**` crosses directories; `**/` also matches no directory at all (`**/cache` matches
//!   `cache` at the root too).
//! - A pattern containing `/` (other than a trailing one) is anchored at the tree root and
//!   matched against the whole relative path (a leading `/` is allowed and means the same).
//! - A pattern without `/` is matched against the name alone, at any depth, unless it holds
//!   `**`, in which case it is matched against the whole path.
//! - A trailing `/` matches directories only.
//!
//! Matching is a dynamic programme over pattern and path, so no pattern takes exponential time.

use crate::error::{Error, Result};
use crate::glob::{bracket, Bracket};

/// Include or exclude.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// `--include`.
    Include,
    /// `--exclude`.
    Exclude,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    /// `?`: one character, not `/`.
    Any,
    /// `*`: any run within one name.
    Star,
    /// `**`: any run, `/` included.
    DoubleStar,
    /// `**/`: nothing, or any run that ends with `/`.
    Dirs,
    /// `[...]`: one character of a bracket expression, not `/`.
    Class(Bracket),
}

/// One compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    text: String,
    tokens: Vec<Token>,
    dir_only: bool,
    whole_path: bool,
}

impl Pattern {
    /// Compiles `text`; an empty pattern is refused.
    pub fn new(text: &str) -> Result<Pattern> {
        let mut body = text;
        let dir_only = body.len() > 1 && body.ends_with('/');
        if dir_only {
            body = &body[..body.len() - 1];
        }
        let anchored = body.contains('/');
        let body = body.strip_prefix('/').unwrap_or(body);
        if body.is_empty() {
            return Err(Error::usage(format!("'{text}' is not a pattern")));
        }
        let tokens = compile(body);
        let whole_path = anchored
            || tokens
                .iter()
                .any(|t| matches!(t, Token::DoubleStar | Token::Dirs));
        Ok(Pattern {
            text: text.to_string(),
            tokens,
            dir_only,
            whole_path,
        })
    }

    /// The pattern as given.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the pattern matches `path` (relative to the tree root, `/`-separated).
    pub fn matches(&self, path: &str, is_dir: bool) -> bool {
        if self.dir_only && !is_dir {
            return false;
        }
        let subject = if self.whole_path {
            path
        } else {
            path.rsplit('/').next().unwrap_or(path)
        };
        let text: Vec<char> = subject.chars().collect();
        matches_tokens(&self.tokens, &text)
    }
}

fn compile(body: &str) -> Vec<Token> {
    let chars: Vec<char> = body.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                tokens.push(Token::Literal(chars[i + 1]));
                i += 2;
            }
            '*' if chars.get(i + 1) == Some(&'*') => {
                if chars.get(i + 2) == Some(&'/') {
                    tokens.push(Token::Dirs);
                    i += 3;
                } else {
                    tokens.push(Token::DoubleStar);
                    i += 2;
                    // `***` is `**` (a `*` after `**/` is a name's own, `**/*.bak`).
                    while chars.get(i) == Some(&'*') {
                        i += 1;
                    }
                }
            }
            '*' => {
                tokens.push(Token::Star);
                i += 1;
            }
            '?' => {
                tokens.push(Token::Any);
                i += 1;
            }
            '[' => match bracket(&chars, i) {
                Some((class, next)) => {
                    tokens.push(Token::Class(class));
                    i = next;
                }
                None => {
                    tokens.push(Token::Literal('['));
                    i += 1;
                }
            },
            c => {
                tokens.push(Token::Literal(c));
                i += 1;
            }
        }
    }
    tokens
}

fn one(token: &Token, c: char) -> bool {
    match token {
        Token::Literal(l) => *l == c,
        Token::Any => c != '/',
        Token::Class(class) => c != '/' && class.accepts(c),
        _ => false,
    }
}

/// `reach[j]`: the pattern so far can consume exactly `text[..j]`.
fn matches_tokens(tokens: &[Token], text: &[char]) -> bool {
    let n = text.len();
    let mut reach = vec![false; n + 1];
    reach[0] = true;
    for token in tokens {
        let mut next = vec![false; n + 1];
        match token {
            Token::Star | Token::DoubleStar => {
                let mut on = false;
                for j in 0..=n {
                    if reach[j] {
                        on = true;
                    } else if on && j > 0 && token == &Token::Star && text[j - 1] == '/' {
                        on = false;
                    }
                    next[j] = on;
                }
            }
            Token::Dirs => {
                let mut on = false;
                for j in 0..=n {
                    if reach[j] {
                        on = true;
                        next[j] = true;
                    } else if on && j > 0 && text[j - 1] == '/' {
                        next[j] = true;
                    }
                }
            }
            t => {
                for j in 0..n {
                    if reach[j] && one(t, text[j]) {
                        next[j + 1] = true;
                    }
                }
            }
        }
        reach = next;
        if !reach.iter().any(|&r| r) {
            return false;
        }
    }
    reach[n]
}

/// The rules, in the order given.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    rules: Vec<(Verdict, Pattern)>,
}

impl Filter {
    /// Adds a rule at the end.
    pub fn push(&mut self, verdict: Verdict, pattern: Pattern) {
        self.rules.push((verdict, pattern));
    }

    /// True when no rule was given.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether `path` is excluded: the first rule that matches decides; none matching means
    /// included.
    pub fn excludes(&self, path: &str, is_dir: bool) -> bool {
        self.rules
            .iter()
            .find(|(_, p)| p.matches(path, is_dir))
            .is_some_and(|(v, _)| *v == Verdict::Exclude)
    }
}

/// Reads a rules file (`--exclude-from`): one pattern a line; empty lines and lines starting
/// with `#` or `;` are ignored.
pub fn patterns_in(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#') && !l.starts_with(';'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, path: &str, dir: bool) -> bool {
        Pattern::new(p).unwrap().matches(path, dir)
    }

    #[test]
    fn star_and_question_stay_in_one_name() {
        assert!(m("*.log", "a.log", false));
        assert!(m("*.log", "deep/er/a.log", false), "a name pattern floats");
        assert!(!m("*.log", "a.log.gz", false));
        assert!(m("?.txt", "a.txt", false));
        assert!(!m("?.txt", "ab.txt", false));
        assert!(!m("a*b", "a/b", false) && !m("a/*", "a/b/c", false));
        assert!(m("a/*", "a/b", false));
    }

    #[test]
    fn double_star_crosses_directories() {
        assert!(m("a/**", "a/b/c", false));
        assert!(m("a/**/z", "a/b/c/z", false));
        assert!(m("a/**/z", "a/z", false), "**/ matches no directory too");
        assert!(m("sub/**/*.bak", "sub/d1/d2/z.bak", false));
        assert!(m("sub/**/*.bak", "sub/z.bak", false));
        assert!(!m("sub/**/*.bak", "sub/d1/z.bak.gz", false));
        assert!(m("**/*.o", "a/b/x.o", false) && !m("**/*.o", "a/b/x.oo", false));
        assert!(m("**/cache", "cache", true));
        assert!(m("**/cache", "x/y/cache", true));
        assert!(!m("**/cache", "x/cache2", true));
        assert!(m("**.tmp", "x/y.tmp", false));
        assert!(!m("a/**", "b/a/c", false));
    }

    #[test]
    fn a_slash_anchors_at_the_root() {
        assert!(m("/build", "build", true));
        assert!(!m("/build", "src/build", true));
        assert!(m("src/gen", "src/gen", true));
        assert!(!m("src/gen", "x/src/gen", true));
        assert!(m("build", "src/build", true), "no slash: any depth");
    }

    #[test]
    fn a_trailing_slash_matches_directories_only() {
        assert!(m("tmp/", "tmp", true));
        assert!(!m("tmp/", "tmp", false));
        assert!(m("tmp/", "a/tmp", true));
        assert!(!m("/a/tmp/", "a/tmp", false));
        assert!(m("/a/tmp/", "a/tmp", true));
    }

    #[test]
    fn classes_escapes_and_non_ascii() {
        assert!(m("[ab].txt", "b.txt", false));
        assert!(!m("[!ab].txt", "b.txt", false));
        assert!(m("file[0-9]", "file7", false));
        assert!(m("\\*", "*", false) && !m("\\*", "x", false));
        assert!(m("ü*", "über straße", false));
        assert!(m("[", "[", false), "an unclosed bracket is literal");
    }

    #[test]
    fn first_match_wins() {
        let mut f = Filter::default();
        f.push(Verdict::Include, Pattern::new("keep.log").unwrap());
        f.push(Verdict::Exclude, Pattern::new("*.log").unwrap());
        assert!(!f.excludes("keep.log", false));
        assert!(f.excludes("drop.log", false));
        assert!(!f.excludes("a.txt", false), "nothing matches: included");
        assert!(Filter::default().is_empty());
    }

    #[test]
    fn empty_patterns_are_refused() {
        assert!(Pattern::new("").is_err());
        assert!(Pattern::new("/").is_err());
    }

    #[test]
    fn many_stars_stay_fast() {
        let p = Pattern::new(&"*a".repeat(40)).unwrap();
        let text = "a".repeat(39);
        assert!(!p.matches(&text, false));
        let p = Pattern::new(&"**/".repeat(30)).unwrap();
        assert!(!p.matches(&"x/".repeat(200), false));
    }

    #[test]
    fn rule_files_skip_comments_and_blank_lines() {
        let got: Vec<&str> = patterns_in("# c\n*.o\r\n\n; x\n/build/\n").collect();
        assert_eq!(got, ["*.o", "/build/"]);
    }
}
