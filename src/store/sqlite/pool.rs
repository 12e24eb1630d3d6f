//! The reader connections, shared so that no one kind of read can hold them all, and each
//! read stopped when its budget runs out or its caller stops waiting.
//!
//! Lists, searches and reports may take all readers but one; that one is kept for the quick
//! reads a reviewer waits on (a session's detail, a token check). A read runs under SQLite's
//! progress handler, which stops it (SQLITE_INTERRUPT) once the budget is spent or the
//! future awaiting it was dropped — the client hung up — so an abandoned query gives its
//! connection back at once instead of running on.

use super::{blocking, configure, poisoned};
use crate::store::StoreError;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

pub const READERS: usize = 4;
/// How long a read may take before it is stopped and answered with a 503.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(2);
/// Progress-handler period, in SQLite virtual-machine steps (some microseconds).
const CHECK_EVERY: i32 = 2_000;

/// What a read is, for the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A point lookup: may use any reader.
    Quick,
    /// A list, count or search: never the last free reader.
    List,
    /// A report's whole course: like a list, without a budget (it runs as a job).
    Report,
}

pub struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    any: Arc<Semaphore>,
    heavy: Arc<Semaphore>,
    budget_ms: AtomicU64,
}

pub fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    configure(&c)?;
    Ok(c)
}

impl Readers {
    pub fn open(path: &Path) -> Result<Arc<Self>, StoreError> {
        let idle = (0..READERS)
            .map(|_| open_reader(path))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Arc::new(Self {
            path: path.to_owned(),
            idle: Mutex::new(idle),
            any: Arc::new(Semaphore::new(READERS)),
            heavy: Arc::new(Semaphore::new(READERS - 1)),
            budget_ms: AtomicU64::new(DEFAULT_BUDGET.as_millis() as u64),
        }))
    }

    /// How many lists, counts and searches hold a reader now.
    pub fn lists_running(&self) -> usize {
        (READERS - 1).saturating_sub(self.heavy.available_permits())
    }

    /// Readers waiting for work.
    pub fn idle_count(&self) -> usize {
        self.any.available_permits()
    }

    pub fn set_budget(&self, budget: Duration) {
        self.budget_ms
            .store(budget.as_millis().max(1) as u64, Ordering::Relaxed);
    }

    pub async fn read<T, F>(self: &Arc<Self>, kind: Kind, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let closed = |e| StoreError::failed("the database is closing", e);
        let heavy = match kind {
            Kind::Quick => None,
            Kind::List | Kind::Report => {
                Some(self.heavy.clone().acquire_owned().await.map_err(closed)?)
            }
        };
        let permit = self.any.clone().acquire_owned().await.map_err(closed)?;
        let budget = match kind {
            Kind::Report => None,
            _ => Some(Duration::from_millis(
                self.budget_ms.load(Ordering::Relaxed),
            )),
        };
        let abandoned = Arc::new(AtomicBool::new(false));
        let _stop_if_dropped = StopOnDrop(abandoned.clone());
        let pool = self.clone();
        blocking(move || {
            let mut conn = pool.take()?;
            let result = run(&mut conn, budget, abandoned, f);
            pool.give_back(conn);
            drop((permit, heavy));
            result
        })
        .await
    }

    /// An idle connection; a new one if an earlier read panicked and lost its own.
    fn take(&self) -> Result<Connection, StoreError> {
        let idle = self.idle.lock().map_err(|_| poisoned())?.pop();
        match idle {
            Some(c) => Ok(c),
            None => open_reader(&self.path),
        }
    }

    fn give_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(conn);
        }
    }
}

/// Marks the read abandoned when the future awaiting it is dropped before it finished.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn run<T>(
    conn: &mut Connection,
    budget: Option<Duration>,
    abandoned: Arc<AtomicBool>,
    f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let deadline = budget.map(|b| Instant::now() + b);
    let stop = abandoned.clone();
    conn.progress_handler(
        CHECK_EVERY,
        Some(move || stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d)),
    )?;
    let result = f(conn);
    conn.progress_handler(0, None::<fn() -> bool>)?;
    match result {
        Err(StoreError::Database(e)) if interrupted(e.as_ref()) => Err(StoreError::Busy(
            match (budget, abandoned.load(Ordering::Relaxed)) {
                (_, true) => "the request was abandoned".into(),
                (Some(b), false) => format!(
                    "the database did not answer within {} ms; try again, or narrow the search",
                    b.as_millis()
                ),
                (None, false) => "the query was stopped".into(),
            },
        )),
        other => other,
    }
}

fn interrupted(e: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    matches!(
        e.downcast_ref::<rusqlite::Error>(),
        Some(rusqlite::Error::SqliteFailure(f, _)) if f.code == rusqlite::ErrorCode::OperationInterrupted
    )
}
