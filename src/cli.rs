//! Process argv, parsed with clap: global options (accepted before or after the operation)
//! and the words that name the operation and its operands. The list of operations in
//! `--help` is generated from the command table.

use clap::{CommandFactory, FromArgMatches, Parser};

use crate::commands::{help_table, Scope};

/// `3700ftp [OPTIONS] [OPERATION ARGS... | URL]`
#[derive(Parser, Debug)]
#[command(
    name = "3700ftp",
    version,
    about = "A careful FTP client: ls, mkdir, rm, rmdir, cp and mv against an FTP server,\nor an interactive session when no operation is given.",
    override_usage = "3700ftp [OPTIONS] OPERATION PARAM1 [PARAM2]\n       3700ftp [OPTIONS] [URL]          (session: a prompt, or batch commands from stdin)"
)]
pub struct Cli {
    /// Print every message exchanged with the server (sent: "> ", received: "< ") on stdout
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Give up on any network wait (connect, a reply, data progress) after SECS seconds
    #[arg(long, value_name = "SECS", default_value_t = 20.0, value_parser = parse_timeout, global = true)]
    pub timeout: f64,

    /// Connect data channels to the address the server's PASV reply names, not the control
    /// connection's peer (only for servers behind odd NAT; a hostile server can abuse it)
    #[arg(long, global = true)]
    pub use_pasv_address: bool,

    /// The operation and its operands, or a URL to open a session at
    #[arg(value_name = "OPERATION", allow_hyphen_values = false)]
    pub words: Vec<String>,
}

fn parse_timeout(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    if v.is_finite() && v > 0.0 && v <= 86_400.0 {
        Ok(v)
    } else {
        Err(format!("'{s}' must be between 0 and 86400 seconds"))
    }
}

/// The text after the options in `--help`: operations (from the table), URL form, examples.
pub fn after_help() -> String {
    format!(
        "Operations:\n{}\n\
URL: ftp://[USER[:PASSWORD]@]HOST[:PORT]/PATH  (percent-encode @ : / % in the password;\n\
     default user anonymous, port 21; PATH is absolute on the server, ftp://h/~/f is\n\
     relative to the login directory)\n\n\
Examples:\n  \
3700ftp ls ftp://ftp.example.org/pub/\n  \
3700ftp cp report.pdf ftp://me:secret@example.org/uploads/\n  \
3700ftp mv ftp://example.org/in/data.csv ./data.csv\n  \
3700ftp ftp://me@example.org/        (interactive session; 'help' lists its commands)\n\n\
Exit codes: 0 ok, 2 usage, 3 connection/timeout, 4 login, 5 refused by the server,\n\
            6 local file error, 7 transfer not confirmed, 130 interrupted",
        help_table(Some(Scope::Everywhere))
    )
}

/// Parses argv (exits with clap's message on `--help`, `--version` or a bad option).
pub fn parse() -> Cli {
    let matches = Cli::command().after_help(after_help()).get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// Parses the given words (tests).
pub fn try_parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let matches = Cli::command()
        .after_help(after_help())
        .try_get_matches_from(args)?;
    Cli::from_arg_matches(&matches)
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
        assert_eq!(c.timeout, 3.0);
        assert_eq!(c.words, ["cp", "a", "ftp://h/"]);
    }

    #[test]
    fn bad_timeout_is_refused() {
        assert!(try_parse_from(["3700ftp", "--timeout", "0", "ls", "x"]).is_err());
        assert!(try_parse_from(["3700ftp", "--timeout", "abc", "ls", "x"]).is_err());
    }
}
