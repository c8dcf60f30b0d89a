//! Replays the inputs saved from the fuzz targets (`fuzz/`) under plain `cargo test`:
//! every file in `tests/fuzz_regressions/<target>/` goes through the same functions and
//! property checks as the fuzz target of that name (`tests/fuzz_regressions/checks.rs`).

#[path = "../fuzz_regressions/checks.rs"]
mod checks;

use std::fs;
use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(target);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no inputs in {}", dir.display());
    for file in files {
        let data = fs::read(&file).unwrap();
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "{target}: {} fails", file.display());
    }
}

#[test]
fn reply() {
    replay("reply", checks::reply);
}

#[test]
fn pasv() {
    replay("pasv", checks::pasv);
}

#[test]
fn url() {
    replay("url", checks::url);
}

#[test]
fn list() {
    replay("list", checks::list);
}

#[test]
fn complete() {
    replay("complete", checks::complete);
}
