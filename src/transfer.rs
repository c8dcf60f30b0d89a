//! Streaming transfers and listings over a [`Connection`], with nothing lost on failure.
//!
//! A download streams into a temporary file beside the destination (`.NAME.XXXXXX.3700ftp-part`)
//! and is renamed into place only after the server's final reply is positive and the byte
//! count matches SIZE where the server has it; on every error path the temporary file is
//! removed (tempfile's guard) and the destination is untouched. An upload is confirmed by the
//! final reply and, where SIZE works, by the remote size. Memory is one fixed buffer,
//! whatever the file size. Nothing here prints; listings go to the writer the caller gives.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::error::{describe_io, Error, Kind, Result};
use crate::ftp::command::{Arg, Command};
use crate::ftp::connection::Connection;
use crate::ratelimit::Limiter;
use crate::verify::{self, Algo, HashCommand, PipedHasher as Hasher, Verify};
use std::sync::Arc;

/// One read or write of file data.
pub const CHUNK: usize = 256 * 1024;

/// What a confirmed transfer moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    /// Bytes transferred by this call (not counting what a resume kept).
    pub bytes: u64,
    /// True when the remote size was checked with SIZE.
    pub size_checked: bool,
    /// Bytes already in place before a resumed transfer.
    pub resumed_from: u64,
    /// True when the destination was already complete and nothing moved.
    pub already_complete: bool,
    /// True when the server's hash of the file matched ours.
    pub hash_checked: bool,
}

/// Follows a transfer's progress (the edge draws it; tests ignore it).
pub trait Progress {
    /// A transfer of `name` starts; `total` when known, `done` bytes already in place.
    fn begin(&mut self, _name: &str, _total: Option<u64>, _done: u64) {}
    /// `bytes` more moved.
    fn advance(&mut self, _bytes: u64) {}
    /// The transfer ended (successfully or not).
    fn end(&mut self) {}
}

/// No progress display.
pub struct Quiet;
impl Progress for Quiet {}

/// How a transfer runs.
pub struct Settings<'a> {
    /// Where progress goes.
    pub progress: &'a mut dyn Progress,
    /// Continue from where the destination ends (`cp -c`).
    pub resume: bool,
    /// How the result is proven (`--verify`).
    pub verify: Verify,
    /// Keep the modification time (`-p`).
    pub preserve: bool,
    /// The shared rate cap (`--limit-rate`).
    pub limiter: Option<Arc<Limiter>>,
}

/// The choices a transfer command makes once for all its files.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// `-c`.
    pub resume: bool,
    /// `--verify`.
    pub verify: Verify,
    /// `-p`.
    pub preserve: bool,
    /// `--limit-rate`.
    pub limiter: Option<Arc<Limiter>>,
}

impl<'a> Settings<'a> {
    /// Settings for one transfer under `policy`.
    pub fn new(progress: &'a mut dyn Progress, policy: &Policy) -> Settings<'a> {
        Settings {
            progress,
            resume: policy.resume,
            verify: policy.verify,
            preserve: policy.preserve,
            limiter: policy.limiter.clone(),
        }
    }

    fn chunk(&self) -> usize {
        self.limiter.as_ref().map_or(CHUNK, |l| l.chunk())
    }
}

/// Which server hash proves this transfer: None for size (or reply) only.
fn hash_plan(conn: &mut Connection, verify: Verify) -> Result<Option<(Algo, HashCommand)>> {
    match verify {
        Verify::Size | Verify::None => Ok(None),
        Verify::Auto | Verify::Hash => {
            let found = verify::choose(&conn.features()?);
            if found.is_none() && verify == Verify::Hash {
                return Err(Error::new(
                    Kind::Refused,
                    "--verify=hash: the server offers no hash command (FEAT lists no HASH, XSHA256, XSHA1, XMD5 or XCRC)",
                ));
            }
            Ok(found)
        }
    }
}

/// Asks the server for its hash of `path` and compares it with `ours`. With `--verify=auto`
/// a server that then fails to hash falls back to the size check (said in `-v`).
fn check_hash(
    conn: &mut Connection,
    path: &str,
    (algo, how): (Algo, HashCommand),
    ours: String,
    verify: Verify,
) -> Result<bool> {
    let arg = Arg::new(path)?;
    let reply = match how {
        HashCommand::Hash => {
            let chosen = conn.exec(&Command::OptsHash(algo.name()))?;
            if chosen.is_completion() {
                conn.exec(&Command::Hash(arg))?
            } else {
                chosen
            }
        }
        HashCommand::X => conn.exec(&Command::XHash(algo.x_command(), arg))?,
    };
    let theirs = if reply.is_completion() {
        // proftpd answers `213-Computing…` then the hash on the last line.
        reply
            .lines
            .iter()
            .rev()
            .find_map(|line| verify::parse_hash_reply(line, algo))
    } else {
        None
    };
    match theirs {
        Some(t) if t == ours => {
            conn.transcript_mut().note(&format!(
                "verified: the server's {} matches ({ours})",
                algo.name()
            ));
            Ok(true)
        }
        Some(t) => Err(Error::not_confirmed(format!(
            "the server's {} is {t} but the bytes transferred hash to {ours}",
            algo.name()
        ))),
        None if verify == Verify::Hash => Err(Error::not_confirmed(format!(
            "--verify=hash: the server did not give a {} ({reply})",
            algo.name()
        ))),
        None => {
            conn.transcript_mut().note(&format!(
                "the server did not give a {}; verified by size only",
                algo.name()
            ));
            Ok(false)
        }
    }
}

/// A notice the caller shows (resume decisions).
pub type Notices = Vec<String>;

/// Downloads `remote` into the local file `dest`. Without resume it is atomic (temporary
/// file, renamed after confirmation); with resume it appends to `dest` from where it ends,
/// so an interrupted `cp -c` keeps what arrived for the next one.
pub fn download(
    conn: &mut Connection,
    remote: &str,
    dest: &Path,
    settings: &mut Settings,
    notices: &mut Notices,
) -> Result<Moved> {
    let arg = Arg::new(remote)?;
    conn.ensure_binary()?;
    let expected = if settings.verify == Verify::None && !settings.resume {
        None
    } else {
        conn.size(remote)?
    };
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "download".into());
    let mut offset = 0;
    if settings.resume {
        if let Some(have) = partial_len(dest) {
            offset = plan_download_resume(conn, remote, dest, have, expected, notices)?;
            if Some(offset) == expected && offset > 0 {
                return Ok(Moved {
                    bytes: 0,
                    size_checked: true,
                    resumed_from: offset,
                    already_complete: true,
                    hash_checked: false,
                });
            }
        }
    }
    if settings.resume {
        // `-c` keeps what arrives, so it writes the destination itself: an interrupted
        // run leaves the part the next `-c` continues from.
        return resume_download(conn, remote, dest, &name, offset, expected, settings);
    }
    let plan = hash_plan(conn, settings.verify)?;
    let mut hasher = plan.map(|(algo, _)| Hasher::new(algo));
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut part = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".3700ftp-part")
        .tempfile_in(dir)
        .map_err(|e| Error::local(dir.display(), &e))?;
    settings.progress.begin(&name, expected, 0);
    let received = receive(
        conn,
        Command::Retr(arg),
        part.as_file_mut(),
        dest,
        settings,
        hasher.as_mut(),
    );
    settings.progress.end();
    let total = received?;
    check_size(total, expected, dest)?;
    if plan.is_none() && expected.is_some() {
        conn.transcript_mut()
            .note(&format!("verified by size ({total} bytes)"));
    }
    let hash_checked = match (plan, hasher) {
        (Some(plan), Some(h)) => check_hash(conn, remote, plan, h.finish(), settings.verify)?,
        _ => false,
    };
    set_default_permissions(part.as_file());
    part.persist(dest)
        .map_err(|e| Error::local(dest.display(), &e.error))?;
    if settings.preserve {
        keep_remote_time(conn, remote, dest, notices)?;
    }
    Ok(Moved {
        bytes: total,
        size_checked: expected.is_some(),
        resumed_from: 0,
        already_complete: false,
        hash_checked,
    })
}

/// The length of an existing regular file, when there is one to continue.
fn partial_len(dest: &Path) -> Option<u64> {
    std::fs::metadata(dest)
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len())
}

/// Decides where a download resumes: 0 to start over (the source changed), or `have`.
fn plan_download_resume(
    conn: &mut Connection,
    remote: &str,
    dest: &Path,
    have: u64,
    expected: Option<u64>,
    notices: &mut Notices,
) -> Result<u64> {
    let Some(size) = expected else {
        return Err(Error::new(
            Kind::Refused,
            "cannot resume: the server does not report the file's SIZE (copy again without -c to start over)",
        ));
    };
    if have > size {
        notices.push(format!(
            "{} is larger than the remote file ({have} > {size} bytes): the source changed; starting over",
            dest.display()
        ));
        return Ok(0);
    }
    if let (Some(remote_time), Some(local_time)) = (mdtm(conn, remote)?, mtime(dest)) {
        if remote_time > local_time {
            notices.push(format!(
                "the remote file changed after {} was written: starting over",
                dest.display()
            ));
            return Ok(0);
        }
    }
    if have == size {
        notices.push(format!(
            "{} is already complete ({size} bytes); nothing to transfer",
            dest.display()
        ));
    }
    Ok(have)
}

fn resume_download(
    conn: &mut Connection,
    remote: &str,
    dest: &Path,
    name: &str,
    offset: u64,
    expected: Option<u64>,
    settings: &mut Settings,
) -> Result<Moved> {
    let arg = Arg::new(remote)?;
    if offset > 0 {
        let reply = conn.exec(&Command::Rest(offset))?;
        if reply.code != 350 {
            return Err(Error::refused(reply.code, reply.text())
                .context("cannot resume (REST refused; copy again without -c to start over)"));
        }
    }
    // From the start (nothing there yet, or the source changed), the whole file is hashed
    // as it arrives; a continued one is proven by size.
    let plan = if offset == 0 {
        hash_plan(conn, settings.verify)?
    } else {
        None
    };
    let mut hasher = plan.map(|(algo, _)| Hasher::new(algo));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(offset > 0)
        .truncate(offset == 0)
        .open(dest)
        .map_err(|e| Error::local(dest.display(), &e))?;
    settings.progress.begin(name, expected, offset);
    let received = receive(
        conn,
        Command::Retr(arg),
        &mut file,
        dest,
        settings,
        hasher.as_mut(),
    );
    settings.progress.end();
    let total = received?;
    check_size(offset + total, expected, dest)?;
    let hash_checked = match (plan, hasher) {
        (Some(plan), Some(h)) => {
            match check_hash(conn, remote, plan, h.finish(), settings.verify) {
                Ok(proven) => proven,
                Err(e) => {
                    // Wrong bytes are not a part to continue from.
                    let _ = std::fs::remove_file(dest);
                    return Err(e);
                }
            }
        }
        _ => {
            conn.transcript_mut().note(if offset > 0 {
                "a resumed transfer is verified by size"
            } else {
                "verified by size"
            });
            false
        }
    };
    Ok(Moved {
        bytes: total,
        size_checked: expected.is_some(),
        resumed_from: offset,
        already_complete: false,
        hash_checked,
    })
}

/// Streams a RETR into `file`; returns the bytes received once the server confirmed.
fn receive(
    conn: &mut Connection,
    cmd: Command,
    file: &mut File,
    dest: &Path,
    settings: &mut Settings,
    mut hasher: Option<&mut Hasher>,
) -> Result<u64> {
    let mut data = conn.open_data(&cmd)?;
    // Nothing to see in the bytes (no hash, no pacing): let the kernel move them.
    #[cfg(target_os = "linux")]
    if hasher.is_none() && settings.limiter.is_none() {
        let progress = &mut *settings.progress;
        if let Some(spliced) = data.splice_into(file, dest, &mut |n| progress.advance(n as u64)) {
            return match spliced {
                Ok(total) => {
                    let early = data.finish_download();
                    conn.finish_data(early, total)?;
                    Ok(total)
                }
                Err(e) => {
                    drop(data);
                    conn.abort_transfer();
                    Err(e)
                }
            };
        }
    }
    let mut buf = vec![0u8; settings.chunk()];
    let mut total: u64 = 0;
    let streamed: Result<()> = loop {
        match data.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                if let Some(h) = hasher.as_deref_mut() {
                    h.update(&buf[..n]);
                }
                if let Err(e) = file.write_all(&buf[..n]) {
                    break Err(Error::local(dest.display(), &e));
                }
                total += n as u64;
                settings.progress.advance(n as u64);
                if let Some(l) = &settings.limiter {
                    l.take(n);
                }
            }
            Err(e) => break Err(e),
        }
    };
    if let Err(e) = streamed {
        drop(data);
        conn.abort_transfer();
        return Err(e);
    }
    let early = data.finish_download();
    conn.finish_data(early, total)?;
    Ok(total)
}

fn check_size(total: u64, expected: Option<u64>, dest: &Path) -> Result<()> {
    match expected {
        Some(expected) if expected != total => Err(Error::not_confirmed(format!(
            "received {total} bytes but the server announced {expected}; {} left unchanged",
            dest.display()
        ))),
        _ => Ok(()),
    }
}

/// MDTM as seconds since the epoch, where the server has it.
fn mdtm(conn: &mut Connection, path: &str) -> Result<Option<i64>> {
    let reply = conn.exec(&Command::Mdtm(Arg::new(path)?))?;
    Ok(if reply.code == 213 {
        crate::ftp::time::parse_ftp_time(reply.text())
    } else {
        None
    })
}

/// `-p` for a download: the local file gets the remote file's MDTM.
fn keep_remote_time(
    conn: &mut Connection,
    remote: &str,
    dest: &Path,
    notices: &mut Notices,
) -> Result<()> {
    match mdtm(conn, remote)? {
        Some(secs) => {
            let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.max(0) as u64);
            let file = File::options()
                .write(true)
                .open(dest)
                .map_err(|e| Error::local(dest.display(), &e))?;
            file.set_modified(when)
                .map_err(|e| Error::local(dest.display(), &e))?;
        }
        None => push_once(
            notices,
            "the server does not report modification times (MDTM); times not kept",
        ),
    }
    Ok(())
}

/// `-p` for an upload: MFMT where the server has it, else SITE UTIME; neither is said once.
fn keep_local_time(
    conn: &mut Connection,
    src: &Path,
    remote: &str,
    notices: &mut Notices,
) -> Result<()> {
    let Some(secs) = mtime(src) else {
        return Ok(());
    };
    let stamp = crate::ftp::time::format_ftp_time(secs);
    let arg = Arg::new(remote)?;
    let reply = conn.exec(&Command::Mfmt(stamp.clone(), arg.clone()))?;
    if reply.is_completion() {
        return Ok(());
    }
    let reply = conn.exec(&Command::SiteUtime(arg.clone(), stamp.clone()))?;
    if reply.is_completion() {
        return Ok(());
    }
    // vsftpd sets the time with a two-argument MDTM; elsewhere it is a harmless 5xx.
    let reply = conn.exec(&Command::MdtmSet(stamp, arg))?;
    if !reply.is_completion() {
        push_once(
            notices,
            "the server cannot set modification times (no MFMT, SITE UTIME or MDTM with a time); times not kept",
        );
    }
    Ok(())
}

fn push_once(notices: &mut Notices, text: &str) {
    if !notices.iter().any(|n| n == text) {
        notices.push(text.to_string());
    }
}

/// A local file's modification time as seconds since the epoch.
fn mtime(path: &Path) -> Option<i64> {
    let t = std::fs::metadata(path).ok()?.modified().ok()?;
    let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    i64::try_from(d.as_secs()).ok()
}

/// Uploads the local file `src` to `remote`, confirmed by the final reply and SIZE. With
/// resume, continues from the remote file's size (APPE, or REST + STOR).
pub fn upload(
    conn: &mut Connection,
    src: &Path,
    remote: &str,
    settings: &mut Settings,
    notices: &mut Notices,
) -> Result<Moved> {
    let arg = Arg::new(remote)?;
    let mut file = File::open(src).map_err(|e| Error::local(src.display(), &e))?;
    let local_len = file
        .metadata()
        .map_err(|e| Error::local(src.display(), &e))?
        .len();
    conn.ensure_binary()?;
    let mut offset = 0;
    let mut cmd = Command::Stor(arg.clone());
    if settings.resume {
        if let Some(have) = conn.size(remote)? {
            offset = plan_upload_resume(conn, src, remote, have, local_len, notices)?;
            if offset == local_len && offset > 0 {
                return Ok(Moved {
                    bytes: 0,
                    size_checked: true,
                    resumed_from: offset,
                    already_complete: true,
                    hash_checked: false,
                });
            }
            if offset > 0 {
                file.seek(SeekFrom::Start(offset))
                    .map_err(|e| Error::local(src.display(), &e))?;
                cmd = Command::Appe(arg.clone());
            }
        }
    }
    let name = src
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let plan = if offset == 0 {
        hash_plan(conn, settings.verify)?
    } else {
        None
    };
    let mut hasher = plan.map(|(algo, _)| Hasher::new(algo));
    settings.progress.begin(&name, Some(local_len), offset);
    let sent = match send(conn, &cmd, &mut file, src, settings, hasher.as_mut()) {
        // A server without APPE may take REST + STOR.
        Err(e)
            if offset > 0
                && e.kind() == Kind::Refused
                && matches!(e.code(), Some(500 | 502 | 504)) =>
        {
            let reply = conn.exec(&Command::Rest(offset))?;
            if reply.code != 350 {
                settings.progress.end();
                return Err(Error::refused(reply.code, reply.text()).context(
                    "cannot resume (neither APPE nor REST works; copy again without -c)",
                ));
            }
            send(conn, &Command::Stor(arg), &mut file, src, settings, None)
        }
        other => other,
    };
    settings.progress.end();
    let total = sent?;
    if offset + total != local_len {
        return Err(Error::not_confirmed(format!(
            "{} changed during the upload ({local_len} bytes before, {} sent)",
            src.display(),
            offset + total
        )));
    }
    let remote_len = if settings.verify == Verify::None {
        None
    } else {
        conn.size(remote)?
    };
    if let Some(remote_len) = remote_len {
        if remote_len != local_len {
            return Err(Error::not_confirmed(format!(
                "sent {local_len} bytes but the server holds {remote_len}"
            )));
        }
        if plan.is_none() {
            conn.transcript_mut()
                .note(&format!("verified by size ({local_len} bytes)"));
        }
    }
    let hash_checked = match (plan, hasher) {
        (Some(plan), Some(h)) => check_hash(conn, remote, plan, h.finish(), settings.verify)?,
        _ => false,
    };
    if settings.preserve {
        keep_local_time(conn, src, remote, notices)?;
    }
    Ok(Moved {
        bytes: total,
        size_checked: remote_len.is_some(),
        resumed_from: offset,
        already_complete: false,
        hash_checked,
    })
}

/// Decides where an upload resumes: 0 to start over, or the remote size.
fn plan_upload_resume(
    conn: &mut Connection,
    src: &Path,
    remote: &str,
    have: u64,
    local_len: u64,
    notices: &mut Notices,
) -> Result<u64> {
    if have > local_len {
        notices.push(format!(
            "the remote file is larger than {} ({have} > {local_len} bytes): starting over",
            src.display()
        ));
        return Ok(0);
    }
    if let (Some(remote_time), Some(local_time)) = (mdtm(conn, remote)?, mtime(src)) {
        if local_time > remote_time {
            notices.push(format!(
                "{} changed after the partial upload was written: starting over",
                src.display()
            ));
            return Ok(0);
        }
    }
    if have == local_len {
        notices.push(format!(
            "{remote} is already complete ({have} bytes); nothing to transfer"
        ));
    }
    Ok(have)
}

/// Streams `file` into a STOR/APPE; returns the bytes sent once the server confirmed.
fn send(
    conn: &mut Connection,
    cmd: &Command,
    file: &mut File,
    src: &Path,
    settings: &mut Settings,
    mut hasher: Option<&mut Hasher>,
) -> Result<u64> {
    let mut data = conn.open_data(cmd)?;
    let mut buf = vec![0u8; settings.chunk()];
    let mut total: u64 = 0;
    let streamed: Result<()> = loop {
        match file.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                if let Some(l) = &settings.limiter {
                    l.take(n);
                }
                if let Some(h) = hasher.as_deref_mut() {
                    h.update(&buf[..n]);
                }
                if let Err(e) = data.write_all(&buf[..n]) {
                    break Err(e);
                }
                total += n as u64;
                settings.progress.advance(n as u64);
            }
            Err(e) => break Err(Error::local(src.display(), &e)),
        }
    };
    let closed = match streamed {
        Ok(()) => data.finish_upload(),
        Err(e) => {
            drop(data);
            Err(e)
        }
    };
    match closed {
        Ok(early) => {
            conn.finish_data(early, total)?;
            Ok(total)
        }
        // Ctrl-C, a local read error, or a server that stopped reading the data (a stall
        // is a connection error): abandon the transfer with ABOR and say what happened.
        Err(e) if matches!(e.kind(), Kind::Interrupted | Kind::Local | Kind::Connection) => {
            conn.abort_transfer();
            Err(e)
        }
        // The server closed the data connection on us; its reply says why (553, 552...).
        Err(e) => Err(match conn.read_reply() {
            Ok(r) if r.code == 426 => {
                Error::not_confirmed(format!("server said {r}")).with_code(426)
            }
            Ok(r) if r.is_negative() => Error::refused(r.code, r.text()),
            Ok(_) => e,
            Err(control) if control.is_connection_lost() => control,
            Err(_) => e,
        }),
    }
}

/// Runs LIST for `path` (the working directory when empty) and writes the server's lines
/// to `out` with CR LF turned into LF. Returns the number of bytes listed.
pub fn list(conn: &mut Connection, path: &str, out: &mut dyn Write) -> Result<u64> {
    let arg = if path.is_empty() {
        None
    } else {
        Some(Arg::new(path)?)
    };
    listing(conn, &Command::List(arg), out)
}

/// The most listing data accepted from one LIST or MLSD (about a million entries): a
/// server that sends more is broken or hostile, and memory must not grow without end.
pub const MAX_LISTING: u64 = 128 * 1024 * 1024;

/// Runs a listing command (LIST, MLSD, NLST) and streams its data to `out`, CR LF → LF.
/// More than [`MAX_LISTING`] bytes abort the listing.
pub fn listing(conn: &mut Connection, cmd: &Command, out: &mut dyn Write) -> Result<u64> {
    let mut data = conn.open_data(cmd)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut total: u64 = 0;
    let mut crlf = CrlfToLf::default();
    let streamed: Result<()> = loop {
        match data.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                total += n as u64;
                if total > MAX_LISTING {
                    break Err(Error::connection(format!(
                        "the server's listing exceeds {} MiB; stopped reading it",
                        MAX_LISTING >> 20
                    )));
                }
                if let Err(e) = out.write_all(&crlf.convert(&buf[..n])) {
                    break Err(Error::new(
                        Kind::Local,
                        format!("writing the listing: {}", describe_io(&e)),
                    ));
                }
            }
            Err(e) => break Err(e),
        }
    };
    if let Err(e) = streamed {
        drop(data);
        conn.abort_transfer();
        return Err(e);
    }
    let early = data.finish_download();
    conn.finish_data(early, total)?;
    let _ = out.write_all(&crlf.finish());
    let _ = out.flush();
    Ok(total)
}

/// Turns CR LF into LF across chunk boundaries; a lone CR is kept.
#[derive(Default)]
struct CrlfToLf {
    pending_cr: bool,
}

impl CrlfToLf {
    fn convert(&mut self, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(input.len() + 1);
        for &b in input {
            if self.pending_cr {
                self.pending_cr = false;
                if b != b'\n' {
                    out.push(b'\r');
                }
            }
            if b == b'\r' {
                self.pending_cr = true;
            } else {
                out.push(b);
            }
        }
        out
    }

    fn finish(&mut self) -> Vec<u8> {
        if std::mem::take(&mut self.pending_cr) {
            vec![b'\r']
        } else {
            Vec::new()
        }
    }
}

#[cfg(unix)]
fn set_default_permissions(file: &File) {
    use std::os::unix::fs::PermissionsExt;
    // tempfile creates 0600; a downloaded file gets the usual 0644.
    let _ = file.set_permissions(std::fs::Permissions::from_mode(0o644));
}

#[cfg(not(unix))]
fn set_default_permissions(_file: &File) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_becomes_lf_across_chunks() {
        let mut c = CrlfToLf::default();
        let mut out = c.convert(b"a\r");
        out.extend(c.convert(b"\nb\rc\r\n"));
        out.extend(c.convert(b"\r"));
        out.extend(c.finish());
        assert_eq!(out, b"a\nb\rc\n\r");
    }
}
