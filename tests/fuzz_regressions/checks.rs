//! The properties the fuzz targets check, shared by `fuzz/fuzz_targets/*.rs` (through
//! `#[path]`) and by `tests/fuzz_regressions.rs`, which replays the saved inputs under
//! `cargo test`. Each function takes the raw fuzz input and panics when a property fails.
#![allow(dead_code)]

use ftp3700::frontend::complete::{complete as complete_line, Names};
use ftp3700::ftp::list::{parse_list_line, parse_mlsd_line, Kind};
use ftp3700::ftp::pasv::{parse_epsv, parse_pasv};
use ftp3700::ftp::reply::{parse, parse_pwd};
use ftp3700::url::{looks_like_url, mask_raw, FtpUrl};

/// `reply::parse` on the bytes, and `parse_pwd` on them as text.
pub fn reply(data: &[u8]) {
    let first = parse(data);
    if let Ok(Some((reply, used))) = &first {
        let (reply, used) = (reply.clone(), *used);
        assert!(
            used > 0 && used <= data.len(),
            "used {used} of {}",
            data.len()
        );
        assert!((100..=599).contains(&reply.code), "code {}", reply.code);
        assert!(!reply.lines.is_empty());
        assert_eq!(data[used - 1], b'\n', "a reply ends at a line end");
        // The reply is already decided by its own bytes: the prefix gives the same answer,
        // and so does the input with more bytes after it.
        assert_eq!(parse(&data[..used]), Ok(Some((reply.clone(), used))));
        let mut longer = data.to_vec();
        longer.extend_from_slice(b"550 more\r\n\xff");
        assert_eq!(parse(&longer), Ok(Some((reply.clone(), used))));
        for line in &reply.lines {
            // A CR inside a line is text (only the CR before LF is the terminator).
            assert!(!line.contains('\n'), "line {line:?}");
        }
        let _ = (reply.text(), reply.to_string(), reply.class());
    }
    if let Ok(None) = first {
        // Needing more bytes: every prefix needs more bytes or is already refused.
        for cut in [0, data.len() / 2, data.len().saturating_sub(1)] {
            assert!(!matches!(parse(&data[..cut]), Ok(Some(_))), "cut {cut}");
        }
    }
    if let Err(e) = &first {
        let _ = e.to_string();
    }
    let text = String::from_utf8_lossy(data);
    if let Some(dir) = parse_pwd(&text) {
        assert!(dir.len() < text.len(), "{dir:?} from {text:?}");
    }
}

/// `parse_pasv` and `parse_epsv` on the input as text.
pub fn pasv(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Some(addr) = parse_pasv(&text) {
        assert!(addr.is_ipv4());
        // The six numbers are in the text, so it holds at least "0,0,0,0,0,0".
        assert!(text.matches(',').count() >= 5, "{text:?} gave {addr}");
    }
    if let Some(port) = parse_epsv(&text) {
        assert_ne!(port, 0);
        assert!(text.contains('(') && text.contains(')'));
    }
}

/// `FtpUrl::parse`, `looks_like_url` and `mask_raw` on the input as text.
pub fn url(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = looks_like_url(&text);
    let masked = mask_raw(&text);
    check_mask(&text, &masked);
    match FtpUrl::parse(&text) {
        Ok(url) => {
            for (what, s) in [
                ("user", &url.user),
                ("path", &url.path),
                ("host", &url.host),
            ] {
                assert!(!s.contains(['\r', '\n', '\0']), "{what} {s:?}");
            }
            if let Some(p) = &url.password {
                assert!(!p.contains(['\r', '\n', '\0']), "password {p:?}");
            }
            assert_ne!(url.port, 0);
            assert!(!url.host.is_empty());
            let shown = url.to_string();
            let debug = format!("{url:?}");
            let _ = (url.names_directory(), url.file_name(), url.with_path("/x"));
            if let Some(p) = &url.password {
                // Sound only when the password cannot appear by chance: long enough, not made
                // of the characters Display adds around the parts, and not inside them.
                let authority = url.authority();
                let by_chance = p.len() < 4
                    || p.contains([':', '/', '@', '*', '[', ']', '~'])
                    || url.user.contains(p.as_str())
                    || authority.contains(p.as_str())
                    || url.path.contains(p.as_str());
                if !by_chance {
                    assert!(!shown.contains(p.as_str()), "{shown:?} shows {p:?}");
                    assert!(!debug.contains(p.as_str()), "{debug:?} shows {p:?}");
                }
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// `mask_raw` hides the password the URL parser would find in `text`.
///
/// The WHATWG parser removes tabs and newlines before parsing, so the check works on the
/// text without them. The password as the parser serializes it is the typed text when it has
/// no `%` (nothing was encoded, and `:`/`@` are always encoded in a password). The masked
/// text is a prefix of the input, `:****`, and a suffix of the input; a password without `*`,
/// `:` and `%` can only occur inside the kept parts, so masking must remove an occurrence.
fn check_mask(text: &str, masked: &str) {
    let strip = |s: &str| s.replace(['\t', '\n', '\r'], "");
    let plain = strip(text);
    let Ok(parsed) = ::url::Url::parse(&plain) else {
        return;
    };
    let Some(p) = parsed.password() else {
        return;
    };
    if p.is_empty() || p.contains(['%', '*', ':', '@']) {
        return;
    }
    let count = |hay: &str| {
        hay.char_indices()
            .filter(|(i, _)| hay[*i..].starts_with(p))
            .count()
    };
    let before = count(&plain);
    if before == 0 {
        return;
    }
    assert!(
        count(&strip(masked)) < before,
        "mask_raw({text:?}) = {masked:?} still shows the password {p:?}"
    );
}

/// `parse_list_line` and `parse_mlsd_line` on every line of the input.
pub fn list(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for line in text.split('\n').chain(std::iter::once(text.as_ref())) {
        if let Some(e) = parse_list_line(line) {
            assert!(!e.name.is_empty());
            assert!(line.contains(e.raw.as_str()));
            assert!(e.raw.contains(e.name.as_str()), "{e:?}");
            if e.kind == Kind::Unknown {
                assert_eq!(e.name, e.raw);
            }
        }
        if let Some(e) = parse_mlsd_line(line) {
            assert!(!e.name.is_empty());
            assert!(e.raw.contains(e.name.as_str()), "{e:?}");
        }
    }
}

/// Names for completion, taken from the fuzz input: `name` or `name/` per line.
struct FuzzNames(Vec<(String, bool)>);

impl Names for FuzzNames {
    fn remote(&mut self, _dir: &str) -> Vec<(String, bool)> {
        self.0.clone()
    }
    fn local(&mut self, dir: &str) -> Vec<(String, bool)> {
        let mut v = self.0.clone();
        v.push((format!("{dir}x"), false));
        v
    }
}

/// `complete(line, pos, names)`: the first byte picks the cursor (moved back to a char
/// boundary), the text up to the first NUL is the line, the lines after it are the names.
pub fn complete(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let (line, names) = text.split_once('\0').unwrap_or((&text, ""));
    let names = names
        .split('\n')
        .filter(|n| !n.is_empty())
        .map(|n| match n.strip_suffix('/') {
            Some(d) => (d.to_string(), true),
            None => (n.to_string(), false),
        })
        .collect();
    let mut pos = if pick == 255 {
        line.len()
    } else {
        usize::from(pick) % (line.len() + 1)
    };
    while !line.is_char_boundary(pos) {
        pos -= 1;
    }
    let (start, found) = complete_line(line, pos, &mut FuzzNames(names));
    assert!(start <= pos, "start {start} after the cursor {pos}");
    assert!(line.is_char_boundary(start));
    for f in &found {
        assert!(!f.is_empty());
    }
}
