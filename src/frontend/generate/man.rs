//! The man page (roff, `man(7)` macros): the operations and session commands from the
//! command table, the global options from clap, exit codes from [`Kind::exit_code`].

use super::{flags, global_options, names, operations, session_commands, Opt, BIN};
use crate::commands::{usage_line, Spec};
use crate::error::Kind;

/// Escapes prose for roff: backslashes, and a leading `.` or `'` (which would start a
/// request).
fn text(s: &str) -> String {
    let s = s.replace('\\', "\\e");
    if s.starts_with('.') || s.starts_with('\'') {
        format!("\\&{s}")
    } else {
        s
    }
}

/// Escapes something typed (an option, a command line): also every `-` as `\-`, so it
/// renders as the ASCII hyphen-minus the shell needs, not a typographic hyphen.
fn literal(s: &str) -> String {
    text(s).replace('-', "\\-")
}

/// The exit codes, one per error class, each with what causes it.
fn exit_statuses() -> Vec<(u8, &'static str)> {
    let describe = |k: Kind| {
        match k {
        Kind::Usage => "usage: an unknown operation or option, a wrong number of operands, a malformed URL, CR, LF or NUL in a path.",
        Kind::Connection => "connection or timeout: cannot connect, the connection dropped or stalled past --timeout, 421, a peer that does not speak FTP.",
        Kind::Login => "login: the server refused the user or password (530), or no password was available.",
        Kind::Refused => "refused by the server: a 4xx or 5xx reply to a command (550 no such file, 553, 552, a non-empty rmdir).",
        Kind::Local => "local file error: a missing local source or destination directory, a full disk, permission denied.",
        Kind::NotConfirmed => "transfer not confirmed: fewer bytes than announced, 426 after data moved, a size or hash that differs.",
        Kind::Interrupted => "interrupted: Ctrl-C, or SIGTERM or SIGHUP in one-shot and batch runs; no temporary file is left and mv keeps its source.",
    }
    };
    let mut codes = vec![(0, "success.")];
    for k in [
        Kind::Usage,
        Kind::Connection,
        Kind::Login,
        Kind::Refused,
        Kind::Local,
        Kind::NotConfirmed,
        Kind::Interrupted,
    ] {
        codes.push((k.exit_code(), describe(k)));
    }
    codes
}

const ENVIRONMENT: &[(&str, &str)] = &[
    ("NETRC", "the netrc file to read instead of ~/.netrc."),
    ("ftp_proxy, FTP_PROXY", "the proxy (socks5:// or http://) when --proxy is not given, as curl reads it."),
    ("all_proxy, ALL_PROXY", "the proxy when neither --proxy nor ftp_proxy is set."),
    ("no_proxy, NO_PROXY", "hosts reached directly, not through a proxy (comma-separated; * for all), besides --noproxy."),
    ("NO_COLOR", "when set and not empty, no colors (unless --color always)."),
    ("CLICOLOR_FORCE", "when set and neither empty nor 0, colors even when the output is not a terminal (unless NO_COLOR is set or --color never)."),
    ("HOME", "the home directory: where ~/.netrc is, and what ~ means in a local path."),
    ("XDG_CONFIG_HOME", "the config file is $XDG_CONFIG_HOME/3700ftp/config.toml (default ~/.config/3700ftp/config.toml)."),
    ("FTP3700_CONFIG", "a config file to read instead (it must exist); --config FILE wins over it."),
    ("XDG_DATA_HOME", "the prompt's history is kept in $XDG_DATA_HOME/3700ftp/history (default ~/.local/share/3700ftp/history), and accepted certificates in $XDG_DATA_HOME/3700ftp/known_certs."),
];

/// One option as a tagged paragraph: `-s, --long VALUE` then its help.
fn option(out: &mut String, o: &Opt) {
    let mut head = String::new();
    if let Some(c) = o.short {
        head.push_str(&format!("\\fB\\-{c}\\fR, "));
    }
    head.push_str(&format!("\\fB\\-\\-{}\\fR", literal(&o.long)));
    if let Some(v) = &o.value {
        head.push_str(&format!(" \\fI{}\\fR", literal(v)));
    }
    let mut help = o.help.clone();
    if !help.ends_with(['.', ')']) {
        help.push('.');
    }
    out.push_str(&format!(".TP\n{head}\n{}\n", text(&help)));
    if !o.choices.iter().all(|c| o.help.contains(c.as_str())) {
        out.push_str(&format!(
            "One of: {}.\n",
            o.choices
                .iter()
                .map(|c| format!("\\fB{}\\fR", literal(c)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
}

/// One command: its usage line, summary, aliases and options.
fn command(out: &mut String, spec: &Spec) {
    out.push_str(&format!(
        ".TP\n\\fB{}\\fR\n{}.\n",
        literal(&usage_line(spec)),
        text(spec.summary)
    ));
    let aliases = &names(spec)[1..];
    if !aliases.is_empty() {
        out.push_str(&format!(
            "Also: {}.\n",
            aliases
                .iter()
                .map(|a| format!("\\fB{}\\fR", literal(a)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let opts = flags(spec);
    if !opts.is_empty() {
        out.push_str(".RS\n");
        for o in &opts {
            option(out, o);
        }
        out.push_str(".RE\n");
    }
}

/// The whole page.
pub(super) fn render() -> String {
    let mut m = String::new();
    m.push_str(&format!(
        ".TH 3700FTP 1 \"\" \"{BIN} {}\" \"User Commands\"\n",
        env!("CARGO_PKG_VERSION")
    ));
    m.push_str(".SH NAME\n3700ftp \\- a careful command\\-line FTP client\n");
    m.push_str(concat!(
        ".SH SYNOPSIS\n",
        ".B 3700ftp\n",
        "[\\fIOPTIONS\\fR] \\fIOPERATION\\fR [\\fIOPERATION OPTIONS\\fR] \\fIPARAM1\\fR [\\fIPARAM2\\fR]\n",
        ".br\n",
        ".B 3700ftp\n",
        "[\\fIOPTIONS\\fR] [\\fIURL\\fR]\n",
        ".br\n",
        ".B 3700ftp \\-\\-generate\n",
        "\\fIKIND\\fR\n",
    ));
    m.push_str(concat!(
        ".SH DESCRIPTION\n",
        "3700ftp lists, creates, deletes, copies and moves files on an FTP server.\n",
        "With an operation on the command line it runs that one operation and exits;\n",
        "with no operation (or only a URL) it opens a session: a prompt with history and\n",
        "tab completion when standard input is a terminal, otherwise batch commands read\n",
        "from standard input, one per line, over one login.\n",
        ".PP\n",
        "Downloads land in a temporary file that is renamed onto the destination only after\n",
        "the server confirms the transfer and it is proven (by the server's hash where it has\n",
        "one, else by size); uploads are stored under a temporary name and renamed when proven;\n",
        "\\fBmv\\fR deletes its source only after such a proof.\n",
        "Every network wait has a deadline (\\fB\\-\\-timeout\\fR).\n",
        ".PP\n",
        "Options may stand before or after the operation.\n",
        "Exactly one operand of \\fBcp\\fR and \\fBmv\\fR is an \\fBftp://\\fR URL.\n",
    ));
    m.push_str(".SH OPERATIONS\n");
    for spec in operations() {
        command(&mut m, spec);
    }
    m.push_str(concat!(
        ".SH SESSION COMMANDS\n",
        "In a session the operations above also take plain paths (relative to the remote\n",
        "working directory), and these commands work too:\n",
    ));
    for spec in session_commands() {
        command(&mut m, spec);
    }
    m.push_str(".SH OPTIONS\n");
    for o in global_options() {
        option(&mut m, &o);
    }
    m.push_str(concat!(
        ".SH URLS\n",
        "\\fBftp://\\fR[\\fIUSER\\fR[\\fB:\\fR\\fIPASSWORD\\fR]\\fB@\\fR]\\fIHOST\\fR[\\fB:\\fR\\fIPORT\\fR]\\fB/\\fR\\fIPATH\\fR\n",
        ".PP\n",
        "\\fBftps://\\fR is implicit TLS (port 990 by default); \\fB\\-\\-tls\\fR upgrades \\fBftp://\\fR\n",
        "with AUTH TLS. Percent\\-encode @ : / % in the user or password. Without a user, the\n",
        "netrc entry for the host is used, else \\fBanonymous\\fR. The default port is 21.\n",
        "PATH is absolute on the server; \\fBftp://host/~/file\\fR is relative to the login\n",
        "directory. A URL holding CR, LF or NUL is refused before connecting.\n",
        ".PP\n",
        "\\fISITE\\fB:\\fIPATH\\fR works wherever a URL does, for a site of the config file;\n",
        "an empty PATH is the site's directory, a relative one is from the login directory.\n",
    ));
    m.push_str(".SH EXIT STATUS\n");
    for (code, what) in exit_statuses() {
        m.push_str(&format!(".TP\n.B {code}\n{}\n", text(what)));
    }
    m.push_str(".SH ENVIRONMENT\n");
    for (name, what) in ENVIRONMENT {
        m.push_str(&format!(".TP\n.B {}\n{}\n", text(name), text(what)));
    }
    m.push_str(concat!(
        ".SH FILES\n",
        ".TP\n",
        ".I ~/.netrc\n",
        "Logins and passwords by host (\\fBmachine\\fR, \\fBlogin\\fR, \\fBpassword\\fR,\n",
        "\\fBdefault\\fR), read when the URL has no password. A file others can read gets a\n",
        "warning. \\fBNETRC\\fR names another file.\n",
        ".TP\n",
        ".I ~/.config/3700ftp/config.toml\n",
        "\\fB[defaults]\\fR and \\fB[sites.\\fINAME\\fB]\\fR tables (TOML): \\fBurl\\fR (no password),\n",
        "tls, active, port_range, verify, proxy, limit_rate, parallel, timeout, pin,\n",
        "password_command. The command line wins over a site, a site over [defaults].\n",
        ".TP\n",
        ".I ~/.local/share/3700ftp/history\n",
        "The prompt's history (under \\fBXDG_DATA_HOME\\fR when set).\n",
        ".TP\n",
        ".I ~/.local/share/3700ftp/known_certs\n",
        "Certificates accepted at the prompt, one \\fBHOST:PORT SHA256:...\\fR line per server\n",
        "(under \\fBXDG_DATA_HOME\\fR when set). A server that later presents another\n",
        "certificate is refused; delete its line if the change is expected.\n",
    ));
    m.push_str(concat!(
        ".SH EXAMPLES\n",
        ".nf\n",
        "3700ftp ls ftp://ftp.example.org/pub/\n",
        "3700ftp cp report.pdf ftp://me@example.org/uploads/\n",
        "3700ftp mv ftp://example.org/in/data.csv ./data.csv\n",
        "3700ftp cp \\-r ftp://example.org/logs/ ./logs/\n",
        "3700ftp ftp://me@example.org/\n",
        "3700ftp \\-\\-generate complete\\-bash > ~/.local/share/bash\\-completion/completions/3700ftp\n",
        ".fi\n",
    ));
    m.push_str(concat!(
        ".SH SEE ALSO\n",
        ".BR ftp (1),\n",
        ".BR curl (1),\n",
        ".BR lftp (1),\n",
        ".BR netrc (5)\n",
        ".PP\n",
        "The project's README.md and docs/ (usage, sessions, security) in its source.\n",
    ));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roff_escapes() {
        assert_eq!(text(".hidden"), "\\&.hidden");
        assert_eq!(text("a\\b"), "a\\eb");
        assert_eq!(literal("--long"), "\\-\\-long");
    }

    #[test]
    fn the_page_has_its_sections_and_every_exit_code() {
        let page = render();
        for section in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPERATIONS",
            "SESSION COMMANDS",
            "OPTIONS",
            "EXIT STATUS",
            "ENVIRONMENT",
            "FILES",
            "SEE ALSO",
        ] {
            assert!(page.contains(&format!(".SH {section}\n")), "{section}");
        }
        for code in [0, 2, 3, 4, 5, 6, 7, 130] {
            assert!(page.contains(&format!(".B {code}\n")), "exit {code}");
        }
        for var in [
            "NETRC",
            "ftp_proxy",
            "all_proxy",
            "no_proxy",
            "NO_COLOR",
            "CLICOLOR_FORCE",
            "HOME",
            "XDG_DATA_HOME",
        ] {
            assert!(page.contains(var), "{var}");
        }
        for spec in crate::commands::COMMANDS {
            assert!(
                page.contains(&format!("\\fB{}", literal(spec.name))),
                "{}",
                spec.name
            );
        }
    }
}
