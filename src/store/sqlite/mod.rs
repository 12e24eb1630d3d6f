//! SQLite backend: one writer connection and a few readers over a WAL database, each used
//! on tokio's blocking pool so the async server never waits on the disk.

mod accounts;
pub mod audit;
mod migrate;
mod pages;
mod pool;
mod read;
mod search;
mod seed;

mod tx;

pub use search::Tiers;

use super::{
    ClaimedJob, CountDrift, DecisionCommand, DecisionContext, FailedEmail, LmsAttempt, LmsClient,
    LmsDelivery, LmsExam, LmsOutcome, NewMedia, NewOnboarding, PlaceFiles, PlannedDecision,
    Reconciled, RemoteAttempt, ReviewerListing, Store, StoreError, UndoCommand,
};
use crate::domain::AttemptStatus;
use crate::domain::access::{CourseScope, Grant, TokenRecord};
use crate::domain::lms::AutomatedReview;
use crate::domain::query::{Page, SessionFilter};
use crate::domain::undo::{UndoError, UndoFacts, UndoPlan};
use crate::domain::{
    CourseSummary, DecisionError, ExamId, Job, JobId, JobKind, MediaId, MediaItem, ReportRow,
    Reviewer, Role, SessionDetail, SessionId, SessionRow,
};
use crate::store::seed::SeedBatches;
use crate::store::tx::at_once;
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use tx::Lite;

#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<Connection>,
    readers: Arc<pool::Readers>,
    tiers: Mutex<search::Tiers>,
    /// What new history entries are sealed with (none until the server sets it).
    seal: crate::store::SealSlot,
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
                .map_err(|e| StoreError::Backend(format!("{}: {e}", dir.display())))?;
        }
        let writer = Connection::open(path)?;
        // Learner data: the database is the owner's alone, also one made readable earlier
        // (SQLite gives new -wal/-shm files the database's mode).
        tighten_database(path)?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        configure(&writer)?;
        migrate::run(&writer)?;
        tighten_database(path)?;
        let readers = pool::Readers::open(path)?;
        Ok(Self {
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                readers,
                tiers: Mutex::new(search::Tiers::default()),
                seal: Default::default(),
            }),
        })
    }

    /// How long a list or lookup may take before it is stopped and answered as busy (503).
    fn seal_key(&self) -> Option<crate::domain::audit::SealKey> {
        self.inner.seal.get()
    }

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
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.inner.readers.read(pool::Kind::Quick, f).await
    }

    /// A list, count or search (never the last free reader).
    async fn read_list<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
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

    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        blocking(move || {
            let mut conn = inner.writer.lock().map_err(|_| poisoned())?;
            f(&mut conn)
        })
        .await
    }
}

impl SqliteStore {
    /// Runs shared store code (over [`Tx`](crate::store::tx::Tx)) in one IMMEDIATE
    /// transaction on the writer: committed if it succeeds, rolled back if not.
    async fn transact<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Lite<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let out = f(&mut Lite(&tx))?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    /// Runs shared read-only store code on a reader.
    async fn look<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Lite<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        self.read(move |c| f(&mut Lite(c))).await
    }
}

fn poisoned() -> StoreError {
    StoreError::Backend("a database connection was poisoned by an earlier panic".into())
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Backend(format!("database task failed: {e}")))?
}

impl Store for SqliteStore {
    async fn token(&self, hash: String) -> Result<Option<TokenRecord>, StoreError> {
        self.read(move |c| accounts::token(c, &hash)).await
    }

    async fn active_reviewer(
        &self,
        id: i64,
        now: OffsetDateTime,
    ) -> Result<Option<Reviewer>, StoreError> {
        self.read(move |c| read::active_reviewer(c, id, now)).await
    }

    async fn create_reviewer(
        &self,
        username: String,
        email: String,
        full_name: String,
        role: Role,
    ) -> Result<Reviewer, StoreError> {
        self.transact(move |tx| {
            at_once(crate::store::accounts::create_reviewer(
                tx, &username, &email, &full_name, role,
            ))
        })
        .await
    }

    async fn ensure_reviewer(
        &self,
        username: String,
        email: String,
        full_name: String,
    ) -> Result<Reviewer, StoreError> {
        self.transact(move |tx| {
            at_once(crate::store::accounts::ensure_reviewer(
                tx, &username, &email, &full_name,
            ))
        })
        .await
    }

    async fn add_token(
        &self,
        reviewer_id: i64,
        hash: String,
        expires: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        self.transact(move |tx| {
            at_once(crate::store::accounts::add_token(
                tx,
                reviewer_id,
                &hash,
                expires,
            ))
        })
        .await
    }

    async fn grants(&self, reviewer_id: i64) -> Result<Vec<Grant>, StoreError> {
        self.read(move |c| accounts::grants(c, reviewer_id)).await
    }

    async fn reviewer_by_username(&self, username: String) -> Result<Option<Reviewer>, StoreError> {
        self.look(move |tx| at_once(crate::store::accounts::reviewer_by_username(tx, &username)))
            .await
    }

    async fn reviewers(&self) -> Result<Vec<ReviewerListing>, StoreError> {
        self.look(move |tx| at_once(crate::store::accounts::reviewers(tx)))
            .await
    }

    async fn grant(&self, username: String, grant: Grant) -> Result<Reviewer, StoreError> {
        self.transact(move |tx| at_once(crate::store::accounts::grant(tx, &username, &grant)))
            .await
    }

    async fn withdraw(&self, username: String, course: String) -> Result<bool, StoreError> {
        self.transact(move |tx| at_once(crate::store::accounts::withdraw(tx, &username, &course)))
            .await
    }

    async fn revoke_tokens(&self, username: String) -> Result<u64, StoreError> {
        self.transact(move |tx| at_once(crate::store::accounts::revoke_tokens(tx, &username)))
            .await
    }

    async fn revoke_token(&self, id: String) -> Result<u64, StoreError> {
        self.transact(move |tx| at_once(crate::store::accounts::revoke_token(tx, &id)))
            .await
    }

    async fn schema_versions(&self) -> Result<(u32, u32), StoreError> {
        self.read(|c| {
            let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            Ok((u32::try_from(v).unwrap_or(0), migrate::VERSION))
        })
        .await
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        self.read(|c| Ok(c.query_row("SELECT NOT EXISTS (SELECT 1 FROM exams)", [], |r| r.get(0))?))
            .await
    }

    async fn seed_batches(&self, batches: SeedBatches) -> Result<(), StoreError> {
        self.write(move |c| seed::seed(c, batches)).await
    }

    async fn courses(&self, scope: CourseScope) -> Result<Vec<CourseSummary>, StoreError> {
        self.read_list(move |c| read::courses(c, &scope)).await
    }

    async fn exam_course(&self, exam: ExamId) -> Result<Option<String>, StoreError> {
        self.read(move |c| read::exam_course(c, exam)).await
    }

    async fn session_course(&self, session: SessionId) -> Result<Option<String>, StoreError> {
        self.read(move |c| read::session_course(c, session)).await
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
        self.read(move |c| read::session(c, id)).await
    }

    async fn decide<P>(&self, cmd: DecisionCommand<P>) -> Result<SessionDetail, StoreError>
    where
        P: FnOnce(&DecisionContext) -> Result<PlannedDecision, DecisionError> + Send + 'static,
    {
        let key = self.seal_key();
        self.transact(move |tx| at_once(crate::store::decide::decide(tx, cmd, key.as_ref())))
            .await
    }

    async fn undo<P>(&self, cmd: UndoCommand<P>) -> Result<SessionDetail, StoreError>
    where
        P: FnOnce(Option<&UndoFacts>) -> Result<UndoPlan, UndoError> + Send + 'static,
    {
        let key = self.seal_key();
        self.transact(move |tx| at_once(crate::store::decide::undo(tx, cmd, key.as_ref())))
            .await
    }

    async fn add_evidence<F: PlaceFiles>(
        &self,
        items: Vec<NewMedia>,
        onboarding: Vec<NewOnboarding>,
        mut files: F,
    ) -> Result<Vec<MediaItem>, StoreError> {
        // Rows and files stand or fall together: the files move in before the commit and
        // move out again if it fails.
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let added = at_once(crate::store::evidence::add_rows(
                &mut Lite(&tx),
                &items,
                &onboarding,
            ))?;
            crate::store::place_then_commit(&mut files, || Ok(tx.commit()?))?;
            Ok(added)
        })
        .await
    }

    async fn media(&self, id: MediaId) -> Result<(SessionId, MediaItem), StoreError> {
        self.look(move |tx| at_once(crate::store::evidence::media(tx, id)))
            .await
    }

    async fn media_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .count_sql("SELECT COUNT(*) FROM media".into())
            .await?
            .max(0) as u64)
    }

    async fn claim_job(
        &self,
        kind: JobKind,
        instance: String,
        now: OffsetDateTime,
    ) -> Result<Option<ClaimedJob>, StoreError> {
        self.transact(move |tx| at_once(crate::store::jobs::claim(tx, kind, &instance, now)))
            .await
    }

    async fn next_due(&self, kind: JobKind) -> Result<Option<OffsetDateTime>, StoreError> {
        self.look(move |tx| at_once(crate::store::jobs::next_due(tx, kind)))
            .await
    }

    async fn job_progress(&self, id: JobId, progress: f64) -> Result<(), StoreError> {
        self.transact(move |tx| at_once(crate::store::jobs::progress(tx, id, progress)))
            .await
    }

    async fn job_done(&self, id: JobId, result: Option<String>) -> Result<(), StoreError> {
        self.transact(move |tx| {
            at_once(crate::store::jobs::done(
                tx,
                id,
                result.as_deref(),
                OffsetDateTime::now_utc(),
            ))
        })
        .await
    }

    async fn job_retry(
        &self,
        id: JobId,
        error: String,
        next: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.transact(move |tx| at_once(crate::store::jobs::retry(tx, id, &error, next)))
            .await
    }

    async fn job_failed(&self, id: JobId, error: String) -> Result<(), StoreError> {
        self.transact(move |tx| {
            at_once(crate::store::jobs::failed(
                tx,
                id,
                &error,
                OffsetDateTime::now_utc(),
            ))
        })
        .await
    }

    async fn recover_jobs(
        &self,
        instance: String,
        now: OffsetDateTime,
        stale: time::Duration,
    ) -> Result<u64, StoreError> {
        self.transact(move |tx| at_once(crate::store::jobs::recover(tx, &instance, now, stale)))
            .await
    }

    async fn release_jobs(&self, instance: String) -> Result<u64, StoreError> {
        self.transact(move |tx| at_once(crate::store::jobs::release(tx, &instance)))
            .await
    }

    async fn check_counts(&self, repair: bool) -> Result<Vec<CountDrift>, StoreError> {
        self.transact(move |tx| at_once(crate::store::counts::check(tx, repair)))
            .await
    }

    async fn audit_chain(&self) -> Result<Vec<crate::domain::audit::StoredEntry>, StoreError> {
        self.look(|tx| at_once(crate::store::audit::entries(tx)))
            .await
    }

    fn set_seal_key(&self, key: crate::domain::audit::SealKey) {
        self.inner.seal.set(key);
    }

    async fn audit_head(&self) -> Result<crate::domain::audit::Head, StoreError> {
        self.read(|c| {
            let (n, hash, seal): (i64, Option<String>, Option<String>) =
                c.query_row(crate::store::queries::AUDIT_HEAD, [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
            Ok(crate::store::rows::head(n, hash, seal))
        })
        .await
    }

    async fn session_by_reference(
        &self,
        reference: String,
    ) -> Result<Option<SessionId>, StoreError> {
        self.read(move |c| {
            use rusqlite::OptionalExtension;
            Ok(
                c.prepare_cached(crate::store::queries::SESSION_BY_REFERENCE)?
                    .query_row([&reference, &reference], |r| r.get(0))
                    .optional()?,
            )
        })
        .await
    }

    async fn audit_sessions(&self) -> Result<Vec<crate::domain::audit::SessionNow>, StoreError> {
        self.look(|tx| at_once(crate::store::audit::sessions(tx)))
            .await
    }

    async fn seal_history(&self, key: crate::domain::audit::SealKey) -> Result<u64, StoreError> {
        self.transact(move |tx| at_once(crate::store::audit::seal_unsealed(tx, &key)))
            .await
    }

    async fn failed_emails(&self) -> Result<Vec<FailedEmail>, StoreError> {
        self.look(|tx| at_once(crate::store::jobs::failed_emails(tx)))
            .await
    }

    async fn requeue_failed(
        &self,
        kind: JobKind,
        job: Option<JobId>,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.transact(move |tx| at_once(crate::store::jobs::requeue_failed(tx, kind, job, now)))
            .await
    }

    async fn job(&self, id: JobId) -> Result<Job, StoreError> {
        self.look(move |tx| at_once(crate::store::jobs::job(tx, id)))
            .await
    }

    async fn jobs(&self, kind: JobKind, course: Option<String>) -> Result<Vec<Job>, StoreError> {
        self.look(move |tx| at_once(crate::store::jobs::list(tx, kind, course.as_deref())))
            .await
    }

    async fn start_report(&self, course: String, reviewer: i64) -> Result<Job, StoreError> {
        self.transact(move |tx| {
            at_once(crate::store::jobs::start_report(
                tx,
                &course,
                reviewer,
                OffsetDateTime::now_utc(),
            ))
        })
        .await
    }

    async fn report_size(&self, course: String) -> Result<u64, StoreError> {
        self.read_list(move |c| at_once(crate::store::report::count(&mut Lite(c), &course)))
            .await
    }

    async fn lms_client(&self, client_id: String) -> Result<Option<LmsClient>, StoreError> {
        self.look(move |tx| at_once(crate::store::lms::registrations::client(tx, &client_id)))
            .await
    }

    async fn lms_clients(&self) -> Result<Vec<LmsClient>, StoreError> {
        self.look(|tx| at_once(crate::store::lms::registrations::clients(tx)))
            .await
    }

    async fn save_lms_client(&self, client: LmsClient) -> Result<(), StoreError> {
        self.transact(move |tx| at_once(crate::store::lms::registrations::save_client(tx, &client)))
            .await
    }

    async fn lms_save_exam(&self, client_id: String, exam: LmsExam) -> Result<String, StoreError> {
        self.transact(move |tx| {
            at_once(crate::store::lms::registrations::save_exam(
                tx, &client_id, &exam,
            ))
        })
        .await
    }

    async fn lms_register_attempt(
        &self,
        client_id: String,
        exam_external_id: String,
        attempt: LmsAttempt,
    ) -> Result<String, StoreError> {
        self.transact(move |tx| {
            at_once(crate::store::lms::registrations::register_attempt(
                tx,
                &client_id,
                &exam_external_id,
                &attempt,
            ))
        })
        .await
    }

    async fn lms_attempt(
        &self,
        client_id: String,
        exam_external_id: String,
        attempt_external_id: String,
    ) -> Result<AttemptStatus, StoreError> {
        self.look(move |tx| {
            at_once(crate::store::lms::registrations::attempt(
                tx,
                &client_id,
                &exam_external_id,
                &attempt_external_id,
            ))
        })
        .await
    }

    async fn lms_set_attempt_status(
        &self,
        client_id: String,
        exam_external_id: String,
        attempt_external_id: String,
        status: AttemptStatus,
    ) -> Result<(), StoreError> {
        self.transact(move |tx| {
            at_once(crate::store::lms::registrations::set_attempt_status(
                tx,
                &client_id,
                &exam_external_id,
                &attempt_external_id,
                status,
            ))
        })
        .await
    }

    async fn lms_delete_attempt(
        &self,
        client_id: String,
        exam_external_id: String,
        attempt_external_id: String,
    ) -> Result<(), StoreError> {
        self.transact(move |tx| {
            at_once(crate::store::lms::registrations::delete_attempt(
                tx,
                &client_id,
                &exam_external_id,
                &attempt_external_id,
            ))
        })
        .await
    }

    async fn lms_retire_user(
        &self,
        client_id: String,
        external_user_id: String,
    ) -> Result<Option<Vec<String>>, StoreError> {
        self.transact(move |tx| {
            at_once(crate::store::lms::registrations::retire_user(
                tx,
                &client_id,
                &external_user_id,
            ))
        })
        .await
    }

    async fn automated_review(
        &self,
        session: SessionId,
        review: AutomatedReview,
    ) -> Result<SessionDetail, StoreError> {
        self.transact(move |tx| {
            at_once(crate::store::lms::reviews::automated_review(
                tx, session, &review,
            ))
        })
        .await
    }

    async fn lms_delivery_outcome(
        &self,
        job: JobId,
        outcome: LmsOutcome,
    ) -> Result<(), StoreError> {
        self.transact(move |tx| {
            at_once(crate::store::lms::reviews::delivery_outcome(
                tx, job, &outcome,
            ))
        })
        .await
    }

    async fn lms_retry(&self, session: SessionId) -> Result<SessionDetail, StoreError> {
        self.transact(move |tx| at_once(crate::store::lms::reviews::retry(tx, session)))
            .await
    }

    async fn lms_undelivered(&self) -> Result<Vec<LmsDelivery>, StoreError> {
        self.look(|tx| at_once(crate::store::lms::listings::undelivered(tx)))
            .await
    }

    async fn lms_onboarding(
        &self,
        client_id: String,
        course_id: String,
        user_id: Option<String>,
    ) -> Result<Vec<super::LmsOnboarding>, StoreError> {
        self.look(move |tx| {
            let user = user_id.as_deref();
            at_once(crate::store::lms::listings::onboarding(
                tx, &client_id, &course_id, user,
            ))
        })
        .await
    }

    async fn lms_courses(&self, client_id: String) -> Result<Vec<String>, StoreError> {
        self.look(move |tx| at_once(crate::store::lms::listings::courses(tx, &client_id)))
            .await
    }

    async fn lms_reconcile(
        &self,
        client_id: String,
        attempts: Vec<RemoteAttempt>,
        at: OffsetDateTime,
    ) -> Result<Reconciled, StoreError> {
        let key = self.seal_key();
        self.transact(move |tx| {
            at_once(crate::store::lms::reconcile::reconcile(
                tx,
                &client_id,
                &attempts,
                at,
                key.as_ref(),
            ))
        })
        .await
    }

    async fn lms_sync_result(
        &self,
        client_id: String,
        error: Option<String>,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.transact(move |tx| {
            at_once(crate::store::lms::listings::sync_result(
                tx,
                &client_id,
                error.as_deref(),
                at,
            ))
        })
        .await
    }

    async fn report_rows<F>(&self, course: String, mut each: F) -> Result<u64, StoreError>
    where
        F: FnMut(ReportRow) -> Result<(), String> + Send + 'static,
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
