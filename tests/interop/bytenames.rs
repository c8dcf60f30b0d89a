//! Names that are not UTF-8 (a Latin-1 `café.txt` is the bytes `caf\xe9.txt`) on real
//! servers, which store and list names as bytes: listed escaped, downloaded to a local name
//! with the same bytes, renamed and deleted with the server's own bytes, and mirrored both
//! ways. (The embedded libunftp cannot take part, nor pyftpdlib: each decodes names
//! lossily itself, to U+FFFD or `?`.)

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::cases::Fixture;
use crate::server::{chown_to_ftpuser, Kind};

/// `dir/name` with `name` as raw bytes.
fn at(dir: &Path, name: &[u8]) -> PathBuf {
    dir.join(OsStr::from_bytes(name))
}

/// The names in `dir`, as bytes, sorted.
fn byte_names(dir: &Path) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().as_bytes().to_vec())
        .collect();
    v.sort();
    v
}

pub fn latin1_name_listed_downloaded_renamed_deleted(kind: Kind) {
    let f = Fixture::new(kind);
    let dir = f.seed_dir("/l1");
    fs::write(at(&dir, b"caf\xe9.txt"), b"latin-1").unwrap();
    chown_to_ftpuser(f.server.home());

    // Listed escaped, and in JSON with its bytes.
    f.ftp(&["ls", &f.url("/l1/")])
        .ok()
        .stdout_contains("caf\\xe9.txt");
    f.ftp(&["ls", "--json", &f.url("/l1/")])
        .ok()
        .stdout_contains(r#""name":"caf\\xe9.txt""#)
        .stdout_contains(r#""name_bytes":"636166e92e747874""#);

    // Downloaded from a listing (a wildcard in a batch session) to a local name with the
    // same bytes; and by URL, the byte percent-encoded.
    fs::create_dir(f.lpath("a")).unwrap();
    f.batch(&f.url("/l1/"), "lcd a\nget caf*.txt\n").ok();
    assert_eq!(
        byte_names(&f.lpath("a")),
        [b"caf\xe9.txt".to_vec()],
        "{}",
        f.ctx("get")
    );
    assert_eq!(
        fs::read(at(&f.lpath("a"), b"caf\xe9.txt")).unwrap(),
        b"latin-1"
    );
    fs::create_dir(f.lpath("b")).unwrap();
    // (`Server::url` would encode the `%`.)
    let raw = |p: &str| format!("{}{p}", f.server.base_url());
    let run = f.ftp(&["-v", "cp", &raw("/l1/caf%E9.txt"), &f.s(&f.lpath("b"))]);
    run.ok();
    // vsftpd lists UTF8 in FEAT, so the setup sends OPTS UTF8 ON.
    if kind == Kind::Vsftpd {
        run.stdout_contains("> OPTS UTF8 ON");
    }
    assert_eq!(
        byte_names(&f.lpath("b")),
        [b"caf\xe9.txt".to_vec()],
        "{}",
        f.ctx("cp")
    );

    // Renamed to another Latin-1 name, then deleted through a wildcard.
    f.ftp(&["rename", &raw("/l1/caf%E9.txt"), &raw("/l1/caf%E8.txt")])
        .ok();
    assert_eq!(
        byte_names(&dir),
        [b"caf\xe8.txt".to_vec()],
        "{}",
        f.ctx("rename")
    );
    f.batch(&f.url("/l1/"), "rm caf*\n").ok();
    assert!(byte_names(&dir).is_empty(), "{}", f.ctx("rm"));
}

pub fn mirror_keeps_names_that_are_not_utf8(kind: Kind) {
    let f = Fixture::new(kind);
    f.seed_dir("/up");
    let local = f.lpath("site");
    fs::create_dir_all(at(&local, b"d\xff")).unwrap();
    fs::write(at(&at(&local, b"d\xff"), b"\xe0 la carte"), b"one").unwrap();
    fs::write(local.join("plain.txt"), b"two").unwrap();
    f.ftp(&["mirror", &f.s(&local), &f.url("/up/")]).ok();
    assert_eq!(
        fs::read(at(&at(&f.spath("/up"), b"d\xff"), b"\xe0 la carte")).unwrap(),
        b"one",
        "{}",
        f.ctx("mirror up")
    );
    // A second run has nothing to do: the names compare equal both ways.
    f.ftp(&["mirror", "--dry-run", &f.s(&local), &f.url("/up/")])
        .ok()
        .stdout_lacks("carte");
    let back = f.lpath("back");
    f.ftp(&["mirror", &f.url("/up/"), &f.s(&back)]).ok();
    assert_eq!(
        fs::read(at(&at(&back, b"d\xff"), b"\xe0 la carte")).unwrap(),
        b"one",
        "{}",
        f.ctx("mirror down")
    );
}
