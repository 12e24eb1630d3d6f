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

use super::{
    ClaimedJob, CountDrift, DecisionCommand, DecisionContext, FailedEmail, LmsAttempt, LmsClient,
    LmsDelivery, LmsExam, LmsOnboarding, LmsOutcome, NewMedia, NewOnboarding, PlaceFiles,
    PlannedDecision, Reconciled, RemoteAttempt, ReviewerListing, Store, StoreError, UndoCommand,
};
use crate::domain::access::{CourseScope, Grant, TokenRecord};
use crate::domain::lms::AutomatedReview;
use crate::domain::query::{Page, SessionFilter};
use crate::domain::undo::{UndoError, UndoFacts, UndoPlan};
use crate::domain::{
    AttemptStatus, CourseSummary, DecisionError, ExamId, Job, JobId, JobKind, MediaId, MediaItem,
    ReportRow, Reviewer, Role, SessionDetail, SessionId, SessionRow,
};
use crate::store::Tiers;
use crate::store::seed::SeedBatches;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use pages::Scope;
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
    let _ = rustls::crypto::ring::default_provider().install_default();
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
        // Every statement has the list budget; a stopped one answers 503.
        config.options(format!("-c statement_timeout={}", budget.as_millis()));
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
            .map_err(|e| StoreError::Backend(format!("cannot make the connection pool: {e}")))?;
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

/// A pooled connection as the driver's own client.
/// Runs shared store code (over [`Tx`](crate::store::tx::Tx)) in one transaction on a
/// pooled connection: committed if it succeeds, rolled back (dropped) if not.
macro_rules! in_tx {
    ($store:expr, |$tx:ident| $body:expr) => {{
        let mut c = $store.client().await?;
        let t = pg(&mut c).transaction().await?;
        let out = {
            let $tx = &mut tx::Pg(&t);
            $body.await?
        };
        t.commit().await?;
        Ok(out)
    }};
}

fn pg(c: &mut deadpool_postgres::Client) -> &mut tokio_postgres::Client {
    c
}

impl PgStore {
    fn seal_key(&self) -> Option<crate::domain::audit::SealKey> {
        self.inner.seal.get()
    }
}

impl Store for PgStore {
    async fn token(&self, hash: String) -> Result<Option<TokenRecord>, StoreError> {
        accounts::token(&**self.client().await?, &hash).await
    }

    async fn active_reviewer(
        &self,
        id: i64,
        now: OffsetDateTime,
    ) -> Result<Option<Reviewer>, StoreError> {
        read::active_reviewer(&**self.client().await?, id, now).await
    }

    async fn create_reviewer(
        &self,
        username: String,
        email: String,
        full_name: String,
        role: Role,
    ) -> Result<Reviewer, StoreError> {
        in_tx!(self, |tx| crate::store::accounts::create_reviewer(
            tx, &username, &email, &full_name, role
        ))
    }

    async fn ensure_reviewer(
        &self,
        username: String,
        email: String,
        full_name: String,
    ) -> Result<Reviewer, StoreError> {
        in_tx!(self, |tx| crate::store::accounts::ensure_reviewer(
            tx, &username, &email, &full_name
        ))
    }

    async fn add_token(
        &self,
        reviewer_id: i64,
        hash: String,
        expires: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        in_tx!(self, |tx| crate::store::accounts::add_token(
            tx,
            reviewer_id,
            &hash,
            expires
        ))
    }

    async fn grants(&self, reviewer_id: i64) -> Result<Vec<Grant>, StoreError> {
        accounts::grants(&**self.client().await?, reviewer_id).await
    }

    async fn reviewer_by_username(&self, username: String) -> Result<Option<Reviewer>, StoreError> {
        let c = self.client().await?;
        crate::store::accounts::reviewer_by_username(&mut Pg(&**c), &username).await
    }

    async fn reviewers(&self) -> Result<Vec<ReviewerListing>, StoreError> {
        let c = self.client().await?;
        crate::store::accounts::reviewers(&mut Pg(&**c)).await
    }

    async fn grant(&self, username: String, grant: Grant) -> Result<Reviewer, StoreError> {
        in_tx!(self, |tx| crate::store::accounts::grant(
            tx, &username, &grant
        ))
    }

    async fn withdraw(&self, username: String, course: String) -> Result<bool, StoreError> {
        in_tx!(self, |tx| crate::store::accounts::withdraw(
            tx, &username, &course
        ))
    }

    async fn revoke_tokens(&self, username: String) -> Result<u64, StoreError> {
        in_tx!(self, |tx| crate::store::accounts::revoke_tokens(
            tx, &username
        ))
    }

    async fn revoke_token(&self, id: String) -> Result<u64, StoreError> {
        in_tx!(self, |tx| crate::store::accounts::revoke_token(tx, &id))
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self
            .client()
            .await?
            .query_one("SELECT NOT EXISTS (SELECT 1 FROM exams)", &[])
            .await?
            .try_get(0)?)
    }

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

    async fn courses(&self, scope: CourseScope) -> Result<Vec<CourseSummary>, StoreError> {
        read::courses(&**self.client().await?, &scope).await
    }

    async fn exam_course(&self, exam: ExamId) -> Result<Option<String>, StoreError> {
        read::exam_course(&**self.client().await?, exam).await
    }

    async fn session_course(&self, session: SessionId) -> Result<Option<String>, StoreError> {
        read::session_course(&**self.client().await?, session).await
    }

    async fn sessions(
        &self,
        exam: ExamId,
        query: SessionFilter,
    ) -> Result<Page<SessionRow>, StoreError> {
        let c = self.client().await?;
        if c.query_opt("SELECT 1 FROM exams WHERE id = $1", &[&exam])
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound(format!("no exam with id {exam}")));
        }
        let scope = Scope {
            filter: "s.exam_id = ?".into(),
            args: vec![Val::Int(exam)],
            attention_only: false,
            exams: vec![exam],
            tiers: self.tiers(),
        };
        pages::page(&**c, scope, &query).await
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
        pages::page(&**c, scope, &query).await
    }

    async fn session(&self, id: SessionId) -> Result<SessionDetail, StoreError> {
        read::session(&self.client().await?, id).await
    }

    async fn decide<P>(&self, cmd: DecisionCommand<P>) -> Result<SessionDetail, StoreError>
    where
        P: FnOnce(&DecisionContext) -> Result<PlannedDecision, DecisionError> + Send + 'static,
    {
        let key = self.seal_key();
        in_tx!(self, |tx| crate::store::decide::decide(
            tx,
            cmd,
            key.as_ref()
        ))
    }

    async fn undo<P>(&self, cmd: UndoCommand<P>) -> Result<SessionDetail, StoreError>
    where
        P: FnOnce(Option<&UndoFacts>) -> Result<UndoPlan, UndoError> + Send + 'static,
    {
        let key = self.seal_key();
        in_tx!(self, |tx| crate::store::decide::undo(tx, cmd, key.as_ref()))
    }

    async fn add_evidence<F: PlaceFiles>(
        &self,
        items: Vec<NewMedia>,
        onboarding: Vec<NewOnboarding>,
        mut files: F,
    ) -> Result<Vec<MediaItem>, StoreError> {
        let mut c = self.client().await?;
        let tx = pg(&mut c).transaction().await?;
        let added = crate::store::evidence::add_rows(&mut Pg(&tx), &items, &onboarding).await?;
        // The files move in before the commit, and out again if it fails.
        if let Err(e) = files.place() {
            files.undo();
            return Err(StoreError::Backend(format!(
                "cannot move media into place: {e}"
            )));
        }
        if let Err(e) = tx.commit().await {
            files.undo();
            return Err(e.into());
        }
        Ok(added)
    }

    async fn media(&self, id: MediaId) -> Result<(SessionId, MediaItem), StoreError> {
        crate::store::evidence::media(&mut Pg(&**self.client().await?), id).await
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
        crate::store::jobs::claim(&mut Pg(&**self.client().await?), kind, &instance, now).await
    }

    async fn next_due(&self, kind: JobKind) -> Result<Option<OffsetDateTime>, StoreError> {
        crate::store::jobs::next_due(&mut Pg(&**self.client().await?), kind).await
    }

    async fn job_progress(&self, id: JobId, progress: f64) -> Result<(), StoreError> {
        crate::store::jobs::progress(&mut Pg(&**self.client().await?), id, progress).await
    }

    async fn job_done(&self, id: JobId, result: Option<String>) -> Result<(), StoreError> {
        crate::store::jobs::done(
            &mut Pg(&**self.client().await?),
            id,
            result.as_deref(),
            OffsetDateTime::now_utc(),
        )
        .await
    }

    async fn job_retry(
        &self,
        id: JobId,
        error: String,
        next: OffsetDateTime,
    ) -> Result<(), StoreError> {
        crate::store::jobs::retry(&mut Pg(&**self.client().await?), id, &error, next).await
    }

    async fn job_failed(&self, id: JobId, error: String) -> Result<(), StoreError> {
        crate::store::jobs::failed(
            &mut Pg(&**self.client().await?),
            id,
            &error,
            OffsetDateTime::now_utc(),
        )
        .await
    }

    async fn recover_jobs(
        &self,
        instance: String,
        now: OffsetDateTime,
        stale: time::Duration,
    ) -> Result<u64, StoreError> {
        in_tx!(self, |tx| crate::store::jobs::recover(
            tx, &instance, now, stale
        ))
    }

    async fn release_jobs(&self, instance: String) -> Result<u64, StoreError> {
        in_tx!(self, |tx| crate::store::jobs::release(tx, &instance))
    }

    async fn check_counts(&self, repair: bool) -> Result<Vec<CountDrift>, StoreError> {
        in_tx!(self, |tx| crate::store::counts::check(tx, repair))
    }

    async fn audit_chain(&self) -> Result<Vec<crate::domain::audit::StoredEntry>, StoreError> {
        crate::store::audit::entries(&mut Pg(&**self.client().await?)).await
    }

    fn set_seal_key(&self, key: crate::domain::audit::SealKey) {
        self.inner.seal.set(key);
    }

    async fn audit_head(&self) -> Result<crate::domain::audit::Head, StoreError> {
        let r = self
            .client()
            .await?
            .query_one(crate::store::queries::AUDIT_HEAD, &[])
            .await?;
        Ok(crate::store::rows::head(
            r.try_get(0)?,
            r.try_get(1)?,
            r.try_get(2)?,
        ))
    }

    async fn session_by_reference(
        &self,
        reference: String,
    ) -> Result<Option<SessionId>, StoreError> {
        Ok(self
            .client()
            .await?
            .query_opt(
                &sql::numbered(crate::store::queries::SESSION_BY_REFERENCE),
                &[&reference, &reference],
            )
            .await?
            .map(|r| r.try_get(0))
            .transpose()?)
    }

    async fn audit_sessions(&self) -> Result<Vec<crate::domain::audit::SessionNow>, StoreError> {
        crate::store::audit::sessions(&mut Pg(&**self.client().await?)).await
    }

    async fn seal_history(&self, key: crate::domain::audit::SealKey) -> Result<u64, StoreError> {
        in_tx!(self, |tx| crate::store::audit::seal_unsealed(tx, &key))
    }

    async fn failed_emails(&self) -> Result<Vec<FailedEmail>, StoreError> {
        crate::store::jobs::failed_emails(&mut Pg(&**self.client().await?)).await
    }

    async fn requeue_failed(
        &self,
        kind: JobKind,
        job: Option<JobId>,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        crate::store::jobs::requeue_failed(&mut Pg(&**self.client().await?), kind, job, now).await
    }

    async fn job(&self, id: JobId) -> Result<Job, StoreError> {
        crate::store::jobs::job(&mut Pg(&**self.client().await?), id).await
    }

    async fn jobs(&self, kind: JobKind, course: Option<String>) -> Result<Vec<Job>, StoreError> {
        crate::store::jobs::list(&mut Pg(&**self.client().await?), kind, course.as_deref()).await
    }

    async fn start_report(&self, course: String, reviewer: i64) -> Result<Job, StoreError> {
        let now = OffsetDateTime::now_utc();
        in_tx!(self, |tx| crate::store::jobs::start_report(
            tx, &course, reviewer, now
        ))
    }

    async fn report_size(&self, course: String) -> Result<u64, StoreError> {
        crate::store::report::count(&mut Pg(&**self.client().await?), &course).await
    }

    async fn lms_client(&self, client_id: String) -> Result<Option<LmsClient>, StoreError> {
        crate::store::lms::registrations::client(&mut Pg(&**self.client().await?), &client_id).await
    }

    async fn lms_clients(&self) -> Result<Vec<LmsClient>, StoreError> {
        crate::store::lms::registrations::clients(&mut Pg(&**self.client().await?)).await
    }

    async fn save_lms_client(&self, client: LmsClient) -> Result<(), StoreError> {
        crate::store::lms::registrations::save_client(&mut Pg(&**self.client().await?), &client)
            .await
    }

    async fn lms_save_exam(&self, client_id: String, exam: LmsExam) -> Result<String, StoreError> {
        in_tx!(self, |tx| crate::store::lms::registrations::save_exam(
            tx, &client_id, &exam
        ))
    }

    async fn lms_register_attempt(
        &self,
        client_id: String,
        exam_external_id: String,
        attempt: LmsAttempt,
    ) -> Result<String, StoreError> {
        in_tx!(self, |tx| {
            crate::store::lms::registrations::register_attempt(
                tx,
                &client_id,
                &exam_external_id,
                &attempt,
            )
        })
    }

    async fn lms_attempt(
        &self,
        client_id: String,
        exam_external_id: String,
        attempt_external_id: String,
    ) -> Result<AttemptStatus, StoreError> {
        let c = self.client().await?;
        let (client, exam, attempt) = (&client_id, &exam_external_id, &attempt_external_id);
        crate::store::lms::registrations::attempt(&mut Pg(&**c), client, exam, attempt).await
    }

    async fn lms_set_attempt_status(
        &self,
        client_id: String,
        exam_external_id: String,
        attempt_external_id: String,
        status: AttemptStatus,
    ) -> Result<(), StoreError> {
        in_tx!(self, |tx| {
            crate::store::lms::registrations::set_attempt_status(
                tx,
                &client_id,
                &exam_external_id,
                &attempt_external_id,
                status,
            )
        })
    }

    async fn lms_delete_attempt(
        &self,
        client_id: String,
        exam_external_id: String,
        attempt_external_id: String,
    ) -> Result<(), StoreError> {
        in_tx!(self, |tx| crate::store::lms::registrations::delete_attempt(
            tx,
            &client_id,
            &exam_external_id,
            &attempt_external_id
        ))
    }

    async fn lms_retire_user(
        &self,
        client_id: String,
        external_user_id: String,
    ) -> Result<Option<Vec<String>>, StoreError> {
        in_tx!(self, |tx| crate::store::lms::registrations::retire_user(
            tx,
            &client_id,
            &external_user_id
        ))
    }

    async fn automated_review(
        &self,
        session: SessionId,
        review: AutomatedReview,
    ) -> Result<SessionDetail, StoreError> {
        in_tx!(self, |tx| crate::store::lms::reviews::automated_review(
            tx, session, &review
        ))
    }

    async fn lms_delivery_outcome(
        &self,
        job: JobId,
        outcome: LmsOutcome,
    ) -> Result<(), StoreError> {
        in_tx!(self, |tx| crate::store::lms::reviews::delivery_outcome(
            tx, job, &outcome
        ))
    }

    async fn lms_retry(&self, session: SessionId) -> Result<SessionDetail, StoreError> {
        in_tx!(self, |tx| crate::store::lms::reviews::retry(tx, session))
    }

    async fn lms_undelivered(&self) -> Result<Vec<LmsDelivery>, StoreError> {
        crate::store::lms::listings::undelivered(&mut Pg(&**self.client().await?)).await
    }

    async fn lms_onboarding(
        &self,
        client_id: String,
        course_id: String,
        user_id: Option<String>,
    ) -> Result<Vec<LmsOnboarding>, StoreError> {
        let c = self.client().await?;
        crate::store::lms::listings::onboarding(
            &mut Pg(&**c),
            &client_id,
            &course_id,
            user_id.as_deref(),
        )
        .await
    }

    async fn lms_courses(&self, client_id: String) -> Result<Vec<String>, StoreError> {
        crate::store::lms::listings::courses(&mut Pg(&**self.client().await?), &client_id).await
    }

    async fn lms_reconcile(
        &self,
        client_id: String,
        attempts: Vec<RemoteAttempt>,
        at: OffsetDateTime,
    ) -> Result<Reconciled, StoreError> {
        let key = self.seal_key();
        in_tx!(self, |tx| crate::store::lms::reconcile::reconcile(
            tx,
            &client_id,
            &attempts,
            at,
            key.as_ref()
        ))
    }

    async fn lms_sync_result(
        &self,
        client_id: String,
        error: Option<String>,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let c = self.client().await?;
        crate::store::lms::listings::sync_result(&mut Pg(&**c), &client_id, error.as_deref(), at)
            .await
    }

    async fn report_rows<F>(&self, course: String, mut each: F) -> Result<u64, StoreError>
    where
        F: FnMut(ReportRow) -> Result<(), String> + Send + 'static,
    {
        let mut c = self.client().await?;
        let tx = pg(&mut c).transaction().await?;
        sql::unbudgeted(&tx).await?;
        let n = crate::store::report::stream(&mut Pg(&tx), &course, &mut each).await?;
        tx.commit().await?;
        Ok(n)
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
