//! Sans-IO parsing of directory listings: UNIX and DOS `LIST` lines and `MLSD` facts lines.
//!
//! A line no parser understands is kept as [`Kind::Unknown`] with its raw text, never dropped.
//! Names are the server's words and untrusted: callers decide what is safe to use.

/// What a listing entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Link,
    /// A line we could not parse.
    Unknown,
}

/// One parsed listing line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The name (for a link, without ` -> target`); the raw line for Unknown.
    pub name: String,
    /// What it is.
    pub kind: Kind,
    /// Size in bytes, where the line says.
    pub size: Option<u64>,
    /// The line as received.
    pub raw: String,
}

/// Parses one `LIST` line (UNIX `ls -l` style or DOS style); None for `total N` lines.
///
/// ```
/// use ftp3700::ftp::list::{parse_list_line, Kind};
/// let e = parse_list_line("drwxr-xr-x 2 ftp ftp 4096 Jan 01 10:00 my dir").unwrap();
/// assert_eq!((e.name.as_str(), e.kind), ("my dir", Kind::Dir));
/// ```
pub fn parse_list_line(line: &str) -> Option<Entry> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() || line.starts_with("total ") {
        return None;
    }
    Some(
        parse_unix(line)
            .or_else(|| parse_dos(line))
            .unwrap_or_else(|| Entry {
                name: line.to_string(),
                kind: Kind::Unknown,
                size: None,
                raw: line.to_string(),
            }),
    )
}

/// Splits off `n` whitespace-separated fields; returns them and the rest (spaces kept).
fn fields(line: &str, n: usize) -> Option<(Vec<&str>, &str)> {
    let mut out = Vec::with_capacity(n);
    let mut rest = line;
    for _ in 0..n {
        rest = rest.trim_start_matches(' ');
        let end = rest.find(' ')?;
        out.push(&rest[..end]);
        rest = &rest[end..];
    }
    // Exactly one separator space before the name is conventional; more are part of alignment.
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    Some((out, rest))
}

fn parse_unix(line: &str) -> Option<Entry> {
    let kind = match line.as_bytes().first()? {
        b'd' => Kind::Dir,
        b'-' => Kind::File,
        b'l' => Kind::Link,
        _ => return None,
    };
    let perms = line.split(' ').next()?;
    if perms.len() < 10 || !perms[1..10].bytes().all(|b| b"rwxsStTl-".contains(&b)) {
        return None;
    }
    // perms links owner group size month day time/year name; some servers omit the group.
    let (f7, rest7) = fields(line, 7)?;
    let (size, name) = if f7[3].parse::<u64>().is_ok() && is_month(f7[4]) {
        (f7[3].parse().ok(), rest7)
    } else {
        let (f, rest) = fields(line, 8)?;
        if f[4].parse::<u64>().is_err() || !is_month(f[5]) {
            return None;
        }
        (f[4].parse().ok(), rest)
    };
    let name = name.trim_start_matches(' ');
    let name = match kind {
        Kind::Link => name.split(" -> ").next().unwrap_or(name),
        _ => name,
    };
    if name.is_empty() {
        return None;
    }
    Some(Entry {
        name: name.to_string(),
        kind,
        size,
        raw: line.to_string(),
    })
}

fn is_month(s: &str) -> bool {
    [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]
    .contains(&s.to_ascii_lowercase().as_str())
}

fn parse_dos(line: &str) -> Option<Entry> {
    // 01-02-23  10:00AM       <DIR>          name
    // 2023-01-02  10:00        1234 name
    let (f, name) = fields(line, 3)?;
    let date_ok = f[0].len() >= 8
        && f[0]
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'-' || b == b'/');
    let time_ok = f[1].contains(':');
    if !date_ok || !time_ok {
        return None;
    }
    let name = name.trim_start_matches(' ');
    if name.is_empty() {
        return None;
    }
    let (kind, size) = if f[2].eq_ignore_ascii_case("<DIR>") {
        (Kind::Dir, None)
    } else {
        (Kind::File, Some(f[2].replace(',', "").parse().ok()?))
    };
    Some(Entry {
        name: name.to_string(),
        kind,
        size,
        raw: line.to_string(),
    })
}

/// Parses one `MLSD` line (RFC 3659 §7): `fact=value;fact=value; name`.
pub fn parse_mlsd_line(line: &str) -> Option<Entry> {
    let line = line.trim_end_matches(['\r', '\n']);
    let (facts, name) = line.split_once(' ')?;
    if name.is_empty() {
        return None;
    }
    let mut kind = Kind::Unknown;
    let mut size = None;
    for fact in facts.split(';') {
        let Some((k, v)) = fact.split_once('=') else {
            continue;
        };
        match k.to_ascii_lowercase().as_str() {
            "type" => {
                kind = match v.to_ascii_lowercase().as_str() {
                    "file" => Kind::File,
                    "dir" | "cdir" | "pdir" => Kind::Dir,
                    t if t.starts_with("os.unix=slink") || t.starts_with("os.unix=symlink") => {
                        Kind::Link
                    }
                    _ => Kind::Unknown,
                };
                if matches!(v.to_ascii_lowercase().as_str(), "cdir" | "pdir") {
                    return None;
                }
            }
            "size" => size = v.parse().ok(),
            _ => {}
        }
    }
    Some(Entry {
        name: name.to_string(),
        kind,
        size,
        raw: line.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_lines_from_real_servers() {
        // vsftpd
        let e = parse_list_line("-rw-r--r--    1 1000     1000         1234 Nov 25 03:56 a b.txt")
            .unwrap();
        assert_eq!(
            (e.name.as_str(), e.kind, e.size),
            ("a b.txt", Kind::File, Some(1234))
        );
        // pure-ftpd
        let e =
            parse_list_line("drwxr-xr-x    2 1000       1000             4096 Nov 25 03:56 dir")
                .unwrap();
        assert_eq!((e.name.as_str(), e.kind), ("dir", Kind::Dir));
        // a link
        let e = parse_list_line("lrwxrwxrwx 1 root root 7 Jan  1  2020 bin -> usr/bin").unwrap();
        assert_eq!((e.name.as_str(), e.kind), ("bin", Kind::Link));
        // no group column
        let e = parse_list_line("-rw-r--r-- 1 owner 99 Jan 01 2020 x").unwrap();
        assert_eq!((e.name.as_str(), e.size), ("x", Some(99)));
        assert_eq!(parse_list_line("total 12"), None);
    }

    #[test]
    fn dos_lines() {
        let e = parse_list_line("01-02-23  10:00AM       <DIR>          Program Files").unwrap();
        assert_eq!((e.name.as_str(), e.kind), ("Program Files", Kind::Dir));
        let e = parse_list_line("01-02-23  10:00AM              1,234 a.txt").unwrap();
        assert_eq!((e.name.as_str(), e.size), ("a.txt", Some(1234)));
    }

    #[test]
    fn unknown_lines_are_kept() {
        let e = parse_list_line("something odd").unwrap();
        assert_eq!(e.kind, Kind::Unknown);
        assert_eq!(e.raw, "something odd");
    }

    #[test]
    fn mlsd_lines() {
        let e = parse_mlsd_line("type=file;size=12;modify=20200101000000; a b").unwrap();
        assert_eq!(
            (e.name.as_str(), e.kind, e.size),
            ("a b", Kind::File, Some(12))
        );
        assert_eq!(parse_mlsd_line("type=cdir; ."), None);
        let e = parse_mlsd_line("Type=dir;Modify=20200101000000; sub").unwrap();
        assert_eq!(e.kind, Kind::Dir);
    }
}
