//! Directory listings as entries: MLSD where the server has it (remembered per connection)
//! and exact facts matter, else LIST parsed; unknown LIST lines are kept raw, never dropped.
//!
//! Also the two server quirks every listing must survive: vsftpd and pure-ftpd answer LIST
//! of a missing directory with an empty listing and 226 (so an empty listing is believed
//! only for a directory CWD can enter), and pure-ftpd splits LIST's argument at spaces and
//! expands globs in it (so such a directory is entered and listed bare).
//!
//! The listing data itself is streamed here too (LIST, MLSD, NLST), CR LF turned into LF,
//! and capped so a hostile server cannot fill memory.

use std::io::Write;

use crate::error::{describe_io, Error, Kind, Result};
use crate::ftp::command::{Arg, Command};
use crate::ftp::connection::Connection;
use crate::ftp::list::{parse_list_line, parse_mlsd_line, with_year, Entry};
use crate::remote_path::RemotePath;

/// Which listing the caller wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Names and types for people: LIST parsed, or MLSD once this connection has shown it
    /// works (a one-shot `ls` then costs USER, PASS, EPSV, LIST, QUIT on every server).
    Names,
    /// Structured entries with exact facts (`--json`, tree walks): MLSD, probed once per
    /// connection, else LIST parsed.
    Entries,
    /// The server's own long format: LIST.
    LongLines,
}

/// Lists `path` (the working directory when empty). `restore` is the directory to return
/// to when checking a path with CWD moved the connection.
pub fn fetch(
    conn: &mut Connection,
    path: &RemotePath,
    want: Want,
    restore: Option<&RemotePath>,
) -> Result<Vec<Entry>> {
    let mut entered = false;
    if path.contains([' ', '\t', '*', '?', '[']) {
        let reply = conn.exec(&Command::Cwd(Arg::from(path)))?;
        if reply.is_completion() {
            entered = true;
        }
    }
    let arg = if entered || path.is_empty() {
        None
    } else {
        Some(Arg::from(path))
    };
    let result = fetch_here(conn, arg, want);
    if entered {
        go_back(conn, restore)?;
    }
    let entries = match result {
        Ok(entries) => entries,
        Err(e) if e.kind() == Kind::Refused && !entered => {
            // Some servers (libunftp) refuse to list a file by name: find it in its parent.
            return match entry_in_parent(conn, path, want) {
                Some(entry) => Ok(vec![entry]),
                None => Err(e),
            };
        }
        Err(e) => return Err(e),
    };
    if entries.is_empty() && !path.is_empty() && !entered {
        conn.exec_ok(&Command::Cwd(Arg::from(path)))?;
        go_back(conn, restore)?;
    }
    Ok(name_the_file_itself(entries, path))
}

/// LIST of a file gives that file's entry, which some servers (proftpd) name by the whole
/// path given: it is shown by its own name, as the other servers show it.
fn name_the_file_itself(mut entries: Vec<Entry>, path: &str) -> Vec<Entry> {
    let wanted = path.trim_end_matches('/');
    if let [only] = entries.as_mut_slice() {
        if !wanted.is_empty()
            && only.name.contains('/')
            && only.name.trim_end_matches('/') == wanted
        {
            let own = wanted.rsplit('/').next().unwrap_or(wanted).to_string();
            only.raw = match only.raw.strip_suffix(only.name.as_str()) {
                Some(head) => format!("{head}{own}"),
                None => only.raw.clone(),
            };
            only.name = own;
        }
    }
    entries
}

fn fetch_here(conn: &mut Connection, arg: Option<Arg>, want: Want) -> Result<Vec<Entry>> {
    let use_mlsd = match want {
        Want::Entries => match conn.mlsd_supported() {
            Some(known) => known,
            // Where FEAT was already asked (multi-file operations ask it with the setup
            // before listing): no MLSD tried and refused on a server that does not list
            // it (vsftpd). Otherwise MLSD is tried, and a refusal remembered.
            None => match conn.known_features() {
                Some(lines) => {
                    let listed = lines.iter().any(|l| {
                        l.split_whitespace().next().is_some_and(|w| {
                            w.eq_ignore_ascii_case("MLST") || w.eq_ignore_ascii_case("MLSD")
                        })
                    });
                    if !listed {
                        conn.set_mlsd_supported(false);
                    }
                    listed
                }
                None => true,
            },
        },
        Want::Names => conn.mlsd_supported() == Some(true),
        Want::LongLines => false,
    };
    if use_mlsd {
        let mut bytes = Vec::new();
        match listing(conn, &Command::Mlsd(arg.clone()), &mut bytes) {
            Ok(_) => {
                conn.set_mlsd_supported(true);
                return Ok(crate::text::decode_wire(&bytes)
                    .lines()
                    .filter_map(parse_mlsd_line)
                    .collect());
            }
            Err(e) if e.kind() == Kind::Refused && matches!(e.code(), Some(500 | 502)) => {
                conn.set_mlsd_supported(false);
            }
            // A file (501 "not a directory") or a missing path: LIST says which.
            Err(e) if e.kind() == Kind::Refused => {}
            Err(e) => return Err(e),
        }
    }
    let mut bytes = Vec::new();
    listing(conn, &Command::List(arg), &mut bytes)?;
    let today = crate::ftp::time::civil_date(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
    );
    Ok(crate::text::decode_wire(&bytes)
        .lines()
        .filter_map(parse_list_line)
        .map(|mut e| {
            e.modified = e.modified.map(|m| with_year(&m, today));
            e
        })
        .collect())
}

/// The entry of `path` itself (`ls -d`): found in a listing of its parent, or, for a
/// directory its parent does not list (the root, the working directory), a directory entry
/// made once CWD has shown it is one. `restore` is where to return after that CWD.
pub fn itself(
    conn: &mut Connection,
    path: &RemotePath,
    want: Want,
    restore: Option<&RemotePath>,
) -> Result<Entry> {
    if let Some(entry) = entry_in_parent(conn, path, want) {
        return Ok(entry);
    }
    let name = if path.is_empty() { "." } else { path.as_str() };
    conn.exec_ok(&Command::Cwd(Arg::from(&RemotePath::new(name)?)))?;
    go_back(conn, restore)?;
    Ok(Entry {
        name: name.to_string(),
        kind: crate::ftp::list::Kind::Dir,
        size: None,
        modified: None,
        perms: None,
        raw: name.to_string(),
    })
}

/// The entry named by the last component of `path`, from a listing of its parent.
fn entry_in_parent(conn: &mut Connection, path: &RemotePath, want: Want) -> Option<Entry> {
    let (parent, name) = (path.parent(), path.file_name());
    if name.is_empty() || parent.contains([' ', '\t', '*', '?', '[']) {
        return None;
    }
    let arg = if parent.is_empty() {
        None
    } else {
        Some(Arg::from(&parent))
    };
    let entries = fetch_here(conn, arg, want).ok()?;
    entries
        .into_iter()
        .find(|e| e.name == name || e.name.rsplit('/').next() == Some(name))
}

fn go_back(conn: &mut Connection, restore: Option<&RemotePath>) -> Result<()> {
    if let Some(dir) = restore {
        conn.exec_ok(&Command::Cwd(Arg::from(dir)))?;
    }
    Ok(())
}

/// One entry as a JSON object on one line (name, type, size, modified, permissions; and
/// `name_bytes`, the name's bytes in hex, when they are not UTF-8).
pub fn to_json(e: &Entry) -> String {
    use crate::ftp::list::Kind as K;
    let kind = match e.kind {
        K::File => "file",
        K::Dir => "dir",
        K::Link => "link",
        K::Unknown => "unknown",
    };
    let named = crate::text::JsonObject::new().str("name", &e.name);
    // The exact bytes, for a name that is not UTF-8 (`name` has them escaped).
    let named = match crate::text::hex_bytes(&e.name) {
        Some(hex) => named.str("name_bytes", &hex),
        None => named,
    };
    named
        .str("type", kind)
        .num("size", e.size)
        .opt_str("modified", e.modified.as_deref())
        .opt_str("permissions", e.perms.as_deref())
        .finish()
}

/// Runs LIST for `path` (the working directory when empty) and writes the server's lines
/// to `out` with CR LF turned into LF. Returns the number of bytes listed.
pub fn list(conn: &mut Connection, path: &RemotePath, out: &mut dyn Write) -> Result<u64> {
    let arg = if path.is_empty() {
        None
    } else {
        Some(Arg::from(path))
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
    fn a_file_listed_by_its_whole_path_is_shown_by_its_name() {
        let e = parse_list_line("-rw-r--r-- 1 u g 5 Jan 31 2024 /dir/a b.txt").unwrap();
        let shown = name_the_file_itself(vec![e.clone()], "/dir/a b.txt");
        assert_eq!(shown[0].name, "a b.txt");
        assert_eq!(shown[0].raw, "-rw-r--r-- 1 u g 5 Jan 31 2024 a b.txt");
        // Anything else is left as the server gave it.
        assert_eq!(
            name_the_file_itself(vec![e.clone()], "/dir")[0].name,
            "/dir/a b.txt"
        );
        assert_eq!(
            name_the_file_itself(vec![e.clone(), e], "/dir/a b.txt")[0].name,
            "/dir/a b.txt"
        );
    }

    #[test]
    fn json_escapes_and_nulls() {
        let e = parse_list_line("-rw-r--r-- 1 u g 5 Jan 31 2024 my \"file\"").unwrap();
        assert_eq!(
            to_json(&e),
            "{\"name\":\"my \\\"file\\\"\",\"type\":\"file\",\"size\":5,\"modified\":\"2024-01-31\",\"permissions\":\"rw-r--r--\"}"
        );
        let u = parse_list_line("garbage line").unwrap();
        assert_eq!(
            to_json(&u),
            "{\"name\":\"garbage line\",\"type\":\"unknown\",\"size\":null,\"modified\":null,\"permissions\":null}"
        );
    }

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
