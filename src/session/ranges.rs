//! The byte ranges of a segmented download (`--segments`): how a
//! file is split, and the record of finished ranges beside the destination
//! (`.NAME.3700ftp-segments`: a header with the file's size and MDTM, then one
//! `done START END` line per range) that lets `-c` fetch only what is missing. Never
//! prints; what it has to say goes into the caller's notices.

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

use super::local;
use super::transfer::{human_bytes, Notices};

/// The smallest range worth a connection of its own.
pub const MIN_RANGE: u64 = 1024 * 1024;
/// The suffix of the record of finished ranges.
pub const STATE_SUFFIX: &str = ".3700ftp-segments";
/// The first line of that record.
pub const STATE_HEADER: &str = "3700ftp segments 1";

/// One byte range, `start..end`.
pub type Range = (u64, u64);

/// `.NAME` + `suffix` beside `dest`.
pub fn sibling(dest: &Path, suffix: &str) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "download".into());
    dest.with_file_name(format!(".{}{suffix}", local::short_name(&name)))
}

/// The ranges a previous run finished, when its record belongs to this file (same size and
/// time, a part of the full length); else none (the download starts over, said so).
pub fn recorded(
    state: &Path,
    header: &str,
    part: &Path,
    size: u64,
    notices: &mut Notices,
) -> Vec<Range> {
    let text = std::fs::read_to_string(state).unwrap_or_default();
    let part_len = std::fs::metadata(part).map(|m| m.len()).ok();
    if !text.starts_with(header) || part_len != Some(size) {
        notices.push(
            "--segments: the kept part is of another version of the file; starting over".into(),
        );
        return Vec::new();
    }
    let done: Vec<Range> = text[header.len()..]
        .lines()
        .filter_map(|l| {
            let mut w = l.strip_prefix("done ")?.split(' ');
            let (a, b) = (w.next()?.parse().ok()?, w.next()?.parse().ok()?);
            (a < b && b <= size).then_some((a, b))
        })
        .collect();
    let have: u64 = done.iter().map(|(a, b)| b - a).sum();
    notices.push(format!(
        "--segments: continuing; {} of {} already here",
        human_bytes(have),
        human_bytes(size)
    ));
    done
}

/// The ranges still to fetch: `n` equal ones for a fresh download; the gaps between the
/// recorded ones otherwise, the largest split until there are `n` (never below
/// [`MIN_RANGE`]).
pub fn ranges(size: u64, done: &[Range], n: usize) -> VecDeque<Range> {
    let mut done = done.to_vec();
    done.sort();
    let mut gaps = Vec::new();
    let mut at = 0;
    for (a, b) in done {
        if a > at {
            gaps.push((at, a));
        }
        at = at.max(b);
    }
    if at < size {
        gaps.push((at, size));
    }
    if gaps == [(0, size)] {
        let step = size / n as u64;
        return (0..n as u64)
            .map(|i| {
                (
                    i * step,
                    if i + 1 == n as u64 {
                        size
                    } else {
                        (i + 1) * step
                    },
                )
            })
            .collect();
    }
    while gaps.len() < n {
        let (i, &(a, b)) = match gaps.iter().enumerate().max_by_key(|(_, (a, b))| b - a) {
            Some(g) => g,
            None => break,
        };
        if b - a < 2 * MIN_RANGE {
            break;
        }
        let mid = a + (b - a) / 2;
        gaps[i] = (a, mid);
        gaps.insert(i + 1, (mid, b));
    }
    gaps.into()
}

/// The part file, preallocated to the full size (fresh), or opened as it is (continued).
pub fn open_part(part: &Path, size: u64, fresh: bool) -> Result<File> {
    let file = File::options()
        .create(true)
        .read(true)
        .write(true)
        .truncate(fresh)
        .open(part)
        .map_err(|e| Error::local(part.display(), &e))?;
    file.set_len(size)
        .map_err(|e| Error::local(part.display(), &e))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_file_is_split_evenly_and_gaps_are_what_is_left() {
        let m = MIN_RANGE;
        assert_eq!(
            ranges(8 * m, &[], 4),
            VecDeque::from(vec![
                (0, 2 * m),
                (2 * m, 4 * m),
                (4 * m, 6 * m),
                (6 * m, 8 * m)
            ])
        );
        let left = ranges(8 * m, &[(0, 2 * m), (4 * m, 6 * m)], 2);
        assert_eq!(left, VecDeque::from(vec![(2 * m, 4 * m), (6 * m, 8 * m)]));
        let split = ranges(8 * m, &[(0, 4 * m)], 2);
        assert_eq!(split, VecDeque::from(vec![(4 * m, 6 * m), (6 * m, 8 * m)]));
    }
}
