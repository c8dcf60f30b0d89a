//! Listings streamed over a [`Connection`]: LIST, MLSD and NLST data, CR LF turned into LF,
//! capped so a hostile server cannot fill memory. Nothing here prints; listings go to the
//! writer the caller gives.

use std::io::Write;

use crate::error::{describe_io, Error, Kind, Result};
use crate::ftp::command::{Arg, Command};
use crate::ftp::connection::Connection;

pub use crate::session::transfer::{Progress, Quiet, CHUNK};

/// Runs LIST for `path` (the working directory when empty) and writes the server's lines
/// to `out` with CR LF turned into LF. Returns the number of bytes listed.
pub fn list(conn: &mut Connection, path: &str, out: &mut dyn Write) -> Result<u64> {
    let arg = if path.is_empty() {
        None
    } else {
        Some(Arg::new(path)?)
    };
    listing(conn, &Command::List(arg), out)
}

/// The most listing data accepted from one LIST or MLSD (about a million entries): a
/// server that sends more is broken or hostile, and memory must not grow without end.
pub const MAX_LISTING: u64 = 128 * 1024 * 1024;

/// Runs a listing command (LIST, MLSD, NLST) and streams its data to `out`, CR LF → LF.
/// More than [`MAX_LISTING`] bytes abort the listing.
pub fn listing(conn: &mut Connection, cmd: &Command, out: &mut dyn Write) -> Result<u64> {
    let mut data = conn.open_data(cmd)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut total: u64 = 0;
    let mut crlf = CrlfToLf::default();
    let streamed: Result<()> = loop {
        match data.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                total += n as u64;
                if total > MAX_LISTING {
                    break Err(Error::connection(format!(
                        "the server's listing exceeds {} MiB; stopped reading it",
                        MAX_LISTING >> 20
                    )));
                }
                if let Err(e) = out.write_all(&crlf.convert(&buf[..n])) {
                    break Err(Error::new(
                        Kind::Local,
                        format!("writing the listing: {}", describe_io(&e)),
                    ));
                }
            }
            Err(e) => break Err(e),
        }
    };
    if let Err(e) = streamed {
        drop(data);
        conn.abort_transfer();
        return Err(e);
    }
    let early = data.finish_download();
    conn.finish_data(early, total)?;
    let _ = out.write_all(&crlf.finish());
    let _ = out.flush();
    Ok(total)
}

/// Turns CR LF into LF across chunk boundaries; a lone CR is kept.
#[derive(Default)]
struct CrlfToLf {
    pending_cr: bool,
}

impl CrlfToLf {
    fn convert(&mut self, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(input.len() + 1);
        for &b in input {
            if self.pending_cr {
                self.pending_cr = false;
                if b != b'\n' {
                    out.push(b'\r');
                }
            }
            if b == b'\r' {
                self.pending_cr = true;
            } else {
                out.push(b);
            }
        }
        out
    }

    fn finish(&mut self) -> Vec<u8> {
        if std::mem::take(&mut self.pending_cr) {
            vec![b'\r']
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_becomes_lf_across_chunks() {
        let mut c = CrlfToLf::default();
        let mut out = c.convert(b"a\r");
        out.extend(c.convert(b"\nb\rc\r\n"));
        out.extend(c.convert(b"\r"));
        out.extend(c.finish());
        assert_eq!(out, b"a\nb\rc\n\r");
    }
}
