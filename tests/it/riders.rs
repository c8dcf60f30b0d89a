//! Commands riding with a download's RETR (`src/ftp/riders.rs`): on a server known by its
//! greeting to read commands in turn, the file's SIZE goes in front of RETR and the next
//! transfer's EPSV behind it, in one write; whatever happens to the transfer (refused,
//! abandoned), their replies never answer a later command. An upload's next EPSV goes
//! ahead with its proof (`src/ftp/ahead.rs`), before RNFR, and outlives the RNTO.

use crate::common::ftp;
use crate::fake_server::{FakeServer, Transcript};

fn sample(len: usize, seed: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + seed + i / 251) as u8).collect()
}

/// A scripted server that greets like vsftpd (known to read commands in turn), logged in.
fn vsftpd_like() -> FakeServer {
    FakeServer::new()
        .send("220 (vsFTPd 3.0.3)\r\n")
        .reply("USER", "331 Please specify the password.\r\n")
        .reply("PASS", "230 Login successful.\r\n")
}

/// Serves `name` with `content`: its SIZE, then RETR (`150`, the bytes, `226`).
fn serves(server: FakeServer, name: &str, content: &[u8]) -> FakeServer {
    server
        .reply(
            &format!("SIZE {name}"),
            format!("213 {}\r\n", content.len()),
        )
        .reply(
            &format!("RETR {name}"),
            "150 Opening BINARY mode data connection.\r\n",
        )
        .data_send(content)
        .send("226 Transfer complete.\r\n")
}

/// What a session ran: its directory, its exit status, its `-v` transcript (and stderr),
/// and what the server saw.
type Ran = (
    tempfile::TempDir,
    std::process::ExitStatus,
    String,
    Transcript,
);

/// Runs the batch `script` with `-v` in a fresh directory against `server`.
fn session(server: FakeServer, script: &str) -> Ran {
    session_in(tempfile::tempdir().unwrap(), server, script)
}

/// [`session`] in `home`, where the test put its local files.
fn session_in(home: tempfile::TempDir, server: FakeServer, script: &str) -> Ran {
    let server = server.start();
    let out = ftp(home.path())
        .args(["-v", "--timeout", "5", &server.url("/")])
        .write_stdin(script)
        .output()
        .unwrap();
    let t = server.finish();
    let log =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (home, out.status, log, t)
}

/// `get a.bin`, then `line` (a download the server handles as `middle` scripts it), then
/// `get c.bin`, in one session; a.bin and c.bin served whole. Checks that c.bin arrived
/// whole after whatever happened in the middle, on the one connection, with no problem on
/// the server's side; returns the directory, the exit status and the transcript.
fn around(
    line: &str,
    middle: impl FnOnce(FakeServer) -> FakeServer,
) -> (tempfile::TempDir, std::process::ExitStatus, String) {
    let (a, c) = (sample(2000, 30), sample(2500, 31));
    let server = serves(middle(serves(vsftpd_like(), "a.bin", &a)), "c.bin", &c);
    let (home, status, log, t) = session(server, &format!("get a.bin\n{line}\nget c.bin\n"));
    let got = std::fs::read(home.path().join("c.bin")).ok();
    assert_eq!(got, Some(c), "{log}");
    assert!(t.problems.is_empty(), "{t:#?}");
    assert_eq!(t.connections, 1, "{t:#?}");
    (home, status, log)
}

/// Nothing in the transcript says the conversation went out of step.
fn in_step(log: &str) {
    for sign in ["ignoring that reply", "stumbles", "out of step", "stale"] {
        assert!(!log.contains(sign), "{sign:?} in:\n{log}");
    }
}

#[test]
fn downloads_in_a_session_send_size_retr_and_the_next_epsv_in_one_write() {
    let files: Vec<Vec<u8>> = (0..3).map(|i| sample(3000 + i * 17, i)).collect();
    let mut server = vsftpd_like();
    for (i, data) in files.iter().enumerate() {
        server = serves(server, &format!("f{i}.bin"), data);
    }
    let (home, status, log, t) = session(server, "get f0.bin\nget f1.bin\nget f2.bin\n");
    assert!(status.success(), "{log}\n{t:#?}");
    for (i, data) in files.iter().enumerate() {
        assert_eq!(
            &std::fs::read(home.path().join(format!("f{i}.bin"))).unwrap(),
            data
        );
    }
    // The second and third files: SIZE, RETR and the next EPSV written before any reply.
    for i in 1..3 {
        let batch = format!("> SIZE f{i}.bin\n> RETR f{i}.bin\n> EPSV\n");
        assert!(log.contains(&batch), "no {batch:?} in:\n{log}");
    }
    // Each RETR went to the address the EPSV behind the previous one gave: no EPSV between
    // a file's SIZE and its RETR.
    let retr1 = t.position("RETR f1.bin").unwrap();
    assert_eq!(t.commands[retr1 - 1], "SIZE f1.bin", "{t:#?}");
    assert_eq!(t.commands[retr1 - 2], "EPSV", "{t:#?}");
    assert_eq!(t.commands[retr1 - 3], "RETR f0.bin", "{t:#?}");
    assert!(log.contains("verified by size (3017 bytes)"), "{log}");
    in_step(&log);
}

#[test]
fn a_server_not_known_to_read_commands_in_turn_gets_no_riders() {
    let data = sample(3000, 1);
    let server = serves(
        serves(FakeServer::new().login(), "a.bin", &data),
        "b.bin",
        &data,
    );
    let (home, status, log, t) = session(server, "get a.bin\nget b.bin\n");
    assert!(status.success(), "{log}\n{t:#?}");
    assert_eq!(std::fs::read(home.path().join("b.bin")).unwrap(), data);
    assert!(!log.contains("> RETR b.bin\n> EPSV"), "{log}");
    assert!(!log.contains("> SIZE b.bin\n> RETR"), "{log}");
    let retr = t.position("RETR b.bin").unwrap();
    assert_eq!(t.commands[retr - 1], "EPSV", "{t:#?}");
}

#[test]
fn a_refused_download_reads_the_replies_of_what_rode_with_it() {
    // SIZE and RETR of a missing file are refused; the EPSV behind them is answered after.
    // Its 229 must be read there, not taken by the next command (here the check whether
    // the name is a directory, then the next file).
    let (home, status, log) = around("-get gone.bin", |server| {
        server
            .reply("SIZE gone.bin", "550 Could not get file size.\r\n")
            .reply("RETR gone.bin", "550 Failed to open file.\r\n")
            .reply("CWD gone.bin", "550 Failed to change directory.\r\n")
    });
    assert!(
        log.contains("> SIZE gone.bin\n> RETR gone.bin\n> EPSV\n"),
        "{log}"
    );
    assert!(log.contains("550 Failed to open file"), "{log}");
    assert!(!home.path().join("gone.bin").exists());
    // A failed `-` line is reported and passed over.
    assert!(status.success(), "{log}");
    in_step(&log);
}

#[test]
fn a_download_abandoned_with_commands_riding_is_brought_back_in_step() {
    // b.bin is announced as 1000 bytes and the server sends 3000: the client stops, ABOR.
    // The replies of RETR, of the EPSV that rode behind it and of ABOR all come; none may
    // answer the commands of the next file (on the same connection, back in step by PWD).
    let (home, _, log) = around("-get b.bin", |server| {
        server
            .reply("SIZE b.bin", "213 1000\r\n")
            .reply("RETR b.bin", "150 Opening BINARY mode data connection.\r\n")
            .data_send(sample(3000, 7))
            .send("226 Transfer complete.\r\n")
            .reply("ABOR", "225 No transfer to ABOR.\r\n")
    });
    assert!(
        log.contains("> SIZE b.bin\n> RETR b.bin\n> EPSV\n"),
        "{log}"
    );
    assert!(log.contains("more bytes than it announced"), "{log}");
    assert!(!home.path().join("b.bin").exists(), "{log}");
    assert!(!log.contains("stumbles"), "{log}");
}

#[test]
fn uploads_in_a_session_ask_the_next_address_with_the_proof_and_keep_it_across_the_rename() {
    let files: Vec<Vec<u8>> = (0..3).map(|i| sample(3000 + i * 13, i)).collect();
    let mut server = vsftpd_like();
    for (i, data) in files.iter().enumerate() {
        let part = format!(".f{i}.bin.3700ftp-part");
        server = server
            .reply(&format!("STOR {part}"), "150 Ok to send data.\r\n")
            .data_recv()
            .send("226 Transfer complete.\r\n")
            .reply(&format!("SIZE {part}"), format!("213 {}\r\n", data.len()))
            .reply(&format!("RNFR {part}"), "350 Ready for RNTO.\r\n")
            .reply(&format!("RNTO f{i}.bin"), "250 Rename successful.\r\n");
    }
    let (log, t) = put_all(server, &files, "");
    // The EPSV of the next transfer goes with the proof, never between RNFR and RNTO.
    assert!(
        log.contains("> EPSV\n> SIZE .f1.bin.3700ftp-part\n> RNFR .f1.bin.3700ftp-part\n< 226"),
        "{log}"
    );
    // The rename goes alone, and the next STOR uses the address asked for ahead.
    let stor = t.position("STOR .f2.bin").unwrap();
    assert_eq!(t.commands[stor - 1], "RNTO f1.bin", "{t:#?}");
    assert_eq!(t.commands[stor - 2], "RNFR .f1.bin.3700ftp-part", "{t:#?}");
    assert!(t.problems.is_empty(), "{t:#?}");
    in_step(&log);
}

#[test]
fn a_download_that_keeps_the_remote_time_gets_its_mdtm_behind_retr() {
    // `get -p` in a session: MDTM rides behind RETR (and the next EPSV behind it), and its
    // answer, read after the 226, is the time the local file gets.
    let (a, b, c) = (sample(2000, 14), sample(2100, 15), sample(2200, 16));
    let server = serves(vsftpd_like(), "a.bin", &a).reply("MDTM a.bin", "213 20200102030405\r\n");
    let server = serves(server, "b.bin", &b).reply("MDTM b.bin", "213 20210304050607\r\n");
    let server = serves(server, "c.bin", &c).reply("MDTM c.bin", "213 20220506070809\r\n");
    let (home, status, log, t) = session(server, "get -p a.bin\nget -p b.bin\nget -p c.bin\n");
    assert!(status.success(), "{log}\n{t:#?}");
    assert!(
        log.contains("> SIZE b.bin\n> RETR b.bin\n> MDTM b.bin\n> EPSV\n"),
        "{log}"
    );
    let mtime = |name: &str| {
        std::fs::metadata(home.path().join(name))
            .unwrap()
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    // 2021-03-04 05:06:07 UTC and 2022-05-06 07:08:09 UTC.
    assert_eq!(mtime("b.bin"), 1_614_834_367, "{log}");
    assert_eq!(mtime("c.bin"), 1_651_820_889, "{log}");
    assert_eq!(
        std::fs::read(home.path().join("c.bin")).ok(),
        Some(c),
        "{log}"
    );
    // Asked once each: the answer behind the transfer is the one used.
    assert_eq!(t.count("MDTM"), 3, "{t:#?}");
    assert!(t.problems.is_empty(), "{t:#?}");
    in_step(&log);
}

#[test]
fn uploads_that_keep_their_time_set_it_on_the_part_with_the_proof() {
    // `put -p` in a session to a vsftpd-like server without MFMT or SITE UTIME, whose MDTM
    // sets a time: the first file learns that (after its rename, as before); later files
    // send MDTM with the time on the part ahead with the proof (a rename keeps the time),
    // and the next EPSV with it, so nothing follows the RNTO.
    let files: Vec<Vec<u8>> = (0..3).map(|i| sample(3000 + i * 13, i + 20)).collect();
    let part = |i: usize| format!(".f{i}.bin.3700ftp-part");
    // Each upload; the time command sent ahead with its proof gets `time`.
    let stored = |server: FakeServer, i: usize, data: &[u8], time: (&str, &str)| {
        server
            .reply(&format!("STOR {}", part(i)), "150 Ok to send data.\r\n")
            .data_recv()
            .send("226 Transfer complete.\r\n")
            .reply(time.0, time.1)
            .reply(
                &format!("SIZE {}", part(i)),
                format!("213 {}\r\n", data.len()),
            )
            .reply(&format!("RNFR {}", part(i)), "350 Ready for RNTO.\r\n")
            .reply(&format!("RNTO f{i}.bin"), "250 Rename successful.\r\n")
    };
    let set = ("MDTM 2", "213 File modification time set.\r\n");
    let server = stored(
        vsftpd_like(),
        0,
        &files[0],
        ("MFMT", "500 Unknown command.\r\n"),
    )
    .reply("SITE UTIME", "500 Unknown command.\r\n")
    .reply(set.0, set.1);
    let server = stored(server, 1, &files[1], set);
    let server = stored(server, 2, &files[2], set);
    let (log, t) = put_all(server, &files, "-p ");
    let stamp = "20200913122640";
    assert!(
        log.contains(&format!(
            "> EPSV\n> MDTM {stamp} {}\n> SIZE {}\n> RNFR {}\n< 226",
            part(2),
            part(2),
            part(2)
        )),
        "{log}"
    );
    // The last two files: the time set once, on the part; the rename is the last command.
    for i in 1..3 {
        assert_eq!(t.count(&format!("MDTM {stamp} {}", part(i))), 1, "{t:#?}");
        assert_eq!(t.count(&format!("MDTM {stamp} f{i}.bin")), 0, "{t:#?}");
    }
    // MFMT tried once (ahead, on the first part), SITE UTIME once (after its rename).
    assert_eq!(t.count("MFMT"), 1, "{t:#?}");
    assert_eq!(t.count("SITE UTIME"), 1, "{t:#?}");
    assert_eq!(t.count(&format!("MDTM {stamp} f0.bin")), 1, "{t:#?}");
    assert!(t.problems.is_empty(), "{t:#?}");
    in_step(&log);
}

/// `line` (a `get b.bin`) between two others, from a server that claims to be vsftpd but
/// reads the commands riding behind RETR (`riders`) during the transfer and answers them
/// (`answer`) before the data and the `226`. The download must succeed whole, without
/// hanging.
fn rider_answered_midway(line: &str, riders: &[&str], answer: &str) -> String {
    let b = sample(2100, 9);
    let (home, status, log) = around(line, |server| {
        let server = server
            .reply("SIZE b.bin", format!("213 {}\r\n", b.len()))
            .reply("RETR b.bin", "150 Accepted data connection\r\n");
        riders
            .iter()
            .fold(server, |server, rider| server.expect(rider))
            .send(answer)
            .data_send(&b)
            .send("226 File successfully transferred\r\n")
    });
    assert!(status.success(), "{log}");
    assert_eq!(
        std::fs::read(home.path().join("b.bin")).ok(),
        Some(b),
        "{log}"
    );
    log
}

#[test]
fn a_known_server_answering_the_rider_before_the_transfer_ends_is_followed() {
    // Its 229 is not the transfer's reply; the one after it is.
    rider_answered_midway(
        "get b.bin",
        &["EPSV"],
        "229 Extended Passive mode OK (|||9|)\r\n",
    );
}

#[test]
fn a_rider_refused_during_the_transfer_does_not_fail_it_and_nothing_rides_again() {
    // Pure-FTPd answers a command that reaches it during a download `500 Unknown command`
    // (should the write arrive in pieces): that 500 is the EPSV's, not the transfer's.
    let log = rider_answered_midway("get b.bin", &["EPSV"], "500 Unknown command\r\n");
    assert!(log.contains("nothing rides with transfers"), "{log}");
    // c.bin: SIZE with its own EPSV, RETR alone.
    assert!(log.contains("> SIZE c.bin\n> EPSV\n<"), "{log}");
    assert!(!log.contains("> RETR c.bin\n> EPSV"), "{log}");
}

/// `put {opts}fN.bin` for each of `files` (written locally with the time 1 600 000 000,
/// 2020-09-13 12:26:40 UTC) in one session with `server`: it succeeds and the server
/// receives every file whole. Returns the transcript and what the server saw.
fn put_all(server: FakeServer, files: &[Vec<u8>], opts: &str) -> (String, Transcript) {
    let home = tempfile::tempdir().unwrap();
    let mut script = String::new();
    for (i, data) in files.iter().enumerate() {
        let p = home.path().join(format!("f{i}.bin"));
        std::fs::write(&p, data).unwrap();
        let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
        std::fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified(when)
            .unwrap();
        script.push_str(&format!("put {opts}f{i}.bin\n"));
    }
    let (_home, status, log, t) = session_in(home, server, &script);
    assert!(status.success(), "{log}\n{t:#?}");
    assert_eq!(t.uploads, files, "{t:#?}");
    (log, t)
}

#[test]
fn two_riders_refused_during_the_transfer_do_not_fail_it() {
    // `get -p`: MDTM and EPSV ride behind RETR; a server that reads both during the
    // transfer answers each `500`; the transfer's 226 comes after them.
    let log = rider_answered_midway(
        "get -p b.bin",
        &["MDTM b.bin", "EPSV"],
        "500 Unknown command\r\n500 Unknown command\r\n",
    );
    assert!(log.contains("nothing rides with transfers"), "{log}");
}
