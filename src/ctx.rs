//! The context every command runs in: settings, output, the local directory, and the
//! session's logged-in connection (if any).
//!
//! Remote operands are resolved here. A URL on the session's server (same host, port and
//! user) uses the session's connection; a URL on another server gets a connection of its own
//! for that one command (that is all one-shot mode ever does). A plain remote path needs a
//! session. A session whose server dropped the idle connection is logged in again before the
//! next command, back in the same directory, and says so in one line.

use std::path::PathBuf;

use crate::error::{Error, Kind, Result};
use crate::ftp::connection::{Connection, Options};
use crate::ftp::tls::Mode;
use crate::glob;
use crate::output::Output;
use crate::remote_path::RemotePath;
use crate::session::credentials::{self, NoPrompt, Prompter};
use crate::session::Session;
use crate::transcript::Transcript;
use crate::url::FtpUrl;

/// Where a remote operand points.
#[derive(Debug, Clone)]
pub struct Remote {
    /// The server when the operand was a URL; None for a plain path in a session.
    pub url: Option<FtpUrl>,
    /// The path on the server (absolute, or relative to the working directory), checked.
    pub path: RemotePath,
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

pub use crate::settings::{Settings, Site};

mod local;
mod sites;

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
    /// Whether a successful transfer says one line (at the prompt, unless `--quiet`).
    pub report: bool,
    /// Who is asked for a password a URL and netrc leave out (the front end's choice).
    pub prompter: Box<dyn Prompter>,
    /// The netrc file (`$NETRC`, else `~/.netrc`), found once.
    pub netrc: Option<PathBuf>,
    /// Credentials already resolved in this run, so each server is asked about once.
    resolved: Vec<(FtpUrl, FtpUrl)>,
    /// `--verify`.
    pub verify: crate::verify::Verify,
    /// `--limit-rate` (and `limit-rate` in a session), shared by every transfer.
    pub limiter: Option<std::sync::Arc<crate::ratelimit::Limiter>>,
    /// The default of `-j N`, from the config file.
    pub parallel: Option<usize>,
    /// The settings for servers that are no site (restored by `open URL`).
    plain: Option<Settings>,
    /// The sites of the config file.
    pub sites: Vec<Site>,
    /// The site whose settings are the run's (None: those of plain URLs).
    current_site: Option<String>,
    /// The global `--json`: every command reports in JSON Lines.
    pub json: bool,
    /// The running command's `--json` tally; Some while a command reports in JSON.
    pub records: Option<crate::record::Summary>,
    /// Set while a command reports in JSON: `-v` lines go to stderr, not stdout.
    pub transcript_to_stderr: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Where certificates accepted at the prompt are remembered (`known_certs`).
    pub known_certs: Option<PathBuf>,
    /// True at the prompt only: an untrusted certificate may be accepted there.
    pub ask_about_certificates: bool,
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
            report: false,
            prompter: Box::new(NoPrompt),
            netrc: crate::netrc::netrc_path(std::env::var_os("NETRC"), dirs::home_dir()),
            resolved: Vec::new(),
            verify: crate::verify::Verify::Auto,
            limiter: None,
            parallel: None,
            plain: None,
            sites: Vec::new(),
            current_site: None,
            json: false,
            records: None,
            transcript_to_stderr: Default::default(),
            known_certs: None,
            ask_about_certificates: false,
        }
    }

    /// Logs in to `url` with TLS `mode`. At the prompt, a certificate no CA vouches for is
    /// shown by its fingerprint and, when the person says yes, remembered in `known_certs`
    /// and trusted (the login is tried again); a certificate that differs from the one
    /// remembered is refused, saying where the old one is.
    fn login_trusting(&mut self, url: &FtpUrl, mode: Mode, late: bool) -> Result<Connection> {
        use crate::error::Hint;
        let opts_for = |ctx: &Ctx| {
            let mut opts = ctx.opts_for(url);
            opts.late_login_check = late;
            opts
        };
        let first = crate::session::login(url, mode, &opts_for(self), self.transcript());
        let fp = match first.as_ref().err().and_then(Error::hint) {
            Some(Hint::UntrustedCertificate(Some(fp))) if self.ask_about_certificates => {
                crate::fingerprint::Fingerprint(fp)
            }
            Some(Hint::CertificateChanged) => {
                return first.map_err(|e| match &self.known_certs {
                    Some(path) => e.also(format!(
                        "the certificate accepted before is remembered in {}; if the server's certificate was replaced on purpose, delete the line for {} there",
                        path.display(),
                        crate::known_certs::authority(&url.host, url.port)
                    )),
                    None => e,
                });
            }
            _ => return first,
        };
        let server = crate::known_certs::authority(&url.host, url.port);
        let question = format!(
            "The certificate of {server} is not trusted by any CA this client knows.\nIts SHA-256 fingerprint is {fp}\n(compare it with the one the server's administrator gives you).\nTrust it and remember it for {server}? (yes/no)"
        );
        if !self.prompter.confirm(&question) {
            return first;
        }
        match &self.known_certs {
            Some(path) => match crate::known_certs::remember(path, &url.host, url.port, fp) {
                Ok(()) => self.out.notice(&format!(
                    "remembered the certificate of {server} in {}",
                    path.display()
                )),
                Err(e) => self.out.notice(&format!(
                    "{}: {}; the certificate is trusted for this session only",
                    path.display(),
                    crate::error::describe_io(&e)
                )),
            },
            None => self
                .out
                .notice("no home directory: the certificate is trusted for this session only"),
        }
        // Trusted from now on by every connection of the run, whichever settings it uses.
        let known = (url.host.to_ascii_lowercase(), url.port, fp);
        self.opts.tls.known.push(known.clone());
        let others = self
            .plain
            .iter_mut()
            .chain(self.sites.iter_mut().map(|s| &mut s.settings));
        others.for_each(|s| s.opts.tls.known.push(known.clone()));
        crate::session::login(url, mode, &opts_for(self), self.transcript())
    }

    /// True while the running command reports in JSON (`--json`).
    pub fn reports_json(&self) -> bool {
        self.records.is_some()
    }

    /// Reports one action under `--json` (printed at once, counted for the summary);
    /// nothing otherwise.
    pub fn emit(&mut self, record: crate::record::Record) {
        if let Some(summary) = self.records.as_mut() {
            summary.add(&record);
            self.out.json(&record.to_json());
        }
    }

    /// A transcript for a new connection, following the verbose setting.
    pub fn transcript(&self) -> Transcript {
        // Under --json stdout is for the records: the transcript goes to stderr (also on
        // a session's connection made before a command asked for --json).
        let to_stderr = self.transcript_to_stderr.clone();
        let mut t = self
            .transcript_sink
            .clone()
            .unwrap_or_else(|| Transcript::new(true, Box::new(TranscriptStream(to_stderr))));
        t.set_on(self.verbose);
        t
    }

    /// Fills in the credentials `url` leaves out (netrc, then the prompter), once per
    /// server and user for the whole run: `-j N` workers and later commands reuse them, so
    /// a netrc warning is shown once and a password is asked once.
    pub fn resolve_credentials(&mut self, url: &FtpUrl) -> Result<FtpUrl> {
        if url.password.is_some() {
            return Ok(url.clone());
        }
        if let Some((_, done)) = self.resolved.iter().find(|(asked, _)| asked == url) {
            return Ok(done.clone());
        }
        let mut warnings = Vec::new();
        let from_command = self.password_from_command(url)?;
        let done = match from_command {
            Some(password) => FtpUrl {
                password: Some(password),
                ..url.clone()
            },
            None => credentials::resolve(
                url,
                self.netrc.as_deref(),
                self.prompter.as_ref(),
                &mut warnings,
            ),
        };
        for w in &warnings {
            self.out.notice(w);
        }
        self.resolved.push((url.clone(), done.clone()));
        Ok(done)
    }

    /// How a connection to `url` uses TLS, decided here only: `ftps://` is implicit; a plain
    /// URL gets AUTH TLS under `--tls`, or when it is on the server of a session opened
    /// with `open --tls` (every connection to that server, full URLs included).
    pub fn tls_for(&self, url: &FtpUrl) -> Mode {
        let session_tls = self
            .session
            .as_ref()
            .is_some_and(|s| s.tls == Mode::Explicit && s.same_server(url));
        url.tls_mode(self.opts_for(url).explicit_tls || session_tls)
    }

    /// A way to log in to `url` again and again (`-j N` workers), with the credentials
    /// resolved once, here.
    pub fn connector(
        &mut self,
        url: &FtpUrl,
    ) -> Result<impl Fn() -> Result<Connection> + Send + Sync + 'static> {
        let url = self.resolve_credentials(url)?;
        let tls = self.tls_for(&url);
        let opts = self.opts_for(&url);
        let transcript = self.transcript();
        Ok(move || crate::session::login(&url, tls, &opts, transcript.clone()))
    }

    /// A way to log in again to the server of `remote` (retries, segmented downloads),
    /// landing in the directory its relative paths start from: the session's working
    /// directory when the session serves it, else the login directory.
    pub fn reconnector(&mut self, remote: &Remote) -> Option<crate::session::transfer::Login> {
        let (url, cwd) = match &remote.url {
            Some(u) if !self.session_serves(u) => (u.clone(), None),
            _ => {
                let s = self.session.as_ref()?;
                (s.url.clone(), s.cwd.clone())
            }
        };
        let connect = self.connector(&url).ok()?;
        Some(crate::session::transfer::Login(std::sync::Arc::new(
            move || {
                let mut conn = connect()?;
                if let Some(dir) = &cwd {
                    crate::session::ops::cwd(&mut conn, dir)?;
                }
                Ok(conn)
            },
        )))
    }

    /// Connects and logs in to the server of `url`.
    pub fn login(&mut self, url: &FtpUrl) -> Result<Connection> {
        self.login_as(url, false)
    }

    /// Logs in to `url`; with `late`, PASS's reply may be read with the first command
    /// after it (the caller ends with `Connection::confirm_login`).
    fn login_as(&mut self, url: &FtpUrl, late: bool) -> Result<Connection> {
        let tls = self.tls_for(url);
        if self.opts.tls.insecure && tls != Mode::Off {
            self.out.notice(&format!(
                "warning: --insecure: the TLS certificate of {} is not verified",
                url.authority()
            ));
        }
        self.login_trusting(url, tls, late)
    }

    /// Opens a session at `url`: logs in and changes to its directory when it names one.
    /// With `tls`, a plain URL's server is always reached with AUTH TLS.
    pub fn open(&mut self, url: FtpUrl, tls: bool) -> Result<()> {
        self.open_at(url, None, tls)
    }

    /// [`Ctx::open`] with the settings of `site` (else of the site `url` is on, if any).
    fn open_at(&mut self, url: FtpUrl, site: Option<String>, tls: bool) -> Result<()> {
        self.close();
        self.current_site = None;
        let site = site.or_else(|| self.site_of(&url).map(|s| s.name.clone()));
        self.use_site(site.as_deref());
        let url = self.resolve_credentials(&url)?;
        let mode = url.tls_mode(tls || self.opts.explicit_tls);
        if self.opts.tls.insecure && mode != Mode::Off {
            self.out.notice(&format!(
                "warning: --insecure: the TLS certificate of {} is not verified",
                url.authority()
            ));
        }
        let conn = self.login_trusting(&url, mode, false)?;
        self.session = Some(Session::start(url, mode, conn)?);
        Ok(())
    }

    /// Logs in to the session's server as `url`'s user and, once that worked, replaces the
    /// session with the new login (starting in that user's login directory). A refused
    /// login leaves the old session as it was.
    pub fn switch_user(&mut self, url: FtpUrl) -> Result<()> {
        let mode = match &self.session {
            Some(s) => s.tls,
            None => return Err(Error::usage("not connected")),
        };
        let conn = crate::session::login(&url, mode, &self.opts, self.transcript())?;
        let session = Session::start(url, mode, conn)?;
        self.close();
        self.session = Some(session);
        Ok(())
    }

    /// Closes the session's connection (QUIT), if any.
    pub fn close(&mut self) {
        if let Some(mut s) = self.session.take() {
            s.close();
        }
    }

    /// A progress display for one transfer: a bar when enabled and not verbose.
    pub fn progress_bar(&self) -> crate::output::Bar {
        crate::output::Bar::new(self.progress && !self.verbose).watching(self.opts.cancel.clone())
    }

    /// Turns protocol printing on or off, for the session's connection too.
    pub fn set_verbose(&mut self, on: bool) {
        self.verbose = on;
        if let Some(conn) = self.session.as_mut().and_then(|s| s.connection()) {
            conn.transcript_mut().set_on(on);
        }
    }

    /// Turns active mode on or off, for the session's connection too.
    pub fn set_active(&mut self, on: bool) {
        self.opts.active = on;
        if let Some(conn) = self.session.as_mut().and_then(|s| s.connection()) {
            conn.set_active(on);
        }
    }

    /// Turns the session connection's transcript on or off without changing the setting.
    pub fn set_verbose_quiet(&mut self, on: bool) {
        if let Some(conn) = self.session.as_mut().and_then(|s| s.connection()) {
            conn.transcript_mut().set_on(on);
        }
    }

    /// Resolves a remote operand: a URL, or (in a session) a plain path.
    pub fn remote(&self, operand: &str) -> Result<Remote> {
        if self.is_remote_word(operand) {
            let url = self.url_of(operand)?;
            let path = RemotePath::new(url.path.clone())?;
            let pattern = glob::has_wildcards(&url.glob_path).then(|| url.glob_path.clone());
            return Ok(Remote {
                url: Some(url),
                path,
                pattern,
            });
        }
        if !self.in_session {
            if let Some((name, _)) = crate::config::site_word(operand) {
                return Err(Error::usage(format!(
                    "'{operand}': the config file has no site '{name}' (and a URL is ftp://host/path)"
                )));
            }
            return Err(Error::usage(format!(
                "'{operand}' is not an ftp:// URL (write ftp://host/path, or SITE:PATH for a site of the config file)"
            )));
        }
        let path = RemotePath::new(glob::unescape(operand))?;
        Ok(Remote {
            url: None,
            path,
            pattern: glob::has_wildcards(operand).then(|| operand.to_string()),
        })
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
            let url = self.resolve_credentials(url)?;
            // One command's connection: the password's round trip carries its first command.
            let mut conn = self.login_as(&url, true)?;
            let result = f(&mut conn, &mut self.out);
            // A refused login is the outcome, whatever the command made of its replies.
            let result = match conn.confirm_login() {
                Err(e) if e.kind() == Kind::Login => Err(e),
                _ => result,
            };
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
        let conn = self
            .session
            .as_mut()
            .and_then(|s| s.connection())
            .ok_or_else(|| Error::usage("not connected"))?;
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
        self.session.as_ref().is_some_and(|s| s.serves(url))
    }

    /// Makes sure the session has a live connection, logging in again (back in the same
    /// directory) if the server closed it, and says so in one line.
    pub fn ensure_connected(&mut self) -> Result<()> {
        let Some(session) = self.session.as_mut() else {
            return Err(Error::usage("not connected (use: open ftp://host/)"));
        };
        if session.is_alive() {
            return Ok(());
        }
        let url = session.url.clone();
        let conn = self.login(&url).map_err(|e| e.context("reconnecting"))?;
        let session = self.session.as_mut().expect("session");
        let notice = session.resume_with(conn)?;
        self.out.notice(&notice);
        Ok(())
    }

    /// The session's remote working directory, asking the server when unknown.
    pub fn remote_cwd(&mut self) -> Result<RemotePath> {
        self.ensure_connected()?;
        self.session.as_mut().expect("session").cwd()
    }

    /// Changes the session's remote directory.
    pub fn change_dir(&mut self, path: &RemotePath) -> Result<RemotePath> {
        self.ensure_connected()?;
        self.session.as_mut().expect("session").change_dir(path)
    }

    /// `(name, is_directory)` for each entry of the remote directory `dir` (as typed at the
    /// prompt: `""` is the session's directory), for tab completion. The same listing `ls`
    /// uses (MLSD where the server has it, probed once per connection, else LIST parsed),
    /// taken quietly: `-v` does not show it, since the user did not ask for it. Empty when
    /// there is no session or the listing fails. Names are the server's: the caller decides
    /// which are safe to offer.
    pub fn completion_names(&mut self, dir: &str) -> Vec<(String, bool)> {
        use crate::ftp::list::Kind as K;
        if self.session.is_none() {
            return Vec::new();
        }
        let Ok(remote) = self.remote(dir) else {
            return Vec::new();
        };
        let restore = self.session.as_ref().and_then(|s| s.cwd.clone());
        let verbose = self.verbose;
        self.set_verbose_quiet(false);
        let listed = self.with_conn(&remote, |conn, _| {
            crate::session::listing::fetch(
                conn,
                &remote.path,
                crate::session::listing::Want::Entries,
                restore.as_ref(),
            )
        });
        self.set_verbose_quiet(verbose);
        listed
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e.kind != K::Unknown)
            .map(|e| {
                let name = e.name.rsplit('/').next().unwrap_or(&e.name).to_string();
                (name, e.kind == K::Dir)
            })
            .collect()
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

/// The `-v` transcript's stream: stdout, or stderr while a command reports in JSON.
struct TranscriptStream(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl std::io::Write for TranscriptStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.load(std::sync::atomic::Ordering::Relaxed) {
            std::io::stderr().write(buf)
        } else {
            std::io::stdout().write(buf)
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stdout().flush()?;
        std::io::stderr().flush()
    }
}
