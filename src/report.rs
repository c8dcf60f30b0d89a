//! What a finished transfer says at the prompt: one line for a file, one summary for a
//! multi-file run, worded from the values the session layer returns (`Moved`, `Outcome`).
//! Pure text; the caller prints it.

use crate::session::jobs::{human_bytes, Outcome};
use crate::session::transfer::Moved;

/// `12.0 MiB/s`: `bytes` over `elapsed` (an instant copy counts as one millisecond).
fn rate(bytes: u64, elapsed: std::time::Duration) -> String {
    let secs = elapsed.as_secs_f64().max(0.001);
    format!("{}/s", human_bytes((bytes as f64 / secs) as u64))
}

/// `0.42 s`, `1.3 s`, `2 min 5 s`.
fn seconds(elapsed: std::time::Duration) -> String {
    let s = elapsed.as_secs_f64();
    if s < 1.0 {
        format!("{s:.2} s")
    } else if s < 60.0 {
        format!("{s:.1} s")
    } else {
        format!(
            "{} min {} s",
            elapsed.as_secs() / 60,
            elapsed.as_secs() % 60
        )
    }
}

/// The one line a successful transfer says at the prompt: what, how much, how long, how
/// fast, and how it was proven (`readme.txt: 35 B in 0.01 s (3.4 KiB/s), verified by SHA-256`).
pub fn transfer_line(name: &str, moved: &Moved) -> String {
    let proof = match (moved.hash, moved.size_checked) {
        (Some(algo), _) => format!("verified by {}", algo.name()),
        (None, true) => "verified by size".to_string(),
        (None, false) => "confirmed by the server's reply (no size or hash to check)".to_string(),
    };
    if moved.already_complete {
        return format!(
            "{name}: already complete ({}), nothing transferred; {proof}",
            human_bytes(moved.resumed_from)
        );
    }
    let resumed = if moved.resumed_from > 0 {
        format!(", continued after {}", human_bytes(moved.resumed_from))
    } else {
        String::new()
    };
    format!(
        "{name}: {} in {} ({}){resumed}, {proof}",
        human_bytes(moved.bytes),
        seconds(moved.elapsed),
        rate(moved.bytes, moved.elapsed)
    )
}

/// A multi-file run's summary at the prompt, worded as a summary:
/// `done: 3 files, 1.2 MiB in 0.4 s (3.0 MiB/s); 2 verified by SHA-256, 1 by size`.
pub fn summary_line(outcome: &Outcome) -> String {
    let files = outcome.files;
    let mut text = format!(
        "done: {files} file{}, {} in {} ({})",
        if files == 1 { "" } else { "s" },
        human_bytes(outcome.bytes),
        seconds(outcome.elapsed),
        rate(outcome.bytes, outcome.elapsed)
    );
    let mut proofs = Vec::new();
    if outcome.hash_checked > 0 {
        let algo = outcome.hash.map_or("hash", |a| a.name());
        proofs.push(format!("{} verified by {algo}", outcome.hash_checked));
    }
    if outcome.size_checked > 0 {
        proofs.push(format!("{} by size", outcome.size_checked));
    }
    let by_reply =
        files - outcome.hash_checked - outcome.size_checked.min(files - outcome.hash_checked);
    if by_reply > 0 {
        proofs.push(format!("{by_reply} by the server's reply only"));
    }
    if !proofs.is_empty() {
        text.push_str("; ");
        text.push_str(&proofs.join(", "));
    }
    if outcome.already_complete > 0 {
        text.push_str(&format!(" ({} already complete)", outcome.already_complete));
    }
    text
}
