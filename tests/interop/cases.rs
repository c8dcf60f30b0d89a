//! The interop tests. Each function takes the server kind and is
//! instantiated once per server by `for_each_server!` in main.rs, so a
//! failure is named like `proftpd::rmdir_non_empty_fails`.
//!
//! Every test starts its own server with an empty home directory, and
//! checks the result where a user would: bytes on disk in the server's home,
//! files in the local directory, and the exit code.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::client::{
    assert_file, assert_missing, big_file, run, run_batch, sha256_file, tricky_bytes, BIG_SIZE,
};
use crate::server::{chown_to_ftpuser, Kind, Server, PASSWORD};

// Exit codes of the contract.
const EXIT_REFUSED: i32 = 5;
const EXIT_LOGIN: i32 = 4;
const EXIT_LOCAL_IO: i32 = 6;

const UNICODE_NAME: &str = "ünïcødé file.bin";

/// A fresh server and a local working directory for the client (also used
/// by the FTPS tests in `ftps.rs`).
pub struct Fixture {
    pub server: Server,
    pub local: TempDir,
}

impl Fixture {
    pub fn new(kind: Kind) -> Fixture {
        Fixture::with_server(Server::start(kind))
    }

    pub fn with_server(server: Server) -> Fixture {
        Fixture {
            server,
            local: tempfile::Builder::new()
                .prefix("3700ftp-interop-local-")
                .tempdir()
                .unwrap(),
        }
    }

    pub fn ctx(&self, what: &str) -> String {
        format!("[{}] {what}", self.server.kind())
    }

    /// Local working directory of the client.
    pub fn lpath(&self, rel: &str) -> PathBuf {
        self.local.path().join(rel)
    }

    pub fn lwrite(&self, rel: &str, data: &[u8]) -> PathBuf {
        let p = self.lpath(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(&p, data).unwrap();
        p
    }

    /// Path on disk of a server path.
    pub fn spath(&self, server_path: &str) -> PathBuf {
        self.server.local(server_path)
    }

    /// Puts a file on the server's disk (owned by ftpuser, as if uploaded).
    pub fn seed(&self, server_path: &str, data: &[u8]) -> PathBuf {
        let p = self.spath(server_path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, data).unwrap();
        chown_to_ftpuser(self.server.home());
        p
    }

    pub fn seed_dir(&self, server_path: &str) -> PathBuf {
        let p = self.spath(server_path);
        fs::create_dir_all(&p).unwrap();
        chown_to_ftpuser(self.server.home());
        p
    }

    pub fn url(&self, server_path: &str) -> String {
        self.server.url(server_path)
    }

    pub fn ftp(&self, args: &[&str]) -> crate::client::Run {
        run(&self.server, self.local.path(), args)
    }

    pub fn batch(&self, url: &str, script: &str) -> crate::client::Run {
        run_batch(&self.server, self.local.path(), &[url], script)
    }

    pub fn s(&self, p: &Path) -> String {
        p.to_str().unwrap().to_owned()
    }
}

// ---- ls ---------------------------------------------------------------------

pub fn ls_lists_directory(kind: Kind) {
    let f = Fixture::new(kind);
    f.seed("/alpha.txt", b"a");
    f.seed("/subdir-x/inner.bin", b"b");
    f.seed(&format!("/{UNICODE_NAME}"), b"u");
    f.ftp(&["ls", &f.url("/")])
        .ok()
        .stdout_contains("alpha.txt")
        .stdout_contains("subdir-x")
        .stdout_contains(UNICODE_NAME)
        .stdout_lacks("inner.bin");
    f.ftp(&["ls", &f.url("/subdir-x")])
        .ok()
        .stdout_contains("inner.bin")
        .stdout_lacks("alpha.txt");
}

pub fn ls_missing_path_fails(kind: Kind) {
    let f = Fixture::new(kind);
    f.seed("/present.txt", b"x");
    f.ftp(&["ls", &f.url("/no-such-dir")])
        .expect_code(EXIT_REFUSED);
    f.ftp(&["ls", &f.url("/no-such-dir/")])
        .expect_code(EXIT_REFUSED);
}

pub fn ls_empty_directory_succeeds(kind: Kind) {
    // vsftpd and pure-ftpd answer LIST of a missing path with an empty 226:
    // whatever the client does to tell "missing" apart, an existing empty
    // directory must still list fine.
    let f = Fixture::new(kind);
    f.seed_dir("/empty-dir");
    let run = f.ftp(&["ls", &f.url("/empty-dir")]);
    run.ok();
    assert!(
        run.stdout().trim().is_empty(),
        "{}: expected no entries, got {:?}",
        f.ctx("ls of an empty directory"),
        run.stdout()
    );
}

pub fn ls_directory_with_spaces_in_name(kind: Kind) {
    // pure-ftpd splits LIST's argument on spaces (`LIST a b` lists the
    // patterns `a` and `b`), so a client must not send such a path as is.
    let f = Fixture::new(kind);
    f.seed("/dir with  two spaces/inner file.txt", b"i");
    f.seed("/dir/decoy.txt", b"d");
    f.seed("/with/decoy2.txt", b"d");
    f.ftp(&["ls", &f.url("/dir with  two spaces")])
        .ok()
        .stdout_contains("inner file.txt")
        .stdout_lacks("decoy");
    f.ftp(&["ls", &f.url("/dir with  two spaces/")])
        .ok()
        .stdout_contains("inner file.txt");
}

// ---- mkdir / rmdir ----------------------------------------------------------

pub fn mkdir_and_rmdir(kind: Kind) {
    let f = Fixture::new(kind);
    f.ftp(&["mkdir", &f.url("/newdir")]).ok();
    assert!(f.spath("/newdir").is_dir(), "{}", f.ctx("/newdir created"));
    // Nested, and with a space and non-ASCII letters in the name.
    f.ftp(&["mkdir", &f.url("/newdir/sübdir with space")]).ok();
    assert!(
        f.spath("/newdir/sübdir with space").is_dir(),
        "{}",
        f.ctx("nested dir created")
    );
    // Creating an existing directory is refused.
    f.ftp(&["mkdir", &f.url("/newdir")])
        .expect_code(EXIT_REFUSED);
    // Creating inside a missing directory is refused.
    f.ftp(&["mkdir", &f.url("/missing/child")])
        .expect_code(EXIT_REFUSED);
    assert_missing(&f.spath("/missing"), &f.ctx("mkdir /missing/child"));

    f.ftp(&["rmdir", &f.url("/newdir/sübdir with space")]).ok();
    assert_missing(
        &f.spath("/newdir/sübdir with space"),
        &f.ctx("rmdir nested"),
    );
    f.ftp(&["rmdir", &f.url("/newdir")]).ok();
    assert_missing(&f.spath("/newdir"), &f.ctx("rmdir /newdir"));
    // Removing it again: it is gone.
    f.ftp(&["rmdir", &f.url("/newdir")])
        .expect_code(EXIT_REFUSED);
}

pub fn rmdir_non_empty_fails(kind: Kind) {
    let f = Fixture::new(kind);
    f.seed("/full/keep.txt", b"keep me");
    f.ftp(&["rmdir", &f.url("/full")]).expect_code(EXIT_REFUSED);
    assert_file(
        &f.spath("/full/keep.txt"),
        b"keep me",
        &f.ctx("after rmdir of non-empty dir"),
    );
}

// ---- rm -----------------------------------------------------------------------

pub fn rm_file_and_missing_file(kind: Kind) {
    let f = Fixture::new(kind);
    f.seed("/gone.bin", b"bye");
    f.seed("/stays.bin", b"hi");
    f.seed(&format!("/dir/{UNICODE_NAME}"), b"u");
    f.ftp(&["rm", &f.url("/gone.bin")]).ok();
    assert_missing(&f.spath("/gone.bin"), &f.ctx("rm /gone.bin"));
    assert_file(
        &f.spath("/stays.bin"),
        b"hi",
        &f.ctx("other file untouched"),
    );
    f.ftp(&["rm", &f.url(&format!("/dir/{UNICODE_NAME}"))]).ok();
    assert_missing(
        &f.spath(&format!("/dir/{UNICODE_NAME}")),
        &f.ctx("rm unicode name"),
    );
    f.ftp(&["rm", &f.url("/gone.bin")])
        .expect_code(EXIT_REFUSED);
    f.ftp(&["rm", &f.url("/never-existed.bin")])
        .expect_code(EXIT_REFUSED);
}

// ---- cp ---------------------------------------------------------------------

pub fn cp_binary_exact_both_ways(kind: Kind) {
    let f = Fixture::new(kind);
    let data = tricky_bytes();
    let src = f.lwrite("tricky.bin", &data);
    f.ftp(&["cp", &f.s(&src), &f.url("/tricky.bin")]).ok();
    assert_file(
        &f.spath("/tricky.bin"),
        &data,
        &f.ctx("upload of all byte values + CR LF"),
    );

    let down = f.lpath("down.bin");
    f.ftp(&["cp", &f.url("/tricky.bin"), &f.s(&down)]).ok();
    assert_file(&down, &data, &f.ctx("download of all byte values + CR LF"));
    // The source of each copy is still there.
    assert_file(&src, &data, &f.ctx("local source after cp"));
    assert_file(
        &f.spath("/tricky.bin"),
        &data,
        &f.ctx("remote source after cp"),
    );
}

/// An upload's SIZE proof (and the RNFR of its rename) goes the moment the server has
/// closed the data connection, ahead of its `226`, only to the servers known to read
/// commands in turn; pyftpdlib gets it after the `226`. Either way the file arrives whole.
pub fn upload_proof_ahead_only_where_known(kind: Kind) {
    let f = Fixture::new(kind);
    let data = tricky_bytes();
    let src = f.lwrite("ahead.bin", &data);
    let run = f.ftp(&["-v", "cp", &f.s(&src), &f.url("/ahead.bin")]);
    run.ok();
    assert_file(&f.spath("/ahead.bin"), &data, &f.ctx("upload, proof ahead"));
    let log = run.stdout();
    let size = log.find("> SIZE").expect("a SIZE proof");
    let done = log.find("< 226").expect("a 226");
    let ahead = kind != Kind::Pyftpdlib;
    assert_eq!(size < done, ahead, "{}\n{log}", f.ctx("SIZE ahead of 226"));
    // Answered after the 226, in turn: trusted, not asked again.
    assert_eq!(
        log.matches("> SIZE").count(),
        1,
        "{}\n{log}",
        f.ctx("one SIZE")
    );
    assert!(!log.contains("stumbles"), "{}\n{log}", f.ctx("in step"));
}

/// Downloads in a session: on the servers known to read commands in turn, a file's SIZE
/// goes in one write with its RETR and the next transfer's EPSV (`src/ftp/riders.rs`);
/// pyftpdlib, which answers during transfers, gets them one at a time. A refused RETR in
/// the middle, a 3 MiB file (Pure-FTPd reads the control connection during a download)
/// and a listing after: every file exact, the conversation in step throughout.
pub fn downloads_ride_with_retr_only_where_known(kind: Kind) {
    let f = Fixture::new(kind);
    let small = tricky_bytes();
    let big: Vec<u8> = (0..3 * 1024 * 1024 + 77usize)
        .map(|i| (i * 13 + i / 1021) as u8)
        .collect();
    f.seed("/r/a.bin", &small);
    f.seed("/r/big.bin", &big);
    f.seed("/r/c.bin", &small[..small.len() / 2]);
    let script = "\
cd r
verbose
get a.bin
-get missing.bin
get a.bin a2.bin
get big.bin
get c.bin
ls
";
    let (log, ctx) = batch_in_step(&f, script, "downloads with riders");
    assert_file(&f.lpath("a2.bin"), &small, &ctx);
    assert_file(&f.lpath("big.bin"), &big, &ctx);
    assert_file(&f.lpath("c.bin"), &small[..small.len() / 2], &ctx);
    assert_missing(&f.lpath("missing.bin"), &ctx);
    let rides = kind != Kind::Pyftpdlib;
    for name in ["big.bin", "c.bin"] {
        let batch = format!("> SIZE {name}\n> RETR {name}\n> EPSV\n");
        assert_eq!(log.contains(&batch), rides, "{ctx}: {batch:?}\n{log}");
    }
    assert!(log.contains("c.bin\n"), "{ctx}: the listing\n{log}");
}

/// Runs the batch `script` from the server's root: it succeeds, and its `-v` transcript
/// (returned, with the context line for `what`) never says the conversation went out of
/// step or a data connection failed.
fn batch_in_step(f: &Fixture, script: &str, what: &str) -> (String, String) {
    let run = f.batch(&f.url("/"), script);
    run.ok();
    let log = run.stdout();
    let ctx = f.ctx(what);
    for sign in [
        "stumbles",
        "out of step",
        "stale",
        "cannot open the data connection",
    ] {
        assert!(!log.contains(sign), "{ctx}: {sign:?}\n{log}");
    }
    (log, ctx)
}

/// Uploads in a session: on the servers known to read commands in turn, the next
/// transfer's EPSV goes ahead with the proof (SIZE, RNFR) and its data connection is made
/// during the rename's round trip; the next STOR, and a listing, use that address after
/// the RNTO (every server keeps a passive listener across RNTO). pyftpdlib gets none of it.
pub fn uploads_ready_the_next_transfer_only_where_known(kind: Kind) {
    let f = Fixture::new(kind);
    let files: Vec<Vec<u8>> = (0..3)
        .map(|n| {
            (0..(5000 + n * 1111))
                .map(|i| (i * 7 + n * 3 + i / 253) as u8)
                .collect()
        })
        .collect();
    for (n, data) in files.iter().enumerate() {
        f.lwrite(&format!("u{n}.bin"), data);
    }
    f.seed_dir("/up");
    let script = "\
cd up
verbose
put u0.bin
put u1.bin
ls
put u2.bin
put u0.bin
";
    let (log, ctx) = batch_in_step(&f, script, "uploads readying the next transfer");
    for (n, data) in files.iter().enumerate() {
        assert_file(&f.spath(&format!("/up/u{n}.bin")), data, &ctx);
    }
    let ready = kind != Kind::Pyftpdlib;
    assert_eq!(
        log.contains("> EPSV\n> SIZE .u1.bin.3700ftp-part\n> RNFR .u1.bin.3700ftp-part\n"),
        ready,
        "{ctx}\n{log}"
    );
    // The rename goes alone and the next command uses the address asked for ahead.
    assert_eq!(log.contains("> RNTO u1.bin\n< 250"), ready, "{ctx}\n{log}");
    assert!(log.contains("u1.bin\n"), "{ctx}: the listing\n{log}");
}

/// A one-shot command's first command goes in the password's round trip (PASS's reply is
/// read after it is written) only to the servers known to read commands in turn; pyftpdlib
/// gets it after the `230`. A wrong password is a login error either way
/// (`wrong_password_fails_login`).
pub fn one_shot_first_command_rides_with_pass_only_where_known(kind: Kind) {
    let f = Fixture::new(kind);
    let data = tricky_bytes();
    f.seed("/first.bin", &data);
    let down = f.lpath("first.bin");
    let run = f.ftp(&["-v", "cp", &f.url("/first.bin"), &f.s(&down)]);
    run.ok();
    assert_file(&down, &data, &f.ctx("download after a late-read login"));
    let log = run.stdout();
    let logged_in = log.find("< 230").expect("a 230");
    let first = log.find("> TYPE I").expect("a TYPE I");
    let early = kind != Kind::Pyftpdlib;
    assert_eq!(
        first < logged_in,
        early,
        "{}\n{log}",
        f.ctx("TYPE before 230")
    );
}

/// `cp --segments 4` and `mv --segments 3`: ranges over several connections, each ended
/// with ABOR at its end (every server's ABOR handling), byte-exact; the move deletes its
/// source after the whole-file proof.
pub fn cp_segments_byte_exact(kind: Kind) {
    let f = Fixture::new(kind);
    let data: Vec<u8> = (0..(4 * 1024 * 1024 + 4321usize))
        .map(|i| (i * 31 + i / 4099) as u8)
        .collect();
    f.seed("/seg.bin", &data);
    let down = f.lpath("seg.bin");
    f.ftp(&["cp", "--segments", "4", &f.url("/seg.bin"), &f.s(&down)])
        .ok();
    assert_file(&down, &data, &f.ctx("cp --segments 4"));
    let moved = f.lpath("moved.bin");
    f.ftp(&["mv", "--segments", "3", &f.url("/seg.bin"), &f.s(&moved)])
        .ok();
    assert_file(&moved, &data, &f.ctx("mv --segments 3"));
    assert!(
        !f.spath("/seg.bin").exists(),
        "{}",
        f.ctx("mv --segments deletes its source")
    );
}

pub fn cp_empty_file_both_ways(kind: Kind) {
    let f = Fixture::new(kind);
    let src = f.lwrite("empty.bin", b"");
    f.ftp(&["cp", &f.s(&src), &f.url("/empty.bin")]).ok();
    assert_file(
        &f.spath("/empty.bin"),
        b"",
        &f.ctx("upload of an empty file"),
    );

    f.seed("/empty2.bin", b"");
    let down = f.lpath("empty2.bin");
    f.ftp(&["cp", &f.url("/empty2.bin"), &f.s(&down)]).ok();
    assert_file(&down, b"", &f.ctx("download of an empty file"));
}

pub fn cp_overwrites_existing(kind: Kind) {
    let f = Fixture::new(kind);
    f.seed("/target.txt", b"old old old old old old old old");
    let src = f.lwrite("new.txt", b"new");
    f.ftp(&["cp", &f.s(&src), &f.url("/target.txt")]).ok();
    assert_file(
        &f.spath("/target.txt"),
        b"new",
        &f.ctx("remote file overwritten"),
    );
    let dst = f.lwrite("local-target.txt", b"old old old old old old");
    f.ftp(&["cp", &f.url("/target.txt"), &f.s(&dst)]).ok();
    assert_file(&dst, b"new", &f.ctx("local file overwritten"));
}

pub fn cp_100mib_sha256_both_ways(kind: Kind) {
    let f = Fixture::new(kind);
    let (big, digest) = big_file();
    f.ftp(&["cp", &f.s(big), &f.url("/big.bin")]).ok();
    let remote = f.spath("/big.bin");
    assert_eq!(
        fs::metadata(&remote).map(|m| m.len()).ok(),
        Some(BIG_SIZE as u64),
        "{}",
        f.ctx("size of the uploaded 100 MiB file")
    );
    assert_eq!(
        &sha256_file(&remote),
        digest,
        "{}",
        f.ctx("SHA-256 of the upload")
    );

    let down = f.lpath("big-down.bin");
    f.ftp(&["cp", &f.url("/big.bin"), &f.s(&down)]).ok();
    assert_eq!(
        &sha256_file(&down),
        digest,
        "{}",
        f.ctx("SHA-256 of the download")
    );
}

pub fn cp_unicode_and_space_names(kind: Kind) {
    let f = Fixture::new(kind);
    let data = b"unicode payload \xe2\x9c\x93\r\n".to_vec();
    let src = f.lwrite(UNICODE_NAME, &data);
    f.seed_dir("/dïr with space");
    let remote = format!("/dïr with space/{UNICODE_NAME}");
    f.ftp(&["cp", &f.s(&src), &f.url(&remote)]).ok();
    assert_file(&f.spath(&remote), &data, &f.ctx("upload to a unicode name"));

    f.ftp(&["ls", &f.url("/dïr with space")])
        .ok()
        .stdout_contains(UNICODE_NAME);

    let down = f.lpath("back ünï.bin");
    f.ftp(&["cp", &f.url(&remote), &f.s(&down)]).ok();
    assert_file(&down, &data, &f.ctx("download of a unicode name"));
}

pub fn cp_keeps_name_for_directory_destinations(kind: Kind) {
    let f = Fixture::new(kind);
    f.seed_dir("/inbox");
    let src = f.lwrite("keep-name.bin", b"same name");
    // Remote destination ending in '/'.
    f.ftp(&["cp", &f.s(&src), &f.url("/inbox/")]).ok();
    assert_file(
        &f.spath("/inbox/keep-name.bin"),
        b"same name",
        &f.ctx("cp to URL ending in /"),
    );
    // Existing local directory as destination.
    let dir = f.lpath("downloads");
    fs::create_dir(&dir).unwrap();
    f.ftp(&["cp", &f.url("/inbox/keep-name.bin"), &f.s(&dir)])
        .ok();
    assert_file(
        &dir.join("keep-name.bin"),
        b"same name",
        &f.ctx("cp into a local directory"),
    );
}

pub fn nested_directories(kind: Kind) {
    let f = Fixture::new(kind);
    for d in ["/top", "/top/middle", "/top/middle/bottom"] {
        f.ftp(&["mkdir", &f.url(d)]).ok();
    }
    let src = f.lwrite("deep.bin", &tricky_bytes());
    f.ftp(&["cp", &f.s(&src), &f.url("/top/middle/bottom/deep.bin")])
        .ok();
    assert_file(
        &f.spath("/top/middle/bottom/deep.bin"),
        &tricky_bytes(),
        &f.ctx("upload 3 levels deep"),
    );
    f.ftp(&["ls", &f.url("/top/middle")])
        .ok()
        .stdout_contains("bottom")
        .stdout_lacks("deep.bin");
    f.ftp(&["ls", &f.url("/top/middle/bottom")])
        .ok()
        .stdout_contains("deep.bin");
    let down = f.lpath("deep-down.bin");
    f.ftp(&["cp", &f.url("/top/middle/bottom/deep.bin"), &f.s(&down)])
        .ok();
    assert_file(&down, &tricky_bytes(), &f.ctx("download 3 levels deep"));
    // rmdir of a parent of a non-empty directory fails; then tear down.
    f.ftp(&["rmdir", &f.url("/top/middle")])
        .expect_code(EXIT_REFUSED);
    f.ftp(&["rm", &f.url("/top/middle/bottom/deep.bin")]).ok();
    for d in ["/top/middle/bottom", "/top/middle", "/top"] {
        f.ftp(&["rmdir", &f.url(d)]).ok();
    }
    assert_missing(&f.spath("/top"), &f.ctx("tree removed"));
}

// ---- mv -----------------------------------------------------------------------

pub fn mv_upload_removes_local_source(kind: Kind) {
    let f = Fixture::new(kind);
    let data = tricky_bytes();
    let src = f.lwrite("moving.bin", &data);
    f.ftp(&["mv", &f.s(&src), &f.url("/moved.bin")]).ok();
    assert_file(
        &f.spath("/moved.bin"),
        &data,
        &f.ctx("mv local->remote: remote copy"),
    );
    assert_missing(&src, &f.ctx("mv local->remote: local source removed"));
}

pub fn mv_download_removes_remote_source(kind: Kind) {
    let f = Fixture::new(kind);
    let data = tricky_bytes();
    f.seed(&format!("/{UNICODE_NAME}"), &data);
    let dst = f.lpath("arrived.bin");
    f.ftp(&["mv", &f.url(&format!("/{UNICODE_NAME}")), &f.s(&dst)])
        .ok();
    assert_file(&dst, &data, &f.ctx("mv remote->local: local copy"));
    assert_missing(
        &f.spath(&format!("/{UNICODE_NAME}")),
        &f.ctx("mv remote->local: remote source removed"),
    );
}

pub fn mv_keeps_source_when_copy_fails(kind: Kind) {
    let f = Fixture::new(kind);
    let data = b"precious".to_vec();
    let src = f.lwrite("precious.bin", &data);

    // Upload into a directory that does not exist.
    f.ftp(&["mv", &f.s(&src), &f.url("/no-such-dir/precious.bin")])
        .expect_code(EXIT_REFUSED);
    assert_file(
        &src,
        &data,
        &f.ctx("local source after failed mv into a missing dir"),
    );
    assert_missing(&f.spath("/no-such-dir"), &f.ctx("no directory created"));

    // Upload into a directory the user cannot write (0555).
    let ro = f.seed_dir("/readonly");
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
    f.ftp(&["mv", &f.s(&src), &f.url("/readonly/precious.bin")])
        .expect_code(EXIT_REFUSED);
    assert_file(
        &src,
        &data,
        &f.ctx("local source after failed mv into a 0555 dir"),
    );
    assert_missing(
        &f.spath("/readonly/precious.bin"),
        &f.ctx("nothing written in the 0555 dir"),
    );

    // Download into a local directory that does not exist.
    f.seed("/remote-precious.bin", &data);
    let dst = f.lpath("no-such-local-dir/precious.bin");
    f.ftp(&["mv", &f.url("/remote-precious.bin"), &f.s(&dst)])
        .expect_code(EXIT_LOCAL_IO);
    assert_file(
        &f.spath("/remote-precious.bin"),
        &data,
        &f.ctx("remote source after failed mv into a missing local dir"),
    );

    // Download of a file that does not exist: refused, nothing to keep.
    f.ftp(&["mv", &f.url("/absent.bin"), &f.s(&f.lpath("absent.bin"))])
        .expect_code(EXIT_REFUSED);
}

pub fn cp_download_missing_file_fails(kind: Kind) {
    let f = Fixture::new(kind);
    f.ftp(&["cp", &f.url("/absent.bin"), &f.s(&f.lpath("absent.bin"))])
        .expect_code(EXIT_REFUSED);
    let src = f.lwrite("x.bin", b"x");
    f.ftp(&["cp", &f.s(&src), &f.url("/no-such-dir/x.bin")])
        .expect_code(EXIT_REFUSED);
    // A missing local source is a local I/O error, whatever the server.
    f.ftp(&["cp", &f.s(&f.lpath("not-here.bin")), &f.url("/x.bin")])
        .expect_code(EXIT_LOCAL_IO);
    assert_missing(
        &f.spath("/x.bin"),
        &f.ctx("nothing uploaded from a missing source"),
    );
}

// ---- login / protocol trace ----------------------------------------------------

pub fn wrong_password_fails_login(kind: Kind) {
    let f = Fixture::new(kind);
    let url = format!("ftp://ftpuser:wrong%40pass@127.0.0.1:{}/", f.server.port());
    f.ftp(&["ls", &url]).expect_code(EXIT_LOGIN);
}

pub fn verbose_trace_masks_password(kind: Kind) {
    let f = Fixture::new(kind);
    f.seed("/seen.txt", b"x");
    f.ftp(&["-v", "ls", &f.url("/")])
        .ok()
        .stdout_contains("> USER ftpuser")
        .stdout_contains("> PASS ****")
        .stdout_contains("< 230")
        .stdout_contains("seen.txt")
        .output_lacks(PASSWORD);
}

// ---- batch mode --------------------------------------------------------------

pub fn batch_full_cycle(kind: Kind) {
    let f = Fixture::new(kind);
    let data = tricky_bytes();
    f.lwrite("local.bin", &data);
    f.seed("/marker.txt", b"m");
    let script = "\
ls
mkdir d
put local.bin d/x.bin
get d/x.bin out.bin
rm d/x.bin
rmdir d
";
    f.batch(&f.url("/"), script)
        .ok()
        .stdout_contains("marker.txt");
    assert_file(&f.lpath("out.bin"), &data, &f.ctx("batch: get after put"));
    assert_missing(&f.spath("/d"), &f.ctx("batch: d removed at the end"));
    assert_file(
        &f.lpath("local.bin"),
        &data,
        &f.ctx("batch: put keeps the local file"),
    );
}

pub fn batch_cd_pwd_and_relative_paths(kind: Kind) {
    let f = Fixture::new(kind);
    let data = tricky_bytes();
    f.lwrite("up.bin", &data);
    f.lwrite("to-move.bin", b"move me");
    f.seed("/base/existing.txt", b"e");
    let copy_url = f.url("/base/copied.bin");
    let moved_url = f.url("/base/work/moved.bin");
    let script = format!(
        "\
pwd
mkdir work
cd work
pwd
put up.bin
put up.bin \"{UNICODE_NAME}\"
ls
cd ..
ls work
cp up.bin {copy_url}
mv to-move.bin {moved_url}
get \"work/{UNICODE_NAME}\" back.bin
"
    );
    // The session starts in /base (the URL's path). A name with a space is
    // quoted as in a shell.
    let run = f.batch(&f.url("/base"), &script);
    run.ok()
        .stdout_contains("/base/work")
        .stdout_contains(UNICODE_NAME)
        .stdout_contains("up.bin");
    assert_file(
        &f.spath("/base/work/up.bin"),
        &data,
        &f.ctx("batch: put keeps the name"),
    );
    assert_file(
        &f.spath(&format!("/base/work/{UNICODE_NAME}")),
        &data,
        &f.ctx("batch: put to a unicode name in the cwd"),
    );
    assert_file(
        &f.spath("/base/copied.bin"),
        &data,
        &f.ctx("batch: cp to a URL"),
    );
    assert_file(
        &f.spath("/base/work/moved.bin"),
        b"move me",
        &f.ctx("batch: mv upload"),
    );
    assert_missing(
        &f.lpath("to-move.bin"),
        &f.ctx("batch: mv removed the local source"),
    );
    assert_file(
        &f.lpath("back.bin"),
        &data,
        &f.ctx("batch: get of a unicode name"),
    );
    assert_file(
        &f.spath("/base/existing.txt"),
        b"e",
        &f.ctx("batch: untouched file"),
    );
}

pub fn batch_stops_at_first_failure(kind: Kind) {
    let f = Fixture::new(kind);
    let script = "\
mkdir first
rm does-not-exist.bin
mkdir never
";
    f.batch(&f.url("/"), script).expect_code(EXIT_REFUSED);
    assert!(
        f.spath("/first").is_dir(),
        "{}",
        f.ctx("batch: command before the failure ran")
    );
    assert_missing(
        &f.spath("/never"),
        &f.ctx("batch: command after the failure did not run"),
    );
}

pub fn batch_failed_put_stops_and_writes_nothing(kind: Kind) {
    // A failed upload in batch mode (into a 0555 directory) stops the batch
    // with exit 5 and writes nothing.
    let f = Fixture::new(kind);
    f.lwrite("local.bin", b"data");
    let ro = f.seed_dir("/ro");
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
    let script = "\
put local.bin ro/local.bin
mkdir after
";
    f.batch(&f.url("/"), script).expect_code(EXIT_REFUSED);
    assert_missing(
        &f.spath("/ro/local.bin"),
        &f.ctx("batch: nothing written in 0555 dir"),
    );
    assert_missing(
        &f.spath("/after"),
        &f.ctx("batch: stopped after the failed put"),
    );
    assert_file(
        &f.lpath("local.bin"),
        b"data",
        &f.ctx("batch: local file kept"),
    );
}

/// The commands people reach for, in one session on each server: `cat`, `chmod` (and
/// `-R`), `quote`, `lls`, `mget -O`, `user` (logging in again), `status`, `!`.
pub fn shell_commands_people_reach_for(kind: Kind) {
    let f = Fixture::new(kind);
    f.seed("/notes.txt", b"notes for the interop suite\n");
    f.seed("/a.txt", b"aaa");
    f.seed("/tree/sub/deep.txt", b"deep");
    f.lwrite("here-locally.txt", b"l");
    let mode = |p: &str| fs::metadata(f.spath(p)).unwrap().permissions().mode() & 0o777;
    let script = format!(
        "\
cat notes.txt
chmod 600 notes.txt
chmod -R 750 tree
quote NOOP
lls
lmkdir got
mget -O got *.txt
user {user} {PASSWORD}
status
!echo bang > bang.txt
",
        user = crate::server::USER
    );
    let run = f.batch(&f.url("/"), &script);
    run.ok()
        .stdout_contains("notes for the interop suite")
        .stdout_contains("chmod -R 750 tree: 3 changed")
        .stdout_contains("200")
        .stdout_contains("here-locally.txt")
        .stdout_contains(&format!("logged in as {}", crate::server::USER))
        .stdout_contains(&format!("user: {}", crate::server::USER));
    assert_eq!(mode("/notes.txt"), 0o600, "{}", f.ctx("chmod 600"));
    for p in ["/tree", "/tree/sub", "/tree/sub/deep.txt"] {
        assert_eq!(mode(p), 0o750, "{}", f.ctx(&format!("chmod -R 750: {p}")));
    }
    assert_file(&f.lpath("got/a.txt"), b"aaa", &f.ctx("mget -O"));
    assert_file(
        &f.lpath("got/notes.txt"),
        b"notes for the interop suite\n",
        &f.ctx("mget -O"),
    );
    assert_file(&f.lpath("bang.txt"), b"bang\n", &f.ctx("!"));
}
