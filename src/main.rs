//! The `3700ftp` binary: parse argv, run, and turn the run's error into the exit code —
//! the only place that does (the mapping is `Kind::exit_code` in error.rs).

use std::process::ExitCode;

use ftp3700::error::Error;
use ftp3700::output::{ColorWhen, Output};

fn main() -> ExitCode {
    let cli = ftp3700::cli::parse();
    let color = cli.color;
    match ftp3700::app::run(cli, abort) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(report(&e, color)),
    }
}

/// Prints `e` on stderr (one line, red on a terminal unless `--color` says otherwise) and
/// returns its exit code.
fn report(e: &Error, color: ColorWhen) -> u8 {
    Output::terminal_with(color).error(e);
    e.kind().exit_code()
}

/// Ends the program at once with `e`'s exit code (a repeated stop signal).
fn abort(e: Error) -> ! {
    std::process::exit(i32::from(report(&e, ColorWhen::Auto)))
}
