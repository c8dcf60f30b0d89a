//! Directory listings as entries: MLSD where the server has it (remembered per connection)
//! and exact facts matter, else LIST parsed; unknown LIST lines are kept raw, never dropped.
//!
//! Also the two server quirks every listing must survive: vsftpd and pure-ftpd answer LIST
//! of a missing directory with an empty listing and 226 (so an empty listing is believed
//! only for a directory CWD can enter), and pure-ftpd splits LIST's argument at spaces and
//! expands globs in it (so such a directory is entered and listed bare).

use crate::error::{Kind, Result};
use crate::ftp::command::{Arg, Command};
use crate::ftp::connection::Connection;
use crate::ftp::list::{parse_list_line, parse_mlsd_line, with_year, Entry};
use crate::transfer;

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
    path: &str,
    want: Want,
    restore: Option<&str>,
) -> Result<Vec<Entry>> {
    let mut target = path;
    let mut entered = false;
    if path.contains([' ', '\t', '*', '?', '[']) {
        let reply = conn.exec(&Command::Cwd(Arg::new(path)?))?;
        if reply.is_completion() {
            entered = true;
            target = "";
        }
    }
    let arg = if target.is_empty() {
        None
    } else {
        Some(Arg::new(target)?)
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
        conn.exec_ok(&Command::Cwd(Arg::new(path)?))?;
        go_back(conn, restore)?;
    }
    Ok(name_the_file_itself(entries, path))
}

/// `(name, is_directory)` for each entry of the remote directory `dir` (as typed at the
/// prompt: `""` is the session's directory), for tab completion. The same listing `ls`
/// uses (MLSD where the server has it, probed once per connection, else LIST parsed),
/// taken quietly: `-v` does not show it, since the user did not ask for it. Empty when
/// there is no session or the listing fails. Names are the server's: the caller decides
/// which are safe to offer.
pub fn completion_names(ctx: &mut crate::ctx::Ctx, dir: &str) -> Vec<(String, bool)> {
    use crate::ftp::list::Kind as K;
    if ctx.session.is_none() {
        return Vec::new();
    }
    let Ok(remote) = ctx.remote(dir) else {
        return Vec::new();
    };
    let restore = ctx.session.as_ref().and_then(|s| s.cwd.clone());
    let verbose = ctx.verbose;
    ctx.set_verbose_quiet(false);
    let listed = ctx.with_conn(&remote, |conn, _| {
        fetch(conn, &remote.path, Want::Entries, restore.as_deref())
    });
    ctx.set_verbose_quiet(verbose);
    listed
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.kind != K::Unknown)
        .map(|e| {
            let name = e.name.rsplit('/').next().unwrap_or(&e.name).to_string();
            (name, e.kind == K::Dir)
        })
        .collect()
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
        Want::Entries => conn.mlsd_supported() != Some(false),
        Want::Names => conn.mlsd_supported() == Some(true),
        Want::LongLines => false,
    };
    if use_mlsd {
        let mut bytes = Vec::new();
        match transfer::listing(conn, &Command::Mlsd(arg.clone()), &mut bytes) {
            Ok(_) => {
                conn.set_mlsd_supported(true);
                return Ok(String::from_utf8_lossy(&bytes)
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
    transfer::listing(conn, &Command::List(arg), &mut bytes)?;
    let today = crate::ftp::time::civil_date(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
    );
    Ok(String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(parse_list_line)
        .map(|mut e| {
            e.modified = e.modified.map(|m| with_year(&m, today));
            e
        })
        .collect())
}

/// The entry named by the last component of `path`, from a listing of its parent.
fn entry_in_parent(conn: &mut Connection, path: &str, want: Want) -> Option<Entry> {
    let trimmed = path.trim_end_matches('/');
    let (parent, name) = match trimmed.rsplit_once('/') {
        Some(("", name)) => ("/", name),
        Some((parent, name)) => (parent, name),
        None => ("", trimmed),
    };
    if name.is_empty() || parent.contains([' ', '\t', '*', '?', '[']) {
        return None;
    }
    let arg = if parent.is_empty() {
        None
    } else {
        Arg::new(parent).ok()
    };
    let entries = fetch_here(conn, arg, want).ok()?;
    entries
        .into_iter()
        .find(|e| e.name == name || e.name.rsplit('/').next() == Some(name))
}

fn go_back(conn: &mut Connection, restore: Option<&str>) -> Result<()> {
    if let Some(dir) = restore {
        conn.exec_ok(&Command::Cwd(Arg::new(dir)?))?;
    }
    Ok(())
}

/// One entry as a JSON object on one line (name, type, size, modified, permissions).
pub fn to_json(e: &Entry) -> String {
    use crate::ftp::list::Kind as K;
    use crate::text::json_string;
    let kind = match e.kind {
        K::File => "file",
        K::Dir => "dir",
        K::Link => "link",
        K::Unknown => "unknown",
    };
    let opt = |v: &Option<String>| v.as_deref().map_or("null".to_string(), json_string);
    format!(
        "{{\"name\":{},\"type\":\"{kind}\",\"size\":{},\"modified\":{},\"permissions\":{}}}",
        json_string(&e.name),
        e.size.map_or("null".to_string(), |s| s.to_string()),
        opt(&e.modified),
        opt(&e.perms),
    )
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
}
