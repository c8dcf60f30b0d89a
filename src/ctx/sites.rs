//! The named sites of the config file in the context: which word is a site operand, the URL
//! it stands for, whose settings a run or a session uses, and the connection settings for a
//! URL's server.

use super::{Ctx, Options, Result, Settings, Site};
use crate::glob;
use crate::output::Output;
use crate::session::credentials;
use crate::url::{looks_like_url, FtpUrl};

impl Ctx {
    /// A context with resolved settings: `plain` for servers named by URL, and the sites.
    pub fn with_settings(plain: Settings, sites: Vec<Site>, verbose: bool, out: Output) -> Ctx {
        let mut ctx = Ctx::new(plain.opts.clone(), verbose, out);
        ctx.sites = sites;
        ctx.use_settings(&plain);
        ctx.plain = Some(plain);
        ctx
    }

    /// Makes the settings of `site` (None: of plain URLs) those of what follows: a run on
    /// one site, a session opened there.
    pub(super) fn use_site(&mut self, site: Option<&str>) {
        let settings = match site {
            Some(name) => self
                .sites
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.settings.clone()),
            None => self.plain.clone(),
        };
        if let Some(s) = settings {
            self.use_settings(&s);
            self.current_site = site.map(str::to_string);
        }
    }

    pub(super) fn use_settings(&mut self, s: &Settings) {
        self.opts = s.opts.clone();
        self.verify = s.verify;
        self.limiter = s.limiter.clone();
        self.parallel = s.parallel;
    }

    /// The site `word` names (`NAME:PATH` with NAME a site of the config file) and PATH.
    pub fn site_operand<'a>(&self, word: &'a str) -> Option<(&Site, &'a str)> {
        crate::settings::site_operand(&self.sites, word)
    }

    /// True when `word` names a remote place: an `ftp://` URL or `SITE:PATH`.
    pub fn is_remote_word(&self, word: &str) -> bool {
        looks_like_url(word) || self.site_operand(word).is_some()
    }

    /// The URL of a site operand (`SITE:PATH`; an empty PATH is the site's own directory, a
    /// relative one is from the login directory), or of an `ftp://` URL.
    pub fn url_of(&self, word: &str) -> Result<FtpUrl> {
        match self.site_operand(word) {
            Some((site, "")) => Ok(site.url.clone()),
            Some((site, path)) => {
                crate::ftp::command::check_safe(path)?;
                let mut url = site.url.with_path(&glob::unescape(path));
                url.glob_path = path.to_string();
                Ok(url)
            }
            None => FtpUrl::parse(word),
        }
    }

    /// The site whose server (host, port and user) `url` is on: its settings apply to
    /// every connection there, as ssh's `Host` blocks do. The run's own site comes first
    /// (two sites may name one server); then the first by name.
    pub(super) fn site_of(&self, url: &FtpUrl) -> Option<&Site> {
        crate::settings::site_on(&self.sites, self.current_site.as_deref(), url)
    }

    /// Connection settings for `url`: the run's (with what the session changed, such as
    /// `active on`) on the run's own site or when neither is a site; else its site's, or
    /// the settings for plain URLs.
    pub(super) fn opts_for(&self, url: &FtpUrl) -> Options {
        let site = self.site_of(url).map(|s| s.name.as_str());
        if site == self.current_site.as_deref() {
            return self.opts.clone();
        }
        match (self.site_of(url), &self.plain) {
            (Some(s), _) => s.settings.opts.clone(),
            (None, Some(plain)) => plain.opts.clone(),
            (None, None) => self.opts.clone(),
        }
    }

    /// Makes the settings of the site `words` name (the first `SITE:PATH` or URL of a
    /// site's server) the run's: a one-shot run works on one server.
    pub fn settle_on(&mut self, words: &[String]) {
        let Some(word) = words.iter().find(|w| self.is_remote_word(w)) else {
            return;
        };
        let site = match self.site_operand(word) {
            Some((site, _)) => Some(site.name.clone()),
            None => FtpUrl::parse(word)
                .ok()
                .and_then(|u| self.site_of(&u).map(|s| s.name.clone())),
        };
        if site.is_some() {
            self.use_site(site.as_deref());
        }
    }

    /// Opens a session at `word`: an `ftp://` URL, `SITE:PATH`, or a site's bare name
    /// (its own directory); the session has that site's settings.
    pub fn open_word(&mut self, word: &str, tls: bool) -> Result<()> {
        let site_word = format!("{word}:");
        let word = match self.site_operand(&site_word) {
            Some(_) if !word.contains(':') => &site_word,
            _ => word,
        };
        let url = self.url_of(word)?;
        let shown = format!("open {}", url.authority());
        let site = self.site_operand(word).map(|(s, _)| s.name.clone());
        self.open_at(url, site, tls).map_err(|e| e.context(shown))
    }

    /// The password from the `password_command` of `url`'s site, when it has one and the
    /// URL names a user other than anonymous.
    pub(super) fn password_from_command(&self, url: &FtpUrl) -> Result<Option<String>> {
        let command = self
            .site_of(url)
            .and_then(|s| s.settings.password_command.as_ref());
        match command {
            Some(words) if url.user_given && !url.user.eq_ignore_ascii_case("anonymous") => {
                let timeout = self.opts.timeout.max(credentials::COMMAND_TIMEOUT);
                credentials::run_password_command(words, timeout, &self.opts.cancel).map(Some)
            }
            _ => Ok(None),
        }
    }
}
