//! Resolved settings: what a server is used with, once the command line, the config
//! file's site table and `[defaults]` are layered over the built-in values (`app.rs` does
//! it, once per run), and which site an operand or a URL belongs to.

use crate::ftp::connection::Options;
use crate::url::FtpUrl;

/// The settings a server is used with, resolved once at start (command line, then the
/// site's table, then `[defaults]`, then the built-in values; `app.rs` does it): one for
/// servers named by URL, one per site of the config file.
#[derive(Clone)]
pub struct Settings {
    /// Connection settings (timeout, TLS with the pinned certificates of `--pin` or `pin`,
    /// active, ports, proxy; the cancel flag).
    pub opts: Options,
    /// `--verify`.
    pub verify: crate::verify::Verify,
    /// `--limit-rate`.
    pub limiter: Option<std::sync::Arc<crate::ratelimit::Limiter>>,
    /// The default of `-j N` (`parallel` in the config file).
    pub parallel: Option<usize>,
    /// `password_command`, as words (run without a shell).
    pub password_command: Option<Vec<String>>,
}

/// A site of the config file, with its settings.
pub struct Site {
    /// Its name (`NAME:PATH`, `open NAME`).
    pub name: String,
    /// Its `url`.
    pub url: FtpUrl,
    /// Its settings, the command line's over its own over `[defaults]`.
    pub settings: Settings,
}

/// `SITE:PATH` when SITE is one of `sites`: the site and PATH.
pub fn site_operand<'a, 'w>(sites: &'a [Site], word: &'w str) -> Option<(&'a Site, &'w str)> {
    let (name, path) = crate::config::site_word(word)?;
    sites.iter().find(|s| s.name == name).map(|s| (s, path))
}

/// The site whose server (host, port and user) `url` is on: its settings apply to every
/// connection there, as ssh's `Host` blocks do. `current` (the run's own site) comes first,
/// since two sites may name one server; then the first by name.
pub fn site_on<'a>(sites: &'a [Site], current: Option<&str>, url: &FtpUrl) -> Option<&'a Site> {
    let on = |s: &&Site| {
        s.url.host.eq_ignore_ascii_case(&url.host)
            && s.url.port == url.port
            && s.url.implicit_tls == url.implicit_tls
            && (s.url.user == url.user || !s.url.user_given)
    };
    sites
        .iter()
        .filter(on)
        .find(|s| Some(s.name.as_str()) == current)
        .or_else(|| sites.iter().find(on))
}
