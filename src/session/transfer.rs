//! What every transfer shares: the policy a command chooses, the settings of one transfer,
//! what a transfer moved and how it was proven, and the two byte pumps (socket → file,
//! file → socket). Nothing here prints.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Kind, Result};
use crate::ftp::command::Command;
use crate::ftp::connection::Connection;
use crate::ftp::data::DataConn;
use crate::ratelimit::Limiter;
use crate::verify::{PipedHasher as Hasher, Verify};

/// One read or write of file data.
pub const CHUNK: usize = 256 * 1024;

/// What a transfer did, and what it proved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Moved {
    /// Bytes transferred by this call (not counting what a resume kept).
    pub bytes: u64,
    /// True when the size was checked (SIZE, or the local length against the server's).
    pub size_checked: bool,
    /// Bytes already in place before a resumed transfer.
    pub resumed_from: u64,
    /// True when the destination was already complete and nothing moved.
    pub already_complete: bool,
    /// True when the server's hash of the whole file matched ours.
    pub hash_checked: bool,
    /// The hash that matched, when `hash_checked`.
    pub hash: Option<crate::verify::Algo>,
    /// How long the copy took (set where a job is run, in `jobs`).
    pub elapsed: std::time::Duration,
    /// True when this run proved that the destination holds the source's bytes: a transfer
    /// the server confirmed now (and every check the server allows passed), or content
    /// shown equal by the server's hash. A destination judged complete only by its size
    /// and time is not proven, and `mv` never deletes a source on it.
    pub proven: bool,
    /// The hash the server's own matched, and its digest (lowercase hex), when a hash proved it.
    pub digest: Option<(crate::verify::Algo, String)>,
    /// The code of the server's final reply to the transfer (226, 250), when data moved.
    pub reply: Option<u16>,
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

/// Hands out one progress display per file of a multi-file run (the edge draws them).
pub trait Bars: Sync {
    /// A display for the next file.
    fn for_file(&self) -> Box<dyn Progress + Send>;
}

/// No progress displays.
impl Bars for Quiet {
    fn for_file(&self) -> Box<dyn Progress + Send> {
        Box::new(Quiet)
    }
}

/// A way to log in to the transfer's server again (a retry after a lost connection, the
/// extra connections of a segmented download), in the directory the paths are relative to.
#[derive(Clone)]
pub struct Login(pub Arc<dyn Fn() -> Result<Connection> + Send + Sync>);

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Login")
    }
}

/// `--retry N` and `--retry-delay SECS`: how often a transient failure is tried again, and
/// the first wait (doubled each time, at most [`MAX_RETRY_DELAY`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// Attempts after the first.
    pub times: u32,
    /// The wait before the first retry.
    pub delay: std::time::Duration,
}

/// The longest wait between two attempts.
pub const MAX_RETRY_DELAY: std::time::Duration = std::time::Duration::from_secs(30);

impl Default for Retry {
    fn default() -> Retry {
        Retry {
            times: 0,
            delay: std::time::Duration::from_secs(1),
        }
    }
}

impl Retry {
    /// The wait before retry number `n` (1-based): delay, 2·delay, 4·delay…, capped.
    pub fn wait(&self, n: u32) -> std::time::Duration {
        let factor = 1u32 << n.saturating_sub(1).min(16);
        self.delay.saturating_mul(factor).min(MAX_RETRY_DELAY)
    }
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
    /// `--inplace`: an upload writes the final name directly (no temporary name + rename).
    pub inplace: bool,
    /// `--retry`: transient failures tried again, resuming.
    pub retry: Retry,
    /// Logging in again (retries, segments); None where the caller cannot.
    pub login: Option<Login>,
    /// `--segments N`: a download fetched as N ranges over N connections (1: one stream).
    pub segments: usize,
    /// Files at least this large are segmented (0: every file a single-file copy names).
    pub segment_threshold: u64,
    /// `mirror`: a transfer goes through the fixed part name `.NAME.3700ftp-part`, kept
    /// when interrupted, and a part already there is continued through the `-c` guards.
    pub keep_parts: bool,
    /// With `keep_parts`, an upload first asks the server for its part (SIZE) to continue
    /// it; mirror sets it only for files whose part its listing saw.
    pub continue_parts: bool,
    /// Another transfer may follow on the same connection (a session, a multi-file run):
    /// an upload's RNTO goes in one write with the EPSV that transfer will use.
    pub ready_for_next: bool,
}

/// How one transfer runs.
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
    /// Upload straight onto the final name.
    pub inplace: bool,
    /// The source is deleted after this copy (`mv`): nothing short of a proof will do, and
    /// a downloaded file is synced to disk before the caller deletes the remote source.
    pub moving: bool,
    /// Set by `upload` while it stores a temporary file: RNFR of it may go in the same
    /// write as its SIZE proof.
    pub rnfr_with_proof: bool,
    /// The code of the server's final reply to the last transfer command (set by the pumps).
    pub reply: Option<u16>,
    /// Commands the next upload sends the moment the server has closed its data
    /// connection, before its final reply (`Connection::finish_upload_ahead`): the proof's
    /// SIZE and RNFR. Taken by [`send`].
    pub ahead: Vec<Command>,
    /// Their replies, set by [`send`] when they came after the final reply (trusted).
    pub ahead_replies: Option<Vec<crate::ftp::reply::Reply>>,
    /// A failure keeps what was transferred so far (a retry follows).
    pub keep_part: bool,
    /// This attempt follows a failed one: continue what it kept.
    pub retrying: bool,
    /// The local temporary file a failed download attempt kept.
    pub part: Option<std::path::PathBuf>,
    /// That file holds as many bytes as the server announced.
    pub part_whole: bool,
    /// `--retry`.
    pub retry: Retry,
    /// Logging in again.
    pub login: Option<Login>,
    /// `--segments N`.
    pub segments: usize,
    /// Files at least this large are segmented.
    pub segment_threshold: u64,
    /// [`Policy::keep_parts`].
    pub keep_parts: bool,
    /// [`Policy::continue_parts`].
    pub continue_parts: bool,
    /// [`Policy::ready_for_next`].
    pub ready_for_next: bool,
    /// The answer to the time command sent ahead with an upload's proof, on its part (`-p`,
    /// mirror), and that command's name: the time is kept, or that way is not tried again.
    pub time_kept: Option<(&'static str, crate::ftp::reply::Reply)>,
}

impl<'a> Settings<'a> {
    /// Whether an upload's last command may carry the EPSV of the next transfer: another
    /// transfer may follow on this connection, and no MFMT (`-p`) comes in between (the
    /// time went ahead with the proof, or none is kept).
    pub fn readies_next(&self) -> bool {
        self.ready_for_next && (!self.preserve || self.time_kept.is_some())
    }

    /// Settings for one transfer under `policy`.
    pub fn new(progress: &'a mut dyn Progress, policy: &Policy, moving: bool) -> Settings<'a> {
        Settings {
            progress,
            resume: policy.resume,
            verify: policy.verify,
            preserve: policy.preserve,
            limiter: policy.limiter.clone(),
            inplace: policy.inplace,
            moving,
            rnfr_with_proof: false,
            reply: None,
            ahead: Vec::new(),
            ahead_replies: None,
            keep_part: false,
            retrying: false,
            part: None,
            part_whole: false,
            retry: policy.retry,
            login: policy.login.clone(),
            segments: policy.segments,
            segment_threshold: policy.segment_threshold,
            keep_parts: policy.keep_parts,
            continue_parts: policy.continue_parts,
            ready_for_next: policy.ready_for_next,
            time_kept: None,
        }
    }

    fn chunk(&self) -> usize {
        self.limiter.as_ref().map_or(CHUNK, |l| l.chunk(CHUNK))
    }
}

/// `1234567` → `1.2 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Notices the caller shows (resume decisions, what was kept).
pub type Notices = Vec<String>;

/// Adds `text` unless it is already there.
pub fn push_once(notices: &mut Notices, text: &str) {
    if !notices.iter().any(|n| n == text) {
        notices.push(text.to_string());
    }
}

/// The message of the error [`receive`] returns when the server sends more than it announced.
pub const MORE_THAN_ANNOUNCED: &str = "the server sent more bytes than it announced";

/// Where a download's bytes go: a file (spliced where the kernel can), or any writer (stdout).
pub enum Sink<'a> {
    /// A file.
    File(&'a mut File),
    /// A stream.
    Writer(&'a mut dyn Write),
}

impl Write for Sink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::File(f) => f.write(buf),
            Sink::Writer(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::File(f) => f.flush(),
            Sink::Writer(w) => w.flush(),
        }
    }
}

/// Streams a download's data connection (opened by the caller) into `file`; returns the
/// bytes received once the server confirmed. With `limit`, the server may send at most that
/// many bytes: one byte more stops the transfer before it is written (a hostile server
/// cannot fill the disk, and a server that ignored REST is caught).
pub fn receive(
    conn: &mut Connection,
    mut data: DataConn,
    mut file: Sink,
    dest: &Path,
    settings: &mut Settings,
    mut hasher: Option<&mut Hasher>,
    limit: Option<u64>,
) -> Result<u64> {
    let too_much = |total: u64| {
        Error::not_confirmed(format!(
            "{MORE_THAN_ANNOUNCED} ({} bytes); stopped after {total}",
            limit.unwrap_or_default()
        ))
    };
    // Nothing to see in the bytes (no hash, no pacing): let the kernel move them.
    #[cfg(target_os = "linux")]
    if let (None, None, Sink::File(file)) = (&hasher, &settings.limiter, &mut file) {
        let progress = &mut *settings.progress;
        if let Some(spliced) =
            data.splice_into(file, dest, limit, &mut |n| progress.advance(n as u64))
        {
            return match spliced {
                Ok(total) if limit.is_some_and(|l| total > l) => {
                    drop(data);
                    conn.abort_transfer();
                    Err(too_much(limit.unwrap_or_default()))
                }
                Ok(total) => {
                    let early = data.finish_download();
                    settings.reply = Some(conn.finish_data(early, total)?.code);
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
                if limit.is_some_and(|l| total + n as u64 > l) {
                    break Err(too_much(total));
                }
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
    let _ = file.flush();
    let early = data.finish_download();
    settings.reply = Some(conn.finish_data(early, total)?.code);
    Ok(total)
}

/// Streams `file` into a STOR/APPE; returns the bytes sent once the server confirmed.
pub fn send(
    conn: &mut Connection,
    cmd: &Command,
    file: &mut dyn Read,
    src: &Path,
    settings: &mut Settings,
    mut hasher: Option<&mut Hasher>,
) -> Result<u64> {
    // The first bytes (a small file whole, with its end) may go out before the server's
    // `150` (see `Connection::open_upload`): only what the socket takes without waiting,
    // and the reply is read before anything that could wait.
    let ahead = std::mem::take(&mut settings.ahead);
    settings.ahead_replies = None;
    let mut data = conn.open_upload(cmd)?;
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
                // Only the first chunk: the next one waits for the reply.
                let early = if data.first_pending() && total == 0 {
                    match data.write_now(&buf[..n]) {
                        Ok(m) => m,
                        Err(e) => break Err(e),
                    }
                } else {
                    0
                };
                if early < n {
                    if let Err(e) = conn
                        .first_reply(&mut data)
                        .and_then(|_| data.write_all(&buf[early..n]))
                    {
                        break Err(e);
                    }
                }
                total += n as u64;
                settings.progress.advance(n as u64);
            }
            Err(e) => break Err(Error::local(src.display(), &e)),
        }
    };
    let ended = streamed
        .and_then(|_| data.end_writing())
        .and_then(|_| conn.first_reply(&mut data));
    // The server's first reply, when the failure came before it was read.
    let unread_first = data.first_pending();
    let closed = match ended {
        Ok(()) => data.finish_upload(),
        Err(e) => {
            drop(data);
            Err(e)
        }
    };
    match closed {
        // The server has read every byte and closed: the proof may go before its reply.
        Ok((None, true)) if !ahead.is_empty() && conn.sends_ahead() => {
            let (reply, answers) = conn.finish_upload_ahead(&ahead, total)?;
            settings.reply = Some(reply.code);
            settings.ahead_replies = answers;
            Ok(total)
        }
        Ok((early, _)) => {
            settings.reply = Some(conn.finish_data(early, total)?.code);
            Ok(total)
        }
        // The server refused the command (its first reply said so): nothing else comes.
        Err(e) if e.kind() == Kind::Refused => Err(e),
        // Ctrl-C, a local read error, or a server that stopped reading the data (a stall
        // is a connection error): abandon the transfer with ABOR and say what happened.
        Err(e) if matches!(e.kind(), Kind::Interrupted | Kind::Local | Kind::Connection) => {
            conn.abort_transfer();
            Err(e)
        }
        // The server closed the data connection on us; its reply says why (553, 552...).
        Err(e) => Err(
            match conn.read_reply().and_then(|r| {
                if unread_first && r.is_preliminary() {
                    conn.read_reply()
                } else {
                    Ok(r)
                }
            }) {
                Ok(r) if r.code == 426 => {
                    Error::not_confirmed(format!("server said {r}")).with_code(426)
                }
                Ok(r) if r.is_negative() => Error::refused(r.code, r.text()),
                Ok(_) => e,
                Err(control) if control.is_connection_lost() => control,
                Err(_) => e,
            },
        ),
    }
}

/// Feeds the first `len` bytes of the local file at `path` to `hasher` (the part a resumed
/// transfer kept), so the proof covers the whole file.
pub fn hash_prefix(hasher: &mut Hasher, path: &Path, len: u64) -> Result<()> {
    if len == 0 {
        // Nothing kept (a file about to be created): nothing to read.
        return Ok(());
    }
    let file = File::open(path).map_err(|e| Error::local(path.display(), &e))?;
    let mut part = file.take(len);
    let mut buf = vec![0u8; CHUNK];
    let mut seen = 0u64;
    loop {
        let n = part
            .read(&mut buf)
            .map_err(|e| Error::local(path.display(), &e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        seen += n as u64;
    }
    if seen != len {
        return Err(Error::new(
            Kind::Local,
            format!("{} changed while it was read", path.display()),
        ));
    }
    Ok(())
}
