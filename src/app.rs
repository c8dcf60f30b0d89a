//! Picks the front end: an operation on argv → one-shot; otherwise a session, interactive
//! when stdin is a terminal and batch when it is not. Returns the run's error, if any:
//! `main.rs` alone prints it and turns it into the exit code.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::Cli;
use crate::ctx::Ctx;
use crate::error::{Error, Kind, Result};
use crate::frontend::{batch, oneshot, repl};
use crate::ftp::connection::{Options, TlsSource};
use crate::output::Output;
use crate::url::{looks_like_url, FtpUrl};

/// What ends the program at once, from the signal thread (a stop signal repeated after
/// the first was not enough); `main.rs` supplies it, so the exit code is decided there.
pub type Abort = fn(Error) -> !;

/// Runs the program for parsed argv. `abort` ends the program at once on a repeated stop
/// signal.
pub fn run(cli: Cli, abort: Abort) -> Result<()> {
    let cancel = Arc::new(AtomicBool::new(false));
    let proxy = cli
        .proxy
        .as_deref()
        .map(crate::ftp::proxy::parse)
        .transpose()?;
    let opts = Options {
        timeout: Duration::from_secs_f64(cli.timeout),
        trust_pasv_address: cli.use_pasv_address,
        cancel: cancel.clone(),
        explicit_tls: cli.tls,
        active: cli.active,
        port_range: cli.port_range,
        proxy,
        noproxy: cli
            .noproxy
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .collect(),
        tls: TlsSource::new(cli.cacert.clone(), cli.insecure),
    };
    let mut ctx = Ctx::new(opts, cli.verbose, Output::terminal());
    let bars_wanted = !cli.quiet && std::io::stderr().is_terminal();
    if std::io::stdin().is_terminal() {
        ctx.prompter = Box::new(crate::frontend::prompter::TerminalPrompter);
    }
    ctx.verify = cli.verify;
    ctx.limiter = cli
        .limit_rate
        .map(|r| Arc::new(crate::ratelimit::Limiter::new(r)));
    ctx.progress = bars_wanted;
    let session_url = match cli.words.as_slice() {
        [] => None,
        [only] if looks_like_url(only) => Some(only.clone()),
        words => {
            install_stop_signals(&cancel, abort);
            return oneshot::run(&mut ctx, words);
        }
    };
    let interactive = std::io::stdin().is_terminal();
    // Batch mode shows bars only when asked.
    ctx.progress = bars_wanted && (interactive || cli.progress);
    if !interactive {
        install_stop_signals(&cancel, abort);
    }
    ctx.in_session = true;
    if let Some(text) = session_url {
        let explicit = ctx.opts.explicit_tls;
        FtpUrl::parse(&text).and_then(|mut url| {
            url.explicit_tls = explicit;
            let shown = format!("open {}", url.authority());
            ctx.open(url).map_err(|e| e.context(shown))
        })?;
    }
    if interactive {
        // rustyline takes SIGINT when its editor starts; the prompt installs ours after.
        repl::run(ctx, &|| install_interrupt(cancel.clone()))
    } else {
        batch::run(&mut ctx, std::io::BufReader::new(std::io::stdin()))
    }
}

/// How long a repeat of a stop signal counts as the same request (coreutils `timeout`
/// signals the program and then its process group, which can arrive as two signals).
const SAME_SIGNAL: Duration = Duration::from_secs(1);

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
