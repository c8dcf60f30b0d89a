//! The `3700ftp` binary: parse argv, run, exit with the code the run chose.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = ftp3700::cli::parse();
    ExitCode::from(ftp3700::app::run(cli))
}
