//! Credentials a URL leaves out, filled in as curl and ftp do: with no user, the netrc entry
//! for the host (else anonymous); with a user but no password, the netrc password for that
//! user, else a question to the [`Prompter`] the front end handed in (none in batch mode,
//! where a server that wants a password gets a clear error). Nothing here touches the
//! terminal.

use std::path::Path;

use crate::url::FtpUrl;

/// Asks the person at the keyboard for a password (the front end decides how, or whether).
pub trait Prompter {
    /// The password typed after `prompt`, or None when nobody can be asked.
    fn password(&self, prompt: &str) -> Option<String>;

    /// Shows `question` and returns true only on a `yes` typed in answer (an untrusted
    /// certificate at the prompt). Nobody to ask is a no.
    fn confirm(&self, _question: &str) -> bool {
        false
    }
}

/// Nobody to ask (batch mode, stdin not a terminal, tests).
pub struct NoPrompt;

impl Prompter for NoPrompt {
    fn password(&self, _prompt: &str) -> Option<String> {
        None
    }
}

/// `url` with its user and password filled in from `netrc` and the prompter; warnings
/// (a netrc file others can read, a line that cannot be parsed) are returned for the edge.
pub fn resolve(
    url: &FtpUrl,
    netrc: Option<&Path>,
    prompter: &dyn Prompter,
    warnings: &mut Vec<String>,
) -> FtpUrl {
    let mut url = url.clone();
    if url.password.is_some() {
        return url;
    }
    let want_user = url.user_given.then(|| url.user.clone());
    if let Some(path) = netrc {
        match crate::netrc::load(path, &url.host, want_user.as_deref()) {
            Ok((entry, warning)) => {
                if let Some(w) = warning {
                    warnings.push(format!("warning: {w}"));
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
            Err(e) => warnings.push(format!("warning: {e}")),
        }
    }
    if url.password.is_none() && url.user_given && !url.user.eq_ignore_ascii_case("anonymous") {
        url.password = prompter.password(&format!("Password for {}@{}: ", url.user, url.host));
    }
    url
}
