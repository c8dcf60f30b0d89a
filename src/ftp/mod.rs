//! The FTP protocol, standing alone: it imports nothing of the crate but `error`, reads no
//! argv and no environment, names no command-line flag, and never prints.
//!
//! Pure: `reply` (parser), `answers` (which codes answer which command), `command` (the
//! only encoder), `pasv`, `list`, `time`. With sockets: `connection` (the control
//! conversation), `data` (data connections), `net` (deadlines, cancel polling, resolve and
//! connect), `tls`, `proxy` (handshakes). Settings come in through `options`; `-v` lines go
//! out through `transcript`, to a writer the caller hands in.

mod active;
pub mod ahead;
pub mod answers;
pub mod command;
pub mod connection;
pub mod data;
pub mod ending;
pub mod list;
pub mod login;
pub mod net;
pub mod options;
pub mod pasv;
pub mod pipeline;
pub mod proxy;
pub mod reply;
pub mod riders;
pub mod time;
pub mod tls;
pub mod transcript;
