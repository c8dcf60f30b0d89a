//! One-shot mode against the embedded real server: every operation, binary-exact round
//! trips, odd names, credentials, and every failure path with its exit code and with
//! nothing lost.

use crate::common;

use common::{ftp, names, tricky_bytes, TestServer, PASSWORD, USER};
use predicates::prelude::*;

fn sent_commands(stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("> "))
        .map(|l| l.split(' ').next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn ls_prints_the_listing() {
    let s = TestServer::start();
    s.put("/pub/hello.txt", b"hi");
    s.put("/pub/sub dir/x", b"x");
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .args(["ls", &s.url("/pub")])
        .assert()
        .success()
        .stdout(predicate::str::contains("hello.txt").and(predicate::str::contains("sub dir")))
        .stdout(predicate::str::contains("\r").not());
}

#[test]
fn ls_sends_only_the_commands_it_needs() {
    let s = TestServer::start();
    s.put("/pub/hello.txt", b"hi");
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .args(["-v", "ls", &s.url("/pub")])
        .output()
        .unwrap();
    assert!(out.status.success());
    // FEAT rides with USER and OPTS UTF8 ON with PASS (each in the same write): the
    // features cost no round trip of their own.
    assert_eq!(
        sent_commands(&out.stdout),
        ["USER", "FEAT", "PASS", "OPTS", "EPSV", "LIST", "QUIT"]
    );
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("> USER alice\n> FEAT\n<"), "{log}");
    assert!(log.contains("> PASS ****\n> OPTS UTF8 ON\n<"), "{log}");
    // --json wants exact facts: MLSD, where the server has it (-v is on stderr then).
    let out = ftp(home.path())
        .args(["-v", "ls", "--json", &s.url("/pub")])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        sent_commands(&out.stderr),
        ["USER", "FEAT", "PASS", "OPTS", "EPSV", "MLSD", "QUIT"]
    );
    let out = ftp(home.path())
        .args(["-v", "ls", "-l", &s.url("/pub")])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        sent_commands(&out.stdout),
        ["USER", "FEAT", "PASS", "OPTS", "EPSV", "LIST", "QUIT"]
    );
}

#[test]
fn ls_shows_names_long_lines_or_json() {
    let s = TestServer::start();
    s.put("/pub/a file.txt", b"12345");
    std::fs::create_dir_all(s.file("/pub/sub")).unwrap();
    let home = tempfile::tempdir().unwrap();
    let names = ftp(home.path())
        .args(["ls", &s.url("/pub")])
        .output()
        .unwrap();
    let mut lines: Vec<String> = String::from_utf8_lossy(&names.stdout)
        .lines()
        .map(String::from)
        .collect();
    lines.sort();
    assert_eq!(lines, ["a file.txt", "sub"]);
    let long = ftp(home.path())
        .args(["ls", "-l", &s.url("/pub")])
        .output()
        .unwrap();
    let long = String::from_utf8_lossy(&long.stdout).into_owned();
    assert!(
        long.lines()
            .any(|l| l.starts_with('-') && l.ends_with(" a file.txt")),
        "{long}"
    );
    assert!(
        long.lines()
            .any(|l| l.starts_with('d') && l.ends_with(" sub")),
        "{long}"
    );
    let json = ftp(home.path())
        .args(["ls", &s.url("/pub"), "--json"])
        .output()
        .unwrap();
    let json = String::from_utf8_lossy(&json.stdout).into_owned();
    assert!(
        json.contains("{\"name\":\"a file.txt\",\"type\":\"file\",\"size\":5,"),
        "{json}"
    );
    assert!(
        json.contains("{\"name\":\"sub\",\"type\":\"dir\""),
        "{json}"
    );
    // Two entries, then the command's summary record.
    assert_eq!(json.lines().count(), 3);
    assert!(
        json.lines()
            .last()
            .unwrap()
            .contains("\"record\":\"summary\""),
        "{json}"
    );
}

#[test]
fn listed_names_with_del_c1_or_bidi_characters_are_escaped() {
    let s = TestServer::start();
    s.put("/d/del\x7fname", b"1");
    s.put("/d/csi\u{9b}2J", b"2");
    s.put("/d/invoice\u{202e}fdp.exe", b"3");
    let home = tempfile::tempdir().unwrap();
    let names = ftp(home.path())
        .args(["ls", &s.url("/d")])
        .output()
        .unwrap();
    let mut lines: Vec<String> = String::from_utf8_lossy(&names.stdout)
        .lines()
        .map(String::from)
        .collect();
    lines.sort();
    assert_eq!(lines, ["csi?2J", "del?name", "invoice?fdp.exe"]);
    let json = ftp(home.path())
        .args(["ls", "--json", &s.url("/d")])
        .output()
        .unwrap();
    let json = String::from_utf8_lossy(&json.stdout).into_owned();
    for escaped in ["del\\u007fname", "csi\\u009b2J", "invoice\\u202efdp.exe"] {
        assert!(json.contains(escaped), "{escaped} in {json}");
    }
    assert!(
        !json.contains(['\x7f', '\u{9b}', '\u{202e}']),
        "raw in {json:?}"
    );
}

#[test]
fn ls_of_a_file_shows_its_entry() {
    let s = TestServer::start();
    s.put("/pub/one.txt", b"1");
    s.put("/pub/two.txt", b"2");
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .args(["ls", &s.url("/pub/one.txt")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("one.txt") && !text.contains("two.txt"),
        "{text}"
    );
}

#[test]
fn ls_of_a_missing_directory_fails() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .args(["ls", &s.url("/no/such/dir")])
        .assert()
        .code(5)
        .stderr(predicate::str::starts_with(
            "3700ftp: ls /no/such/dir: server said 5",
        ));
}

#[test]
fn ls_of_an_empty_directory_succeeds_with_no_output() {
    let s = TestServer::start();
    std::fs::create_dir_all(s.file("/empty")).unwrap();
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .args(["ls", &s.url("/empty")])
        .assert()
        .success()
        .stdout("");
}

#[test]
fn mkdir_and_rmdir() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .args(["mkdir", &s.url("/newdir")])
        .assert()
        .success();
    assert!(s.file("/newdir").is_dir());
    ftp(home.path())
        .args(["mkdir", &s.url("/newdir")])
        .assert()
        .code(5);
    ftp(home.path())
        .args(["rmdir", &s.url("/newdir")])
        .assert()
        .success();
    assert!(!s.file("/newdir").exists());
}

#[test]
fn rmdir_of_a_non_empty_directory_fails_and_keeps_it() {
    let s = TestServer::start();
    s.put("/full/keep.txt", b"keep");
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .args(["rmdir", &s.url("/full")])
        .assert()
        .code(5)
        .stderr(predicate::str::starts_with(
            "3700ftp: rmdir /full: server said",
        ));
    assert_eq!(std::fs::read(s.file("/full/keep.txt")).unwrap(), b"keep");
}

#[test]
fn rm_deletes_a_file_and_fails_on_a_missing_one() {
    let s = TestServer::start();
    s.put("/dir/x.txt", b"x");
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .args(["rm", &s.url("/dir/x.txt")])
        .assert()
        .success();
    assert!(!s.file("/dir/x.txt").exists());
    ftp(home.path())
        .args(["rm", &s.url("/dir/x.txt")])
        .assert()
        .code(5)
        .stderr(predicate::str::starts_with(
            "3700ftp: rm /dir/x.txt: server said 550",
        ));
}

#[test]
fn upload_and_download_are_binary_exact() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let bytes = tricky_bytes();
    std::fs::write(home.path().join("tricky.bin"), &bytes).unwrap();
    ftp(home.path())
        .args(["cp", "tricky.bin", &s.url("/tricky.bin")])
        .assert()
        .success();
    assert_eq!(std::fs::read(s.file("/tricky.bin")).unwrap(), bytes);
    ftp(home.path())
        .args(["cp", &s.url("/tricky.bin"), "back.bin"])
        .assert()
        .success();
    assert_eq!(std::fs::read(home.path().join("back.bin")).unwrap(), bytes);
}

#[test]
fn a_larger_file_round_trips() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let bytes: Vec<u8> = (0..5_000_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(home.path().join("big.bin"), &bytes).unwrap();
    ftp(home.path())
        .args(["cp", "big.bin", &s.url("/big.bin")])
        .assert()
        .success();
    ftp(home.path())
        .args(["cp", &s.url("/big.bin"), "big2.bin"])
        .assert()
        .success();
    assert!(std::fs::read(home.path().join("big2.bin")).unwrap() == bytes);
}

#[test]
fn empty_files_both_ways() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("empty"), b"").unwrap();
    ftp(home.path())
        .args(["cp", "empty", &s.url("/empty")])
        .assert()
        .success();
    assert_eq!(std::fs::read(s.file("/empty")).unwrap(), b"");
    ftp(home.path())
        .args(["cp", &s.url("/empty"), "empty2"])
        .assert()
        .success();
    assert_eq!(std::fs::read(home.path().join("empty2")).unwrap(), b"");
}

#[test]
fn names_with_spaces_and_non_ascii_letters() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("grüße und so.txt"), b"hallo").unwrap();
    let url = s.url("/d%C3%AEr%20x/gr%C3%BC%C3%9Fe%20und%20so.txt");
    std::fs::create_dir_all(s.file("/dîr x")).unwrap();
    ftp(home.path())
        .args(["cp", "grüße und so.txt", &url])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(s.file("/dîr x/grüße und so.txt")).unwrap(),
        b"hallo"
    );
    ftp(home.path())
        .args(["cp", &url, "copy ö.txt"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(home.path().join("copy ö.txt")).unwrap(),
        b"hallo"
    );
    ftp(home.path())
        .args(["ls", &s.url("/d%C3%AEr%20x/")])
        .assert()
        .success()
        .stdout(predicate::str::contains("grüße und so.txt"));
}

#[test]
fn a_directory_destination_keeps_the_file_name() {
    let s = TestServer::start();
    s.put("/pub/report.pdf", b"%PDF");
    std::fs::create_dir_all(s.file("/inbox")).unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join("downloads")).unwrap();
    ftp(home.path())
        .args(["cp", &s.url("/pub/report.pdf"), "downloads"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(home.path().join("downloads/report.pdf")).unwrap(),
        b"%PDF"
    );
    ftp(home.path())
        .args(["cp", "downloads/report.pdf", &s.url("/inbox/")])
        .assert()
        .success();
    assert_eq!(std::fs::read(s.file("/inbox/report.pdf")).unwrap(), b"%PDF");
}

#[test]
fn anonymous_login_works() {
    let s = TestServer::start();
    s.put("/pub/a.txt", b"a");
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .args(["-v", "ls", &s.anon_url("/pub")])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("> USER anonymous"), "{text}");
    assert!(text.contains("> PASS ****"), "{text}");
}

#[test]
fn wrong_password_is_a_login_error() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let url = format!("ftp://{USER}:wrong@127.0.0.1:{}/x.bin", s.port);
    ftp(home.path())
        .args(["cp", &url, "x.bin"])
        .assert()
        .code(4)
        .stderr(
            predicate::str::contains("login incorrect")
                .and(predicate::str::contains("wrong").not()),
        );
    assert_eq!(names(home.path()), Vec::<String>::new());
}

#[test]
fn verbose_shows_both_directions_and_masks_the_password() {
    let s = TestServer::start();
    s.put("/f.txt", b"f");
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .args(["cp", &s.url("/f.txt"), "f.txt", "--verbose"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("> USER alice"));
    assert!(stdout.contains("> PASS ****"));
    assert!(stdout.contains("< 230"));
    assert!(stdout.contains("> RETR /f.txt"));
    for stream in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(stream);
        assert!(!text.contains(PASSWORD), "password leaked: {text}");
        assert!(
            !text.contains(common::PASSWORD_ENCODED),
            "password leaked: {text}"
        );
    }
    let sent = sent_commands(&out.stdout);
    assert_eq!(sent.iter().filter(|c| *c == "TYPE").count(), 1);
}

#[test]
fn mv_upload_deletes_the_local_file_only_after_the_copy() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("m.txt"), b"move me").unwrap();
    ftp(home.path())
        .args(["mv", "m.txt", &s.url("/m.txt")])
        .assert()
        .success();
    assert_eq!(std::fs::read(s.file("/m.txt")).unwrap(), b"move me");
    assert!(!home.path().join("m.txt").exists());
}

#[test]
fn mv_download_deletes_the_remote_file_after_the_copy() {
    let s = TestServer::start();
    s.put("/m.txt", b"move me");
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .args(["mv", &s.url("/m.txt"), "."])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(home.path().join("m.txt")).unwrap(),
        b"move me"
    );
    assert!(!s.file("/m.txt").exists());
}

#[test]
fn mv_to_a_missing_remote_directory_keeps_the_local_file() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("keep.txt"), b"precious").unwrap();
    ftp(home.path())
        .args(["mv", "keep.txt", &s.url("/no/such/dir/keep.txt")])
        .assert()
        .code(5)
        .stderr(predicate::str::starts_with("3700ftp: mv "));
    assert_eq!(
        std::fs::read(home.path().join("keep.txt")).unwrap(),
        b"precious"
    );
}

#[test]
fn mv_of_a_missing_remote_file_creates_nothing_locally() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .args(["mv", &s.url("/ghost.txt"), "ghost.txt"])
        .assert()
        .code(5);
    assert_eq!(names(home.path()), Vec::<String>::new());
}

#[test]
fn a_failed_download_leaves_the_destination_untouched() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("old.txt"), b"old content").unwrap();
    ftp(home.path())
        .args(["cp", &s.url("/missing.txt"), "old.txt"])
        .assert()
        .code(5);
    assert_eq!(
        std::fs::read(home.path().join("old.txt")).unwrap(),
        b"old content"
    );
    assert_eq!(names(home.path()), ["old.txt"]);
}

#[test]
fn download_into_a_missing_local_directory_is_a_local_error() {
    let s = TestServer::start();
    s.put("/f.txt", b"f");
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .args(["cp", &s.url("/f.txt"), "nodir/f.txt"])
        .assert()
        .code(6)
        .stderr(predicate::str::contains("nodir"));
    assert_eq!(s.logins(), 0, "no login for a copy that cannot land");
}

#[test]
fn upload_of_a_missing_local_file_is_a_local_error() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .args(["cp", "nothere.txt", &s.url("/x")])
        .assert()
        .code(6)
        .stderr(predicate::str::contains("nothere.txt"));
    assert!(!s.file("/x").exists());
}

#[test]
fn usage_errors_exit_2() {
    let home = tempfile::tempdir().unwrap();
    let cases: &[&[&str]] = &[
        &["cp", "a", "b"],
        &["cp", "ftp://h/a", "ftp://h/b"],
        &["cp", "a"],
        &["frobnicate", "ftp://h/"],
        &["ls", "not-a-url"],
        &["ls", "http://h/"],
        &["rm", "ftp://h/a%0D%0ADELE%20b"],
        &["mkdir"],
        &["cd", "ftp://h/"],
        &["--timeout", "0", "ls", "ftp://h/"],
    ];
    for args in cases {
        ftp(home.path())
            .args(*args)
            .assert()
            .code(2)
            .stderr(predicate::str::is_empty().not());
    }
}

#[test]
fn injection_through_the_url_is_refused_before_connecting() {
    let s = TestServer::start();
    s.put("/victim", b"v");
    let home = tempfile::tempdir().unwrap();
    for url in [s.url("/x%0D%0ADELE%20/victim"), s.url("/x%00y")] {
        ftp(home.path()).args(["rm", &url]).assert().code(2);
    }
    assert!(s.file("/victim").exists());
    assert_eq!(s.logins(), 0);
}

#[test]
fn help_lists_every_operation_with_an_example() {
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path()).arg("-h").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for op in ["ls", "mkdir", "rm", "rmdir", "cp", "mv"] {
        assert!(
            text.contains(&format!("  {op} ")),
            "{op} missing from help:\n{text}"
        );
    }
    assert!(text.contains("Examples:"));
    ftp(home.path())
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains("3700ftp"));
}

#[test]
fn nothing_listening_is_a_connection_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .args(["ls", &format!("ftp://127.0.0.1:{port}/")])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("cannot connect"));
}

#[test]
fn mv_between_two_urls_on_one_server_renames_without_copying() {
    let s = TestServer::start();
    s.put("/in/a.txt", b"alpha");
    std::fs::create_dir_all(s.file("/done")).unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .args(["-v", "mv", &s.url("/in/a.txt"), &s.url("/done/")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        sent_commands(&out.stdout),
        ["USER", "FEAT", "PASS", "OPTS", "RNFR", "RNTO", "QUIT"]
    );
    assert!(!s.file("/in/a.txt").exists());
    assert_eq!(std::fs::read(s.file("/done/a.txt")).unwrap(), b"alpha");
    // rename: a bare new name stays in the same directory.
    ftp(home.path())
        .args(["rename", &s.url("/done/a.txt"), "b.txt"])
        .assert()
        .success();
    assert_eq!(std::fs::read(s.file("/done/b.txt")).unwrap(), b"alpha");
    // A missing source is the server's refusal, and nothing changes.
    ftp(home.path())
        .args(["rename", &s.url("/done/missing.txt"), "c.txt"])
        .assert()
        .code(5);
    assert!(s.file("/done/b.txt").exists());
    assert!(
        home.path().read_dir().unwrap().next().is_none(),
        "nothing local"
    );
}

#[test]
fn a_refused_url_or_proxy_never_shows_its_password() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let check = |out: std::process::Output, what: &str| {
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        assert!(stderr.contains("****"), "{what}: {stderr}");
        assert!(!stderr.contains("Sec"), "{what}: {stderr}");
    };
    let out = ftp(home.path())
        .args(["ls", "ftp://bob:Sec/ret@127.0.0.1/"])
        .output()
        .unwrap();
    check(out, "URL");
    let out = ftp(home.path())
        .args([
            "--proxy",
            "http://bob:Sec/ret@127.0.0.1:1",
            "ls",
            &s.url("/"),
        ])
        .output()
        .unwrap();
    check(out, "--proxy");
    let out = ftp(home.path())
        .env("ftp_proxy", "socks5://bob:Sec/ret@127.0.0.1:1")
        .args(["ls", &s.url("/")])
        .output()
        .unwrap();
    check(out, "ftp_proxy");
}

#[test]
fn a_url_without_a_host_is_a_usage_error() {
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .args(["ls", "ftp:///path"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no host"));
}

#[test]
fn login_relative_wildcards_and_trees_resolve_from_the_login_directory() {
    let s = TestServer::start();
    s.put("/my dir/a.txt", b"a");
    s.put("/my dir/b.txt", b"b");
    s.put("/my dir/c.bin", b"c");
    for empty in ["/tree/a-empty", "/tree/m empty", "/tree/z-empty"] {
        std::fs::create_dir_all(s.file(empty)).unwrap();
    }
    s.put("/tree/sub/f.txt", b"f");
    s.put("/tree/sub two/g.txt", b"g");
    s.put("/tree/h.txt", b"h");
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join("got")).unwrap();
    let out = ftp(home.path())
        .args(["cp", &s.url("/~/my%20dir/*.txt"), "got/"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(common::names(&home.path().join("got")), ["a.txt", "b.txt"]);
    let out = ftp(home.path())
        .args(["cp", "-r", &s.url("/~/tree/"), "copy"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let copy = home.path().join("copy");
    assert_eq!(std::fs::read(copy.join("sub/f.txt")).unwrap(), b"f");
    assert_eq!(std::fs::read(copy.join("sub two/g.txt")).unwrap(), b"g");
    assert_eq!(std::fs::read(copy.join("h.txt")).unwrap(), b"h");
    assert!(copy.join("m empty").is_dir() && copy.join("z-empty").is_dir());
}

#[test]
fn the_test_launcher_scrubs_a_users_proxy_and_netrc() {
    // A proxy or netrc in the environment of whoever runs `cargo test` must not reach the
    // binary under test: every test starts it through common::command.
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(common::BIN);
    for var in common::SCRUBBED_ENV {
        cmd.env(var, "socks5://127.0.0.1:9");
    }
    common::clean_env(&mut cmd, home.path());
    let out = cmd.args(["ls", &s.url("/")]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let names: Vec<_> = common::command(home.path())
        .get_envs()
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| k.to_string_lossy().into_owned())
        .collect();
    for var in [
        "all_proxy",
        "ALL_PROXY",
        "ftp_proxy",
        "no_proxy",
        "https_proxy",
        "NETRC",
    ] {
        assert!(names.iter().any(|n| n == var), "{var} is not removed");
    }
}

#[test]
fn login_relative_wildcard_rm_deletes_from_the_login_directory() {
    let s = TestServer::start();
    s.put("/my dir/a.tmp", b"a");
    s.put("/my dir/b.tmp", b"b");
    s.put("/my dir/keep.txt", b"k");
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .args(["rm", &s.url("/~/my%20dir/*.tmp")])
        .assert()
        .success();
    assert_eq!(common::names(&s.file("/my dir")), ["keep.txt"]);
}

fn stdout_lines(home: &std::path::Path, args: &[&str]) -> Vec<String> {
    let out = ftp(home).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

fn last_words(lines: &[String]) -> Vec<&str> {
    lines
        .iter()
        .map(|l| l.rsplit(' ').next().unwrap())
        .collect()
}

#[test]
fn ls_takes_the_flags_ls_users_type() {
    let s = TestServer::start();
    let day =
        |d: u64| std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000 + d * 86_400);
    for (name, size, age) in [
        ("b.log", 3000, 3),
        ("a.log", 10, 1),
        ("c.iso", 2_000_000, 2),
        (".hidden", 1, 0),
    ] {
        s.put(&format!("/pub/{name}"), &vec![b'x'; size]);
        let f = std::fs::File::options()
            .write(true)
            .open(s.file(&format!("/pub/{name}")))
            .unwrap();
        f.set_modified(day(age)).unwrap();
    }
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let url = s.url("/pub");
    assert_eq!(stdout_lines(h, &["ls", &url]), ["a.log", "b.log", "c.iso"]);
    assert_eq!(
        stdout_lines(h, &["ls", "-a1", &url]),
        [".hidden", "a.log", "b.log", "c.iso"]
    );
    assert_eq!(
        last_words(&stdout_lines(h, &["ls", "-la", &url])),
        [".hidden", "a.log", "b.log", "c.iso"]
    );
    assert_eq!(
        last_words(&stdout_lines(h, &["ls", "-lt", &url])),
        ["b.log", "c.iso", "a.log"]
    );
    assert_eq!(
        stdout_lines(h, &["ls", "-S", &url]),
        ["c.iso", "b.log", "a.log"]
    );
    assert_eq!(
        stdout_lines(h, &["ls", "-rS", &url]),
        ["a.log", "b.log", "c.iso"]
    );
    let human = stdout_lines(h, &["ls", "-lhS", &url]);
    assert!(
        human[0].contains(" 2.0M ") && human[0].ends_with(" c.iso"),
        "{human:?}"
    );
    assert!(human[1].contains(" 3.0K "), "{human:?}");
    assert_eq!(
        stdout_lines(h, &["ls", &s.url("/pub/*.log")]),
        ["a.log", "b.log"]
    );
    let iso = stdout_lines(h, &["ls", "-l", &s.url("/pub/*.iso")]);
    assert_eq!(last_words(&iso), ["c.iso"]);
    let dir = stdout_lines(h, &["ls", "-ld", &url]);
    assert_eq!(dir.len(), 1, "{dir:?}");
    assert!(
        dir[0].starts_with('d') && dir[0].ends_with(" pub"),
        "{dir:?}"
    );
    let json = stdout_lines(h, &["ls", "--json", &url]);
    assert_eq!(json.len(), 4, "three entries and the summary: {json:?}");
    assert!(json[0].starts_with("{\"name\":\"a.log\""), "{json:?}");
    ftp(h)
        .args(["ls", "-lq", &url])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("ls: unknown option '-q'"));
}
