//! `--json`: what a script reads. Each action of a command (a file copied, a directory
//! made, a file deleted) is one [`Record`], and each command ends with one [`Summary`];
//! both are one JSON object on one line (JSON Lines) on stdout. The command layer fills
//! these values from what the session layer returned; this module is the encoding, and
//! `docs/json.md` is its schema (version [`VERSION`]).

use std::time::Duration;

use crate::error::Error;
use crate::text::JsonObject;

/// The schema version every object carries as `"v"`; raised when a field changes meaning
/// or goes away (new fields may be added within a version).
pub const VERSION: u64 = 1;

/// How an action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Done (and, for a transfer, proven as `proof` says).
    Ok,
    /// Nothing needed doing (`-c` on a complete file).
    Skipped,
    /// Failed; `error` says why.
    Failed,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
        }
    }
}

/// One action.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// The command typed (`cp`, `mirror`).
    pub op: String,
    /// What this action did: `download`, `upload`, `mkdir`, `rm`, `rmdir`, `rename`,
    /// `list`, or the command's own name for commands with one action.
    pub action: String,
    /// Where the bytes or the name came from: a URL (password removed) or a local path.
    pub source: Option<String>,
    /// Where they went.
    pub destination: Option<String>,
    /// Bytes moved by this run (not counting a resumed part).
    pub bytes: Option<u64>,
    /// How long the action took.
    pub elapsed: Option<Duration>,
    /// Bytes already in place that a resumed transfer kept.
    pub resumed_from: Option<u64>,
    /// How a transfer was proven: `sha256`, `sha1`, `md5`, `crc32`, `size` or `none`.
    pub proof: Option<&'static str>,
    /// The digest both sides agreed on, for a hash proof.
    pub digest: Option<String>,
    /// The code of the server's final reply.
    pub reply: Option<u16>,
    /// Nothing needed doing.
    pub skipped: bool,
    /// Why it failed.
    pub error: Option<Error>,
}

impl Record {
    /// A record of `action` for the command `op`.
    pub fn new(op: &str, action: &str) -> Record {
        Record {
            op: op.to_string(),
            action: action.to_string(),
            ..Record::default()
        }
    }

    /// ok, skipped or failed.
    pub fn status(&self) -> Status {
        if self.error.is_some() {
            Status::Failed
        } else if self.skipped {
            Status::Skipped
        } else {
            Status::Ok
        }
    }

    /// The record as one line of JSON.
    pub fn to_json(&self) -> String {
        JsonObject::new()
            .num("v", Some(VERSION))
            .str("record", "action")
            .str("op", &self.op)
            .str("action", &self.action)
            .str("status", self.status().name())
            .opt_str("source", self.source.as_deref())
            .opt_str("destination", self.destination.as_deref())
            .num("bytes", self.bytes)
            .float("seconds", self.elapsed.map(|d| d.as_secs_f64()))
            .num("resumed_from", self.resumed_from)
            .opt_str("proof", self.proof)
            .opt_str("digest", self.digest.as_deref())
            .num(
                "reply",
                self.reply
                    .or(self.error.as_ref().and_then(Error::code))
                    .map(u64::from),
            )
            .raw("error", &error_json(self.error.as_ref()))
            .finish()
    }
}

/// What a command did, in all: the last object of its output.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The command typed.
    pub op: String,
    /// Actions recorded.
    pub actions: usize,
    /// Of which done.
    pub ok: usize,
    /// Of which failed.
    pub failed: usize,
    /// Of which needed nothing (plus files a mirror left alone).
    pub skipped: usize,
    /// Bytes moved in all.
    pub bytes: u64,
    /// How long the command took.
    pub elapsed: Duration,
    /// The command's error, when it failed (its exit code is the run's).
    pub error: Option<Error>,
}

impl Summary {
    /// Counts `record` in.
    pub fn add(&mut self, record: &Record) {
        self.actions += 1;
        match record.status() {
            Status::Ok => self.ok += 1,
            Status::Skipped => self.skipped += 1,
            Status::Failed => self.failed += 1,
        }
        self.bytes += record.bytes.unwrap_or(0);
    }

    /// The summary as one line of JSON.
    pub fn to_json(&self) -> String {
        let status = if self.error.is_some() {
            Status::Failed
        } else {
            Status::Ok
        };
        JsonObject::new()
            .num("v", Some(VERSION))
            .str("record", "summary")
            .str("op", &self.op)
            .str("status", status.name())
            .num("actions", Some(self.actions as u64))
            .num("ok", Some(self.ok as u64))
            .num("failed", Some(self.failed as u64))
            .num("skipped", Some(self.skipped as u64))
            .num("bytes", Some(self.bytes))
            .float("seconds", Some(self.elapsed.as_secs_f64()))
            .num(
                "exit_code",
                Some(u64::from(self.error.as_ref().map_or(0, exit_code))),
            )
            .raw("error", &error_json(self.error.as_ref()))
            .finish()
    }
}

/// The exit code `main.rs` gives this error (through [`crate::error::Kind::exit_code`]).
fn exit_code(e: &Error) -> u8 {
    e.kind().exit_code()
}

/// `{"class":"refused","exit_code":5,"message":"…","reply":550}`, or `null`.
fn error_json(e: Option<&Error>) -> String {
    match e {
        None => "null".to_string(),
        Some(e) => JsonObject::new()
            .str("class", e.kind().name())
            .num("exit_code", Some(u64::from(exit_code(e))))
            .str("message", &e.to_string())
            .num("reply", e.code().map(u64::from))
            .finish(),
    }
}

/// The `proof` word for a hash algorithm.
pub fn proof_name(algo: crate::verify::Algo) -> &'static str {
    use crate::verify::Algo;
    match algo {
        Algo::Sha256 => "sha256",
        Algo::Sha1 => "sha1",
        Algo::Md5 => "md5",
        Algo::Crc32 => "crc32",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_record_names_class_exit_code_message_and_reply() {
        let mut r = Record::new("rm", "rm");
        r.source = Some("ftp://h:21/x".into());
        r.error = Some(Error::refused(550, "No such file").context("rm /x"));
        let line = r.to_json();
        assert!(
            line.starts_with("{\"v\":1,\"record\":\"action\",\"op\":\"rm\""),
            "{line}"
        );
        assert!(line.contains("\"status\":\"failed\""), "{line}");
        assert!(line.contains("\"reply\":550"), "{line}");
        assert!(
            line.contains("\"error\":{\"class\":\"refused\",\"exit_code\":5,\"message\":\"rm /x: server said 550 No such file\",\"reply\":550}"),
            "{line}"
        );
        let mut s = Summary {
            op: "rm".into(),
            ..Summary::default()
        };
        s.add(&r);
        s.error = r.error.clone();
        let line = s.to_json();
        assert!(
            line.contains("\"failed\":1") && line.contains("\"exit_code\":5"),
            "{line}"
        );
    }
}
