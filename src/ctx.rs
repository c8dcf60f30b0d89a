//! The context every command runs in: settings, output, the local directory, and the
//! session's logged-in connection (if any).
//!
//! Remote operands are resolved here. A URL on the session's server (same host, port and
//! user) uses the session's connection; a URL on another server gets a connection of its own
//! for that one command (that is all one-shot mode ever does). A plain remote path needs a
//! session. A session whose server dropped the idle connection is logged in again before the
//! next command, back in the same directory, and says so in one line.

use std::path::{Path, PathBuf};

use crate::error::{Error, Kind, Result};
use crate::ftp::command::{Arg, Command};
use crate::ftp::connection::{Connection, Options};
use crate::ftp::reply::parse_pwd;
use crate::glob;
use crate::output::Output;
use crate::transcript::Transcript;
use crate::url::{looks_like_url, FtpUrl};

/// A logged-in session: the server, the connection and the remote working directory.
pub struct Session {
    /// Where we logged in (the path is the starting directory).
    pub url: FtpUrl,
    conn: Option<Connection>,
    /// The remote working directory as the server reported it (PWD), when known.
    pub cwd: Option<String>,
    /// The login directory (PWD right after login), when known.
    pub home: Option<String>,
}

/// Where a remote operand points.
#[derive(Debug, Clone)]
pub struct Remote {
    /// The server when the operand was a URL; None for a plain path in a session.
    pub url: Option<FtpUrl>,
    /// The path on the server (absolute, or relative to the working directory).
    pub path: String,
    /// The path as a wildcard pattern, when its last component has wildcards.
    pub pattern: Option<String>,
}

impl Remote {
    /// How the operand is named in messages: the path as the server sees it.
    pub fn shown(&self) -> &str {
        if self.path.is_empty() {
            "."
        } else {
            &self.path
        }
    }

    /// True when the operand names a directory (ends with `/`, or empty).
    pub fn names_directory(&self) -> bool {
        self.path.is_empty() || self.path.ends_with('/')
    }
}

/// Everything a command needs.
pub struct Ctx {
    /// Connection settings (timeout, PASV policy, the cancel flag).
    pub opts: Options,
    /// Whether protocol lines are printed.
    pub verbose: bool,
    /// Where output goes.
    pub out: Output,
    /// The logged-in session, in session and batch mode.
    pub session: Option<Session>,
    /// The local working directory that relative local paths start from.
    pub local_dir: PathBuf,
    /// Set by `quit`.
    pub quit: bool,
    /// True in session and batch mode (plain paths are remote paths there).
    pub in_session: bool,
    /// Overrides the transcript sink (tests); None means stdout.
    pub transcript_sink: Option<Transcript>,
    /// Whether transfers draw progress bars (stderr is a terminal, not quiet, not verbose).
    pub progress: bool,
    /// Whether a password may be asked for (stdin is a terminal).
    pub can_prompt: bool,
    /// `--verify`.
    pub verify: crate::verify::Verify,
    /// `--limit-rate` (and `limit-rate` in a session), shared by every transfer.
    pub limiter: Option<std::sync::Arc<crate::ratelimit::Limiter>>,
}

impl Ctx {
    /// A context with no session.
    pub fn new(opts: Options, verbose: bool, out: Output) -> Ctx {
        Ctx {
            opts,
            verbose,
            out,
            session: None,
            local_dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            quit: false,
            in_session: false,
            transcript_sink: None,
            progress: false,
            can_prompt: false,
            verify: crate::verify::Verify::Auto,
            limiter: None,
        }
    }

    /// A transcript for a new connection, following the verbose setting.
    pub fn transcript(&self) -> Transcript {
        let mut t = self
            .transcript_sink
            .clone()
            .unwrap_or_else(|| Transcript::new(true, Box::new(std::io::stdout())));
        t.set_on(self.verbose);
        t
    }

    /// Fills in credentials the URL leaves out, as curl and ftp do: with no user, the
    /// netrc entry for the host (else anonymous); with a user but no password, the netrc
    /// password for that user, else a prompt without echo when stdin is a terminal. In
    /// batch mode nothing is asked: a server that wants a password gets a clear error.
    pub fn resolve_credentials(&mut self, url: &FtpUrl) -> FtpUrl {
        let mut url = url.clone();
        if url.password.is_some() {
            return url;
        }
        let path = crate::netrc::netrc_path(std::env::var_os("NETRC"), dirs::home_dir());
        let want_user = url.user_given.then(|| url.user.clone());
        if let Some(path) = path {
            match crate::netrc::load(&path, &url.host, want_user.as_deref()) {
                Ok((entry, warning)) => {
                    if let Some(w) = warning {
                        self.out.notice(&format!("warning: {w}"));
                    }
                    if let Some(entry) = entry {
                        if let (false, Some(login)) = (url.user_given, &entry.login) {
                            url.user = login.clone();
                            url.user_given = true;
                        }
                        if entry.password.is_some()
                            && (entry.login.is_none()
                                || entry.login.as_deref() == Some(url.user.as_str()))
                        {
                            url.password = entry.password;
                        }
                    }
                }
                Err(e) => self.out.notice(&format!("warning: {e}")),
            }
        }
        if url.password.is_none()
            && url.user_given
            && !url.user.eq_ignore_ascii_case("anonymous")
            && self.can_prompt
        {
            let prompt = format!("Password for {}@{}: ", url.user, url.host);
            if let Ok(p) = rpassword::prompt_password(prompt) {
                url.password = Some(p);
            }
        }
        url
    }

    /// Connects and logs in to the server of `url`.
    pub fn login(&mut self, url: &FtpUrl) -> Result<Connection> {
        if self.opts.tls.insecure && url.tls_mode() != crate::ftp::tls::Mode::Off {
            self.out.notice(&format!(
                "warning: --insecure: the TLS certificate of {} is not verified",
                url.authority()
            ));
        }
        crate::jobs::login(url, &self.opts, self.transcript())
    }

    /// Opens a session at `url`: logs in and changes to its directory when it names one.
    pub fn open(&mut self, url: FtpUrl) -> Result<()> {
        self.close();
        let url = self.resolve_credentials(&url);
        let mut conn = self.login(&url)?;
        let home = pwd(&mut conn).ok();
        let start = url.path.clone();
        let mut cwd = home.clone();
        if !start.is_empty() && Some(&start) != home.as_ref() {
            if let Err(e) = conn.exec_ok(&Command::Cwd(Arg::new(&start)?)) {
                conn.quit();
                return Err(e.context(format!("cd {start}")));
            }
            cwd = pwd(&mut conn).ok();
        }
        self.session = Some(Session {
            url,
            conn: Some(conn),
            cwd,
            home,
        });
        Ok(())
    }

    /// Closes the session's connection (QUIT), if any.
    pub fn close(&mut self) {
        if let Some(mut s) = self.session.take() {
            if let Some(c) = s.conn.take() {
                c.quit();
            }
        }
    }

    /// A progress display for one transfer: a bar when enabled and not verbose.
    pub fn progress_bar(&self) -> crate::output::Bar {
        crate::output::Bar::new(self.progress && !self.verbose)
    }

    /// Turns protocol printing on or off, for the session's connection too.
    pub fn set_verbose(&mut self, on: bool) {
        self.verbose = on;
        if let Some(conn) = self.session.as_mut().and_then(|s| s.conn.as_mut()) {
            conn.transcript_mut().set_on(on);
        }
    }

    /// Turns active mode on or off, for the session's connection too.
    pub fn set_active(&mut self, on: bool) {
        self.opts.active = on;
        if let Some(conn) = self.session.as_mut().and_then(|s| s.conn.as_mut()) {
            conn.set_active(on);
        }
    }

    /// Turns the session connection's transcript on or off without changing the setting.
    pub fn set_verbose_quiet(&mut self, on: bool) {
        if let Some(conn) = self.session.as_mut().and_then(|s| s.conn.as_mut()) {
            conn.transcript_mut().set_on(on);
        }
    }

    /// Resolves a remote operand: a URL, or (in a session) a plain path.
    pub fn remote(&self, operand: &str) -> Result<Remote> {
        if looks_like_url(operand) {
            let mut url = FtpUrl::parse(operand)?;
            url.explicit_tls = self.opts.explicit_tls;
            let path = url.path.clone();
            let pattern = glob::has_wildcards(&url.glob_path).then(|| url.glob_path.clone());
            return Ok(Remote {
                url: Some(url),
                path,
                pattern,
            });
        }
        if !self.in_session {
            return Err(Error::usage(format!(
                "'{operand}' is not an ftp:// URL (write ftp://host/path)"
            )));
        }
        crate::ftp::command::check_safe(operand)?;
        Ok(Remote {
            url: None,
            path: glob::unescape(operand),
            pattern: glob::has_wildcards(operand).then(|| operand.to_string()),
        })
    }

    /// Expands a local operand with wildcards in its last component against the local
    /// directory; None when it has none. A pattern that matches nothing is an error.
    pub fn local_matches(&self, operand: &str) -> Result<Option<Vec<PathBuf>>> {
        if !glob::has_wildcards(operand) {
            return Ok(None);
        }
        let (dir, pattern) = glob::split(operand);
        let base = self.local(if dir.is_empty() { "." } else { &dir });
        let read = std::fs::read_dir(&base).map_err(|e| Error::local(base.display(), &e))?;
        let names: Vec<String> = read
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let found = glob::expand(&pattern, names.iter().map(String::as_str));
        if found.is_empty() {
            return Err(Error::new(
                Kind::Local,
                format!("{operand}: no local file matches"),
            ));
        }
        Ok(Some(found.into_iter().map(|n| base.join(n)).collect()))
    }

    /// Resolves a local operand against the local working directory.
    pub fn local(&self, operand: &str) -> PathBuf {
        let operand = glob::unescape(operand);
        let p = expand_home(&operand);
        if p.is_absolute() {
            p
        } else {
            self.local_dir.join(p)
        }
    }

    /// Runs `f` on a connection to the remote operand's server: the session's when it is the
    /// same server (reconnecting if the server dropped it), else a fresh one closed after.
    pub fn with_conn<T>(
        &mut self,
        remote: &Remote,
        f: impl FnOnce(&mut Connection, &mut Output) -> Result<T>,
    ) -> Result<T> {
        let own = match &remote.url {
            None => false,
            Some(url) => !self.session_serves(url),
        };
        if own {
            let url = remote.url.as_ref().expect("own connection has a URL");
            let url = self.resolve_credentials(url);
            let mut conn = self.login(&url)?;
            let result = f(&mut conn, &mut self.out);
            if result
                .as_ref()
                .is_err_and(|e| e.kind() == Kind::Interrupted)
            {
                conn.abort_transfer();
            }
            conn.quit();
            return result;
        }
        self.ensure_connected()?;
        let session = self.session.as_mut().expect("connected session");
        let conn = session.conn.as_mut().expect("connected session");
        f(conn, &mut self.out)
    }

    /// True when the operand is served by the session's connection.
    pub fn uses_session(&self, remote: &Remote) -> bool {
        match &remote.url {
            None => self.session.is_some(),
            Some(url) => self.session_serves(url),
        }
    }

    /// True when `url` is on the session's server as the same user.
    fn session_serves(&self, url: &FtpUrl) -> bool {
        match &self.session {
            Some(s) => {
                s.url.host.eq_ignore_ascii_case(&url.host)
                    && s.url.port == url.port
                    && s.url.user == url.user
                    && s.url.tls_mode() == url.tls_mode()
                    && (url.password.is_none() || url.password == s.url.password)
            }
            None => false,
        }
    }

    /// Makes sure the session has a live connection, logging in again if the server closed it.
    pub fn ensure_connected(&mut self) -> Result<()> {
        let Some(session) = self.session.as_mut() else {
            return Err(Error::usage("not connected (use: open ftp://host/)"));
        };
        let alive = match session.conn.as_mut() {
            Some(c) => c.check_idle(),
            None => false,
        };
        if alive {
            return Ok(());
        }
        if let Some(c) = session.conn.take() {
            c.quit();
        }
        let url = session.url.clone();
        let cwd = session.cwd.clone();
        let mut conn = self.login(&url).map_err(|e| e.context("reconnecting"))?;
        if let Some(dir) = &cwd {
            conn.exec_ok(&Command::Cwd(Arg::new(dir)?))
                .map_err(|e| e.context(format!("reconnecting: cd {dir}")))?;
        }
        let where_ = cwd.as_deref().unwrap_or("the login directory");
        self.out.notice(&format!(
            "the server had closed the connection; logged in again to {} in {where_}",
            url.authority()
        ));
        let session = self.session.as_mut().expect("session");
        session.conn = Some(conn);
        Ok(())
    }

    /// The session's remote working directory, asking the server when unknown.
    pub fn remote_cwd(&mut self) -> Result<String> {
        self.ensure_connected()?;
        let session = self.session.as_mut().expect("session");
        if let Some(c) = &session.cwd {
            return Ok(c.clone());
        }
        let conn = session.conn.as_mut().expect("connected");
        let cwd = pwd(conn)?;
        session.cwd = Some(cwd.clone());
        Ok(cwd)
    }

    /// Changes the session's remote directory.
    pub fn change_dir(&mut self, path: &str) -> Result<String> {
        self.ensure_connected()?;
        let session = self.session.as_mut().expect("session");
        let conn = session.conn.as_mut().expect("connected");
        conn.exec_ok(&Command::Cwd(Arg::new(path)?))?;
        let cwd = pwd(conn).ok();
        session.cwd = cwd.clone();
        Ok(cwd.unwrap_or_else(|| path.to_string()))
    }

    /// `user@host:cwd` for the prompt; `3700ftp` when not connected.
    pub fn location(&self) -> String {
        match &self.session {
            Some(s) => format!(
                "{}@{}:{}",
                s.url.user,
                s.url.host,
                s.cwd.as_deref().unwrap_or("~")
            ),
            None => "3700ftp".into(),
        }
    }
}

/// Asks the server for its working directory.
pub fn pwd(conn: &mut Connection) -> Result<String> {
    let reply = conn.exec_ok(&Command::Pwd)?;
    parse_pwd(reply.text()).ok_or_else(|| {
        Error::connection(format!(
            "cannot read the directory in the PWD reply: {reply}"
        ))
    })
}

/// `~` and `~/x` mean the home directory, as in a shell.
fn expand_home(p: &str) -> PathBuf {
    if p == "~" || p.starts_with("~/") {
        if let Some(home) = dirs::home_dir() {
            return home.join(p.trim_start_matches('~').trim_start_matches('/'));
        }
    }
    Path::new(p).to_path_buf()
}
