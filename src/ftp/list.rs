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
    /// Modification time in ISO 8601 (`2024-01-31T10:00:00Z` from MLSD, `2024-01-31` or
    /// `--01-31T10:00` from a LIST line that has no year), where the line says.
    pub modified: Option<String>,
    /// Permissions as `rwxr-xr-x` (LIST, MLSD `UNIX.mode`) or MLSD's `perm` fact.
    pub perms: Option<String>,
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
                modified: None,
                perms: None,
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
    // Bytes, not a str slice: byte 10 may fall inside a multi-byte character.
    if perms.len() < 10
        || !perms.as_bytes()[1..10]
            .iter()
            .all(|b| b"rwxsStTl-".contains(b))
    {
        return None;
    }
    // perms links owner group size month day time/year name; some servers omit the group.
    let (f7, rest7) = fields(line, 7)?;
    let (size, date, name) = if f7[3].parse::<u64>().is_ok() && is_month(f7[4]) {
        (f7[3].parse().ok(), [f7[4], f7[5], f7[6]], rest7)
    } else {
        let (f, rest) = fields(line, 8)?;
        if f[4].parse::<u64>().is_err() || !is_month(f[5]) {
            return None;
        }
        (f[4].parse().ok(), [f[5], f[6], f[7]], rest)
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
        modified: unix_date(date),
        perms: Some(perms[1..10].to_string()),
        raw: line.to_string(),
    })
}

/// Completes a LIST date without a year (`--11-05T09:07`, from `Nov  5 09:07`) the way `ls`
/// wrote it: the most recent such date not after `today` (a day of clock skew allowed).
/// Other dates come back as they are.
pub fn with_year(modified: &str, (year, month, day): (i64, i64, i64)) -> String {
    let Some(rest) = modified.strip_prefix("--") else {
        return modified.to_string();
    };
    let num = |r: std::ops::Range<usize>| rest.get(r).and_then(|t| t.parse::<i64>().ok());
    let (Some(m), Some(d)) = (num(0..2), num(3..5)) else {
        return modified.to_string();
    };
    let y = if m * 32 + d > month * 32 + day + 1 {
        year - 1
    } else {
        year
    };
    format!("{y:04}-{rest}")
}

/// `Jan 31 2024` → `2024-01-31`; `Jan 31 10:00` → `--01-31T10:00` (ISO 8601, year unknown).
fn unix_date([month, day, time_or_year]: [&str; 3]) -> Option<String> {
    let m = month_number(month)?;
    let d: u32 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    if let Some((h, min)) = time_or_year.split_once(':') {
        let (h, min): (u32, u32) = (h.parse().ok()?, min.parse().ok()?);
        (h < 24 && min < 60).then(|| format!("--{m:02}-{d:02}T{h:02}:{min:02}"))
    } else {
        let y: u32 = time_or_year
            .parse()
            .ok()
            .filter(|y| (1900..=9999).contains(y))?;
        Some(format!("{y:04}-{m:02}-{d:02}"))
    }
}

fn month_number(s: &str) -> Option<u32> {
    let lower = s.to_ascii_lowercase();
    [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]
    .iter()
    .position(|m| *m == lower)
    .map(|i| i as u32 + 1)
}

fn is_month(s: &str) -> bool {
    month_number(s).is_some()
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
        modified: dos_date(f[0], f[1]),
        perms: None,
        raw: line.to_string(),
    })
}

/// `01-31-24` + `10:00PM` → `2024-01-31T22:00`; `2024-01-31` + `22:00` likewise.
fn dos_date(date: &str, time: &str) -> Option<String> {
    let parts: Vec<&str> = date.split(['-', '/']).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let (y, m, d): (u32, u32, u32) = if a.len() == 4 {
        (a.parse().ok()?, b.parse().ok()?, c.parse().ok()?)
    } else {
        let y: u32 = c.parse().ok()?;
        let y = if c.len() == 2 {
            if y < 70 {
                2000 + y
            } else {
                1900 + y
            }
        } else {
            y
        };
        (y, a.parse().ok()?, b.parse().ok()?)
    };
    let upper = time.to_ascii_uppercase();
    let (clock, pm) = match (upper.strip_suffix("PM"), upper.strip_suffix("AM")) {
        (Some(t), _) => (t.to_string(), Some(true)),
        (_, Some(t)) => (t.to_string(), Some(false)),
        _ => (upper.clone(), None),
    };
    let (h, min) = clock.split_once(':')?;
    let (mut h, min): (u32, u32) = (h.parse().ok()?, min.parse().ok()?);
    match pm {
        Some(true) if h < 12 => h += 12,
        Some(false) if h == 12 => h = 0,
        _ => {}
    }
    let valid = (1..=12).contains(&m) && (1..=31).contains(&d) && h < 24 && min < 60;
    valid.then(|| format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}"))
}

/// `20240131100000` (MLSD `modify`, UTC) → `2024-01-31T10:00:00Z`.
fn mlsd_time(v: &str) -> Option<String> {
    let digits = v.split('.').next()?;
    if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let d = |r: std::ops::Range<usize>| &digits[r];
    Some(format!(
        "{}-{}-{}T{}:{}:{}Z",
        d(0..4),
        d(4..6),
        d(6..8),
        d(8..10),
        d(10..12),
        d(12..14)
    ))
}

/// `0755` → `rwxr-xr-x`.
fn mode_string(octal: &str) -> Option<String> {
    let mode = u32::from_str_radix(octal, 8).ok()?;
    let mut out = String::with_capacity(9);
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        out.push(if bits & 4 != 0 { 'r' } else { '-' });
        out.push(if bits & 2 != 0 { 'w' } else { '-' });
        out.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    Some(out)
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
    let mut modified = None;
    let mut perms = None;
    let mut perm_fact = None;
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
            "modify" => modified = mlsd_time(v),
            "unix.mode" => perms = mode_string(v),
            "perm" => perm_fact = Some(v.to_string()),
            _ => {}
        }
    }
    Some(Entry {
        name: name.to_string(),
        kind,
        size,
        modified,
        perms: perms.or(perm_fact),
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

    /// Lines captured from the interop suite's servers (docs/servers.md).
    #[test]
    fn fixtures_from_the_four_real_servers() {
        let list = [
            (
                "-rw-r--r--    1 999      995             7 Nov 25 04:01 crlf.txt",
                "crlf.txt",
                Kind::File,
                Some(7),
            ),
            (
                "dr-xr-xr-x    2 999      995          4096 Nov 25 04:01 ro",
                "ro",
                Kind::Dir,
                Some(4096),
            ),
            (
                "-rw-r--r--    1 999      995             2 Nov 25 04:01 sp ace ünï.bin",
                "sp ace ünï.bin",
                Kind::File,
                Some(2),
            ),
            (
                "-rw-r--r--    1 999        ftpuser             7 Nov 25 04:01 crlf.txt",
                "crlf.txt",
                Kind::File,
                Some(7),
            ),
            (
                "dr-xr-xr-x    2 999        ftpuser          4096 Nov 25 04:01 ro",
                "ro",
                Kind::Dir,
                Some(4096),
            ),
            (
                "-rw-r--r--   1 ftpuser  ftpuser         7 Nov 25 04:01 crlf.txt",
                "crlf.txt",
                Kind::File,
                Some(7),
            ),
            (
                "dr-xr-xr-x   2 ftpuser  ftpuser      4096 Nov 25 04:01 ro",
                "ro",
                Kind::Dir,
                Some(4096),
            ),
        ];
        for (line, name, kind, size) in list {
            let e = parse_list_line(line).unwrap();
            assert_eq!(
                (e.name.as_str(), e.kind, e.size),
                (name, kind, size),
                "{line}"
            );
            assert_eq!(e.modified.as_deref(), Some("--11-25T04:01"));
        }
        let mlsd = [
            "type=file;size=7;modify=20261125040155;UNIX.mode=0644;UNIX.uid=999;UNIX.gid=995;unique=fe00g98c272; crlf.txt",
            "modify=20261125040155;perm=adfrw;size=7;type=file;unique=FE00U98C294;UNIX.group=995;UNIX.groupname=ftpuser;UNIX.mode=0644;UNIX.owner=999;UNIX.ownername=ftpuser; crlf.txt",
            "modify=20261125040155;perm=radfwMT;size=7;type=file;unique=fe00g98c299; crlf.txt",
        ];
        for line in mlsd {
            let e = parse_mlsd_line(line).unwrap();
            assert_eq!(
                (e.name.as_str(), e.kind, e.size),
                ("crlf.txt", Kind::File, Some(7)),
                "{line}"
            );
            assert_eq!(e.modified.as_deref(), Some("2026-11-25T04:01:55Z"));
        }
        // pure-ftpd gives directories `sizd=`, and the current/parent entries are dropped.
        let e =
            parse_mlsd_line("type=dir;sizd=4096;modify=20261125040155;UNIX.mode=0555; ro").unwrap();
        assert_eq!((e.kind, e.size), (Kind::Dir, None));
        assert_eq!(parse_mlsd_line("type=pdir;sizd=4096; .."), None);
    }

    #[test]
    fn non_ascii_in_the_permissions_is_not_a_panic() {
        // Found by fuzzing: byte 10 inside 'é' made the str slice panic.
        let e = parse_list_line("drwxr-xr-\u{e9} 1 u g 0 Jan 1 2020 n").unwrap();
        assert_eq!(e.kind, Kind::Unknown);
        let e = parse_list_line("d\u{fffd}\u{fffd}r\u{fffd}").unwrap();
        assert_eq!(e.kind, Kind::Unknown);
    }

    #[test]
    fn dos_lines() {
        let e = parse_list_line("01-02-23  10:00AM       <DIR>          Program Files").unwrap();
        assert_eq!((e.name.as_str(), e.kind), ("Program Files", Kind::Dir));
        let e = parse_list_line("01-02-23  10:00AM              1,234 a.txt").unwrap();
        assert_eq!((e.name.as_str(), e.size), ("a.txt", Some(1234)));
    }

    #[test]
    fn dates_and_permissions() {
        let e = parse_list_line("-rw-r--r-- 1 u g 5 Jan 31 2024 a").unwrap();
        assert_eq!(e.modified.as_deref(), Some("2024-01-31"));
        assert_eq!(e.perms.as_deref(), Some("rw-r--r--"));
        let e = parse_list_line("-rw-r--r-- 1 u g 5 Nov  5 09:07 a").unwrap();
        assert_eq!(e.modified.as_deref(), Some("--11-05T09:07"));
        let e = parse_list_line("01-31-24  10:00PM              12 a.txt").unwrap();
        assert_eq!(e.modified.as_deref(), Some("2024-01-31T22:00"));
        let e = parse_mlsd_line("type=file;modify=20240131100000.123;UNIX.mode=0644; x").unwrap();
        assert_eq!(e.modified.as_deref(), Some("2024-01-31T10:00:00Z"));
        assert_eq!(e.perms.as_deref(), Some("rw-r--r--"));
        let e = parse_mlsd_line("type=file;perm=adfrw; y").unwrap();
        assert_eq!(e.perms.as_deref(), Some("adfrw"));
    }

    #[test]
    fn dates_without_a_year_get_the_most_recent_past_year() {
        let today = (2026, 12, 2);
        assert_eq!(with_year("--12-02T02:35", today), "2026-12-02T02:35");
        assert_eq!(with_year("--12-03T00:00", today), "2026-12-03T00:00");
        assert_eq!(with_year("--12-24T10:00", today), "2025-12-24T10:00");
        assert_eq!(with_year("--06-30T10:00", today), "2026-06-30T10:00");
        assert_eq!(with_year("--01-01T00:00", (2027, 1, 1)), "2027-01-01T00:00");
        assert_eq!(with_year("--02-01T00:00", (2027, 1, 1)), "2026-02-01T00:00");
        assert_eq!(with_year("2024-01-31", today), "2024-01-31");
        assert_eq!(with_year("--x", today), "--x");
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
