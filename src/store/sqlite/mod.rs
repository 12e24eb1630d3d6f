//! SQLite backend over a WAL database: one writer on a thread of its own, which commits the
//! transactions queued together as a group ([`writer`]); a few readers used on tokio's
//! blocking pool, so the async server never waits on the disk; and a thread that copies the
//! WAL back into the database off the writer's path ([`checkpoint`]).

mod accounts;
pub mod audit;
pub mod backup;
mod checkpoint;
mod migrate;
mod pages;
mod pool;
mod read;
mod search;
mod seed;

mod tx;
mod writer;

pub use search::Tiers;

use super::backend::{Backend, NoFiles, TxFuture};
use super::{Accounts, Evidence, Jobs, Lms, Operations, PlaceFiles, Review, StoreError};
use crate::domain::access::{CourseScope, Grant, TokenRecord};
use crate::domain::query::{Page, SessionFilter};
use crate::domain::{
    CourseSummary, ExamId, ReportRow, Reviewer, SessionDetail, SessionId, SessionRow,
};
use crate::store::seed::SeedBatches;
use crate::store::tx::at_once;
use rusqlite::Connection;
use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use tx::Lite;

#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    writer: writer::Writer,
    readers: Arc<pool::Readers>,
    tiers: Mutex<search::Tiers>,
    /// What new history entries are sealed with (none until the server sets it).
    seal: crate::store::SealSlot,
    /// Last: it ends once the writer, whose WAL hook wakes it, is gone.
    _checkpoints: checkpoint::Checkpointer,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(Box::new(e))
    }
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    search::register(conn)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

fn tighten_database(path: &Path) -> Result<(), StoreError> {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let p = std::path::PathBuf::from(p);
        match crate::fsutil::tighten(&p) {
            Ok(true) => tracing::warn!(
                file = %p.display(),
                "the database file was readable by others; it is now mode 0600"
            ),
            Ok(false) => {}
            Err(e) => {
                return Err(StoreError::Invalid(format!(
                    "{} is readable by others and cannot be made private ({e}); run: chmod 600 {}",
                    p.display(),
                    p.display()
                )));
            }
        }
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::fsutil::private_dir(dir)
                .map_err(|e| StoreError::failed(dir.display().to_string(), e))?;
        }
        let mut writer = Connection::open(path)?;
        // Learner data: the database is the owner's alone, also one made readable earlier
        // (SQLite gives new -wal/-shm files the database's mode).
        tighten_database(path)?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        configure(&writer)?;
        migrate::run(&writer)?;
        tighten_database(path)?;
        let checkpoints = checkpoint::Checkpointer::start(path, &mut writer)?;
        let readers = pool::Readers::open(path)?;
        Ok(Self {
            inner: Arc::new(Inner {
                writer: writer::Writer::start(writer)?,
                readers,
                tiers: Mutex::new(search::Tiers::default()),
                seal: Default::default(),
                _checkpoints: checkpoints,
            }),
        })
    }

    /// How many lists, counts and searches hold a reader now (all but one may); for tests
    /// that must know the readers are taken before they go on.
    #[doc(hidden)]
    pub fn lists_running(&self) -> usize {
        self.inner.readers.lists_running()
    }

    /// How long a list or lookup may take before it is stopped and answered as busy (503).
    pub fn set_query_budget(&self, budget: std::time::Duration) {
        self.inner.readers.set_budget(budget);
    }

    /// Where searches change how they are answered (matching learners); tests set small
    /// tiers to take every way on a small data set.
    #[doc(hidden)]
    pub fn set_search_tiers(&self, few: i64, several: i64) {
        if let Ok(mut t) = self.inner.tiers.lock() {
            *t = search::Tiers { few, several };
        }
    }

    fn tiers(&self) -> search::Tiers {
        self.inner.tiers.lock().map(|t| *t).unwrap_or_default()
    }

    /// A point lookup (any reader).
    async fn quick<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.inner.readers.read(pool::Kind::Quick, f).await
    }

    /// A list, count or search (never the last free reader).
    async fn read_list<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.inner.readers.read(pool::Kind::List, f).await
    }

    /// Runs a read-only query answering one number under the rules of a list (budget,
    /// stopped when abandoned); for operators' checks, tests and benchmarks.
    #[doc(hidden)]
    pub async fn count_sql(&self, sql: String) -> Result<i64, StoreError> {
        self.read_list(move |c| Ok(c.query_row(&sql, [], |r| r.get(0))?))
            .await
    }
}

fn poisoned() -> StoreError {
    StoreError::Corrupt("a database connection was poisoned by an earlier panic".into())
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    // The request this work is for goes with it, for the jobs it queues.
    let request = crate::request_id::current();
    tokio::task::spawn_blocking(move || crate::request_id::on_thread(request, f))
        .await
        .map_err(|e| StoreError::failed("database task failed", e))?
}

/// SQLite has one writer: whatever writes takes it, inside a transaction.
impl Backend for SqliteStore {
    type Tx<'c> = Lite<'c>;
    type Conn<'c> = Lite<'c>;

    fn transact_placing<T, F, P>(
        &self,
        files: P,
        f: F,
    ) -> impl Future<Output = Result<T, StoreError>> + Send
    where
        T: Send + 'static,
        P: PlaceFiles,
        F: for<'a, 'c> FnOnce(&'a mut Lite<'c>) -> TxFuture<'a, T> + Send + 'static,
    {
        self.inner.writer.transaction(files, f)
    }

    fn write<T, F>(&self, f: F) -> impl Future<Output = Result<T, StoreError>> + Send
    where
        T: Send + 'static,
        F: for<'a, 'c> FnOnce(&'a mut Lite<'c>) -> TxFuture<'a, T> + Send + 'static,
    {
        self.inner.writer.transaction(NoFiles, f)
    }

    fn read<T, F>(&self, f: F) -> impl Future<Output = Result<T, StoreError>> + Send
    where
        T: Send + 'static,
        F: for<'a, 'c> FnOnce(&'a mut Lite<'c>) -> TxFuture<'a, T> + Send + 'static,
    {
        self.quick(move |c| at_once(f(&mut Lite(c))))
    }

    fn seal_slot(&self) -> &crate::store::SealSlot {
        &self.inner.seal
    }

    fn pool_use(&self) -> crate::store::backend::PoolUse {
        let idle = self.inner.readers.idle_count();
        crate::store::backend::PoolUse {
            in_use: pool::READERS.saturating_sub(idle),
            idle,
        }
    }
}

impl Accounts for SqliteStore {
    async fn token(&self, hash: String) -> Result<Option<TokenRecord>, StoreError> {
        self.quick(move |c| accounts::token(c, &hash)).await
    }

    async fn active_reviewer(
        &self,
        id: i64,
        now: OffsetDateTime,
    ) -> Result<Option<Reviewer>, StoreError> {
        self.quick(move |c| read::active_reviewer(c, id, now)).await
    }

    async fn grants(&self, reviewer_id: i64) -> Result<Vec<Grant>, StoreError> {
        self.quick(move |c| accounts::grants(c, reviewer_id)).await
    }
}

impl Review for SqliteStore {
    async fn courses(&self, scope: CourseScope) -> Result<Vec<CourseSummary>, StoreError> {
        self.read_list(move |c| read::courses(c, &scope)).await
    }

    async fn exam_course(&self, exam: ExamId) -> Result<Option<String>, StoreError> {
        self.quick(move |c| read::exam_course(c, exam)).await
    }

    async fn session_course(&self, session: SessionId) -> Result<Option<String>, StoreError> {
        self.quick(move |c| read::session_course(c, session)).await
    }

    async fn sessions(
        &self,
        exam: ExamId,
        query: SessionFilter,
    ) -> Result<Page<SessionRow>, StoreError> {
        let tiers = self.tiers();
        self.read_list(move |c| read::sessions(c, exam, &query, tiers))
            .await
    }

    async fn queue(
        &self,
        scope: CourseScope,
        query: SessionFilter,
    ) -> Result<Page<SessionRow>, StoreError> {
        let tiers = self.tiers();
        self.read_list(move |c| read::queue(c, &scope, &query, tiers))
            .await
    }

    async fn session(&self, id: SessionId) -> Result<SessionDetail, StoreError> {
        self.quick(move |c| read::session(c, id)).await
    }

    async fn report_size(&self, course: String) -> Result<u64, StoreError> {
        self.read_list(move |c| at_once(crate::store::report::count(&mut Lite(c), &course)))
            .await
    }

    async fn report_rows<F>(&self, course: String, mut each: F) -> Result<u64, StoreError>
    where
        F: FnMut(ReportRow) -> Result<(), crate::store::BoxError> + Send + 'static,
    {
        self.inner
            .readers
            .read(pool::Kind::Report, move |c| {
                at_once(crate::store::report::stream(
                    &mut Lite(c),
                    &course,
                    &mut each,
                ))
            })
            .await
    }
}

impl Operations for SqliteStore {
    async fn schema_versions(&self) -> Result<(u32, u32), StoreError> {
        self.quick(|c| {
            let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            Ok((u32::try_from(v).unwrap_or(0), migrate::VERSION))
        })
        .await
    }

    async fn seed_batches(&self, batches: SeedBatches) -> Result<(), StoreError> {
        self.inner
            .writer
            .alone(move |c| seed::seed(c, batches))
            .await
    }
}

impl Evidence for SqliteStore {}
impl Jobs for SqliteStore {}
impl Lms for SqliteStore {}
