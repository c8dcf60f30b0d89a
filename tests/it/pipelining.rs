//! Pipelined commands (connection setup; SIZE with EPSV before a download; an upload's SIZE
//! proof with its RNFR) and the fallback to one command at a time on a server that stumbles
//! on them: the scripted server that drops pipelined input, and the embedded libunftp
//! (which answers SIZE after the EPSV sent behind it).

use crate::common::{ftp, TestServer};
use crate::fake_server::{FakeServer, Running, Transcript};

/// `cp` of `/file.bin` from `server` with `-v`: checks it succeeded with `content` on disk,
/// and returns the client's transcript and the server's.
fn download(server: Running, content: &[u8]) -> (String, Transcript) {
    let home = tempfile::tempdir().unwrap();
    let dest = home.path().join("file.bin");
    let out = ftp(home.path())
        .args(["-v", "cp", &server.url("/file.bin"), dest.to_str().unwrap()])
        .output()
        .unwrap();
    let t = server.finish();
    assert!(out.status.success(), "{out:?}\n{t:#?}");
    assert_eq!(std::fs::read(&dest).unwrap(), content);
    (stdout(&out), t)
}

fn sample(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The lines the client wrote in one `-v` transcript, in order.
fn sent(transcript: &str) -> Vec<String> {
    transcript
        .lines()
        .filter_map(|l| l.strip_prefix("> "))
        .map(|l| l.split(' ').next().unwrap_or("").to_string())
        .collect()
}

/// Downloads a file from a scripted server that drops pipelined commands (all of them, or
/// only after login), checks the bytes and the fallback note, and returns the commands
/// dropped and the verbs the server answered.
fn download_from_a_server_that_drops(after_login: bool) -> (Vec<String>, Vec<String>) {
    let content = sample(5000);
    let server = FakeServer::new();
    let server = if after_login {
        server.drops_pipelined_after_login()
    } else {
        server.drops_pipelined()
    };
    let server = server
        .size(content.len() as u64)
        .login()
        .retr(&content)
        .start();
    let (log, t) = download(server, &content);
    assert!(
        log.contains("stumbles on pipelined commands"),
        "no fallback note:\n{log}"
    );
    let verbs = t
        .commands
        .iter()
        .map(|c| c.split(' ').next().unwrap().to_string())
        .collect();
    (t.ignored, verbs)
}

#[test]
fn a_server_that_drops_pipelined_commands_gets_them_again_one_at_a_time() {
    let (ignored, verbs) = download_from_a_server_that_drops(true);
    // The setup's MODE, STRU, SIZE and EPSV went with TYPE and were dropped; the
    // client noticed, resynchronised and sent them again one at a time (nothing else was
    // dropped: no more pipelining on this server).
    assert_eq!(ignored, ["MODE S", "STRU F", "SIZE /file.bin", "EPSV"]);
    assert_eq!(
        verbs,
        ["USER", "FEAT", "PASS", "TYPE", "PWD", "MODE", "STRU", "SIZE", "EPSV", "RETR", "QUIT"]
    );
}

#[test]
fn a_server_that_drops_feat_sent_with_user_still_logs_in_and_gets_one_command_at_a_time() {
    let (ignored, verbs) = download_from_a_server_that_drops(false);
    // FEAT went with USER and was dropped: after a short wait the client logged in and sent
    // everything else one command at a time (nothing more was dropped).
    assert_eq!(ignored, ["FEAT"]);
    assert_eq!(
        verbs,
        ["USER", "PASS", "TYPE", "MODE", "STRU", "FEAT", "SIZE", "EPSV", "RETR", "QUIT"]
    );
}

#[test]
fn a_server_that_takes_pipelined_commands_gets_size_and_epsv_in_one_write() {
    let content = sample(3000);
    let server = FakeServer::new()
        .size(content.len() as u64)
        .login()
        .retr(&content)
        .start();
    let (log, t) = download(server, &content);
    assert!(!log.contains("stumbles"), "{log}");
    // The setup, SIZE and EPSV were written in one go, before any of their replies came:
    // RETR is the first command after login sent on a reply.
    let lines: Vec<&str> = log.lines().collect();
    let type_i = lines.iter().position(|l| l.starts_with("> TYPE")).unwrap();
    let epsv = lines.iter().position(|l| l.starts_with("> EPSV")).unwrap();
    assert!(
        lines[type_i..=epsv].iter().all(|l| l.starts_with("> ")),
        "{log}"
    );
    assert!(
        lines[type_i..=epsv].iter().any(|l| l.starts_with("> SIZE")),
        "{log}"
    );
    assert_eq!(t.count("EPSV"), 1);
}

#[test]
fn the_embedded_server_answering_out_of_order_falls_back_and_every_file_is_exact() {
    let s = TestServer::start();
    let mut want = Vec::new();
    for i in 0..6 {
        let data = sample(1000 + i * 17);
        s.put(&format!("/d/f{i}.bin"), &data);
        want.push(data);
    }
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join("got")).unwrap();
    // A wildcard over several connections: every worker learns the server stumbles.
    let out = ftp(home.path())
        .args(["-v", "cp", "-j", "3", &s.url("/d/*.bin"), "got/"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    for (i, data) in want.iter().enumerate() {
        assert_eq!(
            &std::fs::read(home.path().join(format!("got/f{i}.bin"))).unwrap(),
            data
        );
    }
    let log = stdout(&out);
    assert!(log.contains("stumbles on pipelined commands"), "{log}");
    // And back up: the SIZE proof with RNFR, then RNTO.
    std::fs::create_dir_all(s.file("/up")).unwrap();
    let out = ftp(home.path())
        .args(["-v", "cp", "got/*.bin", &s.url("/up/")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    for (i, data) in want.iter().enumerate() {
        assert_eq!(
            &std::fs::read(s.file(&format!("/up/f{i}.bin"))).unwrap(),
            data
        );
    }
    let verbs = sent(&stdout(&out));
    assert!(verbs.contains(&"RNTO".to_string()), "{verbs:?}");
}

#[test]
fn an_upload_sends_rnfr_with_its_size_proof_and_never_renames_an_unproven_file() {
    let content = sample(2500);
    // The server holds fewer bytes than were sent: the proof fails, RNTO is never sent.
    let server = FakeServer::new()
        .size(10)
        .login()
        .reply("STOR", "150 Ok to send data\r\n")
        .data_recv()
        .send("226 Transfer complete\r\n")
        .reply("RNFR", "350 Ready for RNTO\r\n")
        .reply("RNTO", "501 Invalid number of parameters\r\n")
        .reply("DELE", "250 Deleted\r\n")
        .start();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("up.bin"), &content).unwrap();
    let out = ftp(home.path())
        .args(["-v", "cp", "up.bin", &server.url("/up.bin")])
        .output()
        .unwrap();
    let t = server.finish();
    assert_eq!(out.status.code(), Some(7), "{out:?}\n{t:#?}");
    assert_eq!(t.uploads, [content]);
    let log = stdout(&out);
    let lines: Vec<&str> = log.lines().collect();
    let size = lines.iter().position(|l| l.starts_with("> SIZE")).unwrap();
    assert!(lines[size + 1].starts_with("> RNFR"), "{log}");
    // Nothing renamed: the pending rename is ended by a bare RNTO (ProFTPD refuses every
    // other command until an RNTO comes), then the part is deleted.
    assert!(!renames(&t), "{t:#?}");
    assert!(t.position("DELE") > ended_rename(&t), "{t:#?}");
}

#[test]
fn a_wildcard_asks_feat_before_trying_mlsd_and_never_tries_it_where_feat_lacks_it() {
    let content = sample(100);
    let server = FakeServer::new()
        .size(100)
        .login_feat("211-Features:\r\n EPSV\r\n SIZE\r\n211 End\r\n")
        .list("-rw-r--r--    1 ftp      ftp           100 Jan 01  2024 a.bin\r\n")
        .retr(&content)
        .start();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join("got")).unwrap();
    let out = ftp(home.path())
        .args(["cp", "-j", "1", &server.url("/*.bin"), "got/"])
        .output()
        .unwrap();
    let t = server.finish();
    assert!(out.status.success(), "{out:?}\n{t:#?}");
    assert_eq!(
        std::fs::read(home.path().join("got/a.bin")).unwrap(),
        content
    );
    assert!(!t.sent("MLSD"), "{t:#?}");
    assert!(t.position("FEAT") < t.position("LIST"), "{t:#?}");
}

#[test]
fn a_server_answering_feat_before_user_is_followed_and_nothing_is_sent_twice() {
    let content = sample(3000);
    let server = FakeServer::new()
        .size(content.len() as u64)
        .send("220 fake FTP server ready\r\n")
        .expect("USER")
        .expect("FEAT")
        .send("211-Features:\r\n EPSV\r\n SIZE\r\n UTF8\r\n211 End\r\n")
        .send("331 Password required\r\n")
        .expect("PASS")
        .expect("OPTS UTF8 ON")
        .send("200 UTF8 on\r\n")
        .send("230 Logged in\r\n")
        .retr(&content)
        .start();
    let (log, t) = download(server, &content);
    for verb in ["USER", "PASS", "FEAT", "OPTS"] {
        assert_eq!(t.count(verb), 1, "{verb}: {t:#?}");
    }
    assert!(!log.contains("stumbles"), "{log}");
}

#[test]
fn a_user_refused_before_the_server_hangs_up_is_a_login_error_not_a_lost_connection() {
    // vsftpd with force_local_logins_ssl answers USER with 530 and closes the connection
    // before it reads the FEAT sent with USER.
    let server = FakeServer::new()
        .send("220 fake FTP server ready\r\n")
        .reply(
            "USER",
            "530 Non-anonymous sessions must use encryption.\r\n",
        )
        .close()
        .start();
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .args(["ls", &server.url("/")])
        .output()
        .unwrap();
    let t = server.finish();
    assert_eq!(out.status.code(), Some(4), "{out:?}\n{t:#?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("must use encryption"), "{stderr}");
}

#[test]
fn a_small_upload_is_on_the_data_connection_before_the_servers_150() {
    // The server reads the whole upload before it says 150: a client that waited for the
    // 150 before writing would wait forever (until its timeout).
    let content = sample(4096);
    let server = FakeServer::new()
        .login()
        .epsv()
        .expect("STOR")
        .data_recv()
        .send("150 Ok to send data\r\n")
        .send("226 Transfer complete\r\n")
        .reply("SIZE", "213 4096\r\n")
        .reply("RNFR", "350 Ready for RNTO\r\n")
        .reply("RNTO", "250 Rename successful\r\n")
        .start();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("up.bin"), &content).unwrap();
    let out = ftp(home.path())
        .args(["--timeout", "5", "cp", "up.bin", &server.url("/up.bin")])
        .output()
        .unwrap();
    let t = server.finish();
    assert!(out.status.success(), "{out:?}\n{t:#?}");
    assert_eq!(t.uploads, [content], "{t:#?}");
    assert!(t.sent("RNTO /up.bin"), "{t:#?}");
}

#[test]
fn an_upload_refused_after_its_bytes_went_early_fails_at_once_and_changes_nothing() {
    // STOR refused (553) while the first bytes already sit in the data connection: the
    // refusal is the answer; no second reply is waited for, nothing is renamed.
    let server = FakeServer::new()
        .login()
        .epsv()
        .reply("STOR", "553 Could not create file.\r\n")
        .start();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("up.bin"), sample(2000)).unwrap();
    let out = ftp(home.path())
        .args(["--timeout", "15", "cp", "up.bin", &server.url("/ro/up.bin")])
        .output()
        .unwrap();
    let t = server.finish();
    assert_eq!(out.status.code(), Some(5), "{out:?}\n{t:#?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("553 Could not create file"), "{stderr}");
    assert!(!stderr.contains("timed out"), "{stderr}");
    assert!(!t.sent("RNFR") && !t.sent("RNTO"), "{t:#?}");
}

/// Uploads two files in one session (`put ARGS fN.bin` lines) to a scripted server that
/// answers in order (the embedded one answers SIZE after a pipelined RNFR now and then, and
/// is then sent one command at a time), checks what arrived, and returns the client's `-v`
/// transcript and the commands the server received.
fn put_twice_in_a_session(args: &str, inplace: bool) -> (String, Vec<String>) {
    let files: Vec<Vec<u8>> = (0..2).map(|i| sample(3000 + i * 11)).collect();
    let mut server = FakeServer::new().login();
    for (i, data) in files.iter().enumerate() {
        let name = if inplace {
            format!("f{i}.bin")
        } else {
            format!(".f{i}.bin.3700ftp-part")
        };
        server = server
            .reply(&format!("STOR {name}"), "150 Ok to send data\r\n")
            .data_recv()
            .send("226 Transfer complete\r\n")
            .reply("SIZE", format!("213 {}\r\n", data.len()));
        if !inplace {
            server = server
                .reply("RNFR", "350 Ready for RNTO\r\n")
                .reply(&format!("RNTO f{i}.bin"), "250 Rename successful\r\n");
        }
    }
    let server = server.start();
    let home = tempfile::tempdir().unwrap();
    let mut script = String::new();
    for (i, data) in files.iter().enumerate() {
        std::fs::write(home.path().join(format!("f{i}.bin")), data).unwrap();
        script.push_str(&format!("put {args}f{i}.bin\n"));
    }
    let out = ftp(home.path())
        .args(["-v", &server.url("/")])
        .write_stdin(script)
        .output()
        .unwrap();
    let t = server.finish();
    assert!(out.status.success(), "{out:?}\n{t:#?}");
    assert_eq!(t.uploads, files, "{t:#?}");
    (stdout(&out), t.commands)
}

#[test]
fn uploads_in_a_session_send_rnto_with_the_next_files_epsv() {
    let (log, sent) = put_twice_in_a_session("", false);
    // The rename of f0 goes in one write with the EPSV f1's STOR uses: f1's STOR follows
    // the replies at once, without an EPSV of its own.
    assert!(log.contains("> RNTO f0.bin\n> EPSV\n<"), "{log}");
    let stor = sent
        .iter()
        .position(|c| c.starts_with("STOR .f1.bin"))
        .unwrap();
    assert_eq!(sent[stor - 1], "EPSV", "{sent:?}");
    assert_eq!(sent[stor - 2], "RNTO f0.bin", "{sent:?}");
}

#[test]
fn inplace_uploads_in_a_session_send_the_size_proof_with_the_next_files_epsv() {
    let (log, sent) = put_twice_in_a_session("--inplace ", true);
    assert!(log.contains("> SIZE f0.bin\n> EPSV\n<"), "{log}");
    let stor = sent.iter().position(|c| c == "STOR f1.bin").unwrap();
    assert_eq!(sent[stor - 1], "EPSV", "{sent:?}");
    assert_eq!(sent[stor - 2], "SIZE f0.bin", "{sent:?}");
}

/// A scripted server that greets like vsftpd (a server known to read commands in turn,
/// so an upload's proof may go ahead of its final reply), logged in, that has taken an
/// upload's bytes (its `226` is left to the test).
fn vsftpd_like_upload() -> FakeServer {
    vsftpd_greeting()
        .reply("PASS", "230 Login successful.\r\n")
        .expect("EPSV")
        .epsv()
        .reply("STOR", "150 Ok to send data.\r\n")
        .data_recv()
}

/// Uploads `content` with `cp -v` to `server`; returns the output and the server's record.
fn cp_up(server: Running, content: &[u8]) -> (std::process::Output, Transcript) {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("up.bin"), content).unwrap();
    let out = ftp(home.path())
        .args([
            "-v",
            "--timeout",
            "5",
            "cp",
            "up.bin",
            &server.url("/up.bin"),
        ])
        .output()
        .unwrap();
    (out, server.finish())
}

#[test]
fn an_uploads_size_proof_goes_once_the_server_closed_the_data_connection_before_its_226() {
    // The server says 226 only after it has the SIZE: a client that waited for the 226
    // before asking would wait until its timeout.
    let content = sample(3000);
    let server = vsftpd_like_upload()
        .expect("SIZE /.up.bin.3700ftp-part")
        .send("226 Transfer complete.\r\n213 3000\r\n")
        .reply("RNFR /.up.bin.3700ftp-part", "350 Ready for RNTO.\r\n")
        .reply("RNTO /up.bin", "250 Rename successful.\r\n")
        .start();
    let (out, t) = cp_up(server, &content);
    assert!(out.status.success(), "{out:?}\n{t:#?}");
    assert_eq!(t.uploads, [content]);
    assert_eq!(t.count("SIZE"), 1, "{t:#?}");
    let log = stdout(&out);
    assert!(
        log.contains("> SIZE /.up.bin.3700ftp-part\n> RNFR /.up.bin.3700ftp-part\n< 226"),
        "{log}"
    );
}

/// Uploads 3000 bytes to a vsftpd-like server that takes the SIZE and RNFR sent ahead,
/// does `then` (its answers, if any, and the 226), and answers the proof asked again;
/// checks that the file arrived, that SIZE was asked twice and that the rename followed
/// the second. Returns what the server saw and where the second SIZE came.
fn proven_on_second_asking(then: impl FnOnce(FakeServer) -> FakeServer) -> (Transcript, usize) {
    let content = sample(3000);
    let server = then(vsftpd_like_upload().expect("SIZE").expect("RNFR"))
        .reply("SIZE", "213 3000\r\n")
        .reply("RNFR", "350 Ready for RNTO.\r\n")
        .reply("RNTO /up.bin", "250 Rename successful.\r\n")
        .start();
    let (out, t) = cp_up(server, &content);
    assert!(out.status.success(), "{out:?}\n{t:#?}");
    assert_eq!(t.uploads, [content]);
    assert_eq!(t.count("SIZE"), 2, "{t:#?}");
    let second_size = t
        .commands
        .iter()
        .rposition(|c| c.starts_with("SIZE"))
        .unwrap();
    assert!(t.position("RNTO /up.bin").unwrap() > second_size, "{t:#?}");
    (t, second_size)
}

#[test]
fn a_size_answered_before_the_uploads_226_is_not_trusted_and_is_asked_again() {
    // An asynchronous server answers SIZE (with what it has written so far) and RNFR
    // before the upload's 226: neither counts; the pending rename is ended, both are asked
    // again after the 226, and RNTO follows only the proof that came after.
    let (t, second_size) = proven_on_second_asking(|s| {
        s.send("213 1000\r\n350 Ready for RNTO.\r\n226 Transfer complete.\r\n")
            .reply("RNTO", "501 Invalid number of parameters\r\n")
    });
    assert!(ended_rename(&t) < Some(second_size), "{t:#?}");
}

#[test]
fn an_upload_failed_after_its_proof_went_ahead_is_reported_and_its_part_removed() {
    // 451 for the upload, then the answers to the SIZE and RNFR sent ahead: the failure is
    // the upload's, the answers are read (not taken for later replies), nothing is renamed.
    let server = vsftpd_like_upload()
        .expect("SIZE")
        .expect("RNFR")
        .send("451 Failure writing to local file.\r\n213 1000\r\n350 Ready for RNTO.\r\n")
        .reply("RNTO", "501 Invalid number of parameters\r\n")
        .reply(
            "DELE /.up.bin.3700ftp-part",
            "250 Delete operation successful.\r\n",
        )
        .start();
    let (out, t) = cp_up(server, &sample(3000));
    assert!(!out.status.success(), "{out:?}\n{t:#?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("451 Failure writing"), "{stderr}");
    assert!(!stderr.contains("timed out"), "{stderr}");
    assert!(!renames(&t), "{t:#?}");
    assert!(
        t.position("DELE /.up.bin.3700ftp-part") > ended_rename(&t),
        "{t:#?}"
    );
}

#[test]
fn a_server_not_known_to_read_commands_in_turn_gets_the_proof_after_the_226() {
    // libunftp reads commands during a transfer (and 0.24 was seen to answer neither a
    // SIZE sent ahead nor the upload): its SIZE goes only after the 226.
    let s = TestServer::start();
    std::fs::create_dir_all(s.file("/up")).unwrap();
    let home = tempfile::tempdir().unwrap();
    let content = sample(3000);
    std::fs::write(home.path().join("a.bin"), &content).unwrap();
    let out = ftp(home.path())
        .args(["-v", "cp", "a.bin", &s.url("/up/a.bin")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(std::fs::read(s.file("/up/a.bin")).unwrap(), content);
    let log = stdout(&out);
    let got = log.find("< 226").expect("a 226");
    let size = log.find("> SIZE").expect("a SIZE");
    assert!(size > got, "{log}");
}

/// Whether the client sent an RNTO naming a file (a rename).
fn renames(t: &Transcript) -> bool {
    t.commands.iter().any(|c| c.starts_with("RNTO "))
}

/// Where the client ended a pending rename with a bare RNTO (which renames nothing).
fn ended_rename(t: &Transcript) -> Option<usize> {
    let at = t.commands.iter().position(|c| c == "RNTO");
    assert!(at.is_some(), "no bare RNTO: {t:#?}");
    at
}

/// A vsftpd-like greeting and USER; PASS is left to the test.
fn vsftpd_greeting() -> FakeServer {
    FakeServer::new()
        .send("220 (vsFTPd 3.0.3)\r\n")
        .reply("USER", "331 Please specify the password.\r\n")
}

#[test]
fn a_one_shot_command_sends_its_first_commands_with_the_password_to_a_server_known_to_read_in_turn()
{
    // The server answers PASS only once the commands after it have arrived: a client
    // that waited for the 230 first would wait until its timeout.
    let content = sample(3000);
    let server = vsftpd_greeting()
        .expect("PASS")
        .expect("TYPE I")
        .send("230 Login successful.\r\n200 Switching to Binary mode.\r\n")
        .retr(&content)
        .start();
    let (log, t) = download(server, &content);
    let pass = log.find("> PASS").unwrap();
    let logged_in = log.find("< 230").unwrap();
    let type_i = log.find("> TYPE I").unwrap();
    assert!(pass < type_i && type_i < logged_in, "{log}");
    assert!(t.problems.is_empty(), "{t:#?}");
}

/// Downloads from `server`, which refuses the password: exit 4, "login incorrect", no
/// file written. Returns the `-v` transcript and what the server saw.
fn refused_download(server: Running) -> (String, Transcript) {
    let home = tempfile::tempdir().unwrap();
    let dest = home.path().join("file.bin");
    let out = ftp(home.path())
        .args(["-v", "--timeout", "5", "cp", &server.url("/file.bin")])
        .arg(&dest)
        .output()
        .unwrap();
    let t = server.finish();
    assert_eq!(out.status.code(), Some(4), "{out:?}\n{t:#?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("login incorrect"), "{stderr}");
    assert!(!dest.exists());
    (stdout(&out), t)
}

#[test]
fn a_password_refused_after_the_commands_sent_behind_it_is_a_login_error_and_nothing_is_written() {
    let server = vsftpd_greeting()
        .expect("PASS")
        .expect("TYPE I")
        .send("530 Login incorrect.\r\n530 Please login with USER and PASS.\r\n")
        .start();
    let (_, t) = refused_download(server);
    assert!(!t.sent("RETR"), "{t:#?}");
}

#[test]
fn a_session_waits_for_the_login_before_its_first_command_even_on_a_server_known_to_read_in_turn() {
    // A session (prompt or batch) shows its prompt only after a login that is confirmed.
    let server = vsftpd_greeting()
        .expect("PASS")
        .sleep_ms(300)
        .send("230 Login successful.\r\n")
        .start();
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .args(["-v", &server.url("/")])
        .write_stdin("pwd\n")
        .output()
        .unwrap();
    let t = server.finish();
    assert!(out.status.success(), "{out:?}\n{t:#?}");
    let log = stdout(&out);
    let logged_in = log.find("< 230").unwrap();
    let next =
        log[log.find("> PASS").unwrap()..].find("\n> ").unwrap() + log.find("> PASS").unwrap();
    assert!(logged_in < next, "{log}");
}

#[test]
fn a_server_that_never_answers_the_proof_sent_ahead_is_resynchronised_and_the_upload_proven() {
    // The 226 comes, the SIZE and RNFR sent ahead of it never get answers: after the
    // pipelining wait the conversation is put back in step (PWD) and the proof is asked
    // again, one command at a time; the rename follows that proof.
    let (t, second_size) = proven_on_second_asking(|s| {
        s.send("226 Transfer complete.\r\n")
            .reply("PWD", "257 \"/\" is the current directory\r\n")
    });
    let pwd = t.commands.iter().rposition(|c| c == "PWD").unwrap();
    assert!(
        t.position("SIZE").unwrap() < pwd && pwd < second_size,
        "{t:#?}"
    );
}

#[test]
fn a_password_refused_with_a_hang_up_after_the_commands_behind_it_is_a_login_error() {
    // FEAT lists UTF8, so OPTS UTF8 ON follows PASS; the server answers 530 and hangs up:
    // the refusal is the answer, not the closed connection.
    let server = FakeServer::new()
        .send("220 (vsFTPd 3.0.3)\r\n")
        .reply("USER", "331 Please specify the password.\r\n")
        .reply(
            "FEAT",
            "211-Features:\r\n EPSV\r\n SIZE\r\n UTF8\r\n211 End\r\n",
        )
        .expect("PASS")
        .send("530 Login incorrect.\r\n")
        .close()
        .start();
    let (log, _) = refused_download(server);
    assert!(log.contains("> OPTS UTF8 ON"), "{log}");
}

/// A server known by its greeting to read in turn that takes USER with FEAT, then drops
/// whatever arrived behind PASS in the same read (it reads PASS late enough for the
/// commands written behind it to be there), logged in.
fn drops_behind_pass() -> FakeServer {
    FakeServer::new()
        .drops_pipelined_after_login()
        .send("220 (vsFTPd 3.0.3)\r\n")
        .reply("USER", "331 Please specify the password.\r\n")
        .reply("FEAT", "211-Features:\r\n EPSV\r\n SIZE\r\n211 End\r\n")
        .sleep_ms(300)
        .reply("PASS", "230 Login successful.\r\n")
}

#[test]
fn commands_dropped_behind_a_password_are_sent_again_one_at_a_time_without_a_timeout() {
    // A server known by its greeting to read in turn takes USER with FEAT, then drops
    // whatever arrived behind PASS in the same read: the commands written right behind the
    // unanswered PASS get no reply. After the short pipelining wait (not the 20 s timeout)
    // the client resynchronises and sends them again, one at a time.
    let content = sample(5000);
    let server = drops_behind_pass()
        .size(content.len() as u64)
        .retr(&content)
        .start();
    let started = std::time::Instant::now();
    let (log, t) = download(server, &content);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{log}"
    );
    assert!(log.contains("stumbles on pipelined commands"), "{log}");
    assert_eq!(
        t.ignored.first().map(String::as_str),
        Some("TYPE I"),
        "{t:#?}"
    );
}

#[test]
fn a_single_command_dropped_behind_a_password_is_sent_again_without_a_timeout() {
    // The same server, and a one-shot ls: its first command (EPSV) goes alone behind PASS.
    let server = drops_behind_pass()
        .list("-rw-r--r--    1 ftp      ftp           100 Jan 01  2024 a.bin\r\n")
        .start();
    let home = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = ftp(home.path())
        .args(["-v", "ls", &server.url("/")])
        .output()
        .unwrap();
    let t = server.finish();
    assert!(out.status.success(), "{out:?}\n{t:#?}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{out:?}"
    );
    assert!(stdout(&out).contains("a.bin"), "{out:?}");
    assert_eq!(
        t.ignored.first().map(String::as_str),
        Some("EPSV"),
        "{t:#?}"
    );
    assert_eq!(t.count("EPSV"), 1, "{t:#?}");
}

#[test]
fn an_uploads_setup_goes_in_one_write_with_its_epsv() {
    // The server answers TYPE, MODE, STRU and EPSV only once all four have arrived: a
    // client that sent the setup and the EPSV one round trip apart would wait forever.
    let content = sample(3000);
    let server = FakeServer::new()
        .login()
        .expect("TYPE I")
        .expect("MODE S")
        .expect("STRU F")
        .expect("EPSV")
        .send("200 Binary.\r\n200 Mode S.\r\n200 Structure F.\r\n")
        .epsv()
        .reply("STOR", "150 Ok to send data.\r\n")
        .data_recv()
        .send("226 Transfer complete.\r\n")
        .reply("SIZE", "213 3000\r\n")
        .reply("RNFR", "350 Ready for RNTO.\r\n")
        .reply("RNTO /up.bin", "250 Rename successful.\r\n")
        .start();
    let (out, t) = cp_up(server, &content);
    assert!(out.status.success(), "{out:?}\n{t:#?}");
    assert_eq!(t.uploads, [content]);
    assert!(t.problems.is_empty(), "{t:#?}");
}

#[test]
fn a_session_asks_its_login_directory_moves_and_asks_again_in_one_write() {
    let server = FakeServer::new()
        .login()
        .expect("PWD")
        .expect("CWD /d")
        .expect("PWD")
        .send("257 \"/\" is the current directory\r\n250 Okay.\r\n257 \"/d\" is the current directory\r\n")
        .start();
    let home = tempfile::tempdir().unwrap();
    let out = ftp(home.path())
        .args(["--timeout", "5", &server.url("/d")])
        .write_stdin("pwd\n")
        .output()
        .unwrap();
    let t = server.finish();
    assert!(out.status.success(), "{out:?}\n{t:#?}");
    assert_eq!(stdout(&out).trim(), "/d", "{out:?}");
    assert!(t.problems.is_empty(), "{t:#?}");
}
