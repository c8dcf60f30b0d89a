//! Which reply codes can answer which command (sans-IO): RFC 959 §5.4 "command-reply
//! sequences", RFC 2428 (EPSV, EPRT), RFC 3659 (SIZE, MDTM, REST), RFC 2389 (FEAT, OPTS)
//! and RFC 4217 (AUTH, PBSZ, PROT), widened only where real servers differ harmlessly.
//!
//! A reply that cannot answer the command sent (a `226 Transfer complete` to SIZE or DELE,
//! a `250` to SIZE) means the conversation is out of step: a server sent something
//! unasked. The connection drops such a reply instead of acting on it.
//!
//! The rules by class: a positive preliminary reply (1xx) only answers a transfer; a
//! completion (2xx) or intermediate (3xx) reply must be one the command can get; a
//! negative reply (4xx, 5xx) can answer anything, except `425`/`426`, which are about a
//! data connection and so only answer a transfer or ABOR. `421` always counts (the server
//! is closing).

use crate::ftp::command::Command;

/// What kind of answer a command waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asked {
    /// USER.
    User,
    /// PASS.
    Pass,
    /// ACCT.
    Acct,
    /// TYPE, MODE, STRU.
    Setting,
    /// EPSV.
    Epsv,
    /// PASV.
    Pasv,
    /// EPRT, PORT.
    Port,
    /// LIST, NLST, MLSD, RETR, STOR, APPE: a preliminary reply, then the final one.
    Transfer,
    /// REST.
    Rest,
    /// SIZE, MDTM (reading).
    Status213,
    /// MKD, PWD.
    Path257,
    /// CWD, DELE, RMD, RNTO.
    FileAction,
    /// RNFR.
    Rnfr,
    /// FEAT.
    Feat,
    /// OPTS.
    Opts,
    /// HASH, XSHA256 and friends.
    Hash,
    /// MFMT, SITE UTIME, MDTM with a time.
    SetTime,
    /// AUTH.
    Auth,
    /// PBSZ, PROT, NOOP.
    Ok200,
    /// ABOR: its own 225/226, and the aborted transfer's reply before it.
    Abor,
    /// QUIT.
    Quit,
    /// A command the user typed (`quote`): any completion or intermediate reply.
    Raw,
}

impl Asked {
    /// The kind of answer `cmd` waits for.
    pub fn of(cmd: &Command) -> Asked {
        use Command::*;
        match cmd {
            User(_) => Asked::User,
            Pass(_) => Asked::Pass,
            Acct(_) => Asked::Acct,
            Type(_) | Mode(_) | Stru(_) => Asked::Setting,
            Epsv => Asked::Epsv,
            Pasv => Asked::Pasv,
            Eprt(_) | Port(_) => Asked::Port,
            List(_) | Nlst(_) | Mlsd(_) | Retr(_) | Stor(_) | Appe(_) => Asked::Transfer,
            Rest(_) => Asked::Rest,
            Size(_) | Mdtm(_) => Asked::Status213,
            Mkd(_) | Pwd => Asked::Path257,
            Dele(_) | Rmd(_) | Rnto(_) | Cwd(_) => Asked::FileAction,
            Rnfr(_) => Asked::Rnfr,
            Feat => Asked::Feat,
            OptsHash(_) | OptsUtf8 => Asked::Opts,
            Hash(_) | XHash(..) => Asked::Hash,
            Mfmt(..) | SiteUtime(..) | MdtmSet(..) => Asked::SetTime,
            SiteChmod(..) => Asked::Setting,
            Raw(_) => Asked::Raw,
            Auth(_) => Asked::Auth,
            Pbsz(_) | Prot(_) | Noop => Asked::Ok200,
            Abor => Asked::Abor,
            Quit => Asked::Quit,
        }
    }

    /// Whether a reply with `code` can answer this command.
    pub fn accepts(self, code: u16) -> bool {
        use Asked::*;
        match code {
            421 => true,
            425 | 426 => matches!(self, Transfer | Abor),
            400..=599 => true,
            100..=199 => self == Transfer,
            200..=399 => self == Raw || self.positive().contains(&code),
            _ => false,
        }
    }

    /// The completion and intermediate codes this command can get.
    fn positive(self) -> &'static [u16] {
        use Asked::*;
        match self {
            // 232: logged in by the security exchange (RFC 2228).
            User => &[230, 232, 331, 332],
            Pass => &[202, 230, 232, 332],
            Acct => &[202, 230],
            // 202: "superfluous at this site" (MODE/STRU on servers without them).
            Setting => &[200, 202],
            Epsv => &[229],
            Pasv => &[227],
            Port => &[200],
            // 250: an early final reply some servers use instead of 226.
            Transfer => &[226, 250],
            Rest => &[350],
            Status213 => &[213],
            // 250: a few servers answer MKD so; it cannot be mistaken for a transfer's 226.
            Path257 => &[257, 250],
            // 200: CWD on some embedded servers.
            FileAction => &[250, 200],
            Rnfr => &[350],
            Feat => &[211],
            Opts => &[200],
            // HASH answers 213; XSHA256 and friends 213 or 250 (proftpd mod_digest).
            Hash => &[213, 250],
            // MFMT 213; SITE UTIME 200 or 250; vsftpd's MDTM with a time 213 (253 elsewhere).
            SetTime => &[200, 213, 250, 253],
            Auth => &[234, 334],
            Ok200 => &[200],
            Abor => &[225, 226, 250],
            Quit => &[221],
            Raw => &[],
        }
    }
}

/// Whether a greeting names a server known to read commands in turn, only after the
/// transfer before them has ended.
pub fn reads_in_turn(greeting: &str) -> bool {
    ["vsFTPd", "ProFTPD", "Pure-FTPd"]
        .iter()
        .any(|name| greeting.contains(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ftp::command::Arg;

    fn arg() -> Arg {
        Arg::new("/x").unwrap()
    }

    #[test]
    fn a_transfers_226_answers_no_file_command() {
        for cmd in [
            Command::Size(arg()),
            Command::Dele(arg()),
            Command::Mdtm(arg()),
            Command::Cwd(arg()),
            Command::Epsv,
            Command::Pasv,
            Command::Type("I"),
            Command::Feat,
            Command::Pwd,
        ] {
            assert!(!Asked::of(&cmd).accepts(226), "{cmd:?}");
            assert!(!Asked::of(&cmd).accepts(150), "{cmd:?}");
            assert!(!Asked::of(&cmd).accepts(426), "{cmd:?}");
            assert!(Asked::of(&cmd).accepts(550), "{cmd:?}");
            assert!(Asked::of(&cmd).accepts(421), "{cmd:?}");
        }
        assert!(!Asked::of(&Command::Size(arg())).accepts(250));
        assert!(Asked::of(&Command::Size(arg())).accepts(213));
        assert!(!Asked::of(&Command::Dele(arg())).accepts(213));
    }

    #[test]
    fn each_command_accepts_its_own_replies() {
        let ok = [
            (Command::User(arg()), 331),
            (Command::User(arg()), 230),
            (Command::Pass(arg()), 230),
            (Command::Epsv, 229),
            (Command::Pasv, 227),
            (Command::Retr(arg()), 150),
            (Command::Retr(arg()), 125),
            (Command::Retr(arg()), 226),
            (Command::Stor(arg()), 426),
            (Command::List(None), 250),
            (Command::Rest(5), 350),
            (Command::Rnfr(arg()), 350),
            (Command::Rnto(arg()), 250),
            (Command::Mkd(arg()), 257),
            (Command::Dele(arg()), 250),
            (Command::Auth("TLS"), 234),
            (Command::Prot("P"), 200),
            (Command::Abor, 225),
            (Command::Abor, 226),
            (Command::Abor, 426),
            (Command::Quit, 221),
            (Command::Feat, 211),
        ];
        for (cmd, code) in ok {
            assert!(Asked::of(&cmd).accepts(code), "{cmd:?} {code}");
        }
        assert!(!Asked::of(&Command::Retr(arg())).accepts(213));
        assert!(!Asked::of(&Command::Quit).accepts(226));
        assert!(!Asked::of(&Command::Rnfr(arg())).accepts(250));
    }

    #[test]
    fn servers_are_known_by_their_greetings() {
        assert!(reads_in_turn("(vsFTPd 3.0.3)"));
        assert!(reads_in_turn("ProFTPD Server (Debian) [127.0.0.1]"));
        assert!(reads_in_turn(
            "---------- Welcome to Pure-FTPd [privsep] [TLS] ----------"
        ));
        assert!(!reads_in_turn("Welcome to the libunftp FTP server"));
        assert!(!reads_in_turn("pyftpdlib 1.5.9 ready."));
        assert!(!reads_in_turn("FTP server ready"));
    }
}
