//! `--json` (schema version 1, docs/json.md): stdout carries only JSON Lines, one record per
//! action and a summary per command, with the fields a script reads; a failure still
//! prints its record and summary and exits with its code. Parsed with serde_json, as a
//! script would.

use crate::common;

use common::{ftp, TestServer, PASSWORD, USER};
use serde_json::Value;

/// Runs the binary; (exit code, parsed stdout lines, stderr). Every stdout line must be JSON.
fn run(home: &std::path::Path, args: &[&str]) -> (i32, Vec<Value>, String) {
    let out = ftp(home).current_dir(home).args(args).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let records = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    (
        out.status.code().unwrap_or(-1),
        records,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The fields every action record has, of the right types.
fn check_action(r: &Value, op: &str, action: &str, status: &str) {
    assert_eq!(r["v"], 1, "{r}");
    assert_eq!(r["record"], "action", "{r}");
    assert_eq!(r["op"], op, "{r}");
    assert_eq!(r["action"], action, "{r}");
    assert_eq!(r["status"], status, "{r}");
    // The schema, version 1 (docs/json.md): exactly these fields.
    assert_eq!(
        keys(r),
        keys_of(&[
            "v",
            "record",
            "op",
            "action",
            "status",
            "source",
            "destination",
            "bytes",
            "seconds",
            "resumed_from",
            "proof",
            "digest",
            "reply",
            "error",
        ]),
        "{r}"
    );
    if status == "failed" {
        assert_eq!(
            keys(&r["error"]),
            keys_of(&["class", "exit_code", "message", "reply"]),
            "{r}"
        );
    }
    for url in [&r["source"], &r["destination"]] {
        if let Some(u) = url.as_str() {
            assert!(!u.contains(PASSWORD), "password in {r}");
        }
    }
}

fn check_summary(r: &Value, op: &str, status: &str, exit_code: i32) {
    assert_eq!(r["v"], 1, "{r}");
    assert_eq!(r["record"], "summary", "{r}");
    assert_eq!(r["op"], op, "{r}");
    assert_eq!(r["status"], status, "{r}");
    assert_eq!(r["exit_code"], exit_code, "{r}");
    assert!(r["seconds"].is_number(), "{r}");
    assert_eq!(
        keys(r),
        keys_of(&[
            "v",
            "record",
            "op",
            "status",
            "actions",
            "ok",
            "failed",
            "skipped",
            "bytes",
            "seconds",
            "exit_code",
            "error",
        ]),
        "{r}"
    );
}

/// The field names of an object, sorted.
fn keys(r: &Value) -> Vec<String> {
    let mut k: Vec<String> = r.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

fn keys_of(names: &[&str]) -> Vec<String> {
    let mut k: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    k.sort();
    k
}

#[test]
fn cp_up_and_down_reports_bytes_proof_reply_and_urls_without_the_password() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("up.txt"), b"hello json").unwrap();
    std::fs::create_dir_all(s.file("/in")).unwrap();
    let (code, recs, err) = run(home.path(), &["--json", "cp", "up.txt", &s.url("/in/")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(recs.len(), 2, "{recs:?}");
    let r = &recs[0];
    check_action(r, "cp", "upload", "ok");
    assert_eq!(r["bytes"], 10);
    assert_eq!(r["resumed_from"], 0);
    assert_eq!(r["reply"], 226);
    assert!(
        ["sha256", "sha1", "md5", "crc32", "size", "none"].contains(&r["proof"].as_str().unwrap()),
        "{r}"
    );
    assert_eq!(
        r["digest"].is_string(),
        r["proof"] != "size" && r["proof"] != "none"
    );
    assert!(r["source"].as_str().unwrap().ends_with("up.txt"), "{r}");
    assert_eq!(
        r["destination"],
        format!("ftp://{USER}@127.0.0.1:{}/in/up.txt", s.port)
    );
    assert!(r["error"].is_null());
    check_summary(&recs[1], "cp", "ok", 0);
    assert_eq!(recs[1]["actions"], 1);
    assert_eq!(recs[1]["bytes"], 10);
    assert_eq!(std::fs::read(s.file("/in/up.txt")).unwrap(), b"hello json");

    // The per-command form gives the same; -v goes to stderr.
    let (code, recs, err) = run(
        home.path(),
        &["-v", "cp", "--json", &s.url("/in/up.txt"), "down.txt"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("> RETR"), "{err}");
    check_action(&recs[0], "cp", "download", "ok");
    assert_eq!(recs[0]["bytes"], 10);
    assert_eq!(recs[0]["proof"], "size");
    assert_eq!(recs[0]["reply"], 226);
    assert_eq!(recs.len(), 2);
}

#[test]
fn mv_rm_mkdir_rename_rmdir_each_print_a_record() {
    let s = TestServer::start();
    s.put("/d/a.txt", b"12345");
    s.put("/d/b.txt", b"b");
    let home = tempfile::tempdir().unwrap();

    let (code, recs, err) = run(home.path(), &["--json", "mv", &s.url("/d/a.txt"), "."]);
    assert_eq!(code, 0, "{err}");
    check_action(&recs[0], "mv", "download", "ok");
    assert_eq!(recs[0]["bytes"], 5);
    assert_eq!(
        recs[0]["destination"],
        home.path().join("a.txt").display().to_string()
    );
    assert!(!s.file("/d/a.txt").exists());
    check_summary(&recs[1], "mv", "ok", 0);

    let (code, recs, err) = run(home.path(), &["--json", "mkdir", &s.url("/d/new")]);
    assert_eq!(code, 0, "{err}");
    check_action(&recs[0], "mkdir", "mkdir", "ok");
    assert_eq!(recs[0]["reply"], 257);
    assert_eq!(
        recs[0]["destination"],
        format!("ftp://{USER}@127.0.0.1:{}/d/new", s.port)
    );
    assert!(s.file("/d/new").is_dir());

    let (code, recs, err) = run(
        home.path(),
        &["--json", "rename", &s.url("/d/b.txt"), "c.txt"],
    );
    assert_eq!(code, 0, "{err}");
    check_action(&recs[0], "rename", "rename", "ok");
    assert_eq!(recs[0]["reply"], 250);
    assert!(recs[0]["destination"]
        .as_str()
        .unwrap()
        .ends_with("/d/c.txt"));
    assert!(s.file("/d/c.txt").exists());

    let (code, recs, err) = run(home.path(), &["--json", "rm", &s.url("/d/c.txt")]);
    assert_eq!(code, 0, "{err}");
    check_action(&recs[0], "rm", "rm", "ok");
    assert_eq!(recs[0]["reply"], 250);
    assert!(!s.file("/d/c.txt").exists());

    let (code, recs, err) = run(home.path(), &["--json", "rmdir", &s.url("/d/new")]);
    assert_eq!(code, 0, "{err}");
    check_action(&recs[0], "rmdir", "rmdir", "ok");
    check_summary(&recs[1], "rmdir", "ok", 0);
}

#[test]
fn a_failure_prints_its_record_and_summary_then_exits_with_its_code() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let (code, recs, err) = run(home.path(), &["--json", "rm", &s.url("/missing.txt")]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("550"), "the message is still on stderr: {err}");
    assert_eq!(recs.len(), 2, "{recs:?}");
    check_action(&recs[0], "rm", "rm", "failed");
    let e = &recs[0]["error"];
    assert_eq!(e["class"], "refused");
    assert_eq!(e["exit_code"], 5);
    assert!(e["message"].as_str().unwrap().contains("550"), "{e}");
    assert_eq!(recs[0]["reply"], 550);
    check_summary(&recs[1], "rm", "failed", 5);
    assert_eq!(recs[1]["failed"], 1);

    // A download that cannot be written locally: a local error, exit 6.
    let (code, recs, _) = run(
        home.path(),
        &["--json", "cp", &s.url("/x.txt"), "no/such/dir/x.txt"],
    );
    assert_eq!(code, 6);
    check_action(&recs[0], "cp", "download", "failed");
    assert_eq!(recs[0]["error"]["class"], "local");
    check_summary(recs.last().unwrap(), "cp", "failed", 6);

    // A usage error before any action: only the summary.
    let (code, recs, _) = run(home.path(), &["--json", "mkdir", "not-a-url"]);
    assert_eq!(code, 2);
    assert_eq!(recs.len(), 1);
    check_summary(&recs[0], "mkdir", "failed", 2);
    assert_eq!(recs[0]["error"]["class"], "usage");
}

#[test]
fn mirror_and_multi_file_runs_print_a_record_per_file() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let site = home.path().join("site");
    std::fs::create_dir_all(site.join("sub")).unwrap();
    std::fs::write(site.join("a.txt"), b"aaa").unwrap();
    std::fs::write(site.join("sub/b.txt"), b"bb").unwrap();
    s.put("/www/old.txt", b"old");
    let (code, recs, err) = run(
        home.path(),
        &["--json", "mirror", "--delete", "site", &s.url("/www")],
    );
    assert_eq!(code, 0, "{err}");
    let actions: Vec<&Value> = recs.iter().filter(|r| r["record"] == "action").collect();
    let uploads: Vec<&&Value> = actions.iter().filter(|r| r["action"] == "upload").collect();
    assert_eq!(uploads.len(), 2, "{recs:?}");
    for u in &uploads {
        check_action(u, "mirror", "upload", "ok");
        assert_eq!(u["reply"], 226);
    }
    assert!(actions.iter().any(
        |r| r["action"] == "mkdir" && r["destination"].as_str().unwrap().ends_with("/www/sub")
    ));
    let rm = actions
        .iter()
        .find(|r| r["action"] == "rm")
        .expect("the delete");
    check_action(rm, "mirror", "rm", "ok");
    assert!(rm["source"].as_str().unwrap().ends_with("/www/old.txt"));
    assert!(!s.file("/www/old.txt").exists());
    let summary = recs.last().unwrap();
    check_summary(summary, "mirror", "ok", 0);
    assert_eq!(summary["bytes"], 5);
    assert_eq!(recs.iter().filter(|r| r["record"] == "summary").count(), 1);

    // A wildcard download over two connections: one record per file.
    s.put("/www/c.txt", b"cc");
    let out = home.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let (code, recs, err) = run(
        home.path(),
        &["--json", "cp", "-j", "2", &s.url("/www/*.txt"), "out"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(recs.len(), 3, "{recs:?}");
    let mut names: Vec<&str> = recs[..2]
        .iter()
        .map(|r| {
            check_action(r, "cp", "download", "ok");
            r["source"].as_str().unwrap().rsplit('/').next().unwrap()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["a.txt", "c.txt"]);
    check_summary(&recs[2], "cp", "ok", 0);
    assert_eq!(recs[2]["bytes"], 5);
}

#[test]
fn batch_lines_each_end_with_a_summary_and_ls_entries_stay_as_they_were() {
    let s = TestServer::start();
    s.put("/pub/f.txt", b"f");
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .current_dir(home.path())
        .args(["--json", &s.url("/pub")])
        .write_stdin("ls\nmkdir x\ncd x\npwd\n")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[1]["name"], "f.txt");
    let summaries: Vec<&str> = lines
        .iter()
        .filter(|r| r["record"] == "summary")
        .map(|r| r["op"].as_str().unwrap())
        .collect();
    assert_eq!(summaries, ["open", "ls", "mkdir", "cd", "pwd"]);
    // pwd's answer is for people: on stderr under --json.
    assert!(String::from_utf8_lossy(&out.stderr).contains("/pub/x"));
}

/// libunftp offers no hash command: the scripted server does, for the `sha256` proof.
#[test]
fn a_hash_proof_is_recorded_with_its_digest() {
    use crate::fake_server::FakeServer;
    use sha2::Digest;
    let content = b"hashed bytes".repeat(100);
    let digest: String = sha2::Sha256::digest(&content)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let server = FakeServer::new()
        .size(content.len() as u64)
        .login_feat("211-Features:\r\n EPSV\r\n SIZE\r\n XSHA256\r\n211 End\r\n")
        .retr(&content)
        .reply("XSHA256", format!("250 {}\r\n", digest.to_uppercase()))
        .start();
    let home = tempfile::tempdir().unwrap();
    let (code, recs, err) = run(
        home.path(),
        &["--json", "cp", &server.url("/f.bin"), "f.bin"],
    );
    server.finish();
    assert_eq!(code, 0, "{err}");
    check_action(&recs[0], "cp", "download", "ok");
    assert_eq!(recs[0]["proof"], "sha256");
    assert_eq!(recs[0]["digest"], digest);
    assert_eq!(recs[0]["bytes"], content.len());
}

#[test]
fn a_command_given_json_in_a_session_keeps_its_transcript_off_stdout() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .current_dir(home.path())
        .args(["-v", &s.url("/")])
        .write_stdin("mkdir --json y\n")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    // The transcript of the login and the QUIT (not under --json) is on stdout; the
    // command's is not.
    let json: Vec<&str> = stdout.lines().filter(|l| l.starts_with('{')).collect();
    assert_eq!(json.len(), 2, "{stdout}");
    for line in json {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    assert!(!stdout.contains("MKD"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("> MKD y"));
    assert!(s.file("/y").is_dir());
}
