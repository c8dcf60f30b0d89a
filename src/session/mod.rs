//! The session layer: what 3700ftp does on a server, between the command table above and
//! the protocol below. Commands parse their operands and options, call in here, and hand
//! the values returned to the edge to show; nothing here prints.
//!
//! - [`transfer`]: the policy, the settings and the result of a transfer; the byte pumps.
//! - [`download`], [`upload`]: one file each way, atomic and proven.
//! - [`proof`]: SIZE read strictly, the server's hash, MDTM.
//! - [`local`]: the local side (destination kinds, temporary files, permissions, syncing).
//! - [`ops`]: mkdir, rmdir, delete, rename, cwd, pwd.
//! - [`jobs`]: one or many files, on one connection or `-j N`, and the one
//!   copy-then-delete every move goes through.
//! - [`mirror`]: a destination tree made to hold what a source tree holds.

pub mod download;
pub mod jobs;
pub mod local;
pub mod mirror;
pub mod ops;
pub mod proof;
pub mod transfer;
pub mod upload;
