//! Running the real `3700ftp` binary and checking what a user would check.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::server::Server;

/// Upper bound for one `3700ftp` invocation (the 100 MiB transfers included).
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// Size of the large-file transfers.
pub const BIG_SIZE: usize = 100 * 1024 * 1024;

pub struct Run {
    pub what: String,
    pub output: Output,
    server_log: String,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    fn describe(&self) -> String {
        format!(
            "command: {}\nexit: {:?}\n--- stdout\n{}\n--- stderr\n{}\n--- server log (tail)\n{}",
            self.what,
            self.output.status,
            self.stdout(),
            self.stderr(),
            tail(&self.server_log, 40)
        )
    }

    /// Asserts the exit code; the failure message shows everything.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            Some(code),
            "expected exit code {code}\n{}",
            self.describe()
        );
        self
    }

    #[track_caller]
    pub fn ok(&self) -> &Self {
        self.expect_code(0)
    }

    #[track_caller]
    pub fn stdout_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stdout().contains(needle),
            "expected stdout to contain {needle:?}\n{}",
            self.describe()
        );
        self
    }

    #[track_caller]
    pub fn stdout_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.stdout().contains(needle),
            "expected stdout NOT to contain {needle:?}\n{}",
            self.describe()
        );
        self
    }

    #[track_caller]
    pub fn stderr_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stderr().contains(needle),
            "expected stderr to contain {needle:?}\n{}",
            self.describe()
        );
        self
    }

    /// Fails (showing everything) unless `check` holds.
    #[track_caller]
    pub fn check(&self, ok: bool, what: &str) -> &Self {
        assert!(ok, "{what}\n{}", self.describe());
        self
    }

    #[track_caller]
    pub fn output_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.stdout().contains(needle) && !self.stderr().contains(needle),
            "expected neither stdout nor stderr to contain {needle:?}\n{}",
            self.describe()
        );
        self
    }
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Environment variables that route the client through a proxy (curl's
/// names, either case): removed from every run, so that a proxy set in the
/// environment of whoever runs the suite cannot change what is tested; the
/// proxy tests set them explicitly ([`run_env`]).
pub const PROXY_ENV: [&str; 6] = [
    "ftp_proxy",
    "FTP_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

/// The launcher every integration test uses (`tests/common`): proxies, `NETRC` and the
/// XDG directories scrubbed, `HOME` = `cwd`.
fn command(cwd: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::from_std(crate::common::command(cwd));
    cmd.timeout(RUN_TIMEOUT);
    for var in PROXY_ENV {
        cmd.env_remove(var);
    }
    cmd
}

/// `3700ftp ARGS...` run in `cwd` with stdin closed (empty).
pub fn run(server: &Server, cwd: &Path, args: &[&str]) -> Run {
    let mut cmd = command(cwd);
    cmd.args(args).write_stdin(Vec::<u8>::new());
    let output = cmd.output().expect("run 3700ftp");
    Run {
        what: format!("[{}] 3700ftp {}", server.kind(), args.join(" ")),
        output,
        server_log: server.log_text(),
    }
}

/// `3700ftp ARGS...` like [`run`], with the environment variables `env` set.
pub fn run_env(server: &Server, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = command(cwd);
    cmd.args(args).write_stdin(Vec::<u8>::new());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd.output().expect("run 3700ftp");
    let env_text: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
    Run {
        what: format!(
            "[{}] {}3700ftp {}",
            server.kind(),
            env_text.concat(),
            args.join(" ")
        ),
        output,
        server_log: server.log_text(),
    }
}

/// `3700ftp ARGS...` with `script` piped into its stdin (batch mode).
pub fn run_batch(server: &Server, cwd: &Path, args: &[&str], script: &str) -> Run {
    let mut cmd = command(cwd);
    cmd.args(args).write_stdin(script.as_bytes().to_vec());
    let output = cmd.output().expect("run 3700ftp");
    Run {
        what: format!(
            "[{}] 3700ftp {} <<EOF\n{}EOF",
            server.kind(),
            args.join(" "),
            script
        ),
        output,
        server_log: server.log_text(),
    }
}

/// Every byte value, then CR LF, lone CR, lone LF and LF CR sequences, a
/// trailing CR: whatever an ASCII-mode transfer would mangle.
pub fn tricky_bytes() -> Vec<u8> {
    let mut v: Vec<u8> = (0..=255u8).collect();
    for _ in 0..64 {
        v.extend_from_slice(b"line\r\nbare lf\nbare cr\rlf cr\n\r\r\n\r\n");
    }
    v.extend((0..=255u8).rev());
    v.extend_from_slice(b"\x00\r\n\x1a\xff\r");
    v
}

pub fn sha256_file(path: &Path) -> String {
    let mut f = fs::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of `data`, in lowercase hex (as `sha256_file` gives it).
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// The 100 MiB pseudo-random file and its SHA-256, generated once per test
/// run (under cargo's target tmp dir) and shared by every server's test.
pub fn big_file() -> &'static (PathBuf, String) {
    static BIG: OnceLock<(PathBuf, String)> = OnceLock::new();
    BIG.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("interop");
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("random-100MiB-{}.bin", std::process::id()));
        // xorshift64*, seeded from the clock: different bytes each run.
        let mut state: u64 = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1;
        let mut data = Vec::with_capacity(BIG_SIZE);
        while data.len() < BIG_SIZE {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            data.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
        }
        data.truncate(BIG_SIZE);
        let digest = sha256_hex(&data);
        // Remove files left by earlier runs, then write this run's.
        if let Ok(entries) = fs::read_dir(&dir) {
            for e in entries.flatten() {
                if e.file_name()
                    .to_string_lossy()
                    .starts_with("random-100MiB-")
                {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        fs::write(&path, &data).unwrap();
        (path, digest)
    })
}

/// Asserts `path` holds exactly `expected`.
#[track_caller]
pub fn assert_file(path: &Path, expected: &[u8], context: &str) {
    let actual =
        fs::read(path).unwrap_or_else(|e| panic!("{context}: cannot read {}: {e}", path.display()));
    if actual != expected {
        let first_diff = actual
            .iter()
            .zip(expected)
            .position(|(a, b)| a != b)
            .unwrap_or(actual.len().min(expected.len()));
        panic!(
            "{context}: {} differs: {} bytes, expected {}; first difference at byte {first_diff}",
            path.display(),
            actual.len(),
            expected.len()
        );
    }
}

#[track_caller]
pub fn assert_missing(path: &Path, context: &str) {
    assert!(
        fs::symlink_metadata(path).is_err(),
        "{context}: {} should not exist",
        path.display()
    );
}
