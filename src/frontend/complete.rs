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
    /// Servers for URL completion, `user@host:port` (no password), the session's first.
    fn servers(&mut self) -> Vec<String> {
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
        let (positional, pending) = operands_before(spec, &before[1..]);
        let kind = match pending {
            // The value of an option (`get -O ⇥`): what the table says it names.
            Some(flag) => flag.value_kind.unwrap_or(ArgKind::Word),
            None => spec
                .args
                .get(positional)
                .or(spec.args.last())
                .copied()
                .unwrap_or(ArgKind::Word),
        };
        // `mirror -R LOCAL [REMOTE]` takes its operands the other way round.
        let reversed = spec.name == "mirror"
            && before.iter().any(|w| {
                *w == "--reverse" || (!w.starts_with("--") && w.starts_with('-') && w.contains('R'))
            });
        let kind = match kind {
            ArgKind::Remote if reversed => ArgKind::Local,
            ArgKind::Local if reversed => ArgKind::Remote,
            ArgKind::RemoteDir if reversed => ArgKind::LocalDir,
            ArgKind::LocalDir if reversed => ArgKind::RemoteDir,
            k => k,
        };
        match kind {
            ArgKind::Remote if looks_like_url_start(&word) => urls(&word, names),
            ArgKind::RemoteDir if looks_like_url_start(&word) => urls(&word, names),
            // A site's name (`work:`) where a remote path may go.
            ArgKind::Remote | ArgKind::RemoteDir => {
                let mut v = sites(&word, names, ":");
                let dirs_only = kind == ArgKind::RemoteDir;
                v.extend(paths(&word, dirs_only, |d| names.remote(d)));
                v
            }
            // `open work`: a site by its name alone.
            ArgKind::Url => {
                let mut v = sites(&word, names, " ");
                v.extend(urls(&word, names));
                v
            }
            ArgKind::Either if looks_like_url_start(&word) => urls(&word, names),
            ArgKind::Either => {
                let mut v = sites(&word, names, ":");
                v.extend(paths(&word, false, |d| names.local(d)));
                v
            }
            ArgKind::Local => paths(&word, false, |d| names.local(d)),
            ArgKind::LocalDir => paths(&word, true, |d| names.local(d)),
            ArgKind::CommandName => COMMANDS
                .iter()
                .map(|s| s.name)
                .filter(|n| n.starts_with(&word))
                .map(String::from)
                .collect(),
            ArgKind::Toggle => ["on", "off"]
                .iter()
                .filter(|w| w.starts_with(&word))
                .map(|w| w.to_string())
                .collect(),
            ArgKind::Word => Vec::new(),
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

/// How many operands come before the cursor, and the option whose value is typed there
/// when the word before it takes one (`-O`, `--target-directory`, the end of `-rO`).
fn operands_before(
    spec: &'static crate::commands::Spec,
    words: &[&str],
) -> (usize, Option<&'static crate::commands::Flag>) {
    let mut positional = 0;
    let mut pending = None;
    for w in words {
        if pending.take().is_some() {
            continue;
        }
        if let Some(long) = w.strip_prefix("--") {
            pending = spec
                .flags
                .iter()
                .find(|f| f.long == long && f.value.is_some());
        } else if w.len() > 1 && w.starts_with('-') {
            for (i, c) in w[1..].char_indices() {
                let flag = spec.flags.iter().find(|f| f.short == Some(c));
                if let Some(f) = flag.filter(|f| f.value.is_some()) {
                    // A value-taking letter ends the cluster; its value follows when last.
                    if i + c.len_utf8() == w.len() - 1 {
                        pending = Some(f);
                    }
                    break;
                }
            }
        } else {
            positional += 1;
        }
    }
    (positional, pending)
}

/// The hint shown after a command name and a space: the rest of its usage line from the
/// table (`get ` → `[OPTIONS] REMOTE [LOCAL]`). None while the name is being typed, for an
/// unknown name, or for a command without operands or options.
pub fn usage_hint(line: &str) -> Option<String> {
    let (name, rest) = line.split_once(' ')?;
    if !rest.trim().is_empty() || name.is_empty() || line.ends_with("  ") {
        return None;
    }
    let spec = lookup(name)?;
    let usage = crate::commands::usage_line(spec);
    let tail = usage.strip_prefix(spec.name)?.trim_start();
    (!tail.is_empty()).then(|| tail.to_string())
}

/// True when `word` is (the start of) an `ftp://` or `ftps://` URL.
fn looks_like_url_start(word: &str) -> bool {
    ["ftp://", "ftps://"]
        .iter()
        .any(|p| word.starts_with(p) || (word.len() >= 4 && p.starts_with(word)))
}

/// URL completion: the scheme, then the servers the session and history know
/// (`ftp://user@host:port/`), then paths on the session's server.
fn urls(word: &str, names: &mut dyn Names) -> Vec<String> {
    let scheme = if word.starts_with("ftps") {
        "ftps://"
    } else {
        "ftp://"
    };
    if !word.starts_with(scheme) {
        return if scheme.starts_with(word) {
            vec![scheme.to_string()]
        } else {
            Vec::new()
        };
    }
    let rest = &word[scheme.len()..];
    match rest.find('/') {
        None => {
            let mut v: Vec<String> = names
                .servers()
                .into_iter()
                .map(|s| format!("{scheme}{s}/"))
                .filter(|u| u.starts_with(word))
                .collect();
            v.sort();
            v.dedup();
            v
        }
        Some(i) => {
            // Paths complete on the session's own server only.
            let server = &rest[..i];
            if names.servers().first().map(String::as_str) != Some(server) {
                return Vec::new();
            }
            let prefix = format!("{scheme}{server}");
            paths(&rest[i..], false, |d| names.remote(d))
                .into_iter()
                .map(|p| format!("{prefix}{p}"))
                .collect()
        }
    }
}

/// Path completion: the directory part stays, the last part matches entries of that
/// directory (only directories when `dirs_only`).
fn paths(
    word: &str,
    dirs_only: bool,
    mut list: impl FnMut(&str) -> Vec<(String, bool)>,
) -> Vec<String> {
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
        .filter(|(_, is_dir)| *is_dir || !dirs_only)
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
                "reports/" | "/reports/" => vec![("q1.csv".into(), false)],
                _ => vec![],
            }
        }
        fn local(&mut self, _dir: &str) -> Vec<(String, bool)> {
            vec![("local.txt".into(), false), ("localdir".into(), true)]
        }
        fn servers(&mut self) -> Vec<String> {
            vec!["alice@h:21".into(), "ftp.example.org:21".into()]
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
        assert_eq!(run("open ").1, ["home ", "work ", "ftp://"]);
        assert_eq!(run("ls wo"), (3, vec!["work:".into()]));
        assert_eq!(run("cp h"), (3, vec!["home:".into()]));
        assert_eq!(run("lcd h"), (4, vec![]));
        assert_eq!(run("get work:/x").1, Vec::<String>::new());
    }

    #[test]
    fn local_paths_for_local_arguments() {
        assert_eq!(run("put lo").1, ["local.txt ", "localdir/"]);
        assert_eq!(run("get report.txt lo").1, ["local.txt ", "localdir/"]);
    }

    #[test]
    fn mirror_r_completes_a_local_path_first() {
        assert_eq!(run("mirror rep").1, ["reports/"]);
        assert_eq!(run("mirror reports lo").1, ["localdir/"]);
        assert_eq!(run("mirror -R lo").1, ["localdir/"]);
        assert_eq!(run("mirror -R localdir rep").1, ["reports/"]);
    }

    #[test]
    fn directories_only_where_the_table_expects_one() {
        assert_eq!(run("cd rep").1, ["reports/"]);
        assert_eq!(run("rmdir rep").1, ["reports/"]);
        assert_eq!(run("lcd lo").1, ["localdir/"]);
        assert_eq!(run("lmkdir lo").1, ["localdir/"]);
        assert_eq!(run("get rep").1, ["report.txt ", "reports/"]);
    }

    #[test]
    fn urls_from_the_session_and_history() {
        assert_eq!(run("open ft").1, ["ftp://"]);
        assert_eq!(
            run("open ftp://").1,
            ["ftp://alice@h:21/", "ftp://ftp.example.org:21/"]
        );
        assert_eq!(run("cp local.txt ftp://al").1, ["ftp://alice@h:21/"]);
        assert_eq!(
            run("ls ftp://alice@h:21/reports/").1,
            ["ftp://alice@h:21/reports/q1.csv "]
        );
        // Paths only on the session's own server (the first one).
        assert_eq!(run("ls ftp://ftp.example.org:21/x").1, Vec::<String>::new());
    }

    #[test]
    fn the_hint_is_the_usage_line_from_the_table() {
        assert_eq!(
            usage_hint("get ").as_deref(),
            Some("[OPTIONS] REMOTE [LOCAL]")
        );
        assert_eq!(usage_hint("cd ").as_deref(), Some("[PATH]"));
        assert_eq!(usage_hint("get"), None);
        assert_eq!(usage_hint("get x"), None);
        assert_eq!(usage_hint("nosuch "), None);
        assert_eq!(usage_hint("pwd "), None);
    }

    #[test]
    fn option_values_complete_as_the_table_says() {
        assert_eq!(run("get -O lo").1, ["localdir/"]);
        assert_eq!(run("get --target-directory lo").1, ["localdir/"]);
        assert_eq!(run("get -o lo").1, ["local.txt ", "localdir/"]);
        assert_eq!(run("put -O rep").1, ["reports/"]);
        assert_eq!(run("put -rO rep").1, ["reports/"]);
        // The value is not an operand: the operand after it is still the first.
        assert_eq!(run("get -O localdir rep").1, ["report.txt ", "reports/"]);
        assert_eq!(run("get -j 4 rep").1, ["report.txt ", "reports/"]);
        assert_eq!(run("get -j ").1, Vec::<String>::new());
    }

    #[test]
    fn toggles_come_from_the_table() {
        for spec in COMMANDS
            .iter()
            .filter(|s| s.args.first() == Some(&ArgKind::Toggle))
        {
            assert_eq!(
                run(&format!("{} o", spec.name)).1,
                ["on", "off"],
                "{}",
                spec.name
            );
        }
        assert_eq!(run("limit-rate o").1, Vec::<String>::new());
    }

    #[test]
    fn words_and_help() {
        assert_eq!(run("verbose o"), (8, vec!["on".into(), "off".into()]));
        assert_eq!(run("passive o"), (8, vec!["on".into(), "off".into()]));
        assert_eq!(run("help mkd"), (5, vec!["mkdir".into()]));
        assert_eq!(run("nosuch x"), (7, vec![]));
    }
}
