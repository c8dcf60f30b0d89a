//! The FTP protocol: sans-IO parsers (`reply`, `pasv`), the wire encoder (`command`) and the
//! one module that owns sockets (`connection`). Nothing here prints or knows about argv.

pub mod answers;
pub mod command;
pub mod connection;
pub mod data;
pub mod list;
pub mod net;
pub mod options;
pub mod pasv;
pub mod proxy;
pub mod reply;
pub mod time;
pub mod tls;
pub mod transcript;
