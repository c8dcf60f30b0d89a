//! Picks the front end: an operation on argv → one-shot; otherwise a session, interactive
//! when stdin is a terminal and batch when it is not. Returns the exit code.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::cli::Cli;
use crate::ctx::Ctx;
use crate::error::{Error, Kind, EXIT_OK};
use crate::frontend::{batch, oneshot, repl};
use crate::ftp::connection::{Options, TlsSource};
use crate::output::Output;
use crate::url::{looks_like_url, FtpUrl};

/// Runs the program for parsed argv; returns the exit code.
pub fn run(cli: Cli) -> u8 {
    if let Some(kind) = cli.generate {
        return crate::frontend::generate::print(kind);
    }
    let cancel = Arc::new(AtomicBool::new(false));
    let proxy = match cli
        .proxy
        .as_deref()
        .map(crate::ftp::proxy::parse)
        .transpose()
    {
        Ok(p) => p,
        Err(e) => {
            Output::terminal_with(cli.color).error("", &e);
            return e.kind().exit_code();
        }
    };
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
    let mut ctx = Ctx::new(opts, cli.verbose, Output::terminal_with(cli.color));
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
            install_termination(&cancel);
            install_interrupt(cancel, true);
            return match oneshot::run(&mut ctx, words) {
                Ok(()) => EXIT_OK,
                Err(e) => report(&mut ctx, &e),
            };
        }
    };
    let interactive = std::io::stdin().is_terminal();
    // Batch mode shows bars only when asked.
    ctx.progress = bars_wanted && (interactive || cli.progress);
    if !interactive {
        install_termination(&cancel);
        install_interrupt(cancel.clone(), true);
    }
    ctx.in_session = true;
    if let Some(text) = session_url {
        let explicit = ctx.opts.explicit_tls;
        let opened = FtpUrl::parse(&text).and_then(|mut url| {
            url.explicit_tls = explicit;
            let shown = format!("open {}", url.authority());
            ctx.open(url).map_err(|e| e.context(shown))
        });
        if let Err(e) = opened {
            return report(&mut ctx, &e);
        }
    }
    if interactive {
        // rustyline takes SIGINT when its editor starts; the prompt installs ours after.
        repl::run(ctx, &|| install_interrupt(cancel.clone(), false))
    } else {
        batch::run(&mut ctx, std::io::stdin().lock())
    }
}

fn report(ctx: &mut Ctx, e: &Error) -> u8 {
    ctx.out.error("", e);
    e.kind().exit_code()
}

/// SIGTERM and SIGHUP (`timeout`, `kill`, a closed terminal) stop a one-shot or batch run
/// the way Ctrl-C does, so a download's temporary file is removed and `mv` keeps its
/// source; a second one ends the program at once. The prompt keeps the default (it ends).
fn install_termination(cancel: &Arc<AtomicBool>) {
    use signal_hook::consts::{SIGHUP, SIGTERM};
    for signal in [SIGTERM, SIGHUP] {
        // Registered first, so it sees the flag as the previous signal left it.
        let _ = signal_hook::flag::register_conditional_shutdown(
            signal,
            i32::from(Kind::Interrupted.exit_code()),
            Arc::clone(cancel),
        );
        let _ = signal_hook::flag::register(signal, Arc::clone(cancel));
    }
}

/// Ctrl-C sets the cancel flag that every network wait checks. Where `exit_on_second`,
/// a second Ctrl-C before the first is handled ends the program at once.
pub fn install_interrupt(cancel: Arc<AtomicBool>, exit_on_second: bool) {
    let _ = ctrlc::set_handler(move || {
        if cancel.swap(true, Ordering::SeqCst) && exit_on_second {
            std::process::exit(i32::from(Kind::Interrupted.exit_code()));
        }
    });
}
