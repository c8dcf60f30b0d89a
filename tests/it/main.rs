//! The integration tests, one crate (one link of libunftp and tokio instead of one per
//! file): the real binary against the embedded libunftp server (`common`), the scripted
//! misbehaving server (`fake_server`) and a pseudo-terminal. Each module is one area.

#[path = "../common/mod.rs"]
mod common;
#[path = "../fake_server/mod.rs"]
mod fake_server;

mod batch;
mod credentials;
mod ftps;
mod fuzz_regressions;
mod generate;
mod integrity;
mod json;
mod mirror;
mod misbehaving;
mod oneshot;
mod pipelining;
mod prompt;
mod resilience;
mod riders;
mod segments;
mod shell;
mod sites;
mod tidy;
mod transfers;
mod tree;
