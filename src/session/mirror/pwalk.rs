//! `mirror -j N`: the remote walk's directories below the root listed over N connections at
//! once (the session's own and N-1 new logins), each listing into its own [`Walk`], merged
//! at the end; the first error stops every worker.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::error::{Error, Kind, Result};
use crate::ftp::connection::Connection;
use crate::remote_path::RemotePath;
use crate::session::ops;
use crate::session::plan::{MAX_DEPTH, MAX_ENTRIES};

use super::walk::{list_dir, too_deep, walk_from, Walk};

/// The connections a remote walk may list over.
pub struct Workers {
    /// Logs a worker in.
    pub login: Arc<dyn Fn() -> Result<Connection> + Send + Sync>,
    /// How many connections in all (the session's own included).
    pub n: usize,
    /// Where relative remote paths start, for workers that log in afresh.
    pub base: Option<RemotePath>,
}

/// The directories still to list (with their depth), how many are being listed, and the
/// error that stops the walk.
struct Queue {
    todo: Vec<(String, usize)>,
    busy: usize,
    stop: Option<Error>,
}

/// The remote walk of [`super::walk::walk_remote`], the directories below the root listed
/// over `workers` connections at once when given.
pub(super) fn walk_remote_with(
    conn: &mut Connection,
    root: &RemotePath,
    restore: Option<&RemotePath>,
    walk: &mut Walk,
    may_be_missing: bool,
    workers: Option<&Workers>,
) -> Result<()> {
    let Some(first) = list_dir(conn, root, "", restore, walk, may_be_missing)? else {
        return Ok(());
    };
    match workers {
        Some(w) if w.n > 1 && first.len() > 1 => walk_below(conn, root, restore, walk, first, w),
        _ => walk_from(conn, root, restore, walk, first),
    }
}

/// Lists `first` (the root's subdirectories) and everything below them over `w`'s
/// connections, into `walk`.
pub(super) fn walk_below(
    conn: &mut Connection,
    root: &RemotePath,
    restore: Option<&RemotePath>,
    walk: &mut Walk,
    first: Vec<String>,
    w: &Workers,
) -> Result<()> {
    let queue = Mutex::new(Queue {
        todo: first.into_iter().rev().map(|d| (d, 1)).collect(),
        busy: 0,
        stop: None,
    });
    let wake = Condvar::new();
    let (filter, excluded) = (walk.filter, walk.excluded);
    let fresh_root = match &w.base {
        Some(base) if !root.starts_with('/') => base.join(root)?,
        _ => root.clone(),
    };
    let walks: Vec<Walk> = std::thread::scope(|scope| {
        let (queue, wake, fresh_root) = (&queue, &wake, &fresh_root);
        let mut handles = Vec::new();
        handles.push(scope.spawn(move || {
            let mut mine = Walk::new(filter, excluded);
            list_from(conn, root, restore, &mut mine, queue, wake);
            mine
        }));
        for _ in 1..w.n {
            handles.push(scope.spawn(move || {
                let mut mine = Walk::new(filter, excluded);
                // A worker that cannot log in leaves the listing to the others.
                if let Ok(mut c) = (w.login)() {
                    let back = ops::pwd(&mut c).ok();
                    list_from(&mut c, fresh_root, back.as_ref(), &mut mine, queue, wake);
                    c.quit();
                }
                mine
            }));
        }
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    for mut mine in walks {
        walk.tree.nodes.append(&mut mine.tree.nodes);
        walk.warnings.append(&mut mine.warnings);
        walk.failures.append(&mut mine.failures);
        walk.parts.append(&mut mine.parts);
        walk.entries += mine.entries;
    }
    walk.failures.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(e) = queue.into_inner().unwrap_or_else(|p| p.into_inner()).stop {
        return Err(e);
    }
    if walk.entries > MAX_ENTRIES {
        return Err(Error::new(
            Kind::Refused,
            format!("more than {MAX_ENTRIES} entries; not going further"),
        ));
    }
    Ok(())
}

/// One worker: takes directories off the queue until none is left and none is being
/// listed (which could add more), or an error stops the walk.
fn list_from(
    conn: &mut Connection,
    root: &RemotePath,
    restore: Option<&RemotePath>,
    walk: &mut Walk,
    queue: &Mutex<Queue>,
    wake: &Condvar,
) {
    let lock = || queue.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        let (rel, depth) = {
            let mut q = lock();
            loop {
                if q.stop.is_some() {
                    return;
                }
                if let Some(job) = q.todo.pop() {
                    q.busy += 1;
                    break job;
                }
                if q.busy == 0 {
                    return;
                }
                q = wake
                    .wait_timeout(q, Duration::from_millis(200))
                    .map_or_else(|p| p.into_inner().0, |r| r.0);
            }
        };
        let listed = if depth > MAX_DEPTH {
            root.join(&rel)
                .map_err(Error::from)
                .and_then(|d| Err(too_deep(&d)))
        } else {
            list_dir(conn, root, &rel, restore, walk, false)
        };
        let mut q = lock();
        q.busy -= 1;
        match listed {
            Ok(subdirs) => q.todo.extend(
                subdirs
                    .unwrap_or_default()
                    .into_iter()
                    .rev()
                    .map(|d| (d, depth + 1)),
            ),
            Err(e) => {
                q.stop.get_or_insert(e);
            }
        }
        wake.notify_all();
    }
}
