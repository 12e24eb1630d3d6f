//! WAL checkpoints off the writer's path. SQLite's own automatic checkpoint runs inside the
//! commit that crosses its threshold: about one decision in thirty waited while a thousand
//! pages were copied into the database and synced (p99 17 ms for one client, against 3.6 ms
//! without). Here the writer's WAL hook only tells a thread of its own, which copies on its
//! own connection while the writer goes on committing.

use super::StoreError;
use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc::{Receiver, TrySendError, sync_channel};
use std::thread::JoinHandle;

/// WAL pages after which a checkpoint is asked for: SQLite's own default threshold, so the
/// log stays about as small as it always was (readers search it on every page they read).
const AFTER_PAGES: i32 = 1000;

/// The checkpointing thread; dropping it waits for the checkpoint under way, if any, once
/// the writer (which holds the other end) is gone.
pub struct Checkpointer(Option<JoinHandle<()>>);

impl Checkpointer {
    /// Starts the thread and hands the writer's WAL hook to it; the writer's automatic
    /// checkpoint is off from now on (the hook replaces it).
    pub fn start(path: &Path, writer: &mut Connection) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        super::configure(&conn)?;
        // At most one request waits: more would ask for the same copy.
        let (poke, asked) = sync_channel::<()>(1);
        writer.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, pages: i32| {
            if pages >= AFTER_PAGES {
                match poke.try_send(()) {
                    Ok(()) | Err(TrySendError::Full(())) => {}
                    // The thread is gone (it only ends with the store); nothing to tell.
                    Err(TrySendError::Disconnected(())) => {}
                }
            }
            Ok(())
        }))?;
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(conn, asked))
            .map_err(|e| StoreError::failed("cannot start the checkpoint thread", e))?;
        Ok(Self(Some(thread)))
    }
}

fn run(conn: Connection, asked: Receiver<()>) {
    while asked.recv().is_ok() {
        // PASSIVE: copies what no reader still needs and never makes the writer wait; what
        // it leaves is copied next time.
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL checkpoint failed; it is tried again after the next commits");
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        if let Some(thread) = self.0.take() {
            // Ended by the writer's hook going away with the writer, dropped before this.
            let _ = thread.join();
        }
    }
}
