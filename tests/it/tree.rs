//! The commands around `mirror` (issue 13): `rm -r`, `mkdir -p`, `--create-dirs`, `ls -R`
//! and `du`, against the embedded server (and the scripted one for a directory another
//! client makes at the same moment, curl#968).

use crate::common;
use crate::fake_server;

use std::path::Path;

use common::{ftp, TestServer};

/// Nested and empty directories, names with spaces and non-ASCII letters, a dot file.
fn sample(s: &TestServer, root: &str) {
    s.put(&format!("{root}/top.txt"), b"top");
    s.put(&format!("{root}/a dir/inner file.txt"), b"inner with space");
    s.put(
        &format!("{root}/a dir/deeper/ünïcödé.bin"),
        b"\x00\x01\r\n\xff",
    );
    s.put(&format!("{root}/日本/ファイル.txt"), b"non-ascii");
    s.put(&format!("{root}/.hidden/h"), b"hh");
    std::fs::create_dir_all(s.file(&format!("{root}/empty"))).unwrap();
    std::fs::create_dir_all(s.file(&format!("{root}/a dir/empty too"))).unwrap();
}

fn run(home: &Path, args: &[&str]) -> (i32, String, String) {
    let out = ftp(home).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The commands a `-v` transcript shows sent, verb and argument.
fn sent(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("> "))
        .map(String::from)
        .collect()
}

#[test]
fn rm_r_removes_a_tree_deepest_first_with_one_listing_a_directory() {
    let s = TestServer::start();
    sample(&s, "/site");
    s.put("/keep/k.txt", b"k");
    let home = tempfile::tempdir().unwrap();
    let (code, out, err) = run(home.path(), &["-v", "rm", "-r", &s.url("/site")]);
    assert_eq!(code, 0, "{err}");
    assert!(!s.file("/site").exists());
    assert_eq!(std::fs::read(s.file("/keep/k.txt")).unwrap(), b"k");
    assert!(err.contains("5 files and 7 directories removed"), "{err}");
    let cmds = sent(&out);
    let listings = cmds
        .iter()
        .filter(|c| c.starts_with("MLSD") || c.starts_with("LIST"))
        .count();
    // One of the parent (is /site a link?), then one per directory.
    assert_eq!(listings, 8, "one listing per directory: {cmds:?}");
    // Every RMD comes after the DELE of everything beneath it; the root's is the last.
    let pos = |prefix: &str| cmds.iter().position(|c| c == prefix).unwrap();
    assert!(pos("RMD /site/a dir/deeper") > pos("DELE /site/a dir/deeper/ünïcödé.bin"));
    assert!(pos("RMD /site/a dir") > pos("RMD /site/a dir/deeper"));
    assert!(pos("RMD /site/a dir") > pos("RMD /site/a dir/empty too"));
    let last_rmd = cmds.iter().rposition(|c| c.starts_with("RMD")).unwrap();
    assert_eq!(cmds[last_rmd], "RMD /site");
}

#[test]
fn rm_r_refuses_the_root_and_the_login_directory_unless_forced() {
    let s = TestServer::start();
    s.put("/a/f.txt", b"f");
    let home = tempfile::tempdir().unwrap();
    for url in [s.url("/"), s.url("/a/.."), s.url("//")] {
        let (code, _, err) = run(home.path(), &["rm", "-r", &url]);
        assert_eq!(code, 2, "{url}: {err}");
        assert!(
            err.contains("refusing to remove the root directory"),
            "{err}"
        );
        assert!(err.contains("--force"), "{err}");
        assert!(s.file("/a/f.txt").exists());
    }
    // In a session, the login directory named as `.` or `~`.
    let out = ftp(home.path())
        .arg(s.url("/"))
        .write_stdin("rm -r .\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(s.file("/a/f.txt").exists());
    // --force empties it (the server keeps its root, which is said).
    let (code, _, err) = run(home.path(), &["rm", "-r", "--force", &s.url("/")]);
    assert!(!s.file("/a").exists(), "{err}");
    assert_ne!(code, 2, "{err}");
    assert_eq!(std::fs::read_dir(s.root.path()).unwrap().count(), 0);
}

#[test]
fn rm_r_of_a_file_deletes_it_and_of_nothing_fails() {
    let s = TestServer::start();
    s.put("/f.txt", b"f");
    let home = tempfile::tempdir().unwrap();
    let (code, _, err) = run(home.path(), &["rm", "-r", &s.url("/f.txt")]);
    assert_eq!(code, 0, "{err}");
    assert!(!s.file("/f.txt").exists());
    let (code, _, err) = run(home.path(), &["rm", "-r", &s.url("/missing")]);
    assert_eq!(code, 5, "{err}");
    // Without -r, a directory is not removed; --force alone is a usage error.
    s.put("/d/x", b"x");
    let (code, _, _) = run(home.path(), &["rm", &s.url("/d")]);
    assert_eq!(code, 5);
    let (code, _, err) = run(home.path(), &["rm", "--force", &s.url("/d/x")]);
    assert_eq!(code, 2, "{err}");
    assert!(s.file("/d/x").exists());
}

#[test]
fn rm_r_keeps_every_directory_above_a_file_it_could_not_delete() {
    let server = fake_server::FakeServer::new()
        .login()
        .reply("PWD", "257 \"/\"\r\n")
        .reply("MLSD", "502 not implemented\r\n")
        .list("drwxr-xr-x 3 u g 0 Jan 01 10:00 d\r\n")
        .list("drwxr-xr-x 2 u g 0 Jan 01 10:00 sub\r\n-rw-r--r-- 1 u g 1 Jan 01 10:00 a.txt\r\n")
        .list("-rw-r--r-- 1 u g 1 Jan 01 10:00 locked.txt\r\n")
        .reply("DELE /d/sub/locked.txt", "550 permission denied\r\n")
        .reply("DELE /d/a.txt", "250 deleted\r\n")
        .start();
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .args(["--timeout", "3", "rm", "-r", &server.url("/d")])
        .output()
        .unwrap();
    let t = server.finish();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}\n{t:?}");
    assert!(!t.sent("RMD"), "no RMD above a failure: {t:?}");
    assert!(
        err.contains("1 file and 0 directories removed, 1 failed"),
        "{err}"
    );
    assert!(err.contains("/d/sub/locked.txt"), "{err}");
}

/// A symbolic link to a directory is removed itself: its target is never listed nor emptied.
#[test]
fn rm_r_of_a_link_removes_the_link_not_what_it_points_to() {
    let server = fake_server::FakeServer::new()
        .login()
        .reply("PWD", "257 \"/\"\r\n")
        .reply("MLSD", "502 not implemented\r\n")
        .list("lrwxrwxrwx 1 u g 5 Jan 01 10:00 link -> /data\r\n-rw-r--r-- 1 u g 1 Jan 01 10:00 a.txt\r\n")
        .reply("DELE /d/link", "250 deleted\r\n")
        .start();
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .args(["--timeout", "3", "rm", "-r", &server.url("/d/link")])
        .output()
        .unwrap();
    let t = server.finish();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}\n{t:?}");
    assert_eq!(t.count("LIST"), 1, "only the parent is listed: {t:?}");
    assert!(!t.sent("RMD"), "{t:?}");
}

#[test]
fn mkdir_p_makes_parents_and_an_existing_directory_is_fine() {
    let s = TestServer::start();
    s.put("/file", b"f");
    let home = tempfile::tempdir().unwrap();
    let (code, _, err) = run(home.path(), &["mkdir", "-p", &s.url("/a/b c/ü")]);
    assert_eq!(code, 0, "{err}");
    assert!(s.file("/a/b c/ü").is_dir());
    // Existing: the MKD is refused, the probe finds a directory.
    let (code, out, err) = run(home.path(), &["-v", "mkdir", "-p", &s.url("/a/b c/ü")]);
    assert_eq!(code, 0, "{err}");
    let cmds = sent(&out);
    let mkd = cmds.iter().position(|c| c == "MKD /a/b c/ü").unwrap();
    assert!(cmds[mkd..].iter().any(|c| c == "CWD /a/b c/ü"), "{cmds:?}");
    // Plain mkdir of an existing directory still fails; -p onto a file fails.
    let (code, _, _) = run(home.path(), &["mkdir", &s.url("/a")]);
    assert_eq!(code, 5);
    let (code, _, err) = run(home.path(), &["mkdir", "-p", &s.url("/file/sub")]);
    assert_eq!(code, 5, "{err}");
    let (code, _, err) = run(home.path(), &["mkdir", "-p", &s.url("/file")]);
    assert_eq!(code, 5, "{err}");
    assert!(s.file("/file").is_file());
}

/// curl#968: another client makes the parent between our MKD and our retry. The refused
/// MKD of the parent is followed by a probe, which finds a directory: success.
#[test]
fn mkdir_p_survives_another_client_making_the_parent_at_the_same_moment() {
    let server = fake_server::FakeServer::new()
        .login()
        .reply("MKD /x/y", "550 no such directory\r\n")
        .reply("PWD", "257 \"/\"\r\n")
        .reply("CWD /x/y", "550 no such directory\r\n")
        .reply("MKD /x", "550 already exists\r\n")
        .reply("PWD", "257 \"/\"\r\n")
        .reply("CWD /x", "250 ok\r\n")
        .reply("PWD", "257 \"/x\"\r\n")
        .reply("CWD /", "250 ok\r\n")
        .reply("MKD /x/y", "257 \"/x/y\" created\r\n")
        .start();
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .args(["--timeout", "3", "mkdir", "-p", &server.url("/x/y")])
        .output()
        .unwrap();
    let t = server.finish();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}\n{t:?}");
    assert_eq!(t.commands.iter().filter(|c| *c == "MKD /x/y").count(), 2);
}

#[test]
fn create_dirs_uploads_into_a_directory_that_does_not_exist_yet() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("f.bin"), b"\x00bytes\r\n").unwrap();
    // Without it: refused, nothing made.
    let (code, _, err) = run(home.path(), &["cp", "f.bin", &s.url("/new/deep/f.bin")]);
    assert_eq!(code, 5, "{err}");
    assert!(!s.file("/new").exists());
    let (code, _, err) = run(
        home.path(),
        &["cp", "--create-dirs", "f.bin", &s.url("/new/deep/f.bin")],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read(s.file("/new/deep/f.bin")).unwrap(),
        b"\x00bytes\r\n"
    );
    // Again into the same, existing directories; and put in a session, into a directory.
    let (code, _, err) = run(
        home.path(),
        &["cp", "--create-dirs", "f.bin", &s.url("/new/deep/g.bin")],
    );
    assert_eq!(code, 0, "{err}");
    let out = ftp(home.path())
        .arg(s.url("/"))
        .write_stdin("put --create-dirs f.bin other/sub/\nmkdir -p x/y\n")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(s.file("/other/sub/f.bin").is_file());
    assert!(s.file("/x/y").is_dir());
    // A download with --create-dirs makes the local directories.
    let (code, _, err) = run(
        home.path(),
        &[
            "cp",
            "--create-dirs",
            &s.url("/new/deep/f.bin"),
            "l1/l2/f.bin",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read(home.path().join("l1/l2/f.bin")).unwrap(),
        b"\x00bytes\r\n"
    );
}

#[test]
fn ls_r_lists_the_tree_with_full_paths_and_json() {
    let s = TestServer::start();
    sample(&s, "/site");
    let home = tempfile::tempdir().unwrap();
    let (code, out, err) = run(home.path(), &["ls", "-R", &s.url("/site")]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "/site/a dir",
            "/site/a dir/deeper",
            "/site/a dir/deeper/ünïcödé.bin",
            "/site/a dir/empty too",
            "/site/a dir/inner file.txt",
            "/site/empty",
            "/site/top.txt",
            "/site/日本",
            "/site/日本/ファイル.txt",
        ]
    );
    let (code, out, err) = run(home.path(), &["ls", "-Ra", "--json", &s.url("/site")]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("{\"name\":\"/site/.hidden/h\",\"type\":\"file\",\"size\":2,"),
        "{out}"
    );
    assert!(
        out.contains("{\"name\":\"/site/a dir/deeper\",\"type\":\"dir\","),
        "{out}"
    );
    // 11 entries, then the summary every command ends with under --json.
    assert_eq!(out.lines().count(), 12, "{out}");
    assert!(
        out.lines()
            .last()
            .unwrap()
            .contains("\"record\":\"summary\""),
        "{out}"
    );
    // -l: one line per entry, the same on every server, ending with the path.
    let (code, out, err) = run(home.path(), &["ls", "-Rl", &s.url("/site/a dir")]);
    assert_eq!(code, 0, "{err}");
    let line = out
        .lines()
        .find(|l| l.ends_with(" /site/a dir/inner file.txt"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.split_whitespace().any(|w| w == "16"), "{line}");
    assert_eq!(out.lines().count(), 4, "{out}");
    // In a session, relative to the working directory.
    let out = ftp(home.path())
        .arg(s.url("/site"))
        .write_stdin("ls -R 日本\n")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "日本/ファイル.txt\n");
}

#[test]
fn du_sums_sizes_per_directory_and_s_gives_the_total() {
    let s = TestServer::start();
    sample(&s, "/site");
    let home = tempfile::tempdir().unwrap();
    let (code, out, err) = run(home.path(), &["du", &s.url("/site")]);
    assert_eq!(code, 0, "{err}");
    // 3 + 16 + 5 + 9 + 2 bytes.
    assert_eq!(
        out,
        "2\t/site/.hidden\n\
         5\t/site/a dir/deeper\n\
         0\t/site/a dir/empty too\n\
         21\t/site/a dir\n\
         0\t/site/empty\n\
         9\t/site/日本\n\
         35\t/site\n"
    );
    let (code, out, _) = run(home.path(), &["du", "-s", &s.url("/site")]);
    assert_eq!(code, 0);
    assert_eq!(out, "35\t/site\n");
    s.put("/big/b", &vec![0u8; 1536]);
    let (_, out, _) = run(home.path(), &["du", "-sh", &s.url("/big")]);
    assert_eq!(out, "1.5K\t/big\n");
    let (code, _, _) = run(home.path(), &["du", &s.url("/nothing")]);
    assert_eq!(code, 5);
}

#[test]
fn the_tree_commands_run_in_batch_and_have_help() {
    let s = TestServer::start();
    sample(&s, "/site");
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .arg(s.url("/"))
        .write_stdin("mkdir -p made/here\ndu -s site\nrm -r site\nhelp du\nhelp rm\n")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("35\tsite\n"), "{stdout}");
    assert!(
        stdout.contains("usage: du [-s] [-h] [URL|PATH]"),
        "{stdout}"
    );
    assert!(stdout.contains("--force"), "{stdout}");
    assert!(!s.file("/site").exists());
    assert!(s.file("/made/here").is_dir());
}
