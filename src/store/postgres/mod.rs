//! PostgreSQL backend, for several review servers sharing one database: the same `Store`
//! as SQLite's, over a pool of async connections (tokio-postgres + deadpool). Decisions,
//! job claims and migrations take database locks, so any number of servers can share it;
//! changes are announced to the other servers with NOTIFY.

mod accounts;
pub mod copy;
mod events;
pub mod migrate;
mod pages;
mod read;
mod search;
mod seed;
mod sql;
mod tx;
use tx::Pg;

use super::backend::{Backend, TxFuture};
use super::{Accounts, Evidence, Jobs, Lms, Operations, PlaceFiles, Review, StoreError};
use crate::domain::access::{CourseScope, Grant, TokenRecord};
use crate::domain::query::{Page, SessionFilter};
use crate::domain::{
    CourseSummary, ExamId, ReportRow, Reviewer, SessionDetail, SessionId, SessionRow,
};
use crate::store::Tiers;
use crate::store::seed::SeedBatches;
use crate::store::segments::Scope;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use sql::Val;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// Connections one server keeps open.
const POOL_SIZE: usize = 16;

/// Whether `db` names a PostgreSQL database rather than a SQLite file.
pub fn is_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// What a report's transaction may sort and hash in.
const REPORT_WORK_MEM: &str = "SET LOCAL work_mem = '128MB'";

#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    tiers: Mutex<Tiers>,
    /// What new history entries are sealed with (none until the server sets it).
    seal: crate::store::SealSlot,
}

fn tls() -> Result<MakeRustlsConnect, StoreError> {
    use rustls_platform_verifier::ConfigVerifierExt;
    crate::tls::ready();
    let config = rustls::ClientConfig::with_platform_verifier()
        .map_err(|e| StoreError::Invalid(format!("cannot set up TLS to PostgreSQL: {e}")))?;
    Ok(MakeRustlsConnect::new(config))
}

/// Where a URL hides its password, for messages and logs.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user@host:port/dbname`; TLS when it
    /// says `sslmode=require`) and brings its schema up to date.
    pub async fn connect(url: &str, budget: Duration) -> Result<Self, StoreError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| {
            StoreError::Invalid(format!("{} is not a PostgreSQL URL: {e}", redacted(url)))
        })?;
        // TLS only when asked for: the driver's default ("prefer") would try it on servers
        // whose certificate nobody can check.
        if !url.contains("sslmode=") {
            config.ssl_mode(SslMode::Disable);
        }
        if config.get_application_name().is_none() {
            config.application_name("proctor-review");
        }
        // Every statement has the list budget; a stopped one answers 503. No statement
        // waits for parallel workers or JIT compilation: starting either costs more
        // (5-150 ms) than a reviewer's query takes, and each request already has a
        // connection of its own.
        config.options(format!(
            "-c statement_timeout={} -c max_parallel_workers_per_gather=0 -c jit=off",
            budget.as_millis()
        ));
        config.connect_timeout(Duration::from_secs(10));
        let tls = tls()?;
        let manager = Manager::from_config(
            config.clone(),
            tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(10)))
            .build()
            .map_err(|e| StoreError::failed("cannot make the connection pool", e))?;
        let store = Self {
            inner: Arc::new(Inner {
                pool,
                config,
                tls,
                tiers: Mutex::new(Tiers::default()),
                seal: Default::default(),
            }),
        };
        let mut client = store.client().await?;
        migrate::run(&mut client).await?;
        Ok(store)
    }

    /// Where searches change how they are answered (matching learners).
    #[doc(hidden)]
    pub fn set_search_tiers(&self, few: i64, several: i64) {
        if let Ok(mut t) = self.inner.tiers.lock() {
            *t = Tiers { few, several };
        }
    }

    fn tiers(&self) -> Tiers {
        self.inner.tiers.lock().map(|t| *t).unwrap_or_default()
    }

    async fn client(&self) -> Result<deadpool_postgres::Client, StoreError> {
        Ok(self.inner.pool.get().await?)
    }

    /// Copies the SQLite database at `from` into this one, which must be empty.
    pub async fn copy_from_sqlite(
        &self,
        from: &std::path::Path,
    ) -> Result<copy::Copied, StoreError> {
        let mut c = self.client().await?;
        copy::copy(from, pg(&mut c)).await
    }

    /// Runs a read-only query answering one number; for operators' checks and tests.
    #[doc(hidden)]
    pub async fn count_sql(&self, sql: String) -> Result<i64, StoreError> {
        Ok(self
            .client()
            .await?
            .query_one(&sql, &[])
            .await?
            .try_get(0)?)
    }
}

fn pg(c: &mut deadpool_postgres::Client) -> &mut tokio_postgres::Client {
    c
}

/// Any pooled connection serves: statements that stand alone commit as they run, and a
/// transaction takes the locks [`Tx::lock`](crate::store::tx::Tx::lock) asks for.
impl Backend for PgStore {
    type Tx<'c> = Pg<'c, tokio_postgres::Transaction<'c>>;
    type Conn<'c> = Pg<'c, tokio_postgres::Client>;

    async fn transact_placing<T, F, P>(&self, mut files: P, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        P: PlaceFiles,
        F: for<'a, 'c> FnOnce(&'a mut Self::Tx<'c>) -> TxFuture<'a, T> + Send + 'static,
    {
        let mut c = self.client().await?;
        let cache = c.statement_cache.clone();
        let t = pg(&mut c).transaction().await?;
        let mut on = Pg::new(&t, Some(&cache));
        let out = f(&mut on).await?;
        on.flush().await?;
        let commit = async { Ok(t.commit().await?) };
        crate::store::place_then_commit(&mut files, commit).await?;
        Ok(out)
    }

    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'a, 'c> FnOnce(&'a mut Self::Conn<'c>) -> TxFuture<'a, T> + Send + 'static,
    {
        let c = self.client().await?;
        f(&mut Pg::new(&**c, Some(&c.statement_cache))).await
    }

    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'a, 'c> FnOnce(&'a mut Self::Conn<'c>) -> TxFuture<'a, T> + Send + 'static,
    {
        self.write(f).await
    }

    fn seal_slot(&self) -> &crate::store::SealSlot {
        &self.inner.seal
    }

    fn pool_use(&self) -> crate::store::backend::PoolUse {
        let status = self.inner.pool.status();
        crate::store::backend::PoolUse {
            in_use: status.size.saturating_sub(status.available),
            idle: status.available,
        }
    }
}

impl Accounts for PgStore {
    async fn token(&self, hash: String) -> Result<Option<TokenRecord>, StoreError> {
        accounts::token(&self.client().await?, &hash).await
    }

    async fn active_reviewer(
        &self,
        id: i64,
        now: OffsetDateTime,
    ) -> Result<Option<Reviewer>, StoreError> {
        read::active_reviewer(&self.client().await?, id, now).await
    }

    async fn grants(&self, reviewer_id: i64) -> Result<Vec<Grant>, StoreError> {
        accounts::grants(&self.client().await?, reviewer_id).await
    }
}

impl Operations for PgStore {
    async fn schema_versions(&self) -> Result<(u32, u32), StoreError> {
        Ok((
            migrate::current(&**self.client().await?).await?,
            migrate::VERSION,
        ))
    }

    async fn seed_batches(&self, batches: SeedBatches) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = pg(&mut c).transaction().await?;
        sql::unbudgeted(&tx).await?;
        seed::seed(tx, batches).await
    }

    async fn announce(&self, payload: String) -> Result<(), StoreError> {
        events::announce(&**self.client().await?, &payload).await
    }

    fn announcements(&self) -> Option<tokio::sync::mpsc::Receiver<String>> {
        Some(events::listen(
            self.inner.config.clone(),
            self.inner.tls.clone(),
        ))
    }
}

impl Review for PgStore {
    async fn courses(&self, scope: CourseScope) -> Result<Vec<CourseSummary>, StoreError> {
        read::courses(&**self.client().await?, &scope).await
    }

    async fn exam_course(&self, exam: ExamId) -> Result<Option<String>, StoreError> {
        read::exam_course(&**self.client().await?, exam).await
    }

    async fn session_course(&self, session: SessionId) -> Result<Option<String>, StoreError> {
        read::session_course(&self.client().await?, session).await
    }
    async fn sessions(
        &self,
        exam: ExamId,
        query: SessionFilter,
    ) -> Result<Page<SessionRow>, StoreError> {
        let c = self.client().await?;
        let known = c
            .prepare_cached("SELECT 1 FROM exams WHERE id = $1")
            .await?;
        if c.query_opt(&known, &[&exam]).await?.is_none() {
            return Err(StoreError::NotFound(format!("no exam with id {exam}")));
        }
        let scope = Scope {
            filter: "s.exam_id = ?".into(),
            args: vec![Val::Int(exam)],
            attention_only: false,
            exams: vec![exam],
            tiers: self.tiers(),
        };
        pages::page(&c, scope, &query).await
    }

    async fn queue(
        &self,
        scope: CourseScope,
        query: SessionFilter,
    ) -> Result<Page<SessionRow>, StoreError> {
        let c = self.client().await?;
        let courses: Option<Vec<String>> = match scope {
            CourseScope::All => None,
            CourseScope::Only(ids) => Some(ids),
        };
        let exams: Vec<i64> = c
            .query(
                "SELECT id FROM exams WHERE is_active AND ($1::text[] IS NULL OR course_id = ANY($1))",
                &[&courses],
            )
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        if exams.is_empty() {
            return Ok(Page::empty());
        }
        let scope = Scope {
            // The literal status lets the queue's partial indexes serve it.
            filter: "s.status = 'second_review_required' AND s.exam_id = ANY(?)".into(),
            args: vec![Val::Ints(exams.clone())],
            attention_only: true,
            exams,
            tiers: self.tiers(),
        };
        let query = SessionFilter {
            statuses: Vec::new(),
            ..query
        };
        pages::page(&c, scope, &query).await
    }

    async fn session(&self, id: SessionId) -> Result<SessionDetail, StoreError> {
        read::session(&self.client().await?, id).await
    }

    async fn report_size(&self, course: String) -> Result<u64, StoreError> {
        crate::store::report::count(&mut Pg::new(&**self.client().await?, None), &course).await
    }

    async fn report_rows<F>(&self, course: String, mut each: F) -> Result<u64, StoreError>
    where
        F: FnMut(ReportRow) -> Result<(), crate::store::BoxError> + Send + 'static,
    {
        let mut c = self.client().await?;
        let cache = c.statement_cache.clone();
        let tx = pg(&mut c).transaction().await?;
        sql::unbudgeted(&tx).await?;
        // Each exam's attempts are read by one query (see `Tx::cursor`) that sorts them
        // newest first: room to sort an exam of a few hundred thousand in memory. A larger
        // exam sorts on disk; the memory stays bounded either way.
        tx.batch_execute(REPORT_WORK_MEM).await?;
        let mut on = Pg::new(&tx, Some(&cache));
        let n = crate::store::report::stream(&mut on, &course, &mut each).await?;
        on.flush().await?;
        tx.commit().await?;
        Ok(n)
    }
}

impl Evidence for PgStore {}
impl Jobs for PgStore {}
impl Lms for PgStore {}
