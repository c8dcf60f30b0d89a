//! THE command table: every command's name, aliases, usage, one-line help, argument kinds
//! and handler. argv (one-shot), the prompt and batch files all dispatch through
//! [`dispatch`]; `help`, `-h` and tab completion are generated from [`COMMANDS`].

mod remote;
mod session;
mod transfer;

use crate::ctx::Ctx;
use crate::error::{Error, Result};

/// What an argument names, for completion and help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// A path on the server (or a URL).
    Remote,
    /// A local path.
    Local,
    /// A local path or a URL (cp/mv operands).
    Either,
    /// A URL.
    Url,
    /// A command name.
    CommandName,
    /// A fixed word (on/off).
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
    /// The handler, given the arguments after the command name.
    pub run: fn(&mut Ctx, &[String]) -> Result<()>,
}

/// Every command, in the order help lists them.
pub static COMMANDS: &[Spec] = &[
    remote::LS,
    remote::MKDIR,
    remote::RM,
    remote::RMDIR,
    transfer::CP,
    transfer::MV,
    transfer::GET,
    transfer::PUT,
    remote::CD,
    remote::PWD,
    session::LCD,
    session::LPWD,
    session::OPEN,
    session::CLOSE,
    session::VERBOSE,
    session::HELP,
    session::QUIT,
];

/// Finds a command by name or alias.
pub fn lookup(name: &str) -> Option<&'static Spec> {
    COMMANDS
        .iter()
        .find(|s| s.name == name || s.aliases.contains(&name))
}

/// Runs one command line, already split into words (`words[0]` is the command).
pub fn dispatch(ctx: &mut Ctx, words: &[String]) -> Result<()> {
    let Some((name, args)) = words.split_first() else {
        return Ok(());
    };
    let spec = lookup(name).ok_or_else(|| {
        Error::usage(format!(
            "unknown command '{name}' (type 'help' for the list)"
        ))
    })?;
    if spec.scope == Scope::SessionOnly && !ctx.in_session {
        return Err(Error::usage(format!(
            "'{name}' works in a session only (start one with: 3700ftp ftp://host/)"
        )));
    }
    let positional = args.iter().filter(|a| !is_flag(a)).count();
    if positional < spec.min_args || positional > spec.args.len() {
        return Err(Error::usage(format!("usage: {}", usage_line(spec))));
    }
    if let Some(flag) = args.iter().find(|a| is_flag(a)) {
        return Err(Error::usage(format!(
            "{name}: unknown option '{flag}' (usage: {})",
            usage_line(spec)
        )));
    }
    (spec.run)(ctx, args)
}

/// `-x` or `--xx`, but not `-` alone (stdin) or a negative-looking path after `--`.
fn is_flag(a: &str) -> bool {
    a.len() > 1 && a.starts_with('-')
}

/// `cp SRC DST`
pub fn usage_line(spec: &Spec) -> String {
    if spec.usage.is_empty() {
        spec.name.to_string()
    } else {
        format!("{} {}", spec.name, spec.usage)
    }
}

/// The list of commands for `help` or `-h`, one per line.
pub fn help_table(scope: Option<Scope>) -> String {
    let specs: Vec<&Spec> = COMMANDS
        .iter()
        .filter(|s| scope.is_none_or(|sc| s.scope == sc))
        .collect();
    let width = specs.iter().map(|s| usage_line(s).len()).max().unwrap_or(0);
    let mut text = String::new();
    for s in specs {
        let mut line = format!("  {:width$}  {}", usage_line(s), s.summary);
        if !s.aliases.is_empty() {
            line.push_str(&format!(" (also: {})", s.aliases.join(", ")));
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// Help for one command.
pub fn help_for(spec: &Spec) -> String {
    let mut text = format!("usage: {}\n{}\n", usage_line(spec), spec.summary);
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
    fn the_six_operations_run_from_argv() {
        for name in ["ls", "mkdir", "rm", "rmdir", "cp", "mv"] {
            assert_eq!(lookup(name).unwrap().scope, Scope::Everywhere, "{name}");
        }
        assert_eq!(lookup("cd").unwrap().scope, Scope::SessionOnly);
    }

    #[test]
    fn help_lists_every_command() {
        let help = help_table(None);
        for s in COMMANDS {
            assert!(help.contains(&usage_line(s)), "{}", s.name);
        }
    }
}
