//! FTP commands and the one place they become bytes on the wire.
//!
//! An [`Arg`] can only be built from text free of CR, LF and NUL, so no path or credential
//! can smuggle a second command onto the control connection, whichever caller forgot to
//! check. [`Command::wire`] is the only encoder; [`Command::log_line`] is the form a
//! transcript may show, with the password masked.

use std::fmt;

use crate::error::{Error, Result};
use crate::remote_path::{self, RemotePath};

/// A command argument proven free of CR, LF and NUL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg(String);

impl Arg {
    /// Accepts `s` unless it contains CR, LF or NUL.
    pub fn new(s: &str) -> Result<Arg> {
        check_safe(s)?;
        Ok(Arg(s.to_string()))
    }

    /// The argument's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A [`RemotePath`] was checked when it was made: it becomes an argument as is.
impl From<&RemotePath> for Arg {
    fn from(path: &RemotePath) -> Arg {
        Arg(path.as_str().to_string())
    }
}

/// Refuses text that contains CR, LF or NUL, which would end an FTP command line early
/// (the rule is [`remote_path::is_safe`]'s).
pub fn check_safe(s: &str) -> Result<()> {
    if !remote_path::is_safe(s) {
        return Err(Error::from(remote_path::UnsafePath));
    }
    Ok(())
}

/// The commands 3700ftp sends (RFC 959, RFC 2428, RFC 3659).
#[derive(Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Command {
    User(Arg),
    Pass(Arg),
    Acct(Arg),
    Type(&'static str),
    Mode(&'static str),
    Stru(&'static str),
    Epsv,
    Pasv,
    Eprt(std::net::SocketAddr),
    Port(std::net::SocketAddrV4),
    List(Option<Arg>),
    Nlst(Option<Arg>),
    Mlsd(Option<Arg>),
    Retr(Arg),
    Stor(Arg),
    Appe(Arg),
    Rest(u64),
    Size(Arg),
    Mdtm(Arg),
    Mkd(Arg),
    Rmd(Arg),
    Dele(Arg),
    /// `RNFR path`: the first half of a rename.
    Rnfr(Arg),
    /// `RNTO path`: the second half.
    Rnto(Arg),
    Cwd(Arg),
    Pwd,
    Feat,
    /// `OPTS HASH SHA-256` (draft-bryan-ftpext-hash).
    OptsHash(&'static str),
    /// `OPTS UTF8 ON` (draft-ietf-ftpext-utf-8-option; FEAT's `UTF8` is RFC 2640's).
    OptsUtf8,
    /// `HASH path`.
    Hash(Arg),
    /// `XSHA256 path`, `XSHA1`, `XMD5`, `XCRC`.
    XHash(&'static str, Arg),
    /// `MFMT YYYYMMDDHHMMSS path` (draft-somers-ftp-mfxx).
    Mfmt(String, Arg),
    /// `SITE UTIME YYYYMMDDHHMMSS path` (pure-ftpd, proftpd mod_site_misc: time first).
    SiteUtime(Arg, String),
    /// `MDTM YYYYMMDDHHMMSS path`: setting the time the way vsftpd (`mdtm_write`) does.
    MdtmSet(String, Arg),
    /// `SITE CHMOD mode path` (the mode checked by the caller: octal digits).
    SiteChmod(String, Arg),
    /// A command line the user typed (`quote`, `site`): sent as is, any reply shown.
    Raw(Arg),
    Auth(&'static str),
    Pbsz(u32),
    Prot(&'static str),
    Noop,
    Abor,
    Quit,
}

impl Command {
    /// The command line without CR LF, exactly as sent.
    fn line(&self) -> String {
        use Command::*;
        let with = |verb: &str, a: &Arg| format!("{verb} {}", a.0);
        let opt = |verb: &str, a: &Option<Arg>| match a {
            Some(a) => with(verb, a),
            None => verb.to_string(),
        };
        match self {
            User(a) => with("USER", a),
            Pass(a) => with("PASS", a),
            Acct(a) => with("ACCT", a),
            Type(t) => format!("TYPE {t}"),
            Mode(m) => format!("MODE {m}"),
            Stru(s) => format!("STRU {s}"),
            Epsv => "EPSV".into(),
            Pasv => "PASV".into(),
            // RFC 2428 §2: EPRT |1|132.235.1.2|6275| or |2|::1|6275|.
            Eprt(a) => {
                let family = if a.is_ipv4() { 1 } else { 2 };
                format!("EPRT |{family}|{}|{}|", a.ip(), a.port())
            }
            Port(a) => {
                let o = a.ip().octets();
                format!(
                    "PORT {},{},{},{},{},{}",
                    o[0],
                    o[1],
                    o[2],
                    o[3],
                    a.port() >> 8,
                    a.port() & 0xff
                )
            }
            List(a) => opt("LIST", a),
            Nlst(a) => opt("NLST", a),
            Mlsd(a) => opt("MLSD", a),
            Retr(a) => with("RETR", a),
            Stor(a) => with("STOR", a),
            Appe(a) => with("APPE", a),
            Rest(n) => format!("REST {n}"),
            Size(a) => with("SIZE", a),
            Mdtm(a) => with("MDTM", a),
            Mkd(a) => with("MKD", a),
            Rmd(a) => with("RMD", a),
            Dele(a) => with("DELE", a),
            Rnfr(a) => with("RNFR", a),
            Rnto(a) => with("RNTO", a),
            Cwd(a) => with("CWD", a),
            Pwd => "PWD".into(),
            Feat => "FEAT".into(),
            OptsHash(a) => format!("OPTS HASH {a}"),
            OptsUtf8 => "OPTS UTF8 ON".into(),
            Hash(a) => with("HASH", a),
            XHash(verb, a) => with(verb, a),
            Mfmt(t, a) => format!("MFMT {t} {}", a.0),
            SiteUtime(a, t) => format!("SITE UTIME {t} {}", a.0),
            MdtmSet(t, a) => format!("MDTM {t} {}", a.0),
            SiteChmod(m, a) => format!("SITE CHMOD {m} {}", a.0),
            Raw(a) => a.0.clone(),
            Auth(m) => format!("AUTH {m}"),
            Pbsz(n) => format!("PBSZ {n}"),
            Prot(p) => format!("PROT {p}"),
            Noop => "NOOP".into(),
            Abor => "ABOR".into(),
            Quit => "QUIT".into(),
        }
    }

    /// The bytes sent on the control connection: the command line and CR LF.
    /// A name that came from the server as bytes that are not UTF-8 goes back as those
    /// bytes (`text::encode_wire`).
    pub fn wire(&self) -> Vec<u8> {
        let mut bytes = crate::text::encode_wire(&self.line()).into_owned();
        bytes.extend_from_slice(b"\r\n");
        bytes
    }

    /// The line a transcript or an error message may show: secrets become `****`.
    pub fn log_line(&self) -> String {
        match self {
            Command::Pass(_) => "PASS ****".into(),
            Command::Acct(_) => "ACCT ****".into(),
            other => other.line(),
        }
    }

    /// Whether sending this command a second time changes nothing (a query, or a setting
    /// set again to the same value): only such commands may follow another in one write
    /// where a stumbling server could make them be sent again (`pipeline.rs`).
    pub fn repeatable(&self) -> bool {
        use Command::*;
        // CWD to an absolute path lands in the same place however often it is sent.
        if let Cwd(dir) = self {
            return dir.as_str().starts_with('/');
        }
        matches!(
            self,
            Type(_)
                | Mode(_)
                | Stru(_)
                | Epsv
                | Pasv
                | Size(_)
                | Mdtm(_)
                | Pwd
                | Feat
                | OptsHash(_)
                | OptsUtf8
                | Hash(_)
                | XHash(..)
                | Noop
        )
    }

    /// The verb alone, e.g. `RETR`.
    pub fn verb(&self) -> String {
        let line = self.line();
        line.split(' ').next().unwrap_or_default().to_string()
    }
}

impl fmt::Debug for Command {
    /// Debug output is masked too, so a panic or a log can never show a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Command({})", self.log_line())
    }
}

impl fmt::Display for Command {
    /// Displays the masked form, so a command can never leak a password through `{}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.log_line())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(s: &str) -> Arg {
        Arg::new(s).unwrap()
    }

    #[test]
    fn commands_encode_with_crlf() {
        assert_eq!(Command::Quit.wire(), b"QUIT\r\n");
        assert_eq!(Command::Retr(arg("/a b.txt")).wire(), b"RETR /a b.txt\r\n");
        assert_eq!(Command::List(None).wire(), b"LIST\r\n");
        assert_eq!(Command::List(Some(arg("/pub"))).wire(), b"LIST /pub\r\n");
        assert_eq!(Command::Type("I").wire(), b"TYPE I\r\n");
        assert_eq!(Command::Rest(42).wire(), b"REST 42\r\n");
        let v4: std::net::SocketAddr = "127.0.0.1:6275".parse().unwrap();
        assert_eq!(Command::Eprt(v4).wire(), b"EPRT |1|127.0.0.1|6275|\r\n");
        let v6: std::net::SocketAddr = "[::1]:21".parse().unwrap();
        assert_eq!(Command::Eprt(v6).wire(), b"EPRT |2|::1|21|\r\n");
        let std::net::SocketAddr::V4(p) = v4 else {
            unreachable!()
        };
        assert_eq!(Command::Port(p).wire(), b"PORT 127,0,0,1,24,131\r\n");
    }

    #[test]
    fn a_name_that_is_not_utf8_goes_back_as_its_bytes() {
        let listed = crate::text::decode_wire(b"caf\xe9 \xff.txt");
        assert_eq!(
            Command::Dele(arg(&listed)).wire(),
            b"DELE caf\xe9 \xff.txt\r\n"
        );
        assert_eq!(Command::OptsUtf8.wire(), b"OPTS UTF8 ON\r\n");
    }

    #[test]
    fn cr_lf_and_nul_are_refused() {
        for bad in ["a\r\nDELE x", "a\nb", "a\rb", "a\0b"] {
            let err = Arg::new(bad).unwrap_err();
            assert_eq!(err.kind(), crate::error::Kind::Usage, "{bad:?}");
        }
        assert!(Arg::new("naïve name with spaces").is_ok());
    }

    #[test]
    fn password_is_masked_in_every_printable_form() {
        let pass = Command::Pass(arg("s3cret"));
        assert_eq!(pass.wire(), b"PASS s3cret\r\n");
        assert_eq!(pass.log_line(), "PASS ****");
        assert_eq!(pass.to_string(), "PASS ****");
        assert!(!format!("{pass:?}").contains("s3cret"));
        assert_eq!(pass.verb(), "PASS");
    }
}
