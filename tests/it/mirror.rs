//! `mirror` (issue 13) against the embedded libunftp server: both directions, a second run
//! that transfers nothing, changes, deletes only after a run without failure, --max-delete,
//! --dry-run, filters, and the session forms.

use crate::common;
use crate::fake_server;

use std::path::Path;
use std::time::{Duration, SystemTime};

use common::{ftp, TestServer};

/// Every path under `root` (directories end with `/`) with its content, sorted.
fn tree(root: &Path) -> Vec<(String, Option<Vec<u8>>)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Option<Vec<u8>>)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            if p.is_dir() {
                out.push((format!("{rel}/"), None));
                walk(base, &p, out);
            } else {
                out.push((rel, Some(std::fs::read(&p).unwrap())));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// The tree plus every file's modification time: what "changes nothing" is checked against.
fn state(root: &Path) -> Vec<(String, Option<Vec<u8>>, SystemTime)> {
    tree(root)
        .into_iter()
        .map(|(p, c)| {
            let t = std::fs::metadata(root.join(p.trim_end_matches('/')))
                .unwrap()
                .modified()
                .unwrap();
            (
                p.clone(),
                c,
                if p.ends_with('/') {
                    SystemTime::UNIX_EPOCH
                } else {
                    t
                },
            )
        })
        .collect()
}

fn set_mtime(path: &Path, secs: u64) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

/// Nested and empty directories, names with spaces and non-ASCII letters.
fn sample_tree(root: &Path) {
    let files: &[(&str, &[u8])] = &[
        ("top.txt", b"top"),
        ("a dir/inner file.txt", b"inner with space"),
        ("a dir/deeper/ünïcödé.bin", b"\x00\x01\r\n\xff"),
        ("日本/ファイル.txt", b"non-ascii"),
    ];
    for (path, bytes) in files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        set_mtime(&p, 1_500_000_000);
    }
    std::fs::create_dir_all(root.join("empty")).unwrap();
    std::fs::create_dir_all(root.join("a dir/empty too")).unwrap();
}

fn run(home: &Path, args: &[&str]) -> (bool, String, String) {
    let out = ftp(home).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn sent(stdout: &str, command: &str) -> usize {
    stdout
        .lines()
        .filter(|l| l.starts_with(&format!("> {command} ")) || *l == format!("> {command}"))
        .count()
}

#[test]
fn a_download_mirror_copies_the_tree_and_a_second_run_transfers_nothing() {
    let s = TestServer::start();
    sample_tree(&s.file("/site"));
    let home = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(home.path(), &["mirror", &s.url("/site/"), "copy"]);
    assert!(ok, "{err}");
    assert_eq!(tree(&home.path().join("copy")), tree(&s.file("/site")));
    assert!(err.contains("4 files transferred"), "{err}");
    let got = std::fs::metadata(home.path().join("copy/a dir/deeper/ünïcödé.bin"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        got,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_500_000_000)
    );
    let (ok, out, err) = run(home.path(), &["-v", "mirror", &s.url("/site/"), "copy"]);
    assert!(ok, "{err}");
    assert_eq!(sent(&out, "RETR"), 0, "{out}");
    assert!(err.contains("0 files transferred, 4 skipped"), "{err}");
}

#[test]
fn an_upload_mirror_copies_the_tree_and_a_second_run_transfers_nothing() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    sample_tree(&home.path().join("site"));
    let (ok, _, err) = run(home.path(), &["mirror", "site", &s.url("/deploy/www")]);
    assert!(ok, "{err}");
    assert_eq!(
        tree(&s.file("/deploy/www")),
        tree(&home.path().join("site"))
    );
    let (ok, out, err) = run(
        home.path(),
        &["-v", "mirror", "site", &s.url("/deploy/www")],
    );
    assert!(ok, "{err}");
    assert_eq!(sent(&out, "STOR"), 0, "{out}");
    assert_eq!(sent(&out, "MKD"), 0, "{out}");
    assert!(err.contains("0 files transferred, 4 skipped"), "{err}");
    // A local change is sent again, and only it.
    std::fs::write(home.path().join("site/top.txt"), b"top, edited").unwrap();
    let (ok, out, err) = run(
        home.path(),
        &["-v", "mirror", "site", &s.url("/deploy/www")],
    );
    assert!(ok, "{err}");
    assert_eq!(sent(&out, "STOR"), 1, "{out}");
    assert_eq!(
        std::fs::read(s.file("/deploy/www/top.txt")).unwrap(),
        b"top, edited"
    );
    // Removed locally: a file and a directory tree go from the server with --delete.
    std::fs::remove_dir_all(home.path().join("site/a dir")).unwrap();
    std::fs::write(home.path().join("site/empty/now full.txt"), b"f").unwrap();
    let (ok, out, err) = run(
        home.path(),
        &["-v", "mirror", "--delete", "site", &s.url("/deploy/www")],
    );
    assert!(ok, "{err}");
    assert_eq!(sent(&out, "DELE"), 2, "{out}");
    assert_eq!(sent(&out, "RMD"), 3, "{out}");
    assert_eq!(
        tree(&s.file("/deploy/www")),
        tree(&home.path().join("site"))
    );
}

#[test]
fn changes_removals_and_new_directories_follow_with_delete() {
    let s = TestServer::start();
    sample_tree(&s.file("/site"));
    let home = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(home.path(), &["mirror", &s.url("/site"), "copy"]);
    assert!(ok, "{err}");
    // Changed size, changed time only, removed, a new directory.
    s.put("/site/top.txt", b"top, longer now");
    set_mtime(&s.file("/site/日本/ファイル.txt"), 1_600_000_000);
    std::fs::remove_file(s.file("/site/a dir/inner file.txt")).unwrap();
    std::fs::remove_dir(s.file("/site/empty")).unwrap();
    s.put("/site/new dir/n.txt", b"new");
    let (ok, out, err) = run(
        home.path(),
        &["mirror", "--dry-run", "--delete", &s.url("/site"), "copy"],
    );
    assert!(ok, "{err}");
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "get new dir/n.txt (new)",
            "get top.txt (size)",
            "get 日本/ファイル.txt (time)",
            "mkdir new dir",
            "rm a dir/inner file.txt",
            "rmdir empty",
        ]
    );
    let (ok, _, err) = run(
        home.path(),
        &["mirror", "--delete", &s.url("/site"), "copy"],
    );
    assert!(ok, "{err}");
    assert!(
        err.contains("3 files transferred") && err.contains("1 deleted"),
        "{err}"
    );
    assert_eq!(tree(&home.path().join("copy")), tree(&s.file("/site")));
}

#[test]
fn a_failed_transfer_means_nothing_is_deleted() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("site")).unwrap();
    std::fs::write(home.path().join("site/ok.txt"), b"fine").unwrap();
    std::fs::write(home.path().join("site/blocked.txt"), b"cannot land").unwrap();
    s.put("/www/old.txt", b"to be deleted, later");
    // A directory where the upload's temporary name goes: its STOR fails.
    std::fs::create_dir_all(s.file("/www/.blocked.txt.3700ftp-part")).unwrap();
    let (ok, _, err) = run(home.path(), &["mirror", "--delete", "site", &s.url("/www")]);
    assert!(!ok, "{err}");
    assert!(err.contains("nothing deleted"), "{err}");
    assert!(
        s.file("/www/old.txt").exists(),
        "nothing deleted after a failure"
    );
    assert_eq!(std::fs::read(s.file("/www/ok.txt")).unwrap(), b"fine");
    // Once the obstacle is gone, the same command completes, deletes included.
    std::fs::remove_dir(s.file("/www/.blocked.txt.3700ftp-part")).unwrap();
    let (ok, _, err) = run(home.path(), &["mirror", "--delete", "site", &s.url("/www")]);
    assert!(ok, "{err}");
    assert!(!s.file("/www/old.txt").exists());
    assert_eq!(tree(&s.file("/www")), tree(&home.path().join("site")));
}

#[test]
fn max_delete_stops_every_delete_and_says_how_many_were_planned() {
    let s = TestServer::start();
    s.put("/src/keep.txt", b"k");
    let home = tempfile::tempdir().unwrap();
    for n in ["x1", "x2", "x3"] {
        std::fs::create_dir_all(home.path().join("dst")).unwrap();
        std::fs::write(home.path().join("dst").join(n), b"x").unwrap();
    }
    let out = ftp(home.path())
        .args([
            "mirror",
            "--delete",
            "--max-delete",
            "2",
            &s.url("/src"),
            "dst",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("3 deletes were planned; none done"), "{err}");
    assert_eq!(
        tree(&home.path().join("dst")).len(),
        4,
        "keep.txt came, nothing went"
    );
    let (ok, _, err) = run(
        home.path(),
        &[
            "mirror",
            "-n",
            "--delete",
            "--max-delete",
            "1",
            &s.url("/src"),
            "dst",
        ],
    );
    assert!(ok, "{err}");
    assert!(
        err.contains("3 deletes planned; the run would do none"),
        "{err}"
    );
    let (ok, _, err) = run(
        home.path(),
        &[
            "mirror",
            "--delete",
            "--max-delete",
            "3",
            &s.url("/src"),
            "dst",
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(tree(&home.path().join("dst")).len(), 1);
}

#[test]
fn an_empty_source_does_not_empty_the_destination_unless_allowed() {
    let s = TestServer::start();
    std::fs::create_dir_all(s.file("/empty")).unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("dst")).unwrap();
    std::fs::write(home.path().join("dst/precious"), b"p").unwrap();
    let (ok, _, err) = run(
        home.path(),
        &["mirror", "--delete", &s.url("/empty"), "dst"],
    );
    assert!(!ok);
    assert!(err.contains("the source is empty"), "{err}");
    assert!(home.path().join("dst/precious").exists());
    let (ok, _, err) = run(
        home.path(),
        &[
            "mirror",
            "--delete",
            "--allow-empty-source",
            &s.url("/empty"),
            "dst",
        ],
    );
    assert!(ok, "{err}");
    assert!(!home.path().join("dst/precious").exists());
}

#[test]
fn a_dry_run_changes_nothing_on_either_side() {
    let s = TestServer::start();
    sample_tree(&s.file("/site"));
    s.put("/site/gone-here.txt", b"g");
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("copy");
    sample_tree(&local);
    std::fs::write(local.join("top.txt"), b"different").unwrap();
    std::fs::write(local.join("extra.txt"), b"e").unwrap();
    let (server_before, local_before) = (state(&s.file("/site")), state(&local));
    let (ok, out, err) = run(
        home.path(),
        &["-v", "mirror", "-n", "--delete", &s.url("/site"), "copy"],
    );
    let mut outputs = vec![out.clone()];
    assert!(ok, "{err}");
    assert!(
        out.contains("get top.txt (size)") && out.contains("get gone-here.txt (new)"),
        "{out}"
    );
    assert!(out.contains("rm extra.txt"), "{out}");
    assert_eq!(sent(&out, "RETR"), 0);
    // Upload direction, into a destination that does not exist yet.
    let (ok, out, err) = run(
        home.path(),
        &[
            "-v",
            "mirror",
            "--dry-run",
            "--delete",
            "copy",
            &s.url("/site"),
        ],
    );
    assert!(ok, "{err}");
    assert!(
        out.contains("put top.txt (size)") && out.contains("rm gone-here.txt"),
        "{out}"
    );
    outputs.push(out.clone());
    let (ok, out, err) = run(
        home.path(),
        &["-v", "mirror", "--dry-run", "copy", &s.url("/new/place")],
    );
    assert!(ok, "{err}");
    assert!(
        out.contains("mkdir .") && out.contains("put top.txt (new)"),
        "{out}"
    );
    outputs.push(out.clone());
    for out in &outputs {
        for cmd in ["MKD", "STOR", "DELE", "RMD", "RNFR", "RNTO", "MFMT", "APPE"] {
            assert_eq!(sent(out, cmd), 0, "{cmd} in {out}");
        }
    }
    assert!(!s.file("/new").exists());
    assert_eq!(state(&s.file("/site")), server_before);
    assert_eq!(state(&local), local_before);
}

#[test]
fn filters_leave_paths_out_and_excluded_files_are_not_deleted() {
    let s = TestServer::start();
    for (p, b) in [
        ("/p/keep.log", &b"k"[..]),
        ("/p/drop.log", b"d"),
        ("/p/src/main.rs", b"m"),
        ("/p/src/x.tmp", b"t"),
        ("/p/src/deep/y.tmp", b"t"),
        ("/p/build/out.o", b"o"),
        ("/p/src/build/gen.rs", b"g"),
        ("/p/docs/a.md", b"a"),
        ("/p/docs/sub/b.md", b"b"),
    ] {
        s.put(p, b);
    }
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("c")).unwrap();
    std::fs::write(home.path().join("c/local.tmp"), b"mine").unwrap();
    let (ok, out, err) = run(
        home.path(),
        &[
            "-v",
            "mirror",
            "--delete",
            "--include",
            "keep.log",
            "--exclude",
            "*.log",
            "--exclude",
            "src/**.tmp",
            "--exclude",
            "/build/",
            "--exclude",
            "/docs/*.md",
            "--exclude",
            "local.tmp",
            &s.url("/p"),
            "c",
        ],
    );
    assert!(ok, "{err}");
    let got: Vec<String> = tree(&home.path().join("c"))
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(
        got,
        [
            "docs/",
            "docs/sub/",
            "docs/sub/b.md",
            "keep.log",
            "local.tmp",
            "src/",
            "src/build/",
            "src/build/gen.rs",
            "src/deep/",
            "src/main.rs",
        ]
    );
    // An excluded directory is not listed at all.
    assert!(
        !out.lines()
            .any(|l| l.starts_with("> MLSD") && l.ends_with("/p/build")),
        "{out}"
    );
    // --delete-excluded removes what the filters exclude at the destination.
    let (ok, _, err) = run(
        home.path(),
        &[
            "mirror",
            "--delete-excluded",
            "--exclude",
            "*.tmp",
            &s.url("/p"),
            "c",
        ],
    );
    assert!(ok, "{err}");
    assert!(!home.path().join("c/local.tmp").exists());
    assert!(home.path().join("c/build/out.o").exists());
}

#[test]
fn the_session_forms_download_and_upload_with_r() {
    let s = TestServer::start();
    s.put("/pub/a/one.txt", b"1");
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("up/d")).unwrap();
    std::fs::write(home.path().join("up/d/two.txt"), b"2").unwrap();
    let script = "cd pub\nmirror a got\nmirror -R up sent\nmirror -R -j 2 up sent2\nhelp mirror\n";
    let out = ftp(home.path())
        .arg(s.url("/"))
        .write_stdin(script)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        std::fs::read(home.path().join("got/one.txt")).unwrap(),
        b"1"
    );
    assert_eq!(std::fs::read(s.file("/pub/sent/d/two.txt")).unwrap(), b"2");
    assert_eq!(std::fs::read(s.file("/pub/sent2/d/two.txt")).unwrap(), b"2");
    assert!(
        stdout.contains("usage: mirror [OPTIONS] SRC DST"),
        "{stdout}"
    );
    assert!(stdout.contains("--delete"), "{stdout}");
}

#[test]
fn parallel_download_mirror_moves_every_file() {
    let s = TestServer::start();
    for i in 0..12 {
        s.put(
            &format!("/many/d{}/f{i}.bin", i % 3),
            &vec![i as u8; 10_000 + i],
        );
    }
    let home = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(home.path(), &["mirror", "-j", "3", &s.url("/many"), "m"]);
    assert!(ok, "{err}");
    assert_eq!(tree(&home.path().join("m")), tree(&s.file("/many")));
    let (ok, out, err) = run(
        home.path(),
        &["-v", "mirror", "-j", "3", &s.url("/many"), "m"],
    );
    assert!(ok, "{err}");
    assert_eq!(sent(&out, "RETR"), 0);
}

#[test]
fn usage_errors() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        &["mirror", "a", "b"][..],
        &["mirror", "-R", "a", "ftp://127.0.0.1:1/b"],
        &["mirror", "ftp://127.0.0.1:1/a", "ftp://127.0.0.1:1/b"],
        &[
            "mirror",
            "--size-only",
            "--checksum",
            "ftp://127.0.0.1:1/a",
            "b",
        ],
        &["mirror", "--exclude", "", "ftp://127.0.0.1:1/a", "b"],
    ] {
        let out = ftp(home.path()).args(args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn size_and_age_limits_and_checksum_without_a_server_hash() {
    let s = TestServer::start();
    s.put("/l/big.bin", &vec![1u8; 5000]);
    s.put("/l/small.txt", b"s");
    s.put("/l/old.txt", b"old but fine size");
    set_mtime(&s.file("/l/old.txt"), 1_000_000_000);
    let home = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(
        home.path(),
        &[
            "mirror",
            "--dry-run",
            "--max-size",
            "4K",
            "--min-size",
            "2",
            "--newer-than",
            "2020-01-01",
            &s.url("/l"),
            "c",
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(out, "mkdir .\n", "{out}");
    // --checksum on a server with no hash command: size and time decide, and it says so.
    let (ok, _, err) = run(home.path(), &["mirror", &s.url("/l"), "c"]);
    assert!(ok, "{err}");
    set_mtime(&home.path().join("c/small.txt"), 1_000);
    let (ok, out, err) = run(
        home.path(),
        &["mirror", "-n", "--checksum", &s.url("/l"), "c"],
    );
    assert!(ok, "{err}");
    assert!(err.contains("offers no hash command"), "{err}");
    assert_eq!(out, "get small.txt (time)\n");
}

#[test]
fn hostile_names_from_the_server_are_skipped_as_cp_r_skips_them() {
    let listing = "-rw-r--r-- 1 ftp ftp 4 Jan 01 2024 good.txt\r\n\
                   -rw-r--r-- 1 ftp ftp 4 Jan 01 2024 ../escape.txt\r\n\
                   -rw-r--r-- 1 ftp ftp 4 Jan 01 2024 /tmp/absolute.txt\r\n\
                   -rw-r--r-- 1 ftp ftp 4 Jan 01 2024 a\\b.txt\r\n\
                   drwxr-xr-x 2 ftp ftp 4096 Jan 01 2024 ..\r\n\
                   lrwxrwxrwx 1 ftp ftp 4 Jan 01 2024 link -> /etc\r\n";
    let server = fake_server::FakeServer::new()
        .size(4)
        .login()
        .reply("MLSD", "502 not implemented\r\n")
        .list(listing)
        .retr(b"good")
        .start();
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .args(["--timeout", "5", "mirror", &server.url("/dir"), "dest"])
        .output()
        .unwrap();
    let t = server.finish();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\n{t:?}");
    let got: Vec<String> = tree(home.path()).into_iter().map(|(p, _)| p).collect();
    assert_eq!(got, ["dest/", "dest/good.txt"]);
    assert_eq!(stderr.matches("unsafe name").count(), 3, "{stderr}");
    assert!(stderr.contains("not following symbolic link"), "{stderr}");
    let retrs: Vec<&String> = t
        .commands
        .iter()
        .filter(|c| c.starts_with("RETR"))
        .collect();
    assert_eq!(retrs, ["RETR /dir/good.txt"], "{t:?}");
}

#[test]
fn a_file_is_not_a_tree() {
    let s = TestServer::start();
    s.put("/f.txt", b"f");
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("local.txt"), b"l").unwrap();
    let (ok, _, err) = run(home.path(), &["mirror", &s.url("/f.txt"), "d"]);
    assert!(!ok);
    assert!(err.contains("not a directory"), "{err}");
    assert!(!home.path().join("d").exists());
    let (ok, _, err) = run(home.path(), &["mirror", "local.txt", &s.url("/up")]);
    assert!(!ok);
    assert!(err.contains("not a directory"), "{err}");
    assert!(!s.file("/up").exists());
}

#[test]
fn only_newer_and_ignore_existing_keep_destination_files() {
    let s = TestServer::start();
    s.put("/o/a.txt", b"server a");
    s.put("/o/b.txt", b"server b");
    set_mtime(&s.file("/o/a.txt"), 1_500_000_000);
    set_mtime(&s.file("/o/b.txt"), 1_500_000_000);
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("o");
    std::fs::create_dir_all(&local).unwrap();
    std::fs::write(local.join("a.txt"), b"edited here, newer").unwrap();
    std::fs::write(local.join("b.txt"), b"older here").unwrap();
    set_mtime(&local.join("a.txt"), 1_600_000_000);
    set_mtime(&local.join("b.txt"), 1_400_000_000);
    let (ok, out, err) = run(
        home.path(),
        &["mirror", "-n", "--only-newer", &s.url("/o"), "o"],
    );
    assert!(ok, "{err}");
    assert_eq!(out, "get b.txt (size)\n");
    let (ok, out, err) = run(
        home.path(),
        &["mirror", "-n", "--ignore-existing", &s.url("/o"), "o"],
    );
    assert!(ok, "{err}");
    assert_eq!(out, "");
    let (ok, _, err) = run(home.path(), &["mirror", "--only-newer", &s.url("/o"), "o"]);
    assert!(ok, "{err}");
    assert_eq!(
        std::fs::read(local.join("a.txt")).unwrap(),
        b"edited here, newer"
    );
    assert_eq!(std::fs::read(local.join("b.txt")).unwrap(), b"server b");
}

/// Bytes no two offsets of which repeat in a short cycle (a resume from a wrong offset shows).
fn big_bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i % 251) as u8 ^ seed ^ (i >> 16) as u8)
        .collect()
}

/// Starts `3700ftp ARGS` slowed by --limit-rate, waits until `part` holds some bytes, then
/// sends SIGINT (what Ctrl-C sends) and waits for the exit.
fn interrupt_when_part_grows(home: &Path, args: &[&str], part: &dyn Fn() -> u64) {
    let mut full = vec!["--limit-rate", "1M"];
    full.extend_from_slice(args);
    let child = common::command(home)
        .args(&full)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while part() < 256 * 1024 {
        assert!(std::time::Instant::now() < deadline, "the part never grew");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, _) = common::signal(child, Duration::ZERO, "-INT");
    assert!(code.is_some_and(|c| c != 0), "{code:?}");
}

fn len_of(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// The sizes of the RESTs sent.
fn rests(stdout: &str) -> Vec<u64> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("> REST "))
        .filter_map(|n| n.trim().parse().ok())
        .collect()
}

#[test]
fn an_interrupted_download_mirror_continues_its_part_and_restarts_a_changed_source() {
    let s = TestServer::start();
    let big = big_bytes(6 << 20, 0);
    s.put("/site/a.txt", b"small");
    s.put("/site/sub/big.bin", &big);
    s.put("/site/gone.bin", b"x");
    let home = tempfile::tempdir().unwrap();
    let copy = home.path().join("copy");
    // A leftover part of a file no longer in the source, from some earlier run.
    std::fs::create_dir_all(copy.join("sub")).unwrap();
    std::fs::write(copy.join("sub/.old.bin.3700ftp-part"), b"stale").unwrap();
    let part = copy.join("sub/.big.bin.3700ftp-part");
    let p = part.clone();
    interrupt_when_part_grows(home.path(), &["mirror", &s.url("/site/"), "copy"], &|| {
        len_of(&p)
    });
    let kept = len_of(&part);
    assert!(kept > 0 && kept < big.len() as u64, "{kept}");
    assert!(!copy.join("sub/big.bin").exists());
    let (ok, out, err) = run(home.path(), &["-v", "mirror", &s.url("/site/"), "copy"]);
    assert!(ok, "{err}");
    let rest = rests(&out);
    assert!(rest.len() == 1 && rest[0] >= kept, "{kept} {rest:?}\n{out}");
    // Only the interrupted file is fetched (a.txt and gone.bin came before big.bin).
    assert_eq!(sent(&out, "RETR"), 1, "{out}");
    assert_eq!(tree(&copy), tree(&s.file("/site")));
    assert!(!part.exists());

    // Interrupted again, then the source changes: the part is not continued.
    s.put("/site/sub/big.bin", &big_bytes(6 << 20, 7));
    std::fs::remove_file(copy.join("sub/big.bin")).unwrap();
    let p = part.clone();
    interrupt_when_part_grows(home.path(), &["mirror", &s.url("/site/"), "copy"], &|| {
        len_of(&p)
    });
    assert!(part.exists());
    let changed = big_bytes(5 << 20, 9);
    s.put("/site/sub/big.bin", &changed);
    // A source time after the part's: started over.
    set_mtime(&s.file("/site/sub/big.bin"), 4_000_000_000);
    let (ok, out, err) = run(home.path(), &["-v", "mirror", &s.url("/site/"), "copy"]);
    assert!(ok, "{err}");
    assert!(rests(&out).iter().all(|&r| r == 0), "{out}");
    assert_eq!(std::fs::read(copy.join("sub/big.bin")).unwrap(), changed);
    assert_eq!(tree(&copy), tree(&s.file("/site")));
}

#[test]
fn an_interrupted_upload_mirror_appends_to_its_part_and_restarts_a_changed_source() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let src = home.path().join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("a.txt"), b"small").unwrap();
    let big = big_bytes(6 << 20, 3);
    std::fs::write(src.join("sub/big.bin"), &big).unwrap();
    set_mtime(&src.join("sub/big.bin"), 1_500_000_000);
    let part = s.file("/site/sub/.big.bin.3700ftp-part");
    let p = part.clone();
    interrupt_when_part_grows(home.path(), &["mirror", "src", &s.url("/site/")], &|| {
        len_of(&p)
    });
    let kept = len_of(&part);
    assert!(kept > 0 && kept < big.len() as u64, "{kept}");
    let (ok, out, err) = run(home.path(), &["-v", "mirror", "src", &s.url("/site/")]);
    assert!(ok, "{err}");
    assert!(
        sent(&out, "APPE") == 1 || rests(&out).iter().any(|&r| r > 0),
        "{out}"
    );
    assert_eq!(sent(&out, "STOR"), 0, "{out}");
    assert_eq!(tree(&s.file("/site")), tree(&src));

    // Interrupted again, then the local file changes: the part is not continued.
    let changed = big_bytes(6 << 20, 5);
    std::fs::write(src.join("sub/big.bin"), &changed).unwrap();
    // Later than the upload (times are compared to the second).
    set_mtime(&src.join("sub/big.bin"), 3_000_000_000);
    let p = part.clone();
    interrupt_when_part_grows(home.path(), &["mirror", "src", &s.url("/site/")], &|| {
        len_of(&p)
    });
    assert!(part.exists());
    let newer = big_bytes(5 << 20, 11);
    std::fs::write(src.join("sub/big.bin"), &newer).unwrap();
    set_mtime(&src.join("sub/big.bin"), 4_000_000_000);
    let (ok, out, err) = run(home.path(), &["-v", "mirror", "src", &s.url("/site/")]);
    assert!(ok, "{err}");
    assert_eq!((sent(&out, "APPE"), sent(&out, "STOR")), (0, 1), "{out}");
    assert_eq!(std::fs::read(s.file("/site/sub/big.bin")).unwrap(), newer);
    assert!(!part.exists());
}

#[cfg(unix)]
#[test]
fn follow_symlinks_uploads_what_links_point_to_inside_the_tree_only() {
    use std::os::unix::fs::symlink;
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let src = home.path().join("src");
    std::fs::create_dir_all(src.join("real")).unwrap();
    std::fs::write(src.join("real/f.txt"), b"real file").unwrap();
    std::fs::create_dir_all(home.path().join("outside")).unwrap();
    std::fs::write(home.path().join("outside/secret"), b"not in the tree").unwrap();
    symlink("real", src.join("link_dir")).unwrap();
    symlink("real/f.txt", src.join("link_file")).unwrap();
    symlink("../outside", src.join("out_dir")).unwrap();
    symlink("../outside/secret", src.join("out_file")).unwrap();
    symlink("..", src.join("real/up")).unwrap();
    symlink("nowhere", src.join("broken")).unwrap();

    // Without the option: links skipped with a warning.
    let (ok, _, err) = run(home.path(), &["mirror", "src", &s.url("/plain/")]);
    assert!(ok, "{err}");
    assert!(err.contains("skipping symbolic link"), "{err}");
    assert_eq!(common::names(&s.file("/plain")), ["real"]);

    let (ok, _, err) = run(
        home.path(),
        &["mirror", "--follow-symlinks", "src", &s.url("/site/")],
    );
    assert!(ok, "{err}");
    let site = s.file("/site");
    assert_eq!(common::names(&site), ["link_dir", "link_file", "real"]);
    assert_eq!(std::fs::read(site.join("link_file")).unwrap(), b"real file");
    assert_eq!(
        std::fs::read(site.join("link_dir/f.txt")).unwrap(),
        b"real file"
    );
    assert!(!site.join("real/up").exists() && !site.join("link_dir/up").exists());
    assert!(err.contains("points out of the tree"), "{err}");
    assert!(err.contains("a loop"), "{err}");
    assert!(err.contains("points nowhere"), "{err}");
    // A second run transfers nothing.
    let (ok, out, err) = run(
        home.path(),
        &["-v", "mirror", "--follow-symlinks", "src", &s.url("/site/")],
    );
    assert!(ok, "{err}");
    assert_eq!(sent(&out, "STOR"), 0, "{out}");
}

#[test]
fn j_lists_directories_over_several_connections() {
    let s = TestServer::start();
    for d in ["d1", "d2", "d3 x", "d4"] {
        for sub in ["s", "t"] {
            s.put(&format!("/pub/tree/{d}/{sub}/f.txt"), d.as_bytes());
        }
    }
    let home = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(home.path(), &["mirror", &s.url("/pub/tree/"), "m"]);
    assert!(ok, "{err}");
    assert_eq!(tree(&home.path().join("m")), tree(&s.file("/pub/tree")));
    // Nothing to transfer: the extra logins are the listings' alone.
    let before = s.logins();
    let (ok, out, err) = run(
        home.path(),
        &["-v", "mirror", "-j", "3", &s.url("/pub/tree/"), "m"],
    );
    assert!(ok, "{err}");
    assert_eq!(sent(&out, "RETR"), 0, "{out}");
    assert!(err.contains("0 files transferred, 8 skipped"), "{err}");
    assert_eq!(s.logins() - before, 3, "{out}");
    // In a session, relative to its directory: the new logins start elsewhere.
    let script = "cd pub\nmirror -j 3 tree got\nmirror -R -j 3 got tree\n";
    let out = ftp(home.path())
        .arg(s.url("/"))
        .write_stdin(script)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(tree(&home.path().join("got")), tree(&s.file("/pub/tree")));
    assert!(
        stderr.contains("0 files transferred, 8 skipped"),
        "{stderr}"
    );
}
