//! Picks the front end: an operation on argv → one-shot; otherwise a session, interactive
//! when stdin is a terminal and batch when it is not. Returns the run's error, if any:
//! `main.rs` alone prints it and turns it into the exit code.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::Cli;
use crate::config::{Layer, DEFAULT_TIMEOUT};
use crate::ctx::{Ctx, Settings};
use crate::error::{Error, Kind, Result};
use crate::frontend::{batch, oneshot, repl};
use crate::ftp::connection::{Options, TlsSource};
use crate::ftp::proxy::Proxy;
use crate::output::Output;
use crate::url::looks_like_url;

/// What ends the program at once, from the signal thread (a stop signal repeated after
/// the first was not enough); `main.rs` supplies it, so the exit code is decided there.
pub type Abort = fn(Error) -> !;

/// Runs the program for parsed argv. `abort` ends the program at once on a repeated stop
/// signal.
pub fn run(cli: Cli, abort: Abort) -> Result<()> {
    if let Some(kind) = cli.generate {
        return match crate::frontend::generate::print(kind) {
            0 => Ok(()),
            _ => Err(Error::new(Kind::Local, "cannot write to standard output")),
        };
    }
    let cancel = Arc::new(AtomicBool::new(false));
    let env = |k: &str| std::env::var(k).ok();
    let config = match crate::config::locate(
        cli.config.clone(),
        &|k: &str| std::env::var_os(k),
        dirs::home_dir(),
    ) {
        Some((path, required)) => crate::config::load(&path, required)?,
        None => crate::config::Config::default(),
    };
    let known_certs = crate::known_certs::path(std::env::var_os("XDG_DATA_HOME"), dirs::home_dir());
    let mut cert_warnings = Vec::new();
    let mut known = Vec::new();
    if let Some(path) = &known_certs {
        let (k, warnings) = crate::known_certs::load(path);
        known = k;
        cert_warnings = warnings;
    }
    let top = cli.layer();
    let resolve = |layer: &Layer| {
        let mut tls = TlsSource::new(cli.cacert.clone(), cli.insecure);
        tls.known = known.clone();
        settings(
            &top.over(&layer.over(&config.defaults)),
            &cli,
            &cancel,
            tls,
            &env,
        )
    };
    let plain = resolve(&Layer::default())?;
    let mut sites = Vec::new();
    for site in &config.sites {
        let settings =
            resolve(&site.layer).map_err(|e| e.context(format!("site {}", site.name)))?;
        sites.push(crate::ctx::Site {
            name: site.name.clone(),
            url: site.url.clone(),
            settings,
        });
    }
    let mut ctx = Ctx::with_settings(plain, sites, cli.verbose, Output::terminal_with(cli.color));
    ctx.known_certs = known_certs;
    for w in &cert_warnings {
        ctx.out.notice(w);
    }
    let bars_wanted = !cli.quiet && std::io::stderr().is_terminal();
    if std::io::stdin().is_terminal() {
        ctx.prompter = Box::new(crate::frontend::prompter::TerminalPrompter);
    }
    ctx.json = cli.json;
    ctx.transcript_to_stderr
        .store(cli.json, std::sync::atomic::Ordering::Relaxed);
    ctx.out.set_json(cli.json);
    ctx.progress = bars_wanted;
    let session_url = match cli.words.as_slice() {
        [] => None,
        [only] if looks_like_url(only) => Some(only.clone()),
        // `3700ftp work` or `3700ftp work:/dir`: a session at a site (an operation's name
        // is the operation).
        [only] if ctx.site_operand(only).is_some() => Some(only.clone()),
        [only] if ctx.site_operand(&format!("{only}:")).is_some() && !is_operation(only) => {
            Some(only.clone())
        }
        words => {
            install_stop_signals(&cancel, abort);
            ctx.settle_on(words);
            return oneshot::run(&mut ctx, words);
        }
    };
    let interactive = std::io::stdin().is_terminal();
    // Only a person at the prompt is asked about an untrusted certificate.
    ctx.ask_about_certificates = interactive;
    // Batch mode shows bars only when asked.
    ctx.progress = bars_wanted && (interactive || cli.progress);
    if !interactive {
        install_stop_signals(&cancel, abort);
    }
    ctx.in_session = true;
    // At the prompt a successful transfer says one line; a batch stays silent.
    ctx.report = interactive && !cli.quiet;
    if let Some(text) = session_url {
        // The `open` command itself, so `--json` reports the login like any command.
        crate::commands::dispatch(&mut ctx, &["open".to_string(), text])?;
    }
    if interactive {
        // rustyline takes SIGINT when its editor starts; the prompt installs ours after.
        repl::run(ctx, &|| install_interrupt(cancel.clone()))
    } else {
        batch::run(&mut ctx, std::io::BufReader::new(std::io::stdin()))
    }
}

/// True when `word` names an operation of the command table.
fn is_operation(word: &str) -> bool {
    crate::commands::COMMANDS
        .iter()
        .any(|c| c.name == word || c.aliases.contains(&word))
}

/// One layer stack resolved to settings: built-in values under everything, the proxy
/// from the environment when no layer names one.
fn settings(
    layer: &Layer,
    cli: &Cli,
    cancel: &Arc<AtomicBool>,
    mut tls: TlsSource,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings> {
    let (proxy, noproxy) = proxy_settings(layer.proxy.as_deref(), cli.noproxy.as_deref(), env)?;
    Ok(Settings {
        opts: Options {
            timeout: Duration::from_secs_f64(layer.timeout.unwrap_or(DEFAULT_TIMEOUT)),
            trust_pasv_address: cli.use_pasv_address,
            cancel: cancel.clone(),
            explicit_tls: layer.tls.unwrap_or(false),
            active: layer.active.unwrap_or(false),
            port_range: layer.port_range,
            proxy,
            noproxy,
            tls: {
                tls.pins = layer.pins.clone().unwrap_or_default();
                tls
            },
            pipelining: Default::default(),
            late_login_check: false,
        },
        verify: layer.verify.unwrap_or_default(),
        limiter: layer
            .limit_rate
            .map(|r| Arc::new(crate::ratelimit::Limiter::new(r))),
        parallel: layer.parallel,
        password_command: layer.password_command.clone(),
    })
}

/// How long a repeat of a stop signal counts as the same request (coreutils `timeout`
/// signals the program and then its process group, which can arrive as two signals).
const SAME_SIGNAL: Duration = Duration::from_secs(1);

/// The proxy and the hosts reached directly, read once here so the protocol layer reads no
/// environment: `--proxy`, else `ftp_proxy` then `all_proxy` (either case, as curl does);
/// `--noproxy` and `no_proxy` together.
fn proxy_settings(
    explicit: Option<&str>,
    noproxy: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Option<Proxy>, Vec<String>), Error> {
    let list = |v: &str| -> Vec<String> {
        v.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let mut hosts = list(noproxy.unwrap_or(""));
    if let Some(v) = env("no_proxy").or_else(|| env("NO_PROXY")) {
        hosts.extend(list(&v));
    }
    let parse = |text: &str, source: &str| {
        crate::ftp::proxy::parse(text).map_err(|e| {
            Error::usage(format!(
                "{source} {}: {}",
                crate::url::mask_raw(text),
                e.message()
            ))
        })
    };
    let proxy = match explicit {
        Some(text) => Some(parse(text, "--proxy")?),
        None => ["ftp_proxy", "FTP_PROXY", "all_proxy", "ALL_PROXY"]
            .iter()
            .find_map(|k| env(k).filter(|v| !v.is_empty()).map(|v| (*k, v)))
            .map(|(k, v)| parse(&v, k))
            .transpose()?,
    };
    Ok((proxy, hosts))
}

/// Ctrl-C, SIGTERM and SIGHUP (`timeout`, `kill`, a closed terminal) stop a one-shot or
/// batch run: the first sets the cancel flag every wait checks, so a download's temporary
/// file is removed and `mv` keeps its source. A repeat within [`SAME_SIGNAL`] is ignored;
/// a later one ends the program at once. The prompt keeps the default for SIGTERM and
/// SIGHUP (it ends) and its own Ctrl-C handling.
fn install_stop_signals(cancel: &Arc<AtomicBool>, abort: Abort) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    let cancel = Arc::clone(cancel);
    std::thread::spawn(move || {
        let mut first: Option<Instant> = None;
        for _ in signals.forever() {
            match first {
                None => {
                    first = Some(Instant::now());
                    cancel.store(true, Ordering::SeqCst);
                }
                Some(at) if at.elapsed() > SAME_SIGNAL => abort(Error::new(
                    Kind::Interrupted,
                    "interrupted again: stopped at once",
                )),
                Some(_) => {}
            }
        }
    });
}

/// At the prompt, Ctrl-C sets the cancel flag that every network wait checks: it stops the
/// running command and the prompt goes on (the flag is cleared before the next line).
pub fn install_interrupt(cancel: Arc<AtomicBool>) {
    let _ = ctrlc::set_handler(move || cancel.store(true, Ordering::SeqCst));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxies_come_from_argv_then_the_environment() {
        let env = |k: &str| match k {
            "all_proxy" => Some("socks5://127.0.0.1:9".to_string()),
            "no_proxy" => Some("internal.example, .corp".to_string()),
            _ => None,
        };
        let (p, hosts) = proxy_settings(None, Some("a,b"), &env).unwrap();
        assert_eq!(p.unwrap().port, 9);
        assert_eq!(hosts, ["a", "b", "internal.example", ".corp"]);
        let (p, _) = proxy_settings(Some("http://127.0.0.1:8"), None, &env).unwrap();
        assert_eq!(p.unwrap().port, 8);
        let none = |_: &str| None;
        assert_eq!(proxy_settings(None, None, &none).unwrap(), (None, vec![]));
        let ftp_first = |k: &str| match k {
            "ftp_proxy" => Some("http://127.0.0.1:8".to_string()),
            "all_proxy" => Some("socks5://127.0.0.1:9".to_string()),
            _ => None,
        };
        let (p, _) = proxy_settings(None, None, &ftp_first).unwrap();
        assert_eq!(p.unwrap().kind, crate::ftp::proxy::Kind::Http);
        let bad = |k: &str| (k == "all_proxy").then(|| "gopher://u:s3cret@h".to_string());
        let e = proxy_settings(None, None, &bad).unwrap_err();
        assert!(
            e.to_string().starts_with("all_proxy gopher://u:****@h"),
            "{e}"
        );
        assert!(!e.to_string().contains("s3cret"));
    }
}
