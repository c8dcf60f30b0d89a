//! Issue 5 features against the embedded server: resume, progress suppression, and more.

use crate::common;

use std::time::{Duration, SystemTime};

use common::{ftp, TestServer};

fn sample(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(7919) >> 3) as u8)
        .collect()
}

fn set_mtime(path: &std::path::Path, when: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(when)
        .unwrap();
}

#[test]
fn resumed_download_is_byte_identical_and_sends_rest() {
    let s = TestServer::start();
    let full = sample(1_000_000);
    s.put("/big.bin", &full);
    let home = tempfile::tempdir().unwrap();
    let dest = home.path().join("big.bin");
    std::fs::write(&dest, &full[..400_000]).unwrap();
    let out = ftp(home.path())
        .args(["-v", "cp", "-c", &s.url("/big.bin"), "big.bin"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("> REST 400000"), "{text}");
    assert!(std::fs::read(&dest).unwrap() == full);
}

#[test]
fn resumed_upload_is_byte_identical() {
    let s = TestServer::start();
    let full = sample(700_000);
    let home = tempfile::tempdir().unwrap();
    let src = home.path().join("up.bin");
    std::fs::write(&src, &full).unwrap();
    set_mtime(&src, SystemTime::now() - Duration::from_secs(3600));
    // An interrupted upload leaves its part under the temporary name; -c continues that.
    s.put("/.up.bin.3700ftp-part", &full[..300_000]);
    let out = ftp(home.path())
        .args(["-v", "cp", "--continue", "up.bin", &s.url("/up.bin")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("> APPE /.up.bin.3700ftp-part") || text.contains("> REST 300000"),
        "{text}"
    );
    assert!(std::fs::read(s.file("/up.bin")).unwrap() == full);
    assert!(!s.file("/.up.bin.3700ftp-part").exists());
}

#[test]
fn inplace_resumed_upload_continues_the_final_name() {
    let s = TestServer::start();
    let full = sample(400_000);
    let home = tempfile::tempdir().unwrap();
    let src = home.path().join("up.bin");
    std::fs::write(&src, &full).unwrap();
    set_mtime(&src, SystemTime::now() - Duration::from_secs(3600));
    s.put("/up.bin", &full[..100_000]);
    let out = ftp(home.path())
        .args(["-v", "cp", "-c", "--inplace", "up.bin", &s.url("/up.bin")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("> APPE /up.bin") || text.contains("> REST 100000"),
        "{text}"
    );
    assert!(!text.contains("RNTO"), "{text}");
    assert!(std::fs::read(s.file("/up.bin")).unwrap() == full);
}

#[test]
fn an_upload_lands_under_a_temporary_name_then_is_renamed_over_the_old_file() {
    let s = TestServer::start();
    s.put("/doc.txt", b"the old version, longer than the new one");
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("doc.txt"), b"new version").unwrap();
    let out = ftp(home.path())
        .args(["-v", "cp", "doc.txt", &s.url("/doc.txt")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("> STOR /.doc.txt.3700ftp-part"), "{text}");
    assert!(!text.contains("> STOR /doc.txt"), "{text}");
    let rnto = text.find("> RNTO /doc.txt").expect("renamed into place");
    assert!(
        text.find("> SIZE /.doc.txt.3700ftp-part").unwrap() < rnto,
        "proven before the rename: {text}"
    );
    assert_eq!(std::fs::read(s.file("/doc.txt")).unwrap(), b"new version");
    assert!(!s.file("/.doc.txt.3700ftp-part").exists());
}

#[test]
fn mv_c_onto_a_same_size_unrelated_file_copies_again_before_deleting() {
    // Download: the local file has the remote size and is newer, but other bytes.
    let s = TestServer::start();
    s.put("/report.txt", b"the real report!");
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("report.txt");
    std::fs::write(&local, b"something else!!").unwrap();
    set_mtime(&local, SystemTime::now() + Duration::from_secs(3600));
    let out = ftp(home.path())
        .args(["mv", "-c", &s.url("/report.txt"), "report.txt"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&local).unwrap(), b"the real report!");
    assert!(!s.file("/report.txt").exists());

    // Upload: the remote file has the local size, other bytes.
    let s = TestServer::start();
    s.put("/up.txt", b"remote bytes....");
    let src = home.path().join("up.txt");
    std::fs::write(&src, b"the local bytes!").unwrap();
    let out = ftp(home.path())
        .args(["mv", "-c", "up.txt", &s.url("/up.txt")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(s.file("/up.txt")).unwrap(),
        b"the local bytes!"
    );
    assert!(!src.exists());
}

#[test]
fn cp_c_onto_a_same_size_file_skips_and_says_on_what_evidence() {
    let s = TestServer::start();
    s.put("/same.txt", b"0123456789");
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("same.txt"), b"abcdefghij").unwrap();
    let out = ftp(home.path())
        .args(["cp", "-c", &s.url("/same.txt"), "same.txt"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("by size and time") && err.contains("no hash"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn a_download_keeps_the_replaced_files_mode_and_a_new_one_follows_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let s = TestServer::start();
    s.put("/secret.txt", b"new secret");
    let home = tempfile::tempdir().unwrap();
    let dest = home.path().join("secret.txt");
    std::fs::write(&dest, b"old").unwrap();
    std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o600)).unwrap();
    ftp(home.path())
        .args(["cp", &s.url("/secret.txt"), "secret.txt"])
        .assert()
        .success();
    assert_eq!(std::fs::read(&dest).unwrap(), b"new secret");
    assert_eq!(
        std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // A new file under umask 077 is 0600, not 0644.
    let bin = assert_cmd::cargo::cargo_bin("3700ftp");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 077 && exec '{}' cp '{}' fresh.txt",
            bin.display(),
            s.url("/secret.txt")
        ))
        .current_dir(home.path())
        .env("HOME", home.path())
        .env_remove("NETRC")
        .status()
        .unwrap();
    assert!(status.success());
    let mode = std::fs::metadata(home.path().join("fresh.txt"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[cfg(unix)]
#[test]
fn a_fifo_destination_is_written_through_and_stays_a_fifo() {
    use std::os::unix::fs::FileTypeExt;
    let s = TestServer::start();
    let content = sample(200_000);
    s.put("/data.bin", &content);
    let home = tempfile::tempdir().unwrap();
    let fifo = home.path().join("pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    ftp(home.path())
        .args(["cp", &s.url("/data.bin"), "pipe"])
        .assert()
        .success();
    assert_eq!(reader.join().unwrap(), content);
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
    // mv would delete the source for a copy that is not kept: refused, source kept.
    ftp(home.path())
        .args(["mv", &s.url("/data.bin"), "pipe"])
        .assert()
        .code(6);
    assert!(s.file("/data.bin").exists());
}

#[cfg(unix)]
#[test]
fn a_symlinked_destination_is_written_through_by_cp_and_cp_c_alike() {
    let s = TestServer::start();
    let content = sample(30_000);
    s.put("/f.bin", &content);
    let home = tempfile::tempdir().unwrap();
    let real = home.path().join("real.bin");
    std::fs::write(&real, &content[..10_000]).unwrap();
    let link = home.path().join("link.bin");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    for args in [vec!["cp", "-c"], vec!["cp"]] {
        let mut all = args.clone();
        let url = s.url("/f.bin");
        all.extend([url.as_str(), "link.bin"]);
        ftp(home.path()).args(&all).assert().success();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink(),
            "{args:?}"
        );
        assert_eq!(std::fs::read(&real).unwrap(), content, "{args:?}");
    }
}

#[test]
fn a_name_of_250_bytes_downloads() {
    let s = TestServer::start();
    let name = format!("{}.txt", "n".repeat(246));
    s.put(&format!("/{name}"), b"long name");
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .args(["cp", &s.url(&format!("/{name}")), "."])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(home.path().join(&name)).unwrap(),
        b"long name"
    );
}

#[test]
fn a_complete_destination_transfers_nothing() {
    let s = TestServer::start();
    let full = sample(10_000);
    s.put("/done.bin", &full);
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("done.bin"), &full).unwrap();
    let out = ftp(home.path())
        .args(["-v", "cp", "-c", &s.url("/done.bin"), "."])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already complete"));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("RETR"));
}

#[test]
fn a_changed_source_starts_over_instead_of_splicing() {
    let s = TestServer::start();
    let new = sample(50_000);
    s.put("/changed.bin", &new);
    let home = tempfile::tempdir().unwrap();
    let dest = home.path().join("changed.bin");
    // A partial written long before the remote file last changed: a different file.
    std::fs::write(&dest, vec![0xAAu8; 20_000]).unwrap();
    set_mtime(&dest, SystemTime::now() - Duration::from_secs(86_400));
    let out = ftp(home.path())
        .args(["cp", "-c", &s.url("/changed.bin"), "changed.bin"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("starting over"));
    assert!(std::fs::read(&dest).unwrap() == new);
}

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let s = TestServer::start();
    s.put("/p.bin", &sample(300_000));
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .args(["cp", &s.url("/p.bin"), "p.bin"])
        .assert()
        .success()
        .stderr("")
        .stdout("");
}

use crate::fake_server;

fn tree(root: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(base: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            if p.is_dir() {
                out.push(format!("{rel}/"));
                walk(base, &p, out);
            } else {
                out.push(rel);
            }
        }
    }
    walk(root, root, &mut out);
    out.sort();
    out
}

#[test]
fn wildcards_download_upload_and_delete_matching_files() {
    let s = TestServer::start();
    s.put("/logs/a.log", b"a");
    s.put("/logs/b.log", b"bb");
    s.put("/logs/c.txt", b"c");
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join("got")).unwrap();
    let out = ftp(home.path())
        .args(["cp", &s.url("/logs/*.log"), "got"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(tree(&home.path().join("got")), ["a.log", "b.log"]);
    // Local wildcards (quoted from the shell, expanded by 3700ftp) upload into a directory.
    std::fs::create_dir_all(s.file("/up")).unwrap();
    ftp(home.path())
        .args(["cp", "got/*.log", &s.url("/up/")])
        .assert()
        .success();
    assert_eq!(tree(&s.file("/up")), ["a.log", "b.log"]);
    // rm with a pattern deletes the matches only.
    ftp(home.path())
        .args(["rm", &s.url("/logs/*.log")])
        .assert()
        .success();
    assert_eq!(tree(&s.file("/logs")), ["c.txt"]);
    // A pattern that matches nothing is an error.
    ftp(home.path())
        .args(["rm", &s.url("/logs/*.zip")])
        .assert()
        .code(5);
    ftp(home.path())
        .args(["cp", &s.url("/logs/*.zip"), "got"])
        .assert()
        .code(5);
    // A percent-encoded star is a literal star: no such file.
    ftp(home.path())
        .args(["rm", &s.url("/logs/%2A.txt")])
        .assert()
        .code(5);
    assert!(s.file("/logs/c.txt").exists());
}

#[test]
fn quoted_wildcards_in_a_session_are_literal() {
    let s = TestServer::start();
    s.put("/d/star*.txt", b"literal");
    s.put("/d/starX.txt", b"other");
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .arg(s.url("/d"))
        .write_stdin("get 'star*.txt' one.txt\nget star\\*.txt two.txt\nget star?.txt\n")
        .assert()
        .success();
    assert_eq!(
        std::fs::read(home.path().join("one.txt")).unwrap(),
        b"literal"
    );
    assert_eq!(
        std::fs::read(home.path().join("two.txt")).unwrap(),
        b"literal"
    );
    assert_eq!(
        std::fs::read(home.path().join("starX.txt")).unwrap(),
        b"other"
    );
    assert!(
        home.path().join("star*.txt").exists(),
        "star? matches both names"
    );
}

#[test]
fn a_nested_tree_copies_both_ways_and_mv_r_empties_the_source() {
    let s = TestServer::start();
    s.put("/src/top.txt", b"top");
    s.put("/src/sub/deeper/leaf.bin", &sample(70_000));
    s.put("/src/sub/mid.txt", b"mid");
    std::fs::create_dir_all(s.file("/src/empty")).unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .args(["cp", "-r", &s.url("/src"), "."])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("3 files"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = [
        "empty/",
        "sub/",
        "sub/deeper/",
        "sub/deeper/leaf.bin",
        "sub/mid.txt",
        "top.txt",
    ];
    assert_eq!(tree(&home.path().join("src")), expected);
    assert!(std::fs::read(home.path().join("src/sub/deeper/leaf.bin")).unwrap() == sample(70_000));
    // Upload the copy back as a new tree, then move it back down with mv -r.
    ftp(home.path())
        .args(["cp", "-r", "src", &s.url("/copy")])
        .assert()
        .success();
    assert_eq!(tree(&s.file("/copy")), expected);
    ftp(home.path())
        .args(["mv", "-r", &s.url("/copy"), "moved"])
        .assert()
        .success();
    assert_eq!(tree(&home.path().join("moved")), expected);
    assert!(
        !s.file("/copy").exists(),
        "mv -r removed the emptied source tree"
    );
    // Into a directory that does not exist: every file fails, and nothing local is lost.
    ftp(home.path())
        .args(["mv", "-r", "moved", &s.url("/nowhere/x/")])
        .assert()
        .code(5);
    assert_eq!(tree(&home.path().join("moved")), expected);
    std::fs::create_dir(s.file("/back")).unwrap();
    ftp(home.path())
        .args(["mv", "-r", "moved", &s.url("/back/")])
        .assert()
        .success();
    assert!(!home.path().join("moved").exists());
    assert_eq!(tree(&s.file("/back/moved")), expected);
}

#[test]
fn parallel_transfers_move_every_file() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let src = home.path().join("many");
    std::fs::create_dir(&src).unwrap();
    for i in 0..200 {
        std::fs::write(
            src.join(format!("f{i:03}.dat")),
            format!("file {i} ").repeat(i + 1),
        )
        .unwrap();
    }
    let out = ftp(home.path())
        .args(["cp", "-r", "-j", "4", "many", &s.url("/")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("200 files"));
    assert!(
        s.logins() >= 2,
        "several connections were used: {}",
        s.logins()
    );
    for i in 0..200 {
        let name = format!("f{i:03}.dat");
        assert_eq!(
            std::fs::read(s.file(&format!("/many/{name}"))).unwrap(),
            std::fs::read(src.join(&name)).unwrap()
        );
    }
    std::fs::create_dir(home.path().join("down")).unwrap();
    ftp(home.path())
        .args(["cp", "-j", "4", &s.url("/many/*.dat"), "down"])
        .assert()
        .success();
    assert_eq!(tree(&home.path().join("down")).len(), 200);
    for i in 0..200 {
        let name = format!("f{i:03}.dat");
        assert_eq!(
            std::fs::read(home.path().join("down").join(&name)).unwrap(),
            std::fs::read(src.join(&name)).unwrap()
        );
    }
}

#[test]
fn hostile_names_from_the_server_are_never_written_outside_the_destination() {
    let listing = "-rw-r--r-- 1 ftp ftp 4 Jan 01 2024 good.txt\r\n\
                   -rw-r--r-- 1 ftp ftp 4 Jan 01 2024 ../escape.txt\r\n\
                   -rw-r--r-- 1 ftp ftp 4 Jan 01 2024 /tmp/absolute.txt\r\n\
                   -rw-r--r-- 1 ftp ftp 4 Jan 01 2024 a\\b.txt\r\n\
                   drwxr-xr-x 2 ftp ftp 4096 Jan 01 2024 ..\r\n\
                   lrwxrwxrwx 1 ftp ftp 4 Jan 01 2024 link -> /etc\r\n";
    let server = fake_server::FakeServer::new()
        .login()
        .reply("MLSD", "502 not implemented\r\n")
        .list(listing)
        .retr(b"good")
        .start();
    let home = tempfile::tempdir().unwrap();
    let dest = home.path().join("dest");
    std::fs::create_dir(&dest).unwrap();
    let out = ftp(home.path())
        .args(["cp", "-r", &server.url("/dir"), "dest"])
        .output()
        .unwrap();
    let t = server.finish();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\n{t:?}");
    assert_eq!(tree(&dest), ["dir/", "dir/good.txt"]);
    assert_eq!(
        tree(home.path()),
        ["dest/", "dest/dir/", "dest/dir/good.txt"]
    );
    assert!(stderr.contains("unsafe name"), "{stderr}");
    assert!(stderr.contains("not following symbolic link"), "{stderr}");
    assert_eq!(t.count("RETR"), 1, "{t:?}");
}

const HOSTILE_WILDCARD_LISTING: &str = "-rw-r--r-- 1 ftp ftp 4 Jan 01 2024 good.txt\r\n\
     -rw-r--r-- 1 ftp ftp 4 Jan 01 2024 ../victim.txt\r\n\
     -rw-r--r-- 1 ftp ftp 4 Jan 01 2024 sub/x.txt\r\n\
     -rw-r--r-- 1 ftp ftp 4 Jan 01 2024 /etc/passwd.txt\r\n";

/// Runs `args` (with the URL of `/dir/*.txt` appended after `verb`) against a server that
/// lists [`HOSTILE_WILDCARD_LISTING`] and answers `then` for the one safe name; returns the
/// commands of `verb_cmd` the client sent. Every run must succeed and warn about the two
/// unsafe matches (`*` does not match a leading dot, as in a shell, so `../victim.txt` is
/// not even a match).
fn hostile_wildcard_run(
    then: fake_server::FakeServer,
    home: &std::path::Path,
    verb: &str,
    rest: &[&str],
    verb_cmd: &str,
) -> Vec<String> {
    let server = then.start();
    let pattern = server.url("/dir/*.txt");
    let mut args = vec!["--timeout", "3", verb, pattern.as_str()];
    args.extend_from_slice(rest);
    let out = ftp(home).args(&args).output().unwrap();
    let t = server.finish();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\n{t:?}");
    assert_eq!(stderr.matches("unsafe name").count(), 2, "{stderr}");
    t.commands
        .into_iter()
        .filter(|c| c.starts_with(verb_cmd))
        .collect()
}

fn hostile_wildcard_server() -> fake_server::FakeServer {
    fake_server::FakeServer::new()
        .login()
        .reply("MLSD", "502 not implemented\r\n")
        .list(HOSTILE_WILDCARD_LISTING)
}

#[test]
fn wildcard_rm_never_deletes_a_name_the_listing_did_not_give() {
    let home = tempfile::tempdir().unwrap();
    let server = hostile_wildcard_server().reply("DELE /dir/good.txt", "250 deleted\r\n");
    let deletes = hostile_wildcard_run(server, home.path(), "rm", &[], "DELE");
    assert_eq!(deletes, ["DELE /dir/good.txt"]);
}

#[test]
fn wildcard_download_never_fetches_a_name_the_listing_did_not_give() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join("dest")).unwrap();
    let server = hostile_wildcard_server().retr(b"good");
    let retrs = hostile_wildcard_run(server, home.path(), "cp", &["dest"], "RETR");
    assert_eq!(retrs, ["RETR /dir/good.txt"]);
    assert_eq!(tree(home.path()), ["dest/", "dest/good.txt"]);
}

#[test]
fn active_mode_round_trip_with_eprt_and_a_port_range() {
    let s = TestServer::start();
    s.put("/act/in.bin", &sample(300_000));
    let home = tempfile::tempdir().unwrap();
    let lo = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let range = format!("{lo}-{}", lo.saturating_add(20));
    let out = ftp(home.path())
        .args([
            "-v",
            "--active",
            "--port-range",
            &range,
            "cp",
            &s.url("/act/in.bin"),
            "in.bin",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("> EPRT |1|127.0.0.1|"), "{text}");
    assert!(!text.contains("> EPSV"), "{text}");
    assert!(std::fs::read(home.path().join("in.bin")).unwrap() == sample(300_000));
    ftp(home.path())
        .args(["--active", "cp", "in.bin", &s.url("/act/back.bin")])
        .assert()
        .success();
    assert!(std::fs::read(s.file("/act/back.bin")).unwrap() == sample(300_000));
    // The session toggle.
    ftp(home.path())
        .arg(s.url("/act"))
        .write_stdin("active on\nls\nget back.bin b2.bin\nactive\nls\n")
        .assert()
        .success();
    assert!(home.path().join("b2.bin").exists());
}

#[test]
fn eprt_refused_falls_back_to_port() {
    let server = fake_server::FakeServer::new()
        .login()
        .reply("EPRT", "500 EPRT not understood\r\n")
        .reply("PORT", "200 PORT ok\r\n")
        .start();
    let home = tempfile::tempdir().unwrap();
    // The fake server answers nothing more useful; what matters is that PORT followed the
    // refused EPRT.
    let out = ftp(home.path())
        .args(["--active", "--timeout", "2", "ls", "-l", &server.url("/")])
        .output()
        .unwrap();
    let t = server.finish();
    assert!(out.status.code().is_some_and(|c| c != 0), "{t:?}");
    let eprt = t
        .commands
        .iter()
        .position(|c| c.starts_with("EPRT |1|127.0.0.1|"));
    let port = t
        .commands
        .iter()
        .position(|c| c.starts_with("PORT 127,0,0,1,"));
    assert!(eprt.is_some() && port > eprt, "{t:?}");
}

/// A server that answers EPRT, then connects to the client from 127.0.0.2, not from the
/// control connection's address.
#[test]
fn an_active_data_connection_from_another_address_is_refused() {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (control, _) = listener.accept().unwrap();
        control
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut out = control.try_clone().unwrap();
        let mut lines = BufReader::new(control);
        out.write_all(b"220 hi\r\n").unwrap();
        let mut target = None;
        let mut connected_from_elsewhere = false;
        loop {
            let mut line = String::new();
            if lines.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            let verb = line.split(' ').next().unwrap_or("").trim().to_string();
            let reply: &[u8] = match verb.as_str() {
                "USER" => b"230 in\r\n",
                "EPRT" => {
                    let p: u16 = line
                        .trim()
                        .trim_end_matches('|')
                        .rsplit('|')
                        .next()
                        .unwrap()
                        .parse()
                        .unwrap();
                    target = Some(p);
                    b"200 ok\r\n"
                }
                "LIST" => {
                    let sock = socket_from("127.0.0.2", target.unwrap());
                    connected_from_elsewhere = sock.is_some();
                    b"150 here\r\n"
                }
                "ABOR" => b"226 aborted\r\n",
                "QUIT" => {
                    let _ = out.write_all(b"221 bye\r\n");
                    break;
                }
                _ => b"200 ok\r\n",
            };
            out.write_all(reply).unwrap();
        }
        connected_from_elsewhere
    });
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .args([
            "--active",
            "--timeout",
            "5",
            "ls",
            "-l",
            &format!("ftp://127.0.0.1:{port}/"),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("refused a data connection from 127.0.0.2"),
        "{stderr}"
    );
    assert!(
        server.join().unwrap(),
        "the server did connect from 127.0.0.2"
    );
}

fn socket_from(source: &str, port: u16) -> Option<std::net::TcpStream> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).ok()?;
    let from: std::net::SocketAddr = format!("{source}:0").parse().unwrap();
    socket.bind(&from.into()).ok()?;
    let to: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    socket.connect(&to.into()).ok()?;
    Some(socket.into())
}

#[test]
fn mv_never_deletes_the_source_of_a_copy_that_failed_single_or_parallel() {
    for parallel in ["1", "4"] {
        let s = TestServer::start();
        for name in ["a.txt", "b.txt", "c.txt", "d.txt", "e.txt"] {
            s.put(&format!("/in/{name}"), name.as_bytes());
        }
        let home = tempfile::tempdir().unwrap();
        // c.txt cannot be written here: a directory has its name.
        std::fs::create_dir(home.path().join("c.txt")).unwrap();
        let out = ftp(home.path())
            .args(["mv", "-j", parallel, &s.url("/in/*.txt"), "."])
            .output()
            .unwrap();
        assert!(!out.status.success(), "-j {parallel}");
        assert!(
            s.file("/in/c.txt").exists(),
            "-j {parallel}: the failed copy's source stays"
        );
        for name in ["a.txt", "b.txt", "d.txt", "e.txt"] {
            assert!(
                !s.file(&format!("/in/{name}")).exists(),
                "-j {parallel}: {name} moved"
            );
            assert_eq!(
                std::fs::read(home.path().join(name)).unwrap(),
                name.as_bytes()
            );
        }
        // One file, the same way: c.txt/c.txt is a directory too.
        std::fs::create_dir(home.path().join("c.txt/c.txt")).unwrap();
        let out = ftp(home.path())
            .args(["mv", &s.url("/in/c.txt"), "c.txt"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(s.file("/in/c.txt").exists());
    }
}

#[test]
fn cat_and_cp_dash_stream_a_file_both_ways() {
    let s = TestServer::start();
    let content = sample(300_000);
    s.put("/in.bin", &content);
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .args(["cat", &s.url("/in.bin")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout == content,
        "cat writes the exact bytes to a pipe"
    );
    let out = ftp(home.path())
        .args(["cp", &s.url("/in.bin"), "-"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout == content);
    // Upload from stdin: stored under the temporary name, renamed at the end.
    let out = ftp(home.path())
        .args(["-v", "cp", "-", &s.url("/from-stdin.bin")])
        .write_stdin(content.clone())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("> STOR /.from-stdin.bin.3700ftp-part"),
        "{text}"
    );
    assert!(std::fs::read(s.file("/from-stdin.bin")).unwrap() == content);
    assert!(!s.file("/.from-stdin.bin.3700ftp-part").exists());
    // mv with '-' makes no sense: a usage error.
    ftp(home.path())
        .args(["mv", &s.url("/in.bin"), "-"])
        .assert()
        .code(2);
}

#[test]
fn names_longer_than_255_bytes_are_skipped_with_a_warning() {
    let long = "n".repeat(300);
    let listing = format!(
        "-rw-r--r-- 1 ftp ftp 4 Jan 01 2024 good.txt\r\n\
         -rw-r--r-- 1 ftp ftp 4 Jan 01 2024 {long}.txt\r\n\
         drwxr-xr-x 2 ftp ftp 4096 Jan 01 2024 {long}\r\n"
    );
    let server = fake_server::FakeServer::new()
        .login()
        .reply("MLSD", "502 not implemented\r\n")
        .list(listing)
        .retr(b"good")
        .start();
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .args(["--timeout", "3", "cp", "-r", &server.url("/dir"), "dest"])
        .output()
        .unwrap();
    let t = server.finish();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\n{t:?}");
    assert_eq!(
        stderr.matches("longer than 255 bytes").count(),
        2,
        "{stderr}"
    );
    assert!(stderr.len() < 1000, "warnings stay short: {stderr}");
    assert_eq!(tree(&home.path().join("dest")), ["good.txt"]);
    let listed = t.count("LIST");
    assert_eq!(listed, 1, "the long directory is not entered: {t:?}");
}

#[test]
fn a_tree_deeper_than_the_limit_copies_what_is_within_it() {
    let s = TestServer::start();
    s.put("/deep/top.txt", b"top");
    let deep = "/d".repeat(70);
    s.put(&format!("/deep{deep}/bottom.txt"), b"bottom");
    s.put("/deep/d/d/near.txt", b"near");
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .args(["cp", "-r", &s.url("/deep"), "copy"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("deeper than 64 levels"), "{stderr}");
    let copy = home.path().join("copy");
    assert_eq!(std::fs::read(copy.join("top.txt")).unwrap(), b"top");
    assert_eq!(std::fs::read(copy.join("d/d/near.txt")).unwrap(), b"near");
    assert!(!copy.join(format!(".{deep}/bottom.txt")).exists());
}

#[test]
fn a_local_tree_deeper_than_the_limit_uploads_what_is_within_it() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let src = home.path().join("src");
    let deep = "d/".repeat(70);
    std::fs::create_dir_all(src.join(&deep)).unwrap();
    std::fs::write(src.join(&deep).join("bottom.txt"), b"bottom").unwrap();
    std::fs::write(src.join("top.txt"), b"top").unwrap();
    let out = ftp(home.path())
        .args(["cp", "-r", "src", &s.url("/up")])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("deeper than 64 levels"), "{stderr}");
    assert_eq!(std::fs::read(s.file("/up/top.txt")).unwrap(), b"top");
    assert!(s.file("/up/d/d/d").is_dir());
}

#[test]
fn a_new_connection_sends_its_setup_in_one_round_trip() {
    let s = TestServer::start();
    s.put("/p.bin", b"pipelined");
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .args(["-v", "cp", &s.url("/p.bin"), "p.bin"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // FEAT went with USER; TYPE I, MODE S and STRU F are written together, before any of
    // their replies, and with them the download's SIZE and EPSV (RETR goes out one round
    // trip after login).
    assert!(text.contains("> USER alice\n> FEAT\n<"), "{text}");
    assert!(
        text.contains("> TYPE I\n> MODE S\n> STRU F\n> SIZE /p.bin\n> EPSV\n<"),
        "{text}"
    );
    assert_eq!(
        std::fs::read(home.path().join("p.bin")).unwrap(),
        b"pipelined"
    );
}

#[test]
fn passive_on_means_passive_and_off_means_active() {
    let s = TestServer::start();
    s.put("/p/a.txt", b"a");
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .arg(s.url("/p"))
        .write_stdin("passive off\nverbose on\nls\nverbose off\npassive on\nverbose on\nls\n")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("passive mode off (active)"), "{text}");
    assert!(text.contains("passive mode on"), "{text}");
    let (first, second) = text.split_once("passive mode on").unwrap();
    assert!(
        first.contains("> EPRT") || first.contains("> PORT"),
        "{first}"
    );
    assert!(!first.contains("> EPSV"), "{first}");
    assert!(second.contains("> EPSV"), "{second}");
    assert!(!second.contains("> EPRT"), "{second}");
}

#[test]
fn a_remote_directory_named_without_a_slash() {
    let s = TestServer::start();
    std::fs::create_dir_all(s.file("/upload")).unwrap();
    s.put("/pub/docs/a.txt", b"a");
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("f.txt"), b"file").unwrap();
    // An upload onto an existing directory goes inside it.
    ftp(home.path())
        .args(["cp", "f.txt", &s.url("/upload")])
        .assert()
        .success();
    assert_eq!(std::fs::read(s.file("/upload/f.txt")).unwrap(), b"file");
    ftp(home.path())
        .arg(s.url("/"))
        .write_stdin("put f.txt pub/docs\ncd pub\nput f.txt new.txt\n")
        .assert()
        .success();
    assert_eq!(std::fs::read(s.file("/pub/docs/f.txt")).unwrap(), b"file");
    assert_eq!(std::fs::read(s.file("/pub/new.txt")).unwrap(), b"file");
    // A bare put names the working directory: nothing to probe.
    let out = ftp(home.path())
        .arg(s.url("/upload"))
        .write_stdin("verbose on\nput f.txt\n")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("> CWD f.txt"), "{text}");
    // A download of a directory says what to type.
    ftp(home.path())
        .args(["cp", &s.url("/pub/docs"), "."])
        .assert()
        .failure()
        .stderr(predicates::str::contains("docs is a directory: use cp -r"));
    ftp(home.path())
        .arg(s.url("/pub"))
        .write_stdin("get docs\n")
        .assert()
        .failure()
        .stderr(predicates::str::contains("docs is a directory: use get -r"));
    assert!(!home.path().join("docs").exists());
}

/// A gate in front of `s`: the first control connection is passed through, every later one
/// is refused with `421 Too many connections` (vsftpd's max_per_ip). Returns its port.
fn one_connection_gate(s: &TestServer) -> u16 {
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    let target = format!("127.0.0.1:{}", s.port);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut first = true;
        for client in listener.incoming() {
            let Ok(mut client) = client else { break };
            if !first {
                let _ = client.write_all(b"421 Too many connections (1) from this IP\r\n");
                continue;
            }
            first = false;
            let server = TcpStream::connect(&target).unwrap();
            let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let mut server = server;
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c2, &mut server);
                let _ = server.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s2, &mut client);
                let _ = client.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    port
}

#[test]
fn a_wildcard_by_default_backs_off_to_the_one_connection_the_server_allows() {
    let s = TestServer::start();
    for i in 0..5 {
        s.put(&format!("/many/f{i}.dat"), format!("file {i}").as_bytes());
    }
    let gate = one_connection_gate(&s);
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join("down")).unwrap();
    // No -j: multi-file operations use 4 connections by default; the listing's connection
    // is one, the server refuses the other three, and every file still arrives.
    let url = s.url("/many/*.dat").replace(
        &format!("127.0.0.1:{}/", s.port),
        &format!("127.0.0.1:{gate}/"),
    );
    let out = ftp(home.path())
        .args(["cp", &url, "down"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for i in 0..5 {
        assert_eq!(
            std::fs::read(home.path().join(format!("down/f{i}.dat"))).unwrap(),
            format!("file {i}").as_bytes()
        );
    }
    assert!(
        stderr.contains("the server accepted 1 of 4 connections; continued with 1"),
        "{stderr}"
    );
    // -j 1 opens no other connection, so nothing is refused.
    let again = one_connection_gate(&s);
    let url = url.replace(&format!(":{gate}/"), &format!(":{again}/"));
    let out = ftp(home.path())
        .args(["cp", "-j", "1", &url, "down"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("accepted"), "{stderr}");
}

#[test]
fn a_segmented_copy_where_the_server_allows_one_connection_arrives_over_that_one() {
    // The extra logins of a single-file `--segments` start early, while the first
    // connection asks for the size: refused (421), they must leave that one to fetch
    // every range, and say so.
    let s = TestServer::start();
    let data: Vec<u8> = (0..3 * 1024 * 1024 + 777)
        .map(|i| (i % 251) as u8)
        .collect();
    s.put("/big.bin", &data);
    let gate = one_connection_gate(&s);
    let home = tempfile::tempdir().unwrap();
    let url = s.url("/big.bin").replace(
        &format!("127.0.0.1:{}/", s.port),
        &format!("127.0.0.1:{gate}/"),
    );
    let out = ftp(home.path())
        .args(["cp", "--segments", "4", &url, "big.bin"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(std::fs::read(home.path().join("big.bin")).unwrap() == data);
    assert!(
        stderr.contains("the server accepted 1 of 3 connections; continued with 1"),
        "{stderr}"
    );
    assert!(!home.path().join(".big.bin.3700ftp-part").exists());
}
