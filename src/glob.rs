//! Wildcard matching on the last path component of an operand (mget/mdelete-style).
//!
//! This module owns the glob syntax of 3700ftp: deciding whether a word is a pattern,
//! splitting it into a literal directory and a pattern, escaping and unescaping, and
//! matching names with fnmatch semantics (`*`, `?`, `[...]`, backslash escapes, a leading
//! `.` only matched literally). Wildcards are honoured in the last component only; the
//! directory part is always literal.
//!
//! It must never do I/O: callers list a directory (remote or local) and hand the names in.
//! Matching is iterative (star backtracking), so no pattern can make it take exponential time.

/// One compiled element of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A character that must appear as is (escaped or not special).
    Literal(char),
    /// `?`: exactly one character.
    Any,
    /// `*`: any run of characters, including none.
    Star,
    /// `[...]`: one character of a bracket expression.
    Class(Bracket),
}

/// Reads one character of a bracket expression at `chars[i]`, honouring a backslash escape;
/// returns the character and the index after it.
fn class_char(chars: &[char], i: usize) -> (char, usize) {
    if chars[i] == '\\' && i + 1 < chars.len() {
        (chars[i + 1], i + 2)
    } else {
        (chars[i], i + 1)
    }
}

/// A bracket expression: one character in (or, when negated, not in) the inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bracket {
    pub negated: bool,
    pub ranges: Vec<(char, char)>,
}

impl Bracket {
    /// True when the expression accepts `c`.
    pub fn accepts(&self, c: char) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != self.negated
    }
}

/// Parses a bracket expression whose `[` is at `chars[start]` (`!` or `^` negates, `a-z`
/// is a range, a `]` first is a member, a backslash escapes). Returns it and the index
/// after its closing `]`, or None when no closing `]` follows (then `[` is literal). Also
/// the syntax of `mirror`'s filters.
pub fn bracket(chars: &[char], start: usize) -> Option<(Bracket, usize)> {
    let mut i = start + 1;
    let mut negated = false;
    if i < chars.len() && (chars[i] == '!' || chars[i] == '^') {
        negated = true;
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        if i >= chars.len() {
            return None;
        }
        if chars[i] == ']' && !first {
            return Some((Bracket { negated, ranges }, i + 1));
        }
        first = false;
        let (lo, next) = class_char(chars, i);
        i = next;
        if i + 1 < chars.len() && chars[i] == '-' && chars[i + 1] != ']' {
            let (hi, next) = class_char(chars, i + 1);
            i = next;
            ranges.push((lo, hi));
        } else {
            ranges.push((lo, lo));
        }
    }
}

/// Compiles a pattern into tokens; consecutive stars collapse into one.
fn compile(pattern: &str) -> Vec<Token> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                tokens.push(Token::Literal(chars[i + 1]));
                i += 2;
            }
            '*' => {
                if tokens.last() != Some(&Token::Star) {
                    tokens.push(Token::Star);
                }
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

/// True when the single-character token `token` accepts `c`.
fn single_matches(token: &Token, c: char) -> bool {
    match token {
        Token::Literal(l) => *l == c,
        Token::Any => true,
        Token::Class(class) => class.accepts(c),
        Token::Star => false,
    }
}

/// The byte index of the last unescaped `/` in `word`, if any.
fn last_separator(word: &str) -> Option<usize> {
    let mut last = None;
    let mut escaped = false;
    for (i, c) in word.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '/' {
            last = Some(i);
        }
    }
    last
}

/// True when the last path component of `word` contains an unescaped `*`, `?` or `[`
/// (a `[` counts only when a matching `]` follows). The directory part is never a pattern.
pub fn has_wildcards(word: &str) -> bool {
    let (_, pattern) = split(word);
    compile(&pattern)
        .iter()
        .any(|t| !matches!(t, Token::Literal(_)))
}

/// Splits `word` at its last unescaped `/` into (directory part with its trailing `/`, or ""
/// when there is none; pattern part). The directory part is unescaped, the pattern part is
/// returned as is.
pub fn split(word: &str) -> (String, String) {
    match last_separator(word) {
        Some(i) => (unescape(&word[..=i]), word[i + 1..].to_string()),
        None => (String::new(), word.to_string()),
    }
}

/// True when `name` (one path component) matches `pattern` with fnmatch semantics: `*` any run
/// of characters, `?` one character, `[abc]`, `[a-z]`, `[!a-z]`/`[^a-z]` (a `]` first in the
/// set is literal), `\x` the literal `x`, and a malformed `[` without `]` a literal `[`. A name
/// starting with `.` only matches a pattern starting with a literal `.`.
pub fn matches(pattern: &str, name: &str) -> bool {
    let tokens = compile(pattern);
    let name: Vec<char> = name.chars().collect();
    if name.first() == Some(&'.') && tokens.first() != Some(&Token::Literal('.')) {
        return false;
    }
    // Iterative matching: on a mismatch, retry from the last star with one more character
    // swallowed by it. Each star only ever moves forward, so this is O(pattern × name).
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match tokens.get(p) {
            Some(Token::Star) => {
                star = Some((p, n));
                p += 1;
            }
            Some(t) if single_matches(t, name[n]) => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    star = Some((sp, sn + 1));
                    p = sp + 1;
                    n = sn + 1;
                }
                None => return false,
            },
        }
    }
    tokens[p..].iter().all(|t| *t == Token::Star)
}

/// Removes escaping backslashes: `\x` becomes `x`; a lone trailing backslash is kept.
pub fn unescape(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(next) => out.push(next),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Backslash-escapes `*`, `?`, `[`, `]` and `\`, so that `matches(&escape(s), s)` holds and
/// `unescape(&escape(s)) == s` for every `s`.
pub fn escape(literal: &str) -> String {
    let mut out = String::with_capacity(literal.len() + 4);
    for c in literal.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The `names` that match `pattern`, sorted and without duplicates; `.` and `..` are never
/// included.
pub fn expand<'a>(pattern: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = names
        .into_iter()
        .filter(|n| *n != "." && *n != ".." && matches(pattern, n))
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// A small deterministic generator (xorshift64*) for property-style loops.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn string(&mut self, alphabet: &[char], max_len: usize) -> String {
            let len = self.below(max_len + 1);
            (0..len)
                .map(|_| alphabet[self.below(alphabet.len())])
                .collect()
        }
    }

    const ALPHABET: &[char] = &[
        'a', 'b', 'c', 'z', 'A', '.', '-', '_', ' ', '/', '\\', '*', '?', '[', ']', '!', '^', 'é',
        'ß', '日', '😀',
    ];

    #[test]
    fn star_matches_any_run_including_empty() {
        assert!(matches("*", "abc"));
        assert!(matches("*", ""));
        assert!(matches("a*", "a"));
        assert!(matches("a*c", "abbbc"));
        assert!(matches("a*c", "ac"));
        assert!(!matches("a*c", "ab"));
        assert!(matches("*.txt", "notes.txt"));
        assert!(!matches("*.txt", "notes.txt.bak"));
        assert!(matches("**x", "abx"));
        assert!(matches("*a*b*", "xxaxxbxx"));
        assert!(!matches("*a*b*", "xxbxxaxx"));
    }

    #[test]
    fn question_mark_matches_one_char_not_one_byte() {
        assert!(matches("?", "a"));
        assert!(!matches("?", ""));
        assert!(!matches("?", "ab"));
        assert!(matches("?", "é"));
        assert!(matches("?", "日"));
        assert!(matches("?", "😀"));
        assert!(matches("a?c", "a日c"));
        assert!(matches("??", "éé"));
        assert!(!matches("???", "éé"));
    }

    #[test]
    fn literal_patterns_match_exactly() {
        assert!(matches("", ""));
        assert!(!matches("", "a"));
        assert!(!matches("a", ""));
        assert!(matches("file.txt", "file.txt"));
        assert!(!matches("file.txt", "File.txt"));
        assert!(matches("日本", "日本"));
    }

    #[test]
    fn bracket_sets_ranges_and_negation() {
        assert!(matches("[abc]", "b"));
        assert!(!matches("[abc]", "d"));
        assert!(matches("[a-z]x", "qx"));
        assert!(!matches("[a-z]x", "Qx"));
        assert!(matches("[a-cx-z]", "y"));
        assert!(!matches("[a-cx-z]", "m"));
        assert!(matches("[!a-z]", "Q"));
        assert!(!matches("[!a-z]", "q"));
        assert!(matches("[^a-z]", "1"));
        assert!(!matches("[^a-z]", "m"));
        assert!(matches("file[0-9].txt", "file7.txt"));
        assert!(!matches("file[0-9].txt", "file.txt"));
        assert!(matches("[é-ü]", "ö"));
        assert!(!matches("[z-a]", "m"), "a reversed range matches nothing");
    }

    #[test]
    fn bracket_edge_cases() {
        // `]` first in a set is literal.
        assert!(matches("[]]", "]"));
        assert!(matches("[]a]", "a"));
        assert!(!matches("[]a]", "b"));
        assert!(matches("[!]]", "a"));
        assert!(!matches("[!]]", "]"));
        assert!(matches("[^]a]", "b"));
        // `-` first or last is literal.
        assert!(matches("[-a]", "-"));
        assert!(matches("[a-]", "-"));
        assert!(!matches("[a-]", "b"));
        // Escapes inside a set.
        assert!(matches("[\\]]", "]"));
        assert!(matches("[a\\-z]", "-"));
        assert!(!matches("[a\\-z]", "m"));
        // Special characters are literal inside a set.
        assert!(matches("[*?]", "*"));
        assert!(matches("[*?]", "?"));
        assert!(!matches("[*?]", "a"));
    }

    #[test]
    fn malformed_bracket_is_a_literal() {
        assert!(matches("[", "["));
        assert!(matches("a[b", "a[b"));
        assert!(!matches("a[b", "ab"));
        assert!(matches("[ab", "[ab"));
        assert!(matches("[]", "[]"));
        assert!(matches("[!]", "[!]"));
        assert!(matches("*[", "x["));
        assert!(matches("[*", "[anything"));
    }

    #[test]
    fn backslash_escapes_specials() {
        assert!(matches("\\*", "*"));
        assert!(!matches("\\*", "a"));
        assert!(matches("\\?", "?"));
        assert!(!matches("\\?", "a"));
        assert!(matches("\\[a]", "[a]"));
        assert!(!matches("\\[a]", "a"));
        assert!(matches("a\\\\b", "a\\b"));
        assert!(matches("\\a", "a"));
        assert!(matches("x\\", "x\\"), "a trailing backslash is literal");
        assert!(matches("*\\*", "abc*"));
        assert!(!matches("*\\*", "abc"));
    }

    #[test]
    fn leading_dot_needs_a_literal_dot() {
        assert!(!matches("*", ".hidden"));
        assert!(!matches("?hidden", ".hidden"));
        assert!(!matches("[.]hidden", ".hidden"));
        assert!(!matches("*hidden", ".hidden"));
        assert!(matches(".*", ".hidden"));
        assert!(matches(".h*", ".hidden"));
        assert!(matches("\\.*", ".hidden"));
        assert!(matches("*.*", "a.b"), "only a leading dot is special");
        assert!(matches("a?b", "a.b"));
        assert!(matches(".", "."));
    }

    #[test]
    fn has_wildcards_looks_at_the_last_component_only() {
        assert!(has_wildcards("*.txt"));
        assert!(has_wildcards("a?"));
        assert!(has_wildcards("[ab]"));
        assert!(has_wildcards("dir/*.txt"));
        assert!(has_wildcards("/abs/dir/file[0-9]"));
        assert!(!has_wildcards("plain.txt"));
        assert!(!has_wildcards(""));
        assert!(!has_wildcards("di*r/plain.txt"));
        assert!(!has_wildcards("d?/x"));
        assert!(!has_wildcards("dir/"));
    }

    #[test]
    fn has_wildcards_honours_escapes_and_brackets() {
        assert!(!has_wildcards("\\*.txt"));
        assert!(!has_wildcards("a\\?"));
        assert!(!has_wildcards("\\[ab]"));
        assert!(!has_wildcards("[ab"), "no closing bracket");
        assert!(!has_wildcards("a]"));
        assert!(!has_wildcards("[]"));
        assert!(has_wildcards("[]]"));
        assert!(
            has_wildcards("\\\\*"),
            "an escaped backslash does not escape the star"
        );
        assert!(!has_wildcards("x\\"));
        assert!(has_wildcards("a\\/b*"));
    }

    #[test]
    fn split_at_the_last_unescaped_slash() {
        assert_eq!(split("*.txt"), ("".into(), "*.txt".into()));
        assert_eq!(split("dir/*.txt"), ("dir/".into(), "*.txt".into()));
        assert_eq!(split("/a/b/c*"), ("/a/b/".into(), "c*".into()));
        assert_eq!(split("/x"), ("/".into(), "x".into()));
        assert_eq!(split("dir/"), ("dir/".into(), "".into()));
        assert_eq!(split(""), ("".into(), "".into()));
        assert_eq!(split("a\\/b"), ("".into(), "a\\/b".into()));
        assert_eq!(split("d/a\\/b"), ("d/".into(), "a\\/b".into()));
        assert_eq!(split("d\\\\/x"), ("d\\/".into(), "x".into()));
        assert_eq!(
            split("we\\ird\\*dir/f\\*"),
            ("weird*dir/".into(), "f\\*".into())
        );
        assert_eq!(split("日本/*"), ("日本/".into(), "*".into()));
    }

    #[test]
    fn unescape_and_escape() {
        assert_eq!(unescape("a\\*b"), "a*b");
        assert_eq!(unescape("\\\\"), "\\");
        assert_eq!(unescape("\\a"), "a");
        assert_eq!(unescape("end\\"), "end\\");
        assert_eq!(unescape("plain"), "plain");
        assert_eq!(escape("a*b?c[d]e\\f"), "a\\*b\\?c\\[d\\]e\\\\f");
        assert_eq!(escape("plain.txt"), "plain.txt");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn expand_sorts_and_skips_dot_entries() {
        let names = ["b.txt", ".", "..", "a.txt", "c.bin", ".hidden.txt", "a.txt"];
        assert_eq!(expand("*.txt", names), vec!["a.txt", "b.txt"]);
        assert_eq!(expand("*", names), vec!["a.txt", "b.txt", "c.bin"]);
        assert_eq!(expand(".*", names), vec![".hidden.txt"]);
        assert_eq!(expand("?", names), Vec::<String>::new());
        assert!(expand("*", Vec::<&str>::new()).is_empty());
        let owned = ["x1".to_string(), "x2".to_string()];
        assert_eq!(expand("x[2]", owned.iter().map(|s| s.as_str())), vec!["x2"]);
    }

    #[test]
    fn property_escape_round_trips_and_matches_itself() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..5000 {
            let s = rng.string(ALPHABET, 12);
            let e = escape(&s);
            assert_eq!(unescape(&e), s, "round trip of {s:?}");
            assert!(matches(&e, &s), "escape({s:?}) = {e:?} must match it");
            let last = e.rsplit('/').next().unwrap_or("");
            assert!(!has_wildcards(&e), "escaped {s:?} has no wildcards");
            assert!(!has_wildcards(last));
        }
    }

    #[test]
    fn property_literal_split_recombines() {
        let mut rng = Rng(42);
        for _ in 0..3000 {
            let s = rng.string(ALPHABET, 12);
            let e = escape(&s);
            let (dir, pat) = split(&e);
            assert_eq!(format!("{dir}{}", unescape(&pat)), s, "split of {e:?}");
            assert!(dir.is_empty() || dir.ends_with('/'));
        }
    }

    #[test]
    fn property_star_and_self_matching() {
        let mut rng = Rng(7);
        let plain: &[char] = &['a', 'b', '.', 'é', '日', ' ', '-'];
        for _ in 0..3000 {
            let s = rng.string(plain, 10);
            if s.starts_with('.') {
                assert!(!matches("*", &s));
                assert!(matches(".*", &s));
            } else {
                assert!(matches("*", &s));
                assert!(matches(&s, &s));
                let q: String = s.chars().map(|_| '?').collect();
                assert!(matches(&q, &s));
                assert!(!matches(&format!("{q}?"), &s));
            }
            // Any pattern and any name: never panics; `expand` agrees with `matches`.
            let p = rng.string(ALPHABET, 8);
            let n = rng.string(ALPHABET, 8);
            let got = expand(&p, [n.as_str()]);
            let want = n != "." && n != ".." && matches(&p, &n);
            assert_eq!(!got.is_empty(), want);
        }
    }

    /// A slow but obviously correct recursive matcher (no leading-dot rule) to compare with.
    fn reference(tokens: &[Token], name: &[char]) -> bool {
        match tokens.split_first() {
            None => name.is_empty(),
            Some((Token::Star, rest)) => (0..=name.len()).any(|k| reference(rest, &name[k..])),
            Some((t, rest)) => {
                !name.is_empty() && single_matches(t, name[0]) && reference(rest, &name[1..])
            }
        }
    }

    #[test]
    fn property_agrees_with_a_reference_matcher() {
        let mut rng = Rng(1234);
        let pat_chars: &[char] = &['a', 'b', '*', '?', '[', ']', '!', '-', '\\'];
        let name_chars: &[char] = &['a', 'b', 'c', '-', ']', '!', '*'];
        for _ in 0..20000 {
            let p = rng.string(pat_chars, 8);
            let n = rng.string(name_chars, 8);
            let name: Vec<char> = n.chars().collect();
            assert_eq!(
                matches(&p, &n),
                reference(&compile(&p), &name),
                "pattern {p:?} name {n:?}"
            );
        }
    }

    #[test]
    fn pathological_patterns_finish_quickly() {
        let start = Instant::now();
        let name = "a".repeat(10_000);
        assert!(!matches("*a*a*a*a*a*a*a*a*a*a*b", &name));
        assert!(matches("*a*a*a*a*a*a*a*a*a*a*", &name));
        let pattern = "*".repeat(500) + "b";
        assert!(!matches(&pattern, &name));
        let pattern = "*?".repeat(200) + "b";
        assert!(!matches(&pattern, &name[..2000]));
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "took {:?}",
            start.elapsed()
        );
    }
}
