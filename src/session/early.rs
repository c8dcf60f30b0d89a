//! Logins started ahead of the work that needs them: a single-file `cp --segments N`
//! starts its N-1 extra logins as soon as its own connection is in, so they are ready when
//! the ranges are known (the size, the time, the first REST take three round trips on the
//! first connection meanwhile). Never prints; a login that fails is handed out as its error.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::Result;
use crate::ftp::connection::Connection;

use super::transfer::Login;

/// Logins started before the file's size is known, so the extra connections of a
/// segmented download are ready when its ranges are: `n` logins start now, each on its
/// own thread (20 ms apart, for a server that limits connections per second), each set up
/// for binary transfers. The returned login hands those out first, then logs in afresh. Connections nobody takes
/// (a file too small to split) get QUIT when the last clone of the login is dropped, or
/// by their thread when they arrive after that.
pub fn early_logins(login: Login, n: usize) -> Login {
    let (tx, rx) = std::sync::mpsc::channel::<Result<Connection>>();
    for index in 0..n {
        let (login, tx) = (login.clone(), tx.clone());
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20 * index as u64));
            let conn = (login.0)().and_then(|mut c| c.ensure_binary().map(|()| c));
            if let Err(std::sync::mpsc::SendError(Ok(conn))) = tx.send(conn) {
                conn.quit();
            }
        });
    }
    let pool = Early {
        waiting: Mutex::new((rx, n)),
    };
    Login(Arc::new(move || match pool.take() {
        Some(conn) => conn,
        None => (login.0)(),
    }))
}

/// The connections [`early_logins`] started, and how many are still to be handed out.
struct Early {
    waiting: Mutex<(std::sync::mpsc::Receiver<Result<Connection>>, usize)>,
}

impl Early {
    /// The next early login (waiting for it if it is still on its way); None once all
    /// were handed out.
    fn take(&self) -> Option<Result<Connection>> {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        if waiting.1 == 0 {
            return None;
        }
        waiting.1 -= 1;
        waiting.0.recv().ok()
    }
}

impl Drop for Early {
    /// QUIT on the logins nobody took, on a thread of their own (not one round trip each
    /// at the end of the command).
    fn drop(&mut self) {
        let waiting = self.waiting.get_mut().unwrap_or_else(|p| p.into_inner());
        let unused: Vec<Connection> = waiting.0.try_iter().filter_map(|c| c.ok()).collect();
        if !unused.is_empty() {
            std::thread::spawn(move || unused.into_iter().for_each(Connection::quit));
        }
    }
}
