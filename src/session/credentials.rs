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

/// The shortest deadline a `password_command` gets (it may ask a pinentry or a hardware key).
pub const COMMAND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs a site's `password_command` (its words, no shell) and returns the first line of its
/// standard output. Its standard error goes to ours; a non-zero exit, no output, or no end
/// by `timeout` (the process is then killed) is an error, as is the cancel flag.
pub fn run_password_command(
    words: &[String],
    timeout: std::time::Duration,
    cancel: &std::sync::atomic::AtomicBool,
) -> crate::error::Result<String> {
    use std::io::Read;
    use std::process::{Command, Stdio};
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};

    use crate::error::{Error, Kind};
    let shown = words.join(" ");
    let fail = |why: String| Error::new(Kind::Login, format!("password_command '{shown}': {why}"));
    let (program, args) = words.split_first().ok_or_else(|| fail("empty".into()))?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| fail(crate::error::describe_io(&e)))?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    // Read on a thread, so a command that never closes its output cannot hold us past the
    // deadline; at most 64 KiB is kept.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = (&mut stdout).take(64 * 1024).read_to_end(&mut out);
        let _ = tx.send(out);
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => return Err(fail(crate::error::describe_io(&e))),
        }
        let stop = if cancel.load(Ordering::SeqCst) {
            Some(Error::new(Kind::Interrupted, "interrupted"))
        } else if Instant::now() >= deadline {
            Some(fail(format!("no answer within {} s", timeout.as_secs())))
        } else {
            None
        };
        if let Some(e) = stop {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if !status.success() {
        return Err(fail(match status.code() {
            Some(c) => format!("exited with status {c}"),
            None => "killed by a signal".into(),
        }));
    }
    // The command has ended; a child of it that keeps the pipe open gets the rest of the
    // deadline.
    let out = rx
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .map_err(|_| {
            fail(format!(
                "its output did not end within {} s",
                timeout.as_secs()
            ))
        })?;
    let text = String::from_utf8(out).map_err(|_| fail("its output is not UTF-8".into()))?;
    let line = text.lines().next().unwrap_or("").to_string();
    if line.is_empty() {
        return Err(fail("printed no password".into()));
    }
    if line.contains('\0') {
        return Err(fail("its output holds a NUL".into()));
    }
    Ok(line)
}
