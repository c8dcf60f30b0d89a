//! 3700ftp: a careful command-line FTP client.
//!
//! Data flows one way: argv, a typed line or a batch line → words (`frontend`) → the command
//! table (`commands`) → the context and session (`ctx`, `transfer`) → the protocol (`ftp`) →
//! sockets. Nothing below `commands` prints; `output` is the edge, and `-v` lines go to the
//! writer handed to `ftp::transcript`. See
//! `docs/architecture.md`.

pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod ctx;
pub mod error;
pub mod fingerprint;
pub mod frontend;
pub mod ftp;
pub mod glob;
pub mod known_certs;
pub mod netrc;
pub mod output;
pub mod ratelimit;
pub mod record;
pub mod remote_path;
pub mod report;
pub mod session;
pub mod settings;
pub mod terminal_writer;
pub mod text;
// The `-v` sink lives in the protocol layer now; the old path stays for callers.
pub use ftp::transcript;
pub mod url;
pub mod verify;
