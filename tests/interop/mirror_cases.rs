//! `mirror` (issue 13) and the commands around it (`rm -r`, `mkdir -p`) against the four
//! real servers, instantiated per server by `mirror_on_every_server!` in main.rs
//! (`mirror_vsftpd::<test>`, …); `--checksum` against proftpd with mod_digest in
//! `features`. What was sent is read from the `-v` transcript: a second run sends no
//! `STOR`/`RETR`, a dry run no `MKD`, `STOR`, `DELE`, `RMD`, `RNTO`, `MFMT`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use crate::cases::Fixture;
use crate::client::{assert_file, assert_missing, Run};
use crate::server::{chown_to_ftpuser, Kind, Server};

const EXIT_USAGE: i32 = 2;
const EXIT_REFUSED: i32 = 5;
const OLD_TIME: u64 = 1_500_000_000;

/// Nested and empty directories, names with spaces and non-ASCII letters.
const FILES: &[(&str, &[u8])] = &[
    ("top.txt", b"top"),
    ("a dir/inner file.txt", b"inner with space"),
    (
        "a dir/deeper/\u{fc}n\u{ef}c\u{f6}d\u{e9}.bin",
        b"\x00\x01\r\n\xff",
    ),
    (
        "\u{65e5}\u{672c}/\u{30d5}\u{30a1}\u{30a4}\u{30eb}.txt",
        b"non-ascii",
    ),
];
const EMPTY_DIRS: &[&str] = &["empty", "a dir/empty too"];

fn set_mtime(path: &Path, secs: u64) {
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

/// Writes the sample tree under `root` (a local directory, or a server's directory on disk).
fn write_sample(root: &Path) {
    for (rel, bytes) in FILES {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, bytes).unwrap();
        set_mtime(&p, OLD_TIME);
    }
    for d in EMPTY_DIRS {
        fs::create_dir_all(root.join(d)).unwrap();
    }
}

/// Every path under `root` (directories end in `/`) with the file's bytes, sorted.
fn tree(root: &Path) -> Vec<(String, Option<Vec<u8>>)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Option<Vec<u8>>)>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            if p.is_dir() {
                out.push((format!("{rel}/"), None));
                walk(base, &p, out);
            } else {
                out.push((rel, Some(fs::read(&p).unwrap())));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// How many times the `-v` transcript shows `verb` sent.
fn sent(run: &Run, verb: &str) -> usize {
    run.stdout()
        .lines()
        .filter(|l| {
            l.strip_prefix("> ")
                .is_some_and(|c| c == verb || c.starts_with(&format!("{verb} ")))
        })
        .count()
}

/// The MDTM commands of a run (LIST servers: the times to the second) go out together,
/// pipelined, not one round trip each: no reply is read between the first and the last.
#[track_caller]
fn mdtm_pipelined(run: &Run) {
    let out = run.stdout();
    let lines: Vec<&str> = out.lines().collect();
    let first = lines.iter().position(|l| l.starts_with("> MDTM "));
    let last = lines.iter().rposition(|l| l.starts_with("> MDTM "));
    if let (Some(a), Some(b)) = (first, last) {
        let replies = lines[a..b].iter().filter(|l| l.starts_with("< ")).count();
        run.check(
            replies == 0,
            &format!("{replies} replies read among the MDTMs"),
        );
    }
}

#[track_caller]
fn sent_none(run: &Run, verbs: &[&str]) {
    for verb in verbs {
        let n = sent(run, verb);
        run.check(n == 0, &format!("{n} {verb} sent, expected none"));
    }
}

#[track_caller]
fn sent_n(run: &Run, verb: &str, want: usize) {
    let n = sent(run, verb);
    run.check(n == want, &format!("{n} {verb} sent, expected {want}"));
}

/// Server → local: the tree arrives, a second run transfers nothing, then a changed file,
/// a removed file and a new directory are carried over (with `--delete`) and nothing else.
pub fn mirror_download_then_nothing_then_changes(kind: Kind) {
    let f = Fixture::new(kind);
    write_sample(&f.spath("/site"));
    chown_to_ftpuser(f.server.home());
    let dest = f.lpath("copy");
    let r = f.ftp(&["mirror", &f.url("/site/"), &f.s(&dest)]);
    r.ok().stderr_contains("4 files transferred");
    let same = tree(&dest) == tree(&f.spath("/site"));
    r.check(same, "the local tree equals the server's");
    let r = f.ftp(&["-v", "mirror", &f.url("/site/"), &f.s(&dest)]);
    r.ok();
    sent_none(&r, &["RETR", "STOR", "DELE", "RMD", "MKD"]);
    mdtm_pipelined(&r);
    // A changed file (another size), a removed file, a new directory with a file.
    fs::write(f.spath("/site/top.txt"), b"top, changed").unwrap();
    fs::remove_file(f.spath("/site/a dir/inner file.txt")).unwrap();
    fs::create_dir_all(f.spath("/site/new dir")).unwrap();
    fs::write(f.spath("/site/new dir/n\u{e9}w.txt"), b"new").unwrap();
    chown_to_ftpuser(f.server.home());
    let r = f.ftp(&["-v", "mirror", "--delete", &f.url("/site/"), &f.s(&dest)]);
    r.ok();
    sent_n(&r, "RETR", 2);
    assert_file(&dest.join("top.txt"), b"top, changed", &f.ctx("changed"));
    assert_missing(&dest.join("a dir/inner file.txt"), &f.ctx("removed"));
    assert_file(
        &dest.join("new dir/n\u{e9}w.txt"),
        b"new",
        &f.ctx("new dir"),
    );
    let same = tree(&dest) == tree(&f.spath("/site"));
    r.check(same, "the local tree equals the server's after the changes");
}

/// Server → local over one connection: on the servers known to read commands in turn a
/// file's MDTM (the time the copy keeps) and the next transfer's EPSV ride behind its
/// RETR, and the file's SIZE in front of the next one (`src/ftp/riders.rs`); pyftpdlib
/// gets them one at a time. The tree and every file's time arrive either way.
pub fn mirror_download_rides_with_retr_where_known(kind: Kind) {
    let f = Fixture::new(kind);
    write_sample(&f.spath("/site"));
    chown_to_ftpuser(f.server.home());
    let dest = f.lpath("copy");
    let r = f.ftp(&["-v", "mirror", "-j", "1", &f.url("/site/"), &f.s(&dest)]);
    r.ok().stderr_contains("4 files transferred");
    let same = tree(&dest) == tree(&f.spath("/site"));
    r.check(same, "the local tree equals the server's");
    for (rel, _) in FILES {
        let secs = fs::metadata(dest.join(rel))
            .unwrap()
            .modified()
            .unwrap()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        r.check(secs == OLD_TIME, &format!("{rel} keeps the server's time"));
    }
    let out = r.stdout();
    let lines: Vec<&str> = out.lines().collect();
    let mdtm_rides = lines.windows(2).any(|w| {
        w[0].strip_prefix("> RETR ")
            .is_some_and(|p| w[1] == format!("> MDTM {p}"))
    });
    let size_rides = lines.windows(2).any(|w| {
        w[0].strip_prefix("> SIZE ")
            .is_some_and(|p| w[1] == format!("> RETR {p}"))
    });
    let rides = kind != Kind::Pyftpdlib;
    r.check(mdtm_rides == rides, "MDTM behind RETR only where known");
    r.check(
        size_rides == rides,
        "SIZE in front of RETR only where known",
    );
    r.check(!out.contains("stumbles"), "in step");
}

/// Local → server, the same three runs.
pub fn mirror_upload_then_nothing_then_changes(kind: Kind) {
    let f = Fixture::new(kind);
    let src = f.lpath("site");
    write_sample(&src);
    let r = f.ftp(&["-v", "mirror", &f.s(&src), &f.url("/www")]);
    r.ok().stderr_contains("4 files transferred");
    // A way of setting times the server does not implement is tried once, not per file.
    for verb in ["MFMT", "SITE"] {
        let n = sent(&r, verb);
        r.check(
            n <= 1 || n == FILES.len() && verb == "MFMT",
            &format!("{n} {verb}"),
        );
    }
    let same = tree(&f.spath("/www")) == tree(&src);
    r.check(same, "the server tree equals the local one");
    let r = f.ftp(&["-v", "mirror", &f.s(&src), &f.url("/www")]);
    r.ok();
    sent_none(&r, &["STOR", "RETR", "DELE", "RMD", "MKD", "RNTO"]);
    mdtm_pipelined(&r);
    fs::write(src.join("top.txt"), b"top, changed").unwrap();
    fs::remove_file(src.join("a dir/inner file.txt")).unwrap();
    fs::create_dir_all(src.join("new dir")).unwrap();
    fs::write(src.join("new dir/n\u{e9}w.txt"), b"new").unwrap();
    let r = f.ftp(&["-v", "mirror", "--delete", &f.s(&src), &f.url("/www")]);
    r.ok();
    sent_n(&r, "STOR", 2);
    sent_n(&r, "DELE", 1);
    assert_file(&f.spath("/www/top.txt"), b"top, changed", &f.ctx("changed"));
    assert_missing(&f.spath("/www/a dir/inner file.txt"), &f.ctx("removed"));
    let same = tree(&f.spath("/www")) == tree(&src);
    r.check(
        same,
        "the server tree equals the local one after the changes",
    );
}

/// `--dry-run --delete` both ways: the plan is printed, nothing is sent that changes the
/// server, and neither tree changes.
pub fn mirror_dry_run_changes_nothing(kind: Kind) {
    let f = Fixture::new(kind);
    write_sample(&f.spath("/site"));
    f.seed("/site/only-on-server.txt", b"s");
    chown_to_ftpuser(f.server.home());
    let local = f.lpath("here");
    write_sample(&local);
    fs::write(local.join("only-here.txt"), b"l").unwrap();
    fs::write(local.join("top.txt"), b"local top, longer").unwrap();
    let (server_before, local_before) = (tree(&f.spath("/site")), tree(&local));
    let changing = [
        "STOR", "APPE", "DELE", "RMD", "MKD", "RNFR", "RNTO", "MFMT", "SITE",
    ];
    let up = f.ftp(&[
        "-v",
        "mirror",
        "--dry-run",
        "--delete",
        &f.s(&local),
        &f.url("/site"),
    ]);
    up.ok()
        .stdout_contains("put only-here.txt")
        .stdout_contains("rm only-on-server.txt");
    sent_none(&up, &changing);
    sent_none(&up, &["RETR"]);
    let down = f.ftp(&[
        "-v",
        "mirror",
        "--dry-run",
        "--delete",
        &f.url("/site"),
        &f.s(&local),
    ]);
    down.ok()
        .stdout_contains("get only-on-server.txt")
        .stdout_contains("rm only-here.txt");
    sent_none(&down, &changing);
    sent_none(&down, &["RETR"]);
    let unchanged = tree(&f.spath("/site")) == server_before && tree(&local) == local_before;
    down.check(unchanged, "both trees unchanged by --dry-run");
}

/// `--delete` after a failed transfer deletes nothing: a server file no one may read (mode
/// 000; the servers run the session as ftpuser) fails its RETR, and the local file that
/// `--delete` would remove stays.
pub fn mirror_delete_after_a_failed_transfer_deletes_nothing(kind: Kind) {
    let f = Fixture::new(kind);
    f.seed("/src/ok.txt", b"fine");
    let locked = f.seed("/src/locked.txt", b"no one may read this");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    let dest = f.lpath("dest");
    fs::create_dir_all(&dest).unwrap();
    fs::write(dest.join("stale.txt"), b"would be deleted").unwrap();
    let r = f.ftp(&["-v", "mirror", "--delete", &f.url("/src"), &f.s(&dest)]);
    r.expect_code(EXIT_REFUSED)
        .stderr_contains("nothing deleted");
    assert_file(&dest.join("stale.txt"), b"would be deleted", &f.ctx("kept"));
    assert_file(&dest.join("ok.txt"), b"fine", &f.ctx("the readable file"));
    assert_missing(&dest.join("locked.txt"), &f.ctx("no partial file"));
    // Upload direction: a destination file --delete would remove stays when a listing
    // fails (a server directory no one may enter).
    let src = f.lpath("up");
    fs::create_dir_all(src.join("sub")).unwrap();
    fs::write(src.join("a.txt"), b"a").unwrap();
    fs::write(src.join("sub/b.txt"), b"b").unwrap();
    f.seed("/up/extra.txt", b"extra");
    f.seed("/up/sub/c.txt", b"c");
    fs::set_permissions(f.spath("/up/sub"), fs::Permissions::from_mode(0o000)).unwrap();
    let r = f.ftp(&["mirror", "--delete", &f.s(&src), &f.url("/up")]);
    fs::set_permissions(f.spath("/up/sub"), fs::Permissions::from_mode(0o755)).unwrap();
    r.check(r.code() != Some(0), "the run fails")
        .stderr_contains("nothing deleted");
    assert_file(
        &f.spath("/up/extra.txt"),
        b"extra",
        &f.ctx("kept on the server"),
    );
}

/// `rm -r` removes a tree with spaces and non-ASCII names, refuses the root; `mkdir -p`
/// makes parents and takes an existing directory.
pub fn rm_r_and_mkdir_p(kind: Kind) {
    let f = Fixture::new(kind);
    write_sample(&f.spath("/gone"));
    f.seed("/keep.txt", b"k");
    let r = f.ftp(&["-v", "rm", "-r", &f.url("/gone")]);
    r.ok().stderr_contains("4 files and 6 directories removed");
    assert_missing(&f.spath("/gone"), &f.ctx("rm -r"));
    f.ftp(&["rm", "-r", &f.url("/")])
        .expect_code(EXIT_USAGE)
        .stderr_contains("refusing to remove the root directory");
    assert_file(&f.spath("/keep.txt"), b"k", &f.ctx("root kept"));
    f.ftp(&["mkdir", "-p", &f.url("/p/a b/\u{fc}")]).ok();
    let made = f.spath("/p/a b/\u{fc}").is_dir();
    f.ftp(&["mkdir", "-p", &f.url("/p/a b/\u{fc}")])
        .ok()
        .check(made, "mkdir -p made the tree");
    f.ftp(&["mkdir", "-p", &f.url("/keep.txt/x")])
        .expect_code(EXIT_REFUSED);
    // --create-dirs: an upload into directories that do not exist yet.
    let src = f.lwrite("up.bin", b"\x00up\r\n");
    f.ftp(&["cp", "--create-dirs", &f.s(&src), &f.url("/q/r s/up.bin")])
        .ok();
    assert_file(
        &f.spath("/q/r s/up.bin"),
        b"\x00up\r\n",
        &f.ctx("--create-dirs"),
    );
}

/// proftpd with mod_digest: `--checksum` compares content by the server's hash, so files
/// of equal content and different times are not transferred, either way; a different
/// content of the same size is.
pub fn mirror_checksum_proftpd() {
    let f = Fixture::with_server(Server::start_proftpd_with_digest());
    write_sample(&f.spath("/site"));
    chown_to_ftpuser(f.server.home());
    let local = f.lpath("here");
    write_sample(&local);
    for (rel, _) in FILES {
        set_mtime(&local.join(rel), OLD_TIME + 3600);
    }
    // Same size, other bytes: found by content.
    fs::write(local.join("top.txt"), b"TOP").unwrap();
    set_mtime(&local.join("top.txt"), OLD_TIME);
    let r = f.ftp(&["-v", "mirror", "--checksum", &f.url("/site"), &f.s(&local)]);
    r.ok();
    sent_n(&r, "RETR", 1);
    assert_file(&local.join("top.txt"), b"top", &f.ctx("content differed"));
    for (rel, _) in FILES {
        set_mtime(&local.join(rel), OLD_TIME + 7200);
    }
    let r = f.ftp(&["-v", "mirror", "--checksum", &f.s(&local), &f.url("/site")]);
    r.ok();
    sent_none(&r, &["STOR", "RETR"]);
    let without = f.ftp(&["-v", "mirror", "--dry-run", &f.s(&local), &f.url("/site")]);
    without.ok();
    let lines = without
        .stdout()
        .lines()
        .filter(|l| l.starts_with("put "))
        .count();
    without.check(lines == FILES.len(), "without --checksum the times decide");
}

/// The filters of [`mirror_filters_max_delete_and_an_interrupted_run`].
const FILTERS: &[&str] = &[
    "--exclude",
    "*.log",
    "--exclude",
    "/top.tmp",
    "--exclude",
    "sub/**/*.bak",
    "--exclude",
    "build/",
];

/// Filters (rsync's: `*` within a name, `**` across directories, a leading `/` anchors at
/// the root, a trailing `/` is a directory only), `--max-delete`, and a mirror interrupted
/// halfway (SIGINT) that the next run finishes byte-identical, continuing its part (REST).
pub fn mirror_filters_max_delete_and_an_interrupted_run(kind: Kind) {
    let f = Fixture::new(kind);
    let site = f.spath("/site");
    for (rel, bytes) in [
        ("keep.txt", &b"keep"[..]),
        ("skip.log", b"log"),
        ("top.tmp", b"anchored"),
        ("sub/top.tmp", b"not anchored"),
        ("sub/d1/d2/z.bak", b"deep"),
        ("sub/d1/keep.bin", b"kept"),
        ("build/out.o", b"object"),
        ("sub/build", b"a file named build"),
    ] {
        let p = site.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, bytes).unwrap();
    }
    chown_to_ftpuser(f.server.home());
    let dest = f.lpath("copy");
    let (url, to) = (f.url("/site/"), f.s(&dest).to_string());
    let with_filters = |first: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = first.iter().map(|s| s.to_string()).collect();
        v.extend(FILTERS.iter().map(|s| s.to_string()));
        v.extend([url.clone(), to.clone()]);
        v
    };
    let args = with_filters(&["mirror"]);
    let r = f.ftp(&args.iter().map(String::as_str).collect::<Vec<_>>());
    r.ok();
    let ctx = f.ctx("filters");
    assert_file(&dest.join("keep.txt"), b"keep", &ctx);
    assert_file(&dest.join("sub/top.tmp"), b"not anchored", &ctx);
    assert_file(&dest.join("sub/d1/keep.bin"), b"kept", &ctx);
    assert_file(&dest.join("sub/build"), b"a file named build", &ctx);
    for gone in ["skip.log", "top.tmp", "sub/d1/d2/z.bak", "build"] {
        assert_missing(&dest.join(gone), &ctx);
    }

    // --max-delete: three deletes planned, two allowed: none done, and it says so.
    for extra in ["x1", "x2", "x3"] {
        fs::write(dest.join(extra), b"extra").unwrap();
    }
    let args = with_filters(&["-v", "mirror", "--delete", "--max-delete", "2"]);
    let r = f.ftp(&args.iter().map(String::as_str).collect::<Vec<_>>());
    r.expect_code(EXIT_USAGE)
        .stderr_contains("3 deletes were planned; none done");
    for extra in ["x1", "x2", "x3"] {
        assert_file(&dest.join(extra), b"extra", &f.ctx("max-delete"));
    }

    // Interrupted halfway: a 3 MiB file at 512 KiB/s, SIGINT after 2 s.
    let big: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    fs::write(site.join("big.bin"), &big).unwrap();
    chown_to_ftpuser(f.server.home());
    let mut cmd = std::process::Command::new("timeout");
    cmd.args(["-s", "INT", "2", crate::common::BIN]);
    crate::common::clean_env(&mut cmd, f.local.path());
    let out = cmd
        .current_dir(f.local.path())
        .args(with_filters(&["mirror", "--limit-rate", "512K"]))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0), "the first run was interrupted");
    let part = dest.join(".big.bin.3700ftp-part");
    let kept = fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    assert!(
        kept > 0 && kept < big.len() as u64,
        "[{kind:?}] a part of the file is kept ({kept} bytes): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_missing(&dest.join("big.bin"), &f.ctx("interrupted"));
    let args = with_filters(&["-v", "mirror"]);
    let r = f.ftp(&args.iter().map(String::as_str).collect::<Vec<_>>());
    r.ok();
    sent_n(&r, "REST", 1);
    sent_n(&r, "RETR", 1);
    assert_file(&dest.join("big.bin"), &big, &f.ctx("finished"));
    assert_missing(&part, &f.ctx("the part is gone"));
}
