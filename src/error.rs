//! The one error type of 3700ftp and its mapping to exit codes.
//!
//! Every failure is an [`Error`] with a [`Kind`] (the class a script branches on) and a
//! message a user can act on. Lower layers create errors without knowing the operation;
//! the command layer adds the operation and path with [`Error::context`], and a front end
//! the place in its input with [`Error::within`] (`line 7: get x: …`). Only `main.rs`
//! turns an error into a process exit code, through [`Kind::exit_code`].

use std::fmt;
use std::io;

/// The class of a failure; each has its own exit code (see `docs/usage.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bad command line, bad URL, or an argument that cannot be sent safely (exit 2).
    Usage,
    /// Could not connect, the connection dropped or stalled, 421, or the peer does not speak FTP (exit 3).
    Connection,
    /// The server refused the login (exit 4).
    Login,
    /// The server refused a command with a 4xx/5xx reply (exit 5).
    Refused,
    /// A local file or directory could not be read or written (exit 6).
    Local,
    /// A transfer started but could not be confirmed complete (exit 7).
    NotConfirmed,
    /// The user pressed Ctrl-C (exit 130).
    Interrupted,
}

impl Kind {
    /// The class's name in `--json` records (`refused`, `not_confirmed`…).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Usage => "usage",
            Kind::Connection => "connection",
            Kind::Login => "login",
            Kind::Refused => "refused",
            Kind::Local => "local",
            Kind::NotConfirmed => "not_confirmed",
            Kind::Interrupted => "interrupted",
        }
    }

    /// The process exit code for this class of failure.
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::Usage => 2,
            Kind::Connection => 3,
            Kind::Login => 4,
            Kind::Refused => 5,
            Kind::Local => 6,
            Kind::NotConfirmed => 7,
            Kind::Interrupted => 130,
        }
    }
}

/// A suggestion the edge may add to a failure: the protocol layer names no command-line
/// flag, so it says what kind of remedy applies and the edge words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// The passive data connection could not be opened: active mode may get through.
    TryActive,
    /// The server's certificate is not trusted: it can be pinned (its SHA-256 fingerprint,
    /// when known), a private CA trusted, or verification skipped.
    UntrustedCertificate(Option<[u8; 32]>),
    /// The server's certificate is not one of those pinned (its fingerprint).
    NotPinned([u8; 32]),
    /// The server's certificate is not the one remembered for it (trust on first use).
    CertificateChanged,
    /// A TLS handshake met plain FTP: implicit TLS was asked of an explicit-TLS port.
    NotImplicitTls,
    /// The active data connection never came: passive mode is the default.
    ActiveBlocked,
}

/// A failure with its class, an optional context (operation and path) and a message.
#[derive(Debug, Clone)]
pub struct Error {
    kind: Kind,
    context: Option<String>,
    /// Where the failing work was, outermost last (`line 7` around `get x`): see [`Error::within`].
    outer: Vec<String>,
    message: String,
    /// The reply code when the failure is a server's reply (Refused, Login, Connection on 421).
    code: Option<u16>,
    /// What the edge may suggest.
    hint: Option<Hint>,
    /// A data connection broke off mid-transfer (reset, closed early): worth another try.
    broke_off: bool,
}

/// The crate-wide result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with `message` (lowercase, no trailing period).
    pub fn new(kind: Kind, message: impl Into<String>) -> Error {
        Error {
            kind,
            context: None,
            outer: Vec::new(),
            message: message.into(),
            code: None,
            hint: None,
            broke_off: false,
        }
    }

    /// A usage error.
    pub fn usage(message: impl Into<String>) -> Error {
        Error::new(Kind::Usage, message)
    }

    /// A connection-class error.
    pub fn connection(message: impl Into<String>) -> Error {
        Error::new(Kind::Connection, message)
    }

    /// A transfer that could not be confirmed.
    pub fn not_confirmed(message: impl Into<String>) -> Error {
        Error::new(Kind::NotConfirmed, message)
    }

    /// A local I/O failure on `path`.
    pub fn local(path: impl fmt::Display, err: &io::Error) -> Error {
        Error::new(Kind::Local, format!("{path}: {}", describe_io(err)))
    }

    /// The server answered `code text` where success was expected.
    pub fn refused(code: u16, text: &str) -> Error {
        let mut e = Error::new(Kind::Refused, format!("server said {code} {text}"));
        e.code = Some(code);
        e
    }

    /// Sets the reply code this error carries.
    pub fn with_code(mut self, code: u16) -> Error {
        self.code = Some(code);
        self
    }

    /// Adds a suggestion for the edge to word.
    pub fn with_hint(mut self, hint: Hint) -> Error {
        self.hint = Some(hint);
        self
    }

    /// The suggestion, if any.
    pub fn hint(&self) -> Option<Hint> {
        self.hint
    }

    /// Names the operation and path, e.g. `rm /dir/x.txt`, unless a context is already set.
    pub fn context(mut self, context: impl Into<String>) -> Error {
        if self.context.is_none() {
            self.context = Some(context.into());
        }
        self
    }

    /// Adds what else the user should know to the message (`…; the part was removed`).
    pub fn also(mut self, more: impl AsRef<str>) -> Error {
        self.message.push_str("; ");
        self.message.push_str(more.as_ref());
        self
    }

    /// Places the error inside larger work: `e.within("line 7")` on `get x: …` shows as
    /// `line 7: get x: …`. Unlike [`Error::context`], every call adds a layer.
    pub fn within(mut self, outer: impl Into<String>) -> Error {
        self.outer.push(outer.into());
        self
    }

    /// The class of this failure.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The server's reply code, when the failure is a reply.
    pub fn code(&self) -> Option<u16> {
        self.code
    }

    /// The message without the context.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True when the control connection is gone (dropped, 421, stalled) and must be reopened.
    pub fn is_connection_lost(&self) -> bool {
        self.kind == Kind::Connection
    }

    /// Marks a failure of the data connection in mid-transfer (reset, closed early), which
    /// another attempt may get past.
    pub fn broke_off(mut self) -> Error {
        self.broke_off = true;
        self
    }

    /// Whether another attempt may succeed where this one failed (`--retry`): timeouts,
    /// resets, a dropped control or data connection, and the replies RFC 959 calls
    /// transient (421, 425, 426, 450, 451). Never a refusal that another try cannot change
    /// (530, 550, 552, 553), never 452 (disk full stops the run), never a local failure, a
    /// usage error, a failed proof or an interrupt. The one place this is decided.
    pub fn transient(&self) -> bool {
        match (self.kind, self.code) {
            (Kind::Interrupted | Kind::Usage | Kind::Local, _) => false,
            (_, Some(421 | 425 | 426 | 450 | 451)) => true,
            (_, Some(452 | 530 | 550 | 552 | 553)) => false,
            (Kind::Connection, _) => true,
            (Kind::NotConfirmed, None) => self.broke_off,
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for layer in self.outer.iter().rev() {
            write!(f, "{layer}: ")?;
        }
        match &self.context {
            Some(c) => write!(f, "{c}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}

/// A path with CR, LF or NUL is a usage error (the user typed it, or a server sent it).
impl From<crate::remote_path::UnsafePath> for Error {
    fn from(e: crate::remote_path::UnsafePath) -> Error {
        Error::usage(e.to_string())
    }
}

/// An io::Error in words a user reads, without Rust's `(os error 2)` suffix.
pub fn describe_io(err: &io::Error) -> String {
    let s = err.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_is_set_once_and_prefixes_the_message() {
        let e = Error::refused(550, "No such file")
            .context("rm /x")
            .context("ignored");
        assert_eq!(e.to_string(), "rm /x: server said 550 No such file");
        assert_eq!(e.kind().exit_code(), 5);
        assert_eq!(e.code(), Some(550));
    }

    #[test]
    fn within_adds_a_layer_each_time_outermost_first() {
        let e = Error::refused(550, "No such file")
            .context("get x")
            .within("line 7")
            .within("batch");
        assert_eq!(
            e.to_string(),
            "batch: line 7: get x: server said 550 No such file"
        );
        assert_eq!(e.message(), "server said 550 No such file");
    }

    #[test]
    fn exit_codes_are_distinct() {
        let kinds = [
            Kind::Usage,
            Kind::Connection,
            Kind::Login,
            Kind::Refused,
            Kind::Local,
            Kind::NotConfirmed,
            Kind::Interrupted,
        ];
        let mut codes: Vec<u8> = kinds.iter().map(|k| k.exit_code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), kinds.len());
        assert!(!codes.contains(&0));
    }

    #[test]
    fn transient_failures_are_the_ones_another_try_can_change() {
        assert!(Error::connection("the server closed the connection").transient());
        assert!(Error::connection("x").with_code(421).transient());
        for code in [425, 426, 450, 451] {
            assert!(Error::refused(code, "try later").transient(), "{code}");
        }
        for code in [452, 530, 550, 552, 553] {
            assert!(!Error::refused(code, "no").transient(), "{code}");
        }
        assert!(!Error::new(Kind::Login, "login incorrect")
            .with_code(530)
            .transient());
        assert!(!Error::not_confirmed("hash differs").transient());
        assert!(Error::not_confirmed("data connection failed")
            .broke_off()
            .transient());
        assert!(!Error::new(Kind::Interrupted, "interrupted").transient());
    }

    #[test]
    fn io_errors_lose_the_os_error_suffix() {
        let e = io::Error::from_raw_os_error(2);
        assert_eq!(describe_io(&e), "No such file or directory");
    }
}
