//! Retries that resume, segmented downloads and a lost final reply: the real binary against
//! scripted servers that drop connections (and log the client in again), and against the
//! embedded server.

use crate::common;
use crate::fake_server::FakeServer;

use std::process::Output;

/// The bytes of a test file: every value, in a pattern that shows a misplaced range.
fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn run(home: &std::path::Path, args: &[&str]) -> Output {
    common::ftp(home).args(args).output().expect("run 3700ftp")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// No temporary file is left beside a finished download.
fn no_parts(dir: &std::path::Path) {
    let left: Vec<String> = common::names(dir)
        .into_iter()
        .filter(|n| n.contains("3700ftp"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_download_cut_off_mid_retr_is_resumed_with_rest_and_proven() {
    let data = content(10_000);
    let (first, rest) = data.split_at(4_000);
    let server = FakeServer::new()
        .size(data.len() as u64)
        .login()
        .reply("RETR", "150 Opening BINARY mode data connection\r\n")
        .data_write(first)
        .close()
        .then(
            FakeServer::new()
                .size(data.len() as u64)
                .login()
                .reply("REST 4000", "350 Restarting at 4000\r\n")
                .reply("RETR", "150 Opening BINARY mode data connection\r\n")
                .data_send(rest)
                .send("226 Transfer complete\r\n"),
        )
        .start();
    let home = tempfile::tempdir().unwrap();
    let out = run(
        home.path(),
        &[
            "--timeout",
            "5",
            "cp",
            "--retry",
            "2",
            "--retry-delay",
            "0",
            &server.url("/f.bin"),
            "f.bin",
        ],
    );
    let t = server.finish();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(home.path().join("f.bin")).unwrap(), data);
    assert!(
        stderr(&out).contains("retry 1/2") && stderr(&out).contains("resuming at"),
        "{}",
        stderr(&out)
    );
    assert_eq!(t.connections, 2);
    assert!(t.sent("REST 4000"), "{:?}", t.commands);
    assert_eq!(t.count("RETR"), 2);
    no_parts(home.path());
}

#[test]
fn a_550_is_never_retried() {
    let server = FakeServer::new()
        .login()
        .reply("RETR", "550 No such file\r\n")
        .start();
    let home = tempfile::tempdir().unwrap();
    let out = run(
        home.path(),
        &[
            "--timeout",
            "5",
            "cp",
            "--retry",
            "3",
            "--retry-delay",
            "0",
            &server.url("/missing"),
            "missing",
        ],
    );
    let t = server.finish();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(!stderr(&out).contains("retry"), "{}", stderr(&out));
    assert_eq!(t.count("RETR"), 1);
    assert_eq!(t.connections, 1);
    assert!(!home.path().join("missing").exists());
    no_parts(home.path());
}

#[test]
fn an_upload_cut_off_is_retried_from_the_part_on_the_server() {
    let data = content(6_000);
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("up.bin"), &data).unwrap();
    // The first STOR takes the bytes, then the connection drops before the final reply;
    // the server holds 6000 bytes of the part. The retry sees the part whole (SIZE), sends
    // nothing more and renames it.
    let server = FakeServer::new()
        .login()
        .reply("STOR", "150 Ok to send data\r\n")
        .data_recv()
        .close()
        .then(
            FakeServer::new()
                .size(data.len() as u64)
                .login()
                .reply("RNFR", "350 Ready\r\n")
                .reply("RNTO", "250 Renamed\r\n"),
        )
        .start();
    let out = run(
        home.path(),
        &[
            "--timeout",
            "5",
            "cp",
            "--retry",
            "1",
            "--retry-delay",
            "0",
            "up.bin",
            &server.url("/up.bin"),
        ],
    );
    let t = server.finish();
    assert!(out.status.success(), "{}\n{:?}", stderr(&out), t.commands);
    assert_eq!(t.uploads, vec![data]);
    let second: Vec<&String> = t
        .commands
        .iter()
        .skip_while(|c| !c.starts_with("PASS"))
        .skip(1)
        .skip_while(|c| !c.starts_with("PASS"))
        .collect();
    assert!(
        !second.iter().any(|c| c.starts_with("STOR")),
        "the retry stored again from byte 0: {:?}",
        t.commands
    );
    assert!(stderr(&out).contains("retry 1/1"), "{}", stderr(&out));
}

#[test]
fn a_final_reply_lost_with_the_connection_is_proven_on_a_new_login() {
    let data = content(5_000);
    let server = FakeServer::new()
        .size(data.len() as u64)
        .login()
        .reply("RETR", "150 Opening BINARY mode data connection\r\n")
        .data_send(&data)
        .close()
        .then(FakeServer::new().size(data.len() as u64).login())
        .start();
    let home = tempfile::tempdir().unwrap();
    let out = run(
        home.path(),
        &[
            "--timeout",
            "5",
            "cp",
            &server.url("/whole.bin"),
            "whole.bin",
        ],
    );
    let t = server.finish();
    assert!(out.status.success(), "{}\n{:?}", stderr(&out), t.commands);
    assert_eq!(std::fs::read(home.path().join("whole.bin")).unwrap(), data);
    assert!(
        stderr(&out).contains("every byte arrived"),
        "{}",
        stderr(&out)
    );
    assert_eq!(t.count("RETR"), 1, "{:?}", t.commands);
    no_parts(home.path());
}

const MIB: usize = 1024 * 1024;

/// The ranges a `-v` run asked for: the offsets of its REST commands.
pub(crate) fn rests(stderr_text: &str) -> Vec<u64> {
    let mut v: Vec<u64> = stderr_text
        .lines()
        .filter_map(|l| l.split("REST ").nth(1))
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn a_segmented_download_is_byte_exact_over_four_connections() {
    let server = common::TestServer::start();
    let data = content(4 * MIB + 12_345);
    server.put("/big.bin", &data);
    let home = tempfile::tempdir().unwrap();
    let out = run(
        home.path(),
        &[
            "-v",
            "cp",
            "--segments",
            "4",
            &server.url("/big.bin"),
            "big.bin",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read(home.path().join("big.bin")).unwrap() == data);
    assert_eq!(server.logins(), 4, "{}", stderr(&out));
    let step = (data.len() / 4) as u64;
    // The four ranges, and any second half a connection with nothing left took over.
    let asked = rests(&String::from_utf8_lossy(&out.stdout));
    for start in [0, step, 2 * step, 3 * step] {
        assert!(asked.contains(&start), "{asked:?}");
    }
    assert!(
        asked.windows(2).all(|w| w[1] - w[0] >= 256 * 1024),
        "{asked:?}"
    );
    no_parts(home.path());
}

#[test]
fn mv_with_segments_deletes_the_source_after_the_proof() {
    let server = common::TestServer::start();
    let data = content(3 * MIB);
    server.put("/m.bin", &data);
    let home = tempfile::tempdir().unwrap();
    let out = run(
        home.path(),
        &["mv", "--segments", "3", &server.url("/m.bin"), "m.bin"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read(home.path().join("m.bin")).unwrap() == data);
    assert!(!server.file("/m.bin").exists());
    no_parts(home.path());
}

#[test]
fn a_segmented_download_continues_with_c_fetching_only_the_ranges_not_recorded() {
    let server = common::TestServer::start();
    let data = content(4 * MIB);
    server.put("/r.bin", &data);
    let home = tempfile::tempdir().unwrap();
    // What a run killed half-way leaves: the preallocated part, ranges 0 and 2 written and
    // recorded, ranges 1 and 3 holding whatever arrived (here: nothing).
    let mut part = vec![0u8; data.len()];
    part[..MIB].copy_from_slice(&data[..MIB]);
    part[2 * MIB..3 * MIB].copy_from_slice(&data[2 * MIB..3 * MIB]);
    part[MIB..MIB + 1000].fill(0xEE);
    std::fs::write(home.path().join(".r.bin.3700ftp-part"), &part).unwrap();
    // The server's MDTM is the file's modification time (the record names the version).
    let mdtm = std::fs::metadata(server.file("/r.bin"))
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    std::fs::write(
        home.path().join(".r.bin.3700ftp-segments"),
        format!(
            "3700ftp segments 1\nsize {}\nmdtm {mdtm}\ndone 0 {MIB}\ndone {} {}\n",
            data.len(),
            2 * MIB,
            3 * MIB
        ),
    )
    .unwrap();
    let out = run(
        home.path(),
        &[
            "-v",
            "cp",
            "-c",
            "--segments",
            "2",
            &server.url("/r.bin"),
            "r.bin",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read(home.path().join("r.bin")).unwrap() == data);
    assert!(stderr(&out).contains("continuing"), "{}", stderr(&out));
    // The two missing ranges are fetched from their starts; a connection done early may
    // take over the second half of the other (a REST inside it), never a recorded one.
    let rests = rests(&String::from_utf8_lossy(&out.stdout));
    assert!(
        rests.contains(&(MIB as u64)) && rests.contains(&(3 * MIB as u64)),
        "{rests:?}"
    );
    let missing = |r: &u64| (MIB as u64..2 * MIB as u64).contains(r) || *r >= 3 * MIB as u64;
    assert!(rests.iter().all(missing), "{rests:?}");
    no_parts(home.path());
}

#[test]
fn a_segmented_download_interrupted_by_ctrl_c_is_finished_by_c() {
    let server = common::TestServer::start();
    let data = content(4 * MIB);
    server.put("/i.bin", &data);
    let home = tempfile::tempdir().unwrap();
    let child = common::command(home.path())
        .args([
            "--limit-rate",
            "1M",
            "cp",
            "--segments",
            "4",
            &server.url("/i.bin"),
            "i.bin",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (code, _) = common::signal(child, std::time::Duration::from_millis(1500), "-INT");
    assert_eq!(code, Some(130));
    assert!(!home.path().join("i.bin").exists());
    assert!(home.path().join(".i.bin.3700ftp-part").exists());
    let out = run(
        home.path(),
        &[
            "cp",
            "-c",
            "--segments",
            "4",
            &server.url("/i.bin"),
            "i.bin",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read(home.path().join("i.bin")).unwrap() == data);
    no_parts(home.path());
}

#[test]
fn a_server_without_rest_gets_one_stream() {
    let data = content(3 * MIB);
    let server = FakeServer::new()
        .size(data.len() as u64)
        .login()
        .reply("REST", "502 REST not implemented\r\n")
        .retr(&data)
        .start();
    let home = tempfile::tempdir().unwrap();
    let out = run(
        home.path(),
        &[
            "--timeout",
            "5",
            "cp",
            "--segments",
            "4",
            &server.url("/n.bin"),
            "n.bin",
        ],
    );
    let t = server.finish();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read(home.path().join("n.bin")).unwrap() == data);
    assert!(stderr(&out).contains("refuses REST"), "{}", stderr(&out));
    // One stream: one data connection. (A single-file copy logs its extra connections in
    // while it asks for the size, once its own login is done; unused, they are closed.)
    assert_eq!(t.data_connections, 1, "{:?}", t.commands);
    assert_eq!(t.count("RETR"), 1, "{:?}", t.commands);
    no_parts(home.path());
}

/// `mv` of a download whose DELE reply is lost with the connection: `then` scripts the
/// second login.
fn mv_with_lost_dele(then: FakeServer) -> (Output, crate::fake_server::Transcript, Vec<u8>) {
    let data = content(3_000);
    let server = FakeServer::new()
        .size(data.len() as u64)
        .login()
        .retr(&data)
        .expect("DELE")
        .close()
        .then(then)
        .start();
    let home = tempfile::tempdir().unwrap();
    let out = run(
        home.path(),
        &[
            "--timeout",
            "5",
            "mv",
            "--retry-delay",
            "0",
            &server.url("/moved.bin"),
            "moved.bin",
        ],
    );
    let t = server.finish();
    assert_eq!(std::fs::read(home.path().join("moved.bin")).unwrap(), data);
    (out, t, data)
}

#[test]
fn a_dele_whose_reply_was_lost_is_checked_by_size_not_sent_again() {
    // The second login finds the source gone (SIZE: 550): the DELE worked.
    let (out, t, _) = mv_with_lost_dele(FakeServer::new().login());
    assert!(out.status.success(), "{}\n{:?}", stderr(&out), t.commands);
    assert_eq!(t.count("DELE"), 1, "{:?}", t.commands);
    let second = t
        .commands
        .iter()
        .rposition(|c| c.starts_with("PASS"))
        .unwrap();
    assert!(
        t.commands[second..].iter().any(|c| c.starts_with("SIZE")),
        "{:?}",
        t.commands
    );
}

#[test]
fn a_dele_whose_reply_was_lost_is_sent_again_only_when_size_finds_the_source() {
    let (out, t, data) = mv_with_lost_dele(
        FakeServer::new()
            .size(3_000)
            .login()
            .reply("SIZE", "213 3000\r\n")
            .reply("DELE", "250 Deleted\r\n"),
    );
    assert_eq!(data.len(), 3_000);
    assert!(out.status.success(), "{}\n{:?}", stderr(&out), t.commands);
    assert_eq!(t.count("DELE"), 2, "{:?}", t.commands);
}

#[test]
fn get_with_segments_in_a_session_fetches_a_relative_path_on_every_connection() {
    let server = common::TestServer::start();
    let data = content(3 * MIB + 7);
    server.put("/d/s.bin", &data);
    let home = tempfile::tempdir().unwrap();
    let script = format!("open {}\ncd d\nget --segments 3 s.bin\n", server.url("/"));
    let out = common::ftp(home.path())
        .write_stdin(script)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read(home.path().join("s.bin")).unwrap() == data);
    assert_eq!(server.logins(), 3, "{}", stderr(&out));
    no_parts(home.path());
}

#[test]
fn a_452_stops_a_multi_file_run_and_is_not_retried() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("a1.txt"), b"one").unwrap();
    std::fs::write(home.path().join("a2.txt"), b"two").unwrap();
    let server = FakeServer::new()
        .login()
        .reply("STOR", "452 Insufficient storage space\r\n")
        .reply("DELE", "550 No such file\r\n")
        .start();
    let out = run(
        home.path(),
        &[
            "--timeout",
            "5",
            "cp",
            "--retry-delay",
            "0",
            "a*.txt",
            &server.url("/in/"),
        ],
    );
    let t = server.finish();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert_eq!(t.count("STOR"), 1, "{:?}", t.commands);
    assert!(!stderr(&out).contains("retry"), "{}", stderr(&out));
    assert!(stderr(&out).contains("not transferred"), "{}", stderr(&out));
}
