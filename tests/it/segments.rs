//! Segmented downloads against a server whose one connection stalls: a connection left
//! without work takes over the second half of the stalled range, and what it fetched is
//! recorded exactly, so `-c` fetches only what is still missing.

use crate::common;
use crate::resilience::rests;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// The bytes of a test file: every value, in a pattern that shows a misplaced range.
fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// A server of one file that honours REST, and whose first RETR from offset 0 sends
/// `stall_after` bytes and then nothing more until the client closes that data
/// connection. Returns its port.
fn ranged_server(data: Vec<u8>, stall_after: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let data = Arc::new(data);
    let stalled = Arc::new(AtomicBool::new(false));
    std::thread::spawn(move || {
        for control in listener.incoming().flatten() {
            let (data, stalled) = (data.clone(), stalled.clone());
            std::thread::spawn(move || serve(control, &data, &stalled, stall_after));
        }
    });
    port
}

/// One control connection of [`ranged_server`].
fn serve(control: TcpStream, data: &Arc<Vec<u8>>, stalled: &AtomicBool, stall_after: usize) {
    let out = Arc::new(Mutex::new(control.try_clone().unwrap()));
    let say = |text: &str| {
        let _ = out.lock().unwrap().write_all(text.as_bytes());
    };
    let mut lines = BufReader::new(control);
    let mut rest = 0usize;
    let mut passive: Option<TcpListener> = None;
    // The transfer under way: its thread, and whether it sent its 226.
    let mut transfer: Option<(std::thread::JoinHandle<()>, Arc<AtomicBool>)> = None;
    say("220 ranged\r\n");
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        let (verb, arg) = line.split_once(' ').unwrap_or((line, ""));
        match verb.to_ascii_uppercase().as_str() {
            "USER" => say("331 password\r\n"),
            "PASS" => say("230 in\r\n"),
            "TYPE" | "MODE" | "STRU" => say("200 ok\r\n"),
            "FEAT" => say("211-Features:\r\n SIZE\r\n MDTM\r\n REST STREAM\r\n211 End\r\n"),
            "PWD" => say("257 \"/\"\r\n"),
            "CWD" => say("250 ok\r\n"),
            "SIZE" => say(&format!("213 {}\r\n", data.len())),
            "MDTM" => say("213 20260101000000\r\n"),
            "REST" => {
                rest = arg.parse().unwrap();
                say(&format!("350 Restarting at {rest}\r\n"));
            }
            "EPSV" => {
                let l = TcpListener::bind("127.0.0.1:0").unwrap();
                let p = l.local_addr().unwrap().port();
                passive = Some(l);
                say(&format!("229 Entering Extended Passive Mode (|||{p}|)\r\n"));
            }
            "RETR" => {
                let (mut conn, _) = passive.take().unwrap().accept().unwrap();
                say("150 here it comes\r\n");
                let from = std::mem::take(&mut rest);
                let stall = from == 0 && !stalled.swap(true, Ordering::SeqCst);
                let (data, out, answered) =
                    (data.clone(), out.clone(), Arc::new(AtomicBool::new(false)));
                let done = answered.clone();
                let handle = std::thread::spawn(move || {
                    let end = if stall { stall_after } else { data.len() };
                    if conn.write_all(&data[from..end]).is_err() {
                        return;
                    }
                    if stall {
                        // Nothing more: wait for the client to give up on this connection.
                        let _ = conn.read(&mut [0u8; 1]);
                        return;
                    }
                    drop(conn);
                    let _ = out.lock().unwrap().write_all(b"226 done\r\n");
                    done.store(true, Ordering::SeqCst);
                });
                transfer = Some((handle, answered));
            }
            "ABOR" => match transfer.take() {
                Some((handle, answered)) => {
                    let _ = handle.join();
                    if answered.load(Ordering::SeqCst) {
                        say("226 abort ok\r\n");
                    } else {
                        say("426 aborted\r\n226 abort ok\r\n");
                    }
                }
                None => say("225 no transfer\r\n"),
            },
            "QUIT" => {
                say("221 bye\r\n");
                return;
            }
            _ => say("502 not here\r\n"),
        }
    }
}

/// The ranges a record of finished ranges does not cover, in order; panics on ranges
/// that overlap (each byte is fetched and recorded once).
fn missing(record: &str, size: u64) -> Vec<(u64, u64)> {
    let mut done: Vec<(u64, u64)> = record
        .lines()
        .filter_map(|l| {
            let mut w = l.strip_prefix("done ")?.split(' ');
            Some((w.next()?.parse().ok()?, w.next()?.parse().ok()?))
        })
        .collect();
    done.sort();
    let (mut gaps, mut at) = (Vec::new(), 0);
    for (a, b) in done {
        assert!(a >= at, "overlapping ranges in {record}");
        if a > at {
            gaps.push((at, a));
        }
        at = b;
    }
    if at < size {
        gaps.push((at, size));
    }
    gaps
}

#[test]
fn a_stalled_range_is_split_recorded_exactly_and_finished_by_c() {
    let data = content(4 * MIB);
    // The range 0..1 MiB stalls after 256 KiB; its read under way may bring 256 KiB more,
    // so (when it is split after the stall) 768 KiB..1 MiB is what another connection
    // takes over.
    let port = ranged_server(data.clone(), 256 * KIB);
    let url = format!("ftp://u:p@127.0.0.1:{port}/f.bin");
    let home = tempfile::tempdir().unwrap();
    let record = home.path().join(".f.bin.3700ftp-segments");
    let mut child = common::command(home.path())
        .args(["-v", "cp", "--segments", "4", &url, "f.bin"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until everything but the stalled range's beginning is recorded.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (recorded, gap) = loop {
        let text = std::fs::read_to_string(&record).unwrap_or_default();
        let gap = missing(&text, data.len() as u64);
        if gap.len() == 1 && gap[0].0 == 0 && gap[0].1 < MIB as u64 || Instant::now() > deadline {
            break (text, gap);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // Stop it while the stalled range still waits (as Ctrl-C would).
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let mut transcript = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut transcript)
        .unwrap();
    let status = child.wait().unwrap();
    // The stalled range 0..1 MiB was split: another connection fetched its second half
    // (beyond what the stalled read could still bring) and recorded it exactly.
    let end = gap.first().map_or(0, |g| g.1);
    assert!(
        gap.len() == 1 && (512 * KIB as u64..MIB as u64).contains(&end),
        "{gap:?}\n{recorded}\n{transcript}"
    );
    assert!(rests(&transcript).contains(&end), "{transcript}");
    assert_eq!(status.code(), Some(130), "{transcript}");
    // -c fetches what is missing, from 0 to where the taken-over half began, and nothing
    // else.
    let out = common::ftp(home.path())
        .args(["-v", "cp", "-c", "--segments", "4", &url, "f.bin"])
        .output()
        .unwrap();
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::read(home.path().join("f.bin")).unwrap() == data);
    assert_eq!(rests(&transcript), vec![0], "{transcript}");
    assert!(!record.exists() && !home.path().join(".f.bin.3700ftp-part").exists());
}
