//! `--generate`: the man page and shell completion scripts, generated (as ripgrep does) from
//! the one command table ([`COMMANDS`]) and the clap definition of the global options, so
//! they cannot drift from what the program accepts. clap_complete and clap_mangen only see
//! clap's arguments, not the operations' own options, which live in the table.
//!
//! Pure: each generator returns a `String`; [`print`] is the only writer.

mod bash;
mod fish;
mod man;
mod powershell;
mod zsh;

use std::io::Write;

use clap::CommandFactory;

use crate::commands::{ArgKind, Flag, Scope, Spec, COMMANDS};

pub use crate::cli::Generate as Kind;

/// The binary's name, as typed.
pub(crate) const BIN: &str = "3700ftp";

/// The text for `kind`.
pub fn generate(kind: Kind) -> String {
    match kind {
        Kind::Man => man::render(),
        Kind::CompleteBash => bash::render(),
        Kind::CompleteZsh => zsh::render(),
        Kind::CompleteFish => fish::render(),
        Kind::CompletePowershell => powershell::render(),
    }
}

/// Prints the text for `kind` on stdout; returns the exit code (0, or 6 when stdout
/// cannot be written, except for a closed pipe such as `| head`).
pub fn print(kind: Kind) -> u8 {
    let text = generate(kind);
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(_) => crate::error::Kind::Local.exit_code(),
    }
}

/// An option as the generators see it: a global one (from clap) or an operation's own
/// (from the table).
#[derive(Debug, Clone)]
pub(crate) struct Opt {
    pub short: Option<char>,
    pub long: String,
    /// The value's name, when the option takes one.
    pub value: Option<String>,
    pub help: String,
    /// The values the option accepts, when they are a fixed list.
    pub choices: Vec<String>,
}

impl Opt {
    /// Whether the value is a local file name.
    pub fn takes_file(&self) -> bool {
        matches!(self.value.as_deref(), Some("FILE" | "PATH" | "DIR"))
    }

    /// `-s` and `--long`, the words that name it.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.short.iter().map(|c| format!("-{c}")).collect();
        names.push(format!("--{}", self.long));
        names
    }

    /// The first sentence of the help, for completion descriptions.
    pub fn short_help(&self) -> String {
        first_sentence(&self.help)
    }
}

impl From<&Flag> for Opt {
    fn from(f: &Flag) -> Opt {
        Opt {
            short: f.short,
            long: f.long.to_string(),
            value: f.value.map(str::to_string),
            help: f.help.to_string(),
            choices: Vec::new(),
        }
    }
}

/// The global options, from clap (with `--help` and `--version`), in `--help`'s order.
pub(crate) fn global_options() -> Vec<Opt> {
    let mut command = crate::cli::Cli::command();
    command.build();
    command
        .get_arguments()
        .filter(|a| !a.is_positional() && !a.is_hide_set())
        .filter_map(|a| {
            let long = a.get_long()?.to_string();
            let takes = a.get_action().takes_values();
            let value = takes.then(|| {
                a.get_value_names()
                    .and_then(|v| v.first())
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| long.to_uppercase())
            });
            let choices = if takes {
                a.get_possible_values()
                    .iter()
                    .filter(|v| !v.is_hide_set())
                    .map(|v| v.get_name().to_string())
                    .collect()
            } else {
                Vec::new()
            };
            let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
            Some(Opt {
                short: a.get_short(),
                long,
                value,
                help: help
                    .replace(" (see more with '--help')", "")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
                choices,
            })
        })
        .collect()
}

/// The operations: the table's commands that run from argv.
pub(crate) fn operations() -> impl Iterator<Item = &'static Spec> {
    COMMANDS.iter().filter(|s| s.scope == Scope::Everywhere)
}

/// The commands that run only in a session (documented in the man page).
pub(crate) fn session_commands() -> impl Iterator<Item = &'static Spec> {
    COMMANDS.iter().filter(|s| s.scope == Scope::SessionOnly)
}

/// A command's name and aliases.
pub(crate) fn names(spec: &Spec) -> Vec<&'static str> {
    std::iter::once(spec.name)
        .chain(spec.aliases.iter().copied())
        .collect()
}

/// A command's own options.
pub(crate) fn flags(spec: &Spec) -> Vec<Opt> {
    spec.flags.iter().map(Opt::from).collect()
}

/// Whether operand `i` of an operation can be a local path (completed as a file name).
pub(crate) fn local_operand(spec: &Spec, i: usize) -> bool {
    matches!(
        spec.args.get(i),
        Some(ArgKind::Local | ArgKind::LocalDir | ArgKind::Either)
    )
}

/// How operand `i` is described in completions.
pub(crate) fn operand_label(kind: ArgKind) -> &'static str {
    match kind {
        ArgKind::Remote => "remote path or URL",
        ArgKind::RemoteDir => "remote directory",
        ArgKind::Local => "local path",
        ArgKind::LocalDir => "local directory",
        ArgKind::Either => "local path or ftp:// URL",
        ArgKind::Url => "ftp:// URL",
        ArgKind::CommandName => "command",
        ArgKind::Toggle => "on or off",
        ArgKind::Word => "word",
    }
}

/// Text up to the first ". " or "; " outside parentheses (help lines are sometimes two
/// clauses long); "e.g." is not the end of a sentence.
pub(crate) fn first_sentence(text: &str) -> String {
    let mut depth = 0i32;
    let mut end = text.len();
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            '.' | ';' if depth == 0 && text[i + 1..].starts_with(' ') => {
                let head = &text[..i];
                if !(head.ends_with("e.g") || head.ends_with("i.e")) {
                    end = i;
                    break;
                }
            }
            _ => {}
        }
    }
    text[..end].trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_options_come_from_clap() {
        let opts = global_options();
        let find = |l: &str| opts.iter().find(|o| o.long == l).cloned();
        let verbose = find("verbose").unwrap();
        assert_eq!(verbose.short, Some('v'));
        assert!(verbose.value.is_none());
        assert_eq!(find("timeout").unwrap().value.as_deref(), Some("SECS"));
        assert!(find("cacert").unwrap().takes_file());
        assert_eq!(find("color").unwrap().choices, ["auto", "always", "never"]);
        assert!(find("generate")
            .unwrap()
            .choices
            .contains(&"man".to_string()));
        assert!(find("help").is_some() && find("version").is_some());
        assert!(
            find("words").is_none(),
            "the positional words are not an option"
        );
    }

    #[test]
    fn every_generator_names_every_operation_and_its_options() {
        for kind in [
            Kind::Man,
            Kind::CompleteBash,
            Kind::CompleteZsh,
            Kind::CompleteFish,
            Kind::CompletePowershell,
        ] {
            // The man page writes every typed `-` as `\-`.
            let text = generate(kind).replace("\\-", "-");
            for spec in operations() {
                for name in names(spec) {
                    assert!(text.contains(name), "{kind:?}: {name}");
                }
                for f in spec.flags {
                    assert!(
                        text.contains(f.long),
                        "{kind:?}: {} --{}",
                        spec.name,
                        f.long
                    );
                }
            }
            for o in global_options() {
                assert!(text.contains(&o.long), "{kind:?}: --{}", o.long);
            }
        }
    }

    #[test]
    fn first_sentence_stops_at_a_period_or_semicolon() {
        assert_eq!(first_sentence("a b. c d"), "a b");
        assert_eq!(first_sentence("a; b"), "a");
        assert_eq!(first_sentence("plain."), "plain");
        assert_eq!(first_sentence("a (b; c) d; e"), "a (b; c) d");
        assert_eq!(first_sentence("rate, e.g. 500K"), "rate, e.g. 500K");
    }
}
