//! `mirror`: make a destination directory tree hold what a source tree holds, transferring
//! only what differs (lftp's `mirror`, rsync's model of filters).
//!
//! - [`filter`]: `--exclude`/`--include` patterns, first match wins (pure).
//! - [`plan`]: two trees in, actions with their reasons out (pure).
//! - [`walk`]: the walks of both trees (one listing a directory).
//! - [`pwalk`]: with `-j N`, the remote walk over N connections at once.
//! - [`run`]: the transfers through
//!   [`crate::session::jobs`], and the deletes, only after everything else succeeded.

pub mod filter;
pub mod plan;
pub mod pwalk;
pub mod run;
pub mod walk;

pub use filter::{Filter, Pattern, Verdict};
pub use plan::{Compare, Plan, Reason};
pub use run::{execute, prepare, Parallel, Prepared, Report, Request};
