//! THE command table: every command's name, aliases, usage, one-line help, argument kinds
//! and handler. argv (one-shot), the prompt and batch files all dispatch through
//! [`dispatch`]; `help`, `-h` and tab completion are generated from [`COMMANDS`].

mod familiar;
mod ls;
mod many;
mod mirror;
mod options;
mod records;
mod remote;
mod session;
mod shell;
mod transfer;
mod tree;

use crate::ctx::Ctx;
use crate::error::{Error, Result};

/// What an argument names, for completion and help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// A path on the server (or a URL).
    Remote,
    /// A directory on the server (completion offers directories only).
    RemoteDir,
    /// A local path.
    Local,
    /// A local directory.
    LocalDir,
    /// A local path or a URL (cp/mv operands).
    Either,
    /// A URL.
    Url,
    /// A command name.
    CommandName,
    /// `on` or `off`.
    Toggle,
    /// A fixed word (a mode, a rate, a raw command).
    Word,
}

/// Where a command can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// On the command line and in a session.
    Everywhere,
    /// Only at the prompt or in a batch file.
    SessionOnly,
}

/// An option a command accepts (`ls -l`, `cp -r`, `-j N`).
pub struct Flag {
    /// The one-letter form, if any.
    pub short: Option<char>,
    /// The long form, also the key handlers ask for.
    pub long: &'static str,
    /// The value's name when the option takes one (`N`).
    pub value: Option<&'static str>,
    /// What the value names, for completion (`get -O DIR`: a local directory).
    pub value_kind: Option<ArgKind>,
    /// One line of help.
    pub help: &'static str,
}

/// A command's parsed arguments: operands in order, and the options given.
#[derive(Debug, Default, Clone)]
pub struct Args {
    /// The operands (positional arguments).
    pub pos: Vec<String>,
    flags: Vec<(&'static str, Option<String>)>,
}

impl Args {
    /// Operands only (tests, internal calls).
    pub fn of(pos: &[&str]) -> Args {
        Args {
            pos: pos.iter().map(|s| s.to_string()).collect(),
            flags: Vec::new(),
        }
    }

    /// Whether the option `long` was given.
    pub fn has(&self, long: &str) -> bool {
        self.flags.iter().any(|(l, _)| *l == long)
    }

    /// The value of the option `long`, when given.
    pub fn value(&self, long: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(l, _)| *l == long)
            .and_then(|(_, v)| v.as_deref())
    }

    /// Every value given to any of the options `longs`, in the order given on the line
    /// (for options that repeat and interleave, such as `--exclude` and `--include`).
    pub fn values_of(&self, longs: &[&str]) -> Vec<(&'static str, &str)> {
        self.flags
            .iter()
            .filter(|(l, _)| longs.contains(l))
            .filter_map(|(l, v)| v.as_deref().map(|v| (*l, v)))
            .collect()
    }
}

/// One command's specification.
pub struct Spec {
    /// The name typed.
    pub name: &'static str,
    /// Other names for the same command.
    pub aliases: &'static [&'static str],
    /// The arguments, as shown in help (`SRC DST`).
    pub usage: &'static str,
    /// One line of help.
    pub summary: &'static str,
    /// What each positional argument names.
    pub args: &'static [ArgKind],
    /// How many arguments are required.
    pub min_args: usize,
    /// Where the command can run.
    pub scope: Scope,
    /// The options it accepts.
    pub flags: &'static [Flag],
    /// The handler, given the parsed arguments after the command name.
    pub run: fn(&mut Ctx, &Args) -> Result<()>,
}

/// Every command, in the order help lists them.
pub static COMMANDS: &[Spec] = &[
    ls::LS,
    remote::MKDIR,
    remote::RM,
    remote::MDELETE,
    remote::RMDIR,
    remote::RENAME,
    transfer::CP,
    transfer::MV,
    transfer::CAT,
    transfer::GET,
    transfer::PUT,
    transfer::MGET,
    transfer::MPUT,
    mirror::MIRROR,
    tree::DU,
    remote::CD,
    remote::PWD,
    session::LCD,
    session::LPWD,
    session::OPEN,
    session::CLOSE,
    session::VERBOSE,
    session::ACTIVE,
    session::PASSIVE,
    session::LIMIT_RATE,
    familiar::LLS,
    familiar::LMKDIR,
    familiar::SIZE,
    familiar::MODTIME,
    familiar::CHMOD,
    familiar::BINARY,
    familiar::ASCII,
    familiar::QUOTE,
    familiar::SITE,
    familiar::STATUS,
    shell::SHELL,
    shell::MORE,
    shell::USER,
    session::HELP,
    session::QUIT,
];

/// Finds a command by name or alias.
pub fn lookup(name: &str) -> Option<&'static Spec> {
    COMMANDS
        .iter()
        .find(|s| s.name == name || s.aliases.contains(&name))
}

/// The command name or alias nearest to a mistyped `word` (at most two edits away, or
/// one it starts with), for "did you mean ls?".
pub fn nearest(word: &str) -> Option<&'static str> {
    let names = COMMANDS
        .iter()
        .flat_map(|s| std::iter::once(&s.name).chain(s.aliases.iter()));
    let limit = if word.chars().count() <= 3 { 1 } else { 2 };
    names
        .map(|n| (edit_distance(word, n), *n))
        .filter(|(d, n)| *d <= limit || (word.len() > 2 && n.starts_with(word)))
        .min()
        .map(|(_, n)| n)
}

/// Levenshtein distance, counted in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// Runs one command line, already split into words (`words[0]` is the command). Under
/// `--json` (global, or given to this command: every command takes it) the command's
/// actions are reported as JSON records and a summary ends its output, failure or not.
pub fn dispatch(ctx: &mut Ctx, words: &[String]) -> Result<()> {
    // `quote` and `site` send their words to the server as typed: none is taken as --json.
    let raw = matches!(words.first().map(String::as_str), Some("quote" | "site"));
    let end = if raw {
        words.len().min(1)
    } else {
        words.iter().position(|w| w == "--").unwrap_or(words.len())
    };
    let asked = words[..end].iter().skip(1).any(|w| w == "--json");
    if !(asked || ctx.json) || ctx.reports_json() {
        return run_words(ctx, words);
    }
    let words: Vec<String> = words
        .iter()
        .enumerate()
        .filter(|(i, w)| *i == 0 || *i >= end || *w != "--json")
        .map(|(_, w)| w.clone())
        .collect();
    let op = words.first().cloned().unwrap_or_default();
    let started = std::time::Instant::now();
    let was_json = ctx.out.is_json();
    ctx.out.set_json(true);
    let to_stderr = ctx.transcript_to_stderr.clone();
    let was_stderr = to_stderr.swap(true, std::sync::atomic::Ordering::Relaxed);
    ctx.records = Some(crate::record::Summary {
        op: op.clone(),
        ..Default::default()
    });
    let result = run_words(ctx, &words);
    let mut summary = ctx.records.take().unwrap_or_default();
    summary.elapsed = started.elapsed();
    summary.error = result.as_ref().err().cloned();
    ctx.out.json(&summary.to_json());
    ctx.out.set_json(was_json);
    to_stderr.store(was_stderr, std::sync::atomic::Ordering::Relaxed);
    result
}

fn run_words(ctx: &mut Ctx, words: &[String]) -> Result<()> {
    let Some((name, args)) = words.split_first() else {
        return Ok(());
    };
    let spec = lookup(name).ok_or_else(|| {
        let (what, list) = if ctx.in_session {
            ("command", "type 'help' for the list")
        } else {
            ("operation", "3700ftp --help lists them")
        };
        if name.starts_with('-') {
            return Error::usage(format!("unknown option '{name}' ({list})"));
        }
        match nearest(name) {
            Some(near) => Error::usage(format!("{name}: unknown {what}; did you mean {near}?")),
            None => Error::usage(format!("unknown {what} '{name}' ({list})")),
        }
    })?;
    if spec.scope == Scope::SessionOnly && !ctx.in_session {
        return Err(Error::usage(format!(
            "'{name}' works in a session only (start one with: 3700ftp ftp://host/)"
        )));
    }
    let parsed = parse_args(spec, args)?;
    // A usage ending in `...` takes its last operand any number of times (mget A B C).
    let most = if spec.usage.ends_with("...") {
        usize::MAX
    } else {
        spec.args.len()
    };
    if parsed.pos.len() < spec.min_args || parsed.pos.len() > most {
        return Err(Error::usage(format!("usage: {}", usage_line(spec))));
    }
    (spec.run)(ctx, &parsed)
}

/// Runs `one` on each operand in turn, as BSD ftp's m-commands do: a failure is said and
/// the others still run; the run fails with the last failure (earlier ones are printed
/// here, the last by the front end). An interrupt stops at once.
fn each_operand(
    ctx: &mut Ctx,
    verb: &str,
    args: &Args,
    one: fn(&mut Ctx, &Args) -> Result<()>,
) -> Result<()> {
    if args.value("output").is_some() {
        return Err(Error::usage(format!(
            "{verb}: -o names one file; use get/put -o, or -O DIR for a directory"
        )));
    }
    let mut failed: Option<Error> = None;
    for operand in &args.pos {
        let mut single = args.clone();
        single.pos = vec![operand.clone()];
        match one(ctx, &single) {
            Ok(()) => {}
            Err(e) if e.kind() == crate::error::Kind::Interrupted => return Err(e),
            Err(e) => {
                if let Some(earlier) = failed.replace(e) {
                    ctx.out.error(&earlier);
                }
            }
        }
    }
    failed.map_or(Ok(()), Err)
}

/// Splits a command's words into options (from its spec) and operands. `--` ends options;
/// a lone `-` is an operand.
pub fn parse_args(spec: &Spec, words: &[String]) -> Result<Args> {
    let unknown = |w: &str| {
        Error::usage(format!(
            "{}: unknown option '{w}' (usage: {})",
            spec.name,
            usage_line(spec)
        ))
    };
    let missing =
        |f: &Flag| Error::usage(format!("{}: option --{} needs a value", spec.name, f.long));
    let mut out = Args::default();
    let mut iter = words.iter();
    while let Some(word) = iter.next() {
        if word == "--" {
            out.pos.extend(iter.by_ref().cloned());
            break;
        }
        if let Some(long) = word.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let flag = spec
                .flags
                .iter()
                .find(|f| f.long == name)
                .ok_or_else(|| unknown(word))?;
            let value = match (flag.value, inline) {
                (None, None) => None,
                (None, Some(_)) => return Err(unknown(word)),
                (Some(_), Some(v)) => Some(v),
                (Some(_), None) => Some(iter.next().ok_or_else(|| missing(flag))?.clone()),
            };
            out.flags.push((flag.long, value));
        } else if word.len() > 1 && word.starts_with('-') {
            let letters: Vec<char> = word[1..].chars().collect();
            let mut i = 0;
            while i < letters.len() {
                // In a cluster (`-lq`), the letter that is wrong is the one named.
                let flag = spec
                    .flags
                    .iter()
                    .find(|f| f.short == Some(letters[i]))
                    .ok_or_else(|| unknown(&format!("-{}", letters[i])))?;
                if flag.value.is_some() {
                    let rest: String = letters[i + 1..].iter().collect();
                    let value = if rest.is_empty() {
                        iter.next().ok_or_else(|| missing(flag))?.clone()
                    } else {
                        rest
                    };
                    out.flags.push((flag.long, Some(value)));
                    break;
                }
                out.flags.push((flag.long, None));
                i += 1;
            }
        } else {
            out.pos.push(word.clone());
        }
    }
    Ok(out)
}

/// The most options a usage line spells out; a command with more shows `[OPTIONS]` (its
/// help lists them), so one long line does not widen every line of the help table.
const MAX_FLAGS_SHOWN: usize = 6;

/// `cp [-r] SRC DST`
pub fn usage_line(spec: &Spec) -> String {
    let mut line = spec.name.to_string();
    if spec.flags.len() > MAX_FLAGS_SHOWN {
        line.push_str(" [OPTIONS]");
    }
    for f in spec
        .flags
        .iter()
        .filter(|_| spec.flags.len() <= MAX_FLAGS_SHOWN)
    {
        let name = match f.short {
            Some(c) => format!("-{c}"),
            None => format!("--{}", f.long),
        };
        match f.value {
            Some(v) => line.push_str(&format!(" [{name} {v}]")),
            None => line.push_str(&format!(" [{name}]")),
        }
    }
    if !spec.usage.is_empty() {
        line.push(' ');
        line.push_str(spec.usage);
    }
    line
}

/// The list of commands for `help` or `-h`, one per line.
pub fn help_table(scope: Option<Scope>) -> String {
    help_table_width(scope, None)
}

/// The list of commands, wrapped to `width` columns when given (a terminal): a summary
/// that does not fit goes on under its own column, broken between words only; on a
/// terminal too narrow for the two columns, each summary goes under its usage line.
pub fn help_table_width(scope: Option<Scope>, width: Option<usize>) -> String {
    let specs: Vec<&Spec> = COMMANDS
        .iter()
        .filter(|s| scope.is_none_or(|sc| s.scope == sc))
        .collect();
    let col = specs.iter().map(|s| usage_line(s).len()).max().unwrap_or(0);
    let mut text = String::new();
    for s in specs {
        let mut summary = s.summary.to_string();
        if !s.aliases.is_empty() {
            summary.push_str(&format!(" (also: {})", s.aliases.join(", ")));
        }
        let usage = usage_line(s);
        match width {
            Some(w) => {
                // On a terminal the usage column is at most a third of the width; a longer
                // usage line stands alone and its summary starts under the column.
                let narrow = col.min(w / 3);
                if narrow + 4 + 24 <= w {
                    let lines = crate::text::wrap(&summary, w - narrow - 4);
                    let mut rest = lines.iter();
                    if usage.len() <= narrow {
                        let first = rest.next().map_or("", String::as_str);
                        text.push_str(format!("  {usage:narrow$}  {first}").trim_end());
                    } else {
                        text.push_str(&format!("  {usage}"));
                    }
                    text.push('\n');
                    for l in rest {
                        text.push_str(&format!("  {:narrow$}  {l}\n", ""));
                    }
                } else {
                    text.push_str(&format!("  {usage}\n"));
                    for l in crate::text::wrap(&summary, w.saturating_sub(6).max(20)) {
                        text.push_str(&format!("      {l}\n"));
                    }
                }
            }
            _ => {
                text.push_str(format!("  {usage:col$}  {summary}").trim_end());
                text.push('\n');
            }
        }
    }
    text
}

/// Help for one command.
pub fn help_for(spec: &Spec) -> String {
    let mut text = format!("usage: {}\n{}\n", usage_line(spec), spec.summary);
    for f in spec.flags {
        let short = f.short.map(|c| format!("-{c}, ")).unwrap_or_default();
        let value = f.value.map(|v| format!(" {v}")).unwrap_or_default();
        text.push_str(&format!("  {short}--{}{value}  {}\n", f.long, f.help));
    }
    if !spec.aliases.is_empty() {
        text.push_str(&format!("aliases: {}\n", spec.aliases.join(", ")));
    }
    if spec.scope == Scope::SessionOnly {
        text.push_str("(session only)\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        let mut names: Vec<&str> = Vec::new();
        for s in COMMANDS {
            names.push(s.name);
            names.extend(s.aliases);
            assert!(s.min_args <= s.args.len(), "{}", s.name);
            assert!(!s.summary.is_empty(), "{}", s.name);
            assert!(std::ptr::eq(lookup(s.name).unwrap(), s));
            for a in s.aliases {
                assert!(std::ptr::eq(lookup(a).unwrap(), s), "alias {a}");
            }
        }
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n, "names and aliases are unique");
    }

    #[test]
    fn options_are_parsed_from_the_spec() {
        let spec = lookup("help").unwrap();
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(parse_args(spec, &words(&["-x"])).is_err());
        let a = parse_args(spec, &words(&["--", "-x"])).unwrap();
        assert_eq!(a.pos, ["-x"]);
        // Short options cluster in any order; a value-taking one ends the cluster.
        let ls = lookup("ls").unwrap();
        let a = parse_args(ls, &words(&["-tl", "-a1", "dir"])).unwrap();
        assert!(a.has("long") && a.has("time") && a.has("all") && a.has("one"));
        assert_eq!(a.pos, ["dir"]);
        let e = parse_args(ls, &words(&["-lq"])).unwrap_err().to_string();
        assert!(e.contains("unknown option '-q'"), "{e}");
        let cp = lookup("cp").unwrap();
        let a = parse_args(cp, &words(&["-rj4", "a", "b"])).unwrap();
        assert!(a.has("recursive"));
        assert_eq!(a.value("parallel"), Some("4"));
    }

    #[test]
    fn the_six_operations_run_from_argv() {
        for name in ["ls", "mkdir", "rm", "rmdir", "cp", "mv"] {
            assert_eq!(lookup(name).unwrap().scope, Scope::Everywhere, "{name}");
        }
        assert_eq!(lookup("cd").unwrap().scope, Scope::SessionOnly);
    }

    #[test]
    fn a_mistyped_command_has_a_nearest_one() {
        assert_eq!(nearest("lsl"), Some("ls"));
        assert_eq!(nearest("mkdri"), Some("mkdir"));
        assert_eq!(nearest("stauts"), Some("status"));
        assert_eq!(nearest("xyzzy"), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn help_wraps_to_the_width_between_words() {
        let words_of = |t: &str| t.split_whitespace().map(String::from).collect::<Vec<_>>();
        for width in [40, 60, 80, 100] {
            let help = help_table_width(None, Some(width));
            for line in help.lines() {
                let n = line.chars().count();
                // Only a single word longer than the room may stick out.
                assert!(
                    n <= width
                        || line.split_whitespace().count() == 1
                        || line.trim_start().starts_with(&usage_line(
                            lookup(line.split_whitespace().next().unwrap()).unwrap()
                        )),
                    "{width}: {line:?}"
                );
            }
            // Every word of the unwrapped table is there, in order, none broken.
            assert_eq!(words_of(&help), words_of(&help_table(None)), "{width}");
        }
        assert_eq!(crate::text::wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(
            crate::text::wrap("a verylongword b", 4),
            ["a", "verylongword", "b"]
        );
    }

    #[test]
    fn help_lists_every_command() {
        let help = help_table(None);
        for s in COMMANDS {
            assert!(help.contains(&usage_line(s)), "{}", s.name);
        }
    }
}
