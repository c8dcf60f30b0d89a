//! A playground for trying 3700ftp with no FTP server of your own.
//!
//! `cargo run --example playground` starts the same embedded real server the tests use
//! (libunftp, filesystem back end) on a free loopback port, fills it with a few sample
//! files, prints the URLs and one-shot commands to try from another terminal, and opens a
//! 3700ftp session on it (a prompt on a terminal; batch commands when stdin is piped).
//! `cargo run --example playground -- --serve` only serves, until Ctrl-C (or SIGTERM),
//! also with stdin closed (`--serve </dev/null &`); `--port N` serves on port N of
//! 127.0.0.1 instead of a free one.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use libunftp::ServerBuilder;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use unftp_core::auth::{AuthenticationError, Authenticator, Credentials, Principal};
use unftp_sbe_fs::Filesystem;

const USER: &str = "demo";
const PASSWORD: &str = "p@ss:word";

#[derive(Debug)]
struct DemoAuth;

#[async_trait]
impl Authenticator for DemoAuth {
    async fn authenticate(
        &self,
        username: &str,
        creds: &Credentials,
    ) -> Result<Principal, AuthenticationError> {
        let ok = username == "anonymous"
            || (username == USER && creds.password.as_deref() == Some(PASSWORD));
        if ok {
            Ok(Principal {
                username: username.to_string(),
            })
        } else {
            Err(AuthenticationError::BadPassword)
        }
    }
}

/// The command line: `--serve`, `--port N` (or `--port=N`).
struct Args {
    serve_only: bool,
    port: Option<u16>,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        serve_only: false,
        port: None,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "--serve" => {
                parsed.serve_only = true;
                continue;
            }
            "--port" => args.next().ok_or("--port needs a number")?,
            other => match other.strip_prefix("--port=") {
                Some(v) => v.to_string(),
                None => return Err(format!("unknown argument '{other}'")),
            },
        };
        let port: u16 = value
            .parse()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("'{value}' is not a port (1-65535)"))?;
        parsed.port = Some(port);
    }
    Ok(parsed)
}

fn main() {
    let args = parse_args(std::env::args().skip(1)).unwrap_or_else(|e| {
        eprintln!("playground: {e}");
        eprintln!("usage: cargo run --example playground -- [--serve] [--port N]");
        std::process::exit(2);
    });
    let serve_only = args.serve_only;
    let root = tempfile::Builder::new()
        .prefix("3700ftp-playground-")
        .tempdir()
        .expect("a temporary directory");
    let dir = root.path().to_path_buf();
    std::fs::create_dir_all(dir.join("pub/docs")).unwrap();
    std::fs::create_dir_all(dir.join("upload")).unwrap();
    std::fs::write(
        dir.join("pub/readme.txt"),
        "Welcome to the 3700ftp playground.\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("pub/docs/notes with spaces.txt"),
        "odd names work too\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("pub/data.bin"),
        (0..=255u8).cycle().take(1 << 20).collect::<Vec<u8>>(),
    )
    .unwrap();

    // Bound once here, so a --port that is taken is an error (the server would fail to
    // bind, but the check below would then reach whoever holds the port).
    let port = match TcpListener::bind(("127.0.0.1", args.port.unwrap_or(0))) {
        Ok(probe) => probe.local_addr().unwrap().port(),
        Err(e) => {
            eprintln!(
                "playground: cannot serve on 127.0.0.1:{}: {e}",
                args.port.unwrap_or(0)
            );
            std::process::exit(1);
        }
    };
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let server = ServerBuilder::new(Box::new(move || {
        Filesystem::new(dir.clone()).expect("filesystem")
    }))
    .authenticator(Arc::new(DemoAuth))
    .greeting("3700ftp playground")
    .build()
    .expect("server");
    let listening = rt.spawn(async move { server.listen(format!("127.0.0.1:{port}")).await });
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if listening.is_finished() {
            // listen() only returns on failure, e.g. a --port that is taken.
            eprintln!("playground: cannot serve on 127.0.0.1:{port}");
            drop(root);
            std::process::exit(1);
        }
        std::thread::sleep(Duration::from_millis(20));
    }

    let url = format!("ftp://demo:p%40ss%3Aword@127.0.0.1:{port}/");
    eprintln!(
        "3700ftp playground: an FTP server on 127.0.0.1:{port}, serving {}",
        root.path().display()
    );
    eprintln!("  user {USER}, password {PASSWORD} (in a URL: {url}), or anonymous");
    eprintln!("Try from another terminal:");
    eprintln!("  cargo run -- ls {url}pub/");
    eprintln!("  cargo run -- cp {url}pub/readme.txt readme.txt");
    eprintln!("  cargo run -- cp readme.txt {url}upload/");
    eprintln!("  cargo run -- mkdir {url}upload/new");
    eprintln!("  cargo run -- rmdir {url}upload/new");
    eprintln!("  cargo run -- mv {url}upload/readme.txt moved.txt");
    eprintln!("  cargo run -- rm {url}pub/data.bin");
    if serve_only {
        eprintln!("Serving until Ctrl-C (or SIGTERM).");
        // Signals only set a flag; the loop below notices it, so the served files are
        // removed by the TempDir's own clean-up. stdin is never read: `--serve </dev/null &`
        // keeps serving.
        let stop = Arc::new(AtomicBool::new(false));
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            signal_hook::flag::register(signal, Arc::clone(&stop)).expect("a signal handler");
        }
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!("playground: stopped");
        rt.shutdown_background();
        drop(root);
        std::process::exit(130);
    }
    eprintln!("Opening a session here ('help' lists the commands, Ctrl-D leaves):");
    let cli = ftp3700::cli::try_parse_from(["3700ftp", url.as_str()]).expect("argv");
    // As main.rs does: the run's error is printed and becomes the exit code.
    let code = match ftp3700::app::run(cli, abort) {
        Ok(()) => 0,
        Err(e) => report(&e),
    };
    drop(rt);
    // process::exit skips destructors: remove the served files first.
    drop(root);
    std::process::exit(i32::from(code));
}

fn report(e: &ftp3700::error::Error) -> u8 {
    ftp3700::output::Output::terminal().error(e);
    e.kind().exit_code()
}

fn abort(e: ftp3700::error::Error) -> ! {
    std::process::exit(i32::from(report(&e)))
}
