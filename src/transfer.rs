//! Streaming transfers and listings over a [`Connection`], with nothing lost on failure.
//!
//! A download streams into a temporary file beside the destination (`.NAME.XXXXXX.3700ftp-part`)
//! and is renamed into place only after the server's final reply is positive and the byte
//! count matches SIZE where the server has it; on every error path the temporary file is
//! removed (tempfile's guard) and the destination is untouched. An upload is confirmed by the
//! final reply and, where SIZE works, by the remote size. Memory is one fixed buffer,
//! whatever the file size. Nothing here prints; listings go to the writer the caller gives.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use crate::error::{describe_io, Error, Kind, Result};
use crate::ftp::command::{Arg, Command};
use crate::ftp::connection::Connection;

/// One read or write of file data.
pub const CHUNK: usize = 256 * 1024;

/// What a confirmed transfer moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    /// Bytes transferred.
    pub bytes: u64,
    /// True when the remote size was checked with SIZE.
    pub size_checked: bool,
}

/// Downloads `remote` into the local file `dest`, atomically.
pub fn download(conn: &mut Connection, remote: &str, dest: &Path) -> Result<Moved> {
    let arg = Arg::new(remote)?;
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "download".into());
    conn.ensure_binary()?;
    let expected = conn.size(remote)?;
    let mut part = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".3700ftp-part")
        .tempfile_in(dir)
        .map_err(|e| Error::local(dir.display(), &e))?;
    let mut data = conn.open_data(&Command::Retr(arg))?;
    let mut buf = vec![0u8; CHUNK];
    let mut total: u64 = 0;
    let streamed: Result<()> = loop {
        match data.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                if let Err(e) = part.as_file_mut().write_all(&buf[..n]) {
                    break Err(Error::local(dest.display(), &e));
                }
                total += n as u64;
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
    if let Some(expected) = expected {
        if expected != total {
            return Err(Error::not_confirmed(format!(
                "received {total} bytes but the server announced {expected}; {} left unchanged",
                dest.display()
            )));
        }
    }
    set_default_permissions(part.as_file());
    part.persist(dest)
        .map_err(|e| Error::local(dest.display(), &e.error))?;
    Ok(Moved {
        bytes: total,
        size_checked: expected.is_some(),
    })
}

/// Uploads the local file `src` to `remote`, confirmed by the final reply and SIZE.
pub fn upload(conn: &mut Connection, src: &Path, remote: &str) -> Result<Moved> {
    let arg = Arg::new(remote)?;
    let mut file = File::open(src).map_err(|e| Error::local(src.display(), &e))?;
    let local_len = file
        .metadata()
        .map_err(|e| Error::local(src.display(), &e))?
        .len();
    conn.ensure_binary()?;
    let mut data = conn.open_data(&Command::Stor(arg))?;
    let mut buf = vec![0u8; CHUNK];
    let mut total: u64 = 0;
    let streamed: Result<()> = loop {
        match file.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                if let Err(e) = data.write_all(&buf[..n]) {
                    break Err(e);
                }
                total += n as u64;
            }
            Err(e) => break Err(Error::local(src.display(), &e)),
        }
    };
    let closed = match streamed {
        Ok(()) => data.finish_upload(),
        Err(e) => {
            drop(data);
            Err(e)
        }
    };
    match closed {
        Ok(early) => {
            conn.finish_data(early, total)?;
        }
        Err(e) if matches!(e.kind(), Kind::Interrupted | Kind::Local) => {
            conn.abort_transfer();
            return Err(e);
        }
        Err(e) => {
            // The server closed the data connection on us; its reply says why (553, 552...).
            return Err(match conn.read_reply() {
                Ok(r) if r.code == 426 => {
                    Error::not_confirmed(format!("server said {r}")).with_code(426)
                }
                Ok(r) if r.is_negative() => Error::refused(r.code, r.text()),
                Ok(_) => e,
                Err(control) if control.is_connection_lost() => control,
                Err(_) => e,
            });
        }
    }
    if total != local_len {
        return Err(Error::not_confirmed(format!(
            "{} changed during the upload ({local_len} bytes before, {total} sent)",
            src.display()
        )));
    }
    let remote_len = conn.size(remote)?;
    if let Some(remote_len) = remote_len {
        if remote_len != total {
            return Err(Error::not_confirmed(format!(
                "sent {total} bytes but the server holds {remote_len}"
            )));
        }
    }
    Ok(Moved {
        bytes: total,
        size_checked: remote_len.is_some(),
    })
}

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

/// Runs a listing command (LIST, MLSD, NLST) and streams its data to `out`, CR LF → LF.
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

#[cfg(unix)]
fn set_default_permissions(file: &File) {
    use std::os::unix::fs::PermissionsExt;
    // tempfile creates 0600; a downloaded file gets the usual 0644.
    let _ = file.set_permissions(std::fs::Permissions::from_mode(0o644));
}

#[cfg(not(unix))]
fn set_default_permissions(_file: &File) {}

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
