//! Tab completion as a pure function of the line, the cursor and a source of names.
//!
//! The first word completes against the command table; later words complete against what
//! the command's argument kind names: remote paths (from a listing the caller supplies and
//! caches), local paths, command names, or `on`/`off`.

use crate::commands::{lookup, ArgKind, COMMANDS};

/// Where completion gets directory contents: `(name, is_directory)` pairs.
pub trait Names {
    /// Entries of a remote directory (`""` is the working directory).
    fn remote(&mut self, dir: &str) -> Vec<(String, bool)>;
    /// Entries of a local directory (`""` is the local working directory).
    fn local(&mut self, dir: &str) -> Vec<(String, bool)>;
    /// The names of the config file's sites.
    fn sites(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// Completes the word before `pos`. Returns where the replaced word starts and the candidates.
pub fn complete(line: &str, pos: usize, names: &mut dyn Names) -> (usize, Vec<String>) {
    let head = &line[..pos.min(line.len())];
    let start = word_start(head);
    let word = unescape(&head[start..]);
    let before: Vec<&str> = head[..start].split_whitespace().collect();
    let mut found: Vec<String> = if before.is_empty() {
        let mut v: Vec<String> = COMMANDS
            .iter()
            .flat_map(|s| std::iter::once(s.name).chain(s.aliases.iter().copied()))
            .filter(|n| {
                n.starts_with(&word) && n.chars().all(|c| c.is_ascii_alphabetic() || c == '-')
            })
            .map(|n| format!("{n} "))
            .collect();
        v.sort();
        v
    } else {
        let Some(spec) = lookup(before[0]) else {
            return (start, Vec::new());
        };
        // Options after `-` or `--`, from the command's own entry in the table.
        if word.starts_with('-') {
            let mut v: Vec<String> = spec
                .flags
                .iter()
                .flat_map(|f| {
                    let long = format!("--{} ", f.long);
                    let short = f.short.map(|c| format!("-{c} "));
                    std::iter::once(long).chain(short)
                })
                .filter(|o| o.starts_with(&word))
                .collect();
            v.sort();
            return (start, v);
        }
        let positional = before
            .iter()
            .skip(1)
            .filter(|w| !w.starts_with('-'))
            .count();
        let kind = spec
            .args
            .get(positional)
            .or(spec.args.last())
            .copied()
            .unwrap_or(ArgKind::Word);
        // `mirror -R LOCAL [REMOTE]` takes its operands the other way round.
        let reversed = spec.name == "mirror"
            && before.iter().any(|w| {
                *w == "--reverse" || (!w.starts_with("--") && w.starts_with('-') && w.contains('R'))
            });
        let kind = match kind {
            ArgKind::Remote if reversed => ArgKind::Local,
            ArgKind::Local if reversed => ArgKind::Remote,
            k => k,
        };
        match kind {
            // `open work`: a site by its name alone.
            ArgKind::Url => sites(&word, names, " "),
            ArgKind::Remote => {
                let mut v = sites(&word, names, ":");
                v.extend(paths(&word, |d| names.remote(d)));
                v
            }
            ArgKind::Local => paths(&word, |d| names.local(d)),
            ArgKind::Either => {
                let mut v = sites(&word, names, ":");
                v.extend(paths(&word, |d| names.local(d)));
                v
            }
            ArgKind::CommandName => COMMANDS
                .iter()
                .map(|s| s.name)
                .filter(|n| n.starts_with(&word))
                .map(String::from)
                .collect(),
            ArgKind::Word if matches!(spec.name, "verbose" | "active" | "passive") => ["on", "off"]
                .iter()
                .filter(|w| w.starts_with(&word))
                .map(|w| w.to_string())
                .collect(),
            _ => Vec::new(),
        }
    };
    found.dedup();
    (start, found)
}

/// The sites whose names start with `word`, each followed by `suffix` (`work:` where a
/// path may follow, `work ` after `open`); none once the word has a `/` or `:`.
fn sites(word: &str, names: &mut dyn Names, suffix: &str) -> Vec<String> {
    if word.contains(['/', ':']) {
        return Vec::new();
    }
    let mut v: Vec<String> = names
        .sites()
        .into_iter()
        .filter(|n| n.starts_with(word))
        .map(|n| format!("{n}{suffix}"))
        .collect();
    v.sort();
    v
}

/// Path completion: the directory part stays, the last part matches entries of that directory.
fn paths(word: &str, mut list: impl FnMut(&str) -> Vec<(String, bool)>) -> Vec<String> {
    let (dir, base) = match word.rfind('/') {
        Some(i) => (&word[..=i], &word[i + 1..]),
        None => ("", word),
    };
    let mut out: Vec<String> = list(dir)
        .into_iter()
        .filter(|(name, _)| name.starts_with(base) && name != "." && name != "..")
        .filter(|(name, _)| !name.starts_with('.') || base.starts_with('.'))
        // A listed name is server text: one with control or bidi characters would be shown
        // and inserted raw, so it is not offered (the user can type it escaped).
        .filter(|(name, _)| crate::text::is_safe(name))
        .map(|(name, is_dir)| {
            let suffix = if is_dir { "/" } else { " " };
            format!("{}{}", escape(&format!("{dir}{name}")), suffix)
        })
        .collect();
    out.sort();
    out
}

/// Where the word under the cursor starts: after the last unescaped, unquoted space.
fn word_start(head: &str) -> usize {
    let mut start = 0;
    let mut escaped = false;
    let mut quote: Option<char> = None;
    for (i, c) in head.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match (c, quote) {
            ('\\', _) => escaped = true,
            ('"' | '\'', None) => quote = Some(c),
            (q, Some(open)) if q == open => quote = None,
            (' ', None) => start = i + 1,
            _ => {}
        }
    }
    start
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if " \\'\"".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn unescape(s: &str) -> String {
    shell_words::split(s)
        .ok()
        .and_then(|w| w.into_iter().next())
        .unwrap_or_else(|| s.trim_matches(['"', '\'']).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl Names for Fixed {
        fn sites(&mut self) -> Vec<String> {
            vec!["work".into(), "home".into()]
        }
        fn remote(&mut self, dir: &str) -> Vec<(String, bool)> {
            match dir {
                "" => vec![
                    ("report.txt".into(), false),
                    ("reports".into(), true),
                    ("my file.bin".into(), false),
                    (".hidden".into(), false),
                    ("rep\x1b]0;owned\x07".into(), false),
                    ("rep\u{202e}txt.exe".into(), false),
                ],
                "reports/" => vec![("q1.csv".into(), false)],
                _ => vec![],
            }
        }
        fn local(&mut self, _dir: &str) -> Vec<(String, bool)> {
            vec![("local.txt".into(), false)]
        }
    }

    fn run(line: &str) -> (usize, Vec<String>) {
        complete(line, line.len(), &mut Fixed)
    }

    #[test]
    fn command_names() {
        assert_eq!(run("rm"), (0, vec!["rm ".into(), "rmdir ".into()]));
        assert_eq!(run("lp"), (0, vec!["lpwd ".into()]));
        assert_eq!(run("lim"), (0, vec!["limit-rate ".into()]));
        for spec in COMMANDS {
            assert!(
                run(spec.name).1.contains(&format!("{} ", spec.name)),
                "{} completes",
                spec.name
            );
        }
    }

    #[test]
    fn option_names_from_the_table() {
        assert_eq!(run("ls --j"), (3, vec!["--json ".into()]));
        assert_eq!(run("cp --rec").1, ["--recursive "]);
        let all = run("ls -").1;
        assert!(all.contains(&"-l ".to_string()) && all.contains(&"--all ".to_string()));
        assert_eq!(run("nosuch --x"), (7, vec![]));
    }

    #[test]
    fn remote_paths_for_remote_arguments() {
        assert_eq!(
            run("get rep"),
            (4, vec!["report.txt ".into(), "reports/".into()])
        );
        assert_eq!(run("get reports/"), (4, vec!["reports/q1.csv ".into()]));
        assert_eq!(run("rm my"), (3, vec!["my\\ file.bin ".into()]));
        assert_eq!(run("rm my\\ f"), (3, vec!["my\\ file.bin ".into()]));
        assert_eq!(run("rm ."), (3, vec![".hidden ".into()]));
    }

    #[test]
    fn site_names() {
        assert_eq!(run("open w"), (5, vec!["work ".into()]));
        assert_eq!(run("open "), (5, vec!["home ".into(), "work ".into()]));
        assert_eq!(run("ls wo"), (3, vec!["work:".into()]));
        assert_eq!(run("cp h"), (3, vec!["home:".into()]));
        assert_eq!(run("lcd h"), (4, vec![]));
        assert_eq!(run("get work:/x").1, Vec::<String>::new());
    }

    #[test]
    fn local_paths_for_local_arguments() {
        assert_eq!(run("put lo"), (4, vec!["local.txt ".into()]));
        assert_eq!(run("get report.txt lo"), (15, vec!["local.txt ".into()]));
    }

    #[test]
    fn mirror_r_completes_a_local_path_first() {
        assert_eq!(run("mirror rep").1, ["report.txt ", "reports/"]);
        assert_eq!(run("mirror reports lo").1, ["local.txt "]);
        assert_eq!(run("mirror -R lo").1, ["local.txt "]);
        assert_eq!(
            run("mirror -R local.txt rep").1,
            ["report.txt ", "reports/"]
        );
    }

    #[test]
    fn words_and_help() {
        assert_eq!(run("verbose o"), (8, vec!["on".into(), "off".into()]));
        assert_eq!(run("passive o"), (8, vec!["on".into(), "off".into()]));
        assert_eq!(run("help mkd"), (5, vec!["mkdir".into()]));
        assert_eq!(run("nosuch x"), (7, vec![]));
    }
}
