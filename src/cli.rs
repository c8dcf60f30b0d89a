//! Process argv, parsed with clap: global options (accepted before or after the operation)
//! and the words that name the operation and its operands. The list of operations in
//! `--help` is generated from the command table.

use clap::{CommandFactory, FromArgMatches, Parser};

use crate::commands::{usage_line, Scope, COMMANDS};

/// `3700ftp [OPTIONS] [OPERATION ARGS... | URL]`
#[derive(Parser, Debug)]
#[command(
    name = "3700ftp",
    version,
    about = "A careful FTP client: ls, mkdir, rm, rmdir, cp, mv and mirror against an FTP server,\nor an interactive session when no operation is given.",
    override_usage = "3700ftp [OPTIONS] OPERATION PARAM1 [PARAM2]\n       3700ftp [OPTIONS] [URL]          (session: a prompt, or batch commands from stdin)"
)]
pub struct Cli {
    /// Print every message exchanged with the server (sent: "> ", received: "< ") on stdout
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Give up on any network wait (connect, a reply, data progress) after SECS seconds
    /// [default: 20]
    #[arg(long, value_name = "SECS", value_parser = parse_timeout, global = true)]
    pub timeout: Option<f64>,

    /// Upgrade ftp:// connections with AUTH TLS (explicit FTPS); refuse servers without it
    #[arg(long, global = true)]
    pub tls: bool,

    /// Trust the CA certificates in FILE (PEM) instead of the system's
    #[arg(long, value_name = "FILE", global = true)]
    pub cacert: Option<std::path::PathBuf>,

    /// Trust exactly the certificate with this SHA-256 fingerprint (as `openssl x509
    /// -fingerprint -sha256` prints it; colons optional), even self-signed, and refuse any
    /// other; repeat for rotation
    #[arg(long, value_name = "SHA256", value_parser = parse_pin, global = true)]
    pub pin: Vec<crate::fingerprint::Fingerprint>,

    /// Do not verify the server's TLS certificate (a warning is printed on every connection)
    #[arg(long, global = true)]
    pub insecure: bool,

    /// Active mode: the server connects to us (EPRT, else PORT); passive is the default
    #[arg(long, global = true)]
    pub active: bool,

    /// The local ports active mode listens on, e.g. 50000-50100
    #[arg(long, value_name = "LO-HI", value_parser = parse_port_range, global = true)]
    pub port_range: Option<(u16, u16)>,

    /// How a transfer is proven: auto (the server's strongest hash, else the size), hash,
    /// size, or none [default: auto]
    #[arg(long, value_name = "HOW", global = true)]
    pub verify: Option<crate::verify::Verify>,

    /// Cap each transfer's speed (with -j N, the total), e.g. 500K or 2M
    #[arg(long, value_name = "RATE", value_parser = crate::ratelimit::parse_rate, global = true)]
    pub limit_rate: Option<u64>,

    /// Go through a proxy: socks5://[user:pass@]host:port or http://host:port (HTTP
    /// CONNECT); by default the environment's ftp_proxy or all_proxy, as curl does
    #[arg(long, value_name = "URL", global = true)]
    pub proxy: Option<String>,

    /// Hosts to reach directly, not through a proxy (comma-separated; * for all)
    #[arg(long, value_name = "HOSTS", global = true)]
    pub noproxy: Option<String>,

    /// Report every command's actions as JSON Lines on stdout, one object per action and a
    /// summary per command, each with its schema version "v"; messages, -v and progress go
    /// to stderr
    #[arg(long, global = true)]
    pub json: bool,

    /// No progress bars
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Progress bars even in batch mode (when stderr is a terminal)
    #[arg(long, global = true)]
    pub progress: bool,

    /// Connect data channels to the address the server's PASV reply names, not the control
    /// connection's peer (only for servers behind odd NAT; a hostile server can abuse it)
    #[arg(long, global = true)]
    pub use_pasv_address: bool,

    /// Color errors, notices and directory names: auto (on a terminal, unless NO_COLOR is
    /// set; CLICOLOR_FORCE forces it), always, or never
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = crate::output::ColorWhen::Auto, global = true)]
    pub color: crate::output::ColorWhen,

    /// Read named sites and defaults from FILE (else $FTP3700_CONFIG, else
    /// $XDG_CONFIG_HOME/3700ftp/config.toml or ~/.config/3700ftp/config.toml)
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<std::path::PathBuf>,

    /// Print a man page (man) or a shell completion script (complete-bash, complete-zsh,
    /// complete-fish, complete-powershell) on stdout, and exit
    #[arg(long, value_name = "KIND", value_enum)]
    pub generate: Option<Generate>,

    /// The operation and its operands (and the operation's own options, such as `ls -l`),
    /// or a URL to open a session at
    #[arg(value_name = "OPERATION", allow_hyphen_values = true)]
    pub words: Vec<String>,
}

use crate::config::{parse_pin, parse_port_range, parse_timeout};

impl Cli {
    /// The global options given on the command line, as the top layer of the settings.
    pub fn layer(&self) -> crate::config::Layer {
        crate::config::Layer {
            tls: self.tls.then_some(true),
            active: self.active.then_some(true),
            port_range: self.port_range,
            verify: self.verify,
            proxy: self.proxy.clone(),
            limit_rate: self.limit_rate,
            parallel: None,
            timeout: self.timeout,
            pins: (!self.pin.is_empty()).then(|| self.pin.clone()),
            password_command: None,
        }
    }
}

/// The text after the options in `--help`: operations (from the table), URL form, examples.
pub fn after_help() -> String {
    let rest = [
        "URL: ftp://[USER[:PASSWORD]@]HOST[:PORT]/PATH (ftps:// for implicit TLS)",
        "  percent-encode @ : / % in the password; default user anonymous, port 21;",
        "  PATH is absolute on the server; ftp://h/~/f is relative to the login directory",
        "  or SITE:PATH, a site of the config file (~/.config/3700ftp/config.toml)",
        "",
        "Examples:",
        "  3700ftp ls ftp://ftp.example.org/pub/",
        "  3700ftp cp report.pdf ftp://me:secret@example.org/uploads/",
        "  3700ftp mv ftp://example.org/in/data.csv ./data.csv",
        "  3700ftp cp -r 'ftp://example.org/logs/' ./logs/",
        "  3700ftp mirror --delete --dry-run ./public ftp://me@example.org/www/",
        "  3700ftp ftp://me@example.org/        (a session; 'help' lists its commands)",
        "",
        "Exit codes: 0 ok, 2 usage, 3 connection/timeout, 4 login, 5 refused by the server,",
        "  6 local file error, 7 transfer not confirmed, 130 interrupted",
        "",
        "More: man 3700ftp; without the page installed: 3700ftp --generate man | man -l -",
        "  (shell completions: 3700ftp --generate complete-bash, -zsh, -fish, -powershell)",
    ];
    format!("Operations:\n{}\n{}", operations_help(), rest.join("\n"))
}

/// The operations for `--help`, from the command table: each usage line, then its summary
/// and its options indented below it, every line short enough that clap's wrapping (which
/// would lose the indentation) leaves it alone. Operands are URLs here (plain paths are
/// for sessions).
fn operations_help() -> String {
    let mut text = String::new();
    let mut flags_seen: Vec<&str> = Vec::new();
    for spec in COMMANDS.iter().filter(|s| s.scope == Scope::Everywhere) {
        let usage = usage_line(spec)
            .replace("[URL|PATH]", "URL")
            .replace("URL|PATH", "URL");
        text.push_str(&format!(
            "  {usage}
"
        ));
        let mut summary = spec.summary.to_string();
        if !spec.aliases.is_empty() {
            summary.push_str(&format!(" (also: {})", spec.aliases.join(", ")));
        }
        for line in crate::text::wrap(&summary, 70) {
            text.push_str(&format!(
                "      {line}
"
            ));
        }
        for f in spec.flags {
            // cp and mv share their options: explain them once.
            if flags_seen.contains(&f.long) {
                continue;
            }
            flags_seen.push(f.long);
            let short = f.short.map(|c| format!("-{c}, ")).unwrap_or_default();
            let value = f.value.map(|v| format!(" {v}")).unwrap_or_default();
            let mut head = format!("{short}--{}{value}", f.long);
            if head.chars().count() >= 18 {
                // Too long for the column: alone on its line, the help below it.
                text.push_str(&format!(
                    "        {head}
"
                ));
                head.clear();
            }
            for (i, line) in crate::text::wrap(f.help, 52).into_iter().enumerate() {
                let lead = if i == 0 { head.as_str() } else { "" };
                text.push_str(&format!(
                    "        {lead:18}{line}
"
                ));
            }
        }
    }
    text
}

/// Parses argv (exits with clap's message on `--help`, `--version` or a bad option).
pub fn parse() -> Cli {
    try_parse_from(std::env::args_os()).unwrap_or_else(|e| e.exit())
}

/// Parses the given words. Global options (those clap knows) may stand anywhere; every
/// other word, including an operation's own options (`ls -l`, `cp -r`), goes to `words`
/// in order, for the command table to parse.
pub fn try_parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let mut command = Cli::command().after_help(after_help());
    command.build();
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let (globals, words) = split_argv(&command, &args);
    // clap's own help and errors follow --color too (it reads NO_COLOR and
    // CLICOLOR_FORCE itself).
    command = command.color(match color_flag(&globals) {
        Some("always") => clap::ColorChoice::Always,
        Some("never") => clap::ColorChoice::Never,
        _ => clap::ColorChoice::Auto,
    });
    let mut argv = globals;
    argv.push("--".into());
    argv.extend(words);
    let matches = command.try_get_matches_from(argv)?;
    Cli::from_arg_matches(&matches)
}

/// The last `--color WHEN` or `--color=WHEN` among the global options.
fn color_flag(globals: &[std::ffi::OsString]) -> Option<&str> {
    let mut found = None;
    let mut iter = globals.iter().filter_map(|a| a.to_str());
    while let Some(arg) = iter.next() {
        if arg == "--color" {
            found = iter.next();
        } else if let Some(value) = arg.strip_prefix("--color=") {
            found = Some(value);
        }
    }
    found
}

/// Separates the options clap defines (with their values) from everything else.
fn split_argv(
    command: &clap::Command,
    args: &[std::ffi::OsString],
) -> (Vec<std::ffi::OsString>, Vec<std::ffi::OsString>) {
    let takes = |a: &clap::Arg| a.get_action().takes_values();
    // Some(takes_value) when `arg` names a global option.
    let known = |arg: &str| -> Option<bool> {
        if let Some(long) = arg.strip_prefix("--") {
            let name = long.split('=').next().unwrap_or(long);
            if matches!(name, "help" | "version") {
                return Some(false);
            }
            return command
                .get_arguments()
                .find(|a| a.get_long() == Some(name))
                .map(|a| takes(a) && !long.contains('='));
        }
        let shorts = arg.strip_prefix('-').filter(|s| !s.is_empty())?;
        let all_known = shorts.chars().all(|c| {
            c == 'h'
                || command
                    .get_arguments()
                    .any(|a| a.get_short() == Some(c) && !takes(a))
        });
        all_known.then_some(false)
    };
    let mut globals = vec![args.first().cloned().unwrap_or_else(|| "3700ftp".into())];
    let mut words = Vec::new();
    let mut iter = args.iter().skip(1);
    let mut only_words = false;
    // The operation, once named: a short option of its own (`du -h`, `ls -h`) is its, not
    // the global `-h` (help).
    let mut operation: Option<&crate::commands::Spec> = None;
    while let Some(arg) = iter.next() {
        let text = arg.to_string_lossy();
        let its_own = operation.is_some_and(|spec| {
            text.strip_prefix('-')
                .filter(|s| !s.is_empty() && !s.starts_with('-'))
                .is_some_and(|s| {
                    s.chars()
                        .all(|c| spec.flags.iter().any(|f| f.short == Some(c)))
                })
        });
        if only_words || its_own {
            words.push(arg.clone());
        } else if text == "--" {
            only_words = true;
        } else if let Some(takes_value) = known(&text) {
            globals.push(arg.clone());
            if takes_value {
                if let Some(value) = iter.next() {
                    globals.push(value.clone());
                }
            }
        } else {
            if operation.is_none() && words.is_empty() {
                operation = crate::commands::lookup(&text);
            }
            words.push(arg.clone());
        }
    }
    (globals, words)
}

/// What `--generate` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Generate {
    /// The man page (roff), for `man -l -` or a `man1` directory.
    Man,
    /// A bash completion script.
    #[value(name = "complete-bash")]
    CompleteBash,
    /// A zsh completion script (`_3700ftp`).
    #[value(name = "complete-zsh")]
    CompleteZsh,
    /// A fish completion script.
    #[value(name = "complete-fish")]
    CompleteFish,
    /// A PowerShell completion script.
    #[value(name = "complete-powershell")]
    CompletePowershell,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    #[test]
    fn options_before_or_after_the_operation() {
        let a = try_parse_from(["3700ftp", "-v", "ls", "ftp://h/"]).unwrap();
        let b = try_parse_from(["3700ftp", "ls", "ftp://h/", "-v"]).unwrap();
        assert!(a.verbose && b.verbose);
        assert_eq!(a.words, b.words);
        let c = try_parse_from(["3700ftp", "cp", "a", "--timeout", "3", "ftp://h/"]).unwrap();
        assert_eq!(c.timeout, Some(3.0));
        assert_eq!(c.words, ["cp", "a", "ftp://h/"]);
    }

    #[test]
    fn operation_options_stay_with_the_operation() {
        let c = try_parse_from(["3700ftp", "ls", "ftp://h/", "-v", "-l", "-a"]).unwrap();
        assert!(c.verbose);
        assert_eq!(c.words, ["ls", "ftp://h/", "-l", "-a"]);
        // --json is global: `ls --json` in one-shot mode is the global flag.
        let c = try_parse_from(["3700ftp", "ls", "--json", "ftp://h/"]).unwrap();
        assert!(c.json);
        assert_eq!(c.words, ["ls", "ftp://h/"]);
        let c = try_parse_from(["3700ftp", "cp", "-r", "--timeout=5", "a", "ftp://h/"]).unwrap();
        assert_eq!(c.timeout, Some(5.0));
        assert_eq!(c.words, ["cp", "-r", "a", "ftp://h/"]);
        let c = try_parse_from(["3700ftp", "rm", "--", "-v"]).unwrap();
        assert!(!c.verbose);
        assert_eq!(c.words, ["rm", "-v"]);
    }

    #[test]
    fn the_color_flag_is_found_before_clap_parses() {
        let words = |w: &[&str]| {
            w.iter()
                .map(|s| s.into())
                .collect::<Vec<std::ffi::OsString>>()
        };
        assert_eq!(
            color_flag(&words(&["3700ftp", "--color", "never"])),
            Some("never")
        );
        assert_eq!(
            color_flag(&words(&["3700ftp", "--color=always", "-v"])),
            Some("always")
        );
        assert_eq!(color_flag(&words(&["3700ftp", "-v"])), None);
        let c = try_parse_from(["3700ftp", "ls", "ftp://h/", "--color", "never"]).unwrap();
        // An operation's own short option is its, not the global -h (help).
        let d = try_parse_from(["3700ftp", "du", "-h", "ftp://h/"]).unwrap();
        assert_eq!(d.words, ["du", "-h", "ftp://h/"]);
        let d = try_parse_from(["3700ftp", "du", "-s", "-h", "ftp://h/", "-v"]).unwrap();
        assert_eq!(d.words, ["du", "-s", "-h", "ftp://h/"]);
        assert!(d.verbose);
        assert_eq!(c.color, crate::output::ColorWhen::Never);
    }

    #[test]
    fn bad_timeout_is_refused() {
        assert!(try_parse_from(["3700ftp", "--timeout", "0", "ls", "x"]).is_err());
        assert!(try_parse_from(["3700ftp", "--timeout", "abc", "ls", "x"]).is_err());
    }
}
