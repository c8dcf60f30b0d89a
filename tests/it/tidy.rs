//! Keeps docs/architecture.md true: every file under `src/` is named in its code map (as
//! rust-analyzer's tidy tests keep its docs in step with its code).

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_source_file_is_in_the_architecture_code_map() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/architecture.md")).unwrap();
    let map = &doc[doc.find("## Code map").expect("a code map")..];
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let missing: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(root).unwrap().display().to_string())
        .filter(|rel| {
            // A file is named by its path, or inside its folder's entry by its name.
            let name = Path::new(rel)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let folder = Path::new(rel).parent().unwrap().display().to_string();
            let by_path = map.contains(&format!("`{rel}`"));
            let in_folder =
                map.contains(&format!("`{folder}/`")) && map.contains(&format!("`{name}`"));
            !(by_path || in_folder)
        })
        .collect();
    assert!(
        missing.is_empty(),
        "docs/architecture.md's code map does not name: {missing:?}"
    );
}

#[test]
fn every_command_is_in_the_session_docs_with_its_aliases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/session.md")).unwrap();
    for spec in ftp3700::commands::COMMANDS {
        let row = doc
            .lines()
            .find(|l| {
                l.starts_with(&format!("| `{} ", spec.name))
                    || l.starts_with(&format!("| `{}`", spec.name))
            })
            .unwrap_or_else(|| panic!("docs/session.md has no row for {}", spec.name));
        for alias in spec.aliases {
            assert!(
                row.contains(&format!("`{alias}`")),
                "{}: alias {alias} not in {row}",
                spec.name
            );
        }
    }
}

/// A remote path is checked once, into a `RemotePath` (docs/architecture.md): outside the
/// protocol, `Arg::new` (which checks again) is left for what is not a path — the
/// `quote` line in `session/ops.rs` — and every path becomes an argument by `Arg::from`.
#[test]
fn remote_paths_are_checked_once_outside_the_protocol() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut found = Vec::new();
    for f in files {
        let rel = f.strip_prefix(root).unwrap().display().to_string();
        if rel.starts_with("src/ftp/") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.contains("Arg::new(") && !line.contains("Command::Raw(Arg::new(line)") {
                found.push(format!("{rel}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "a path checked again instead of passed as a RemotePath:\n{}",
        found.join("\n")
    );
}
