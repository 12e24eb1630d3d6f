//! The jobs table, written once for both databases: claiming due work (rows another server
//! is taking are skipped on PostgreSQL, never waited for or taken twice; SQLite's one writer
//! orders claims by itself), recording progress and outcomes, recovering what a stopped
//! server left running, and the reports a course asks for.

use super::cells::Cells;
use super::timefmt::{from_sql, opt_from_sql, to_sql};
use super::tx::{Arg, Tx};
use super::{ClaimedJob, EmailJob, FailedEmail, StoreError};
use crate::args;
use crate::domain::words::Word;
use crate::domain::{Job, JobId, JobKind, JobState, ReportFile};
use time::OffsetDateTime;

pub use super::job_outcomes::{done, failed, retry};

const COLUMNS: &str = "j.id, j.kind, j.state, j.progress, j.attempts, j.last_error, r.username,
     j.course_id, j.created, j.started_at, j.finished_at, j.result, j.payload";

fn attempts(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

fn job_from(r: &impl Cells) -> Result<Job, StoreError> {
    let bad = |what: &str, v: &str| StoreError::Corrupt(format!("bad {what} '{v}' in jobs"));
    let kind: String = r.cell(1)?;
    let state: String = r.cell(2)?;
    let kind = JobKind::parse(&kind).ok_or_else(|| bad("kind", &kind))?;
    // Only a report's result is a file; other kinds keep what they found in theirs.
    let result: Option<String> = r.cell(11)?;
    let result = result.filter(|_| kind == JobKind::Report);
    Ok(Job {
        id: r.cell(0)?,
        kind,
        state: JobState::parse(&state).ok_or_else(|| bad("state", &state))?,
        progress: r.cell(3)?,
        attempts: attempts(r.cell(4)?),
        last_error: r.cell(5)?,
        requested_by: r.cell(6)?,
        course_id: r.cell(7)?,
        created: from_sql(&r.cell::<String>(8)?)?,
        started_at: opt_from_sql(r.cell(9)?)?,
        finished_at: opt_from_sql(r.cell(10)?)?,
        report: result
            .as_deref()
            .map(serde_json::from_str::<ReportFile>)
            .transpose()
            .map_err(|e| StoreError::failed("bad report result in jobs", e))?,
    })
}

fn select(where_: &str) -> String {
    format!(
        "SELECT {COLUMNS} FROM jobs j LEFT JOIN reviewers r ON r.id = j.requested_by WHERE {where_}"
    )
}

pub async fn job(tx: &mut impl Tx, id: JobId) -> Result<Job, StoreError> {
    match tx.row(&select("j.id = ?"), args![id]).await? {
        Some(r) => job_from(&r),
        None => Err(StoreError::NotFound(format!("no job with id {id}"))),
    }
}

pub async fn list(
    tx: &mut impl Tx,
    kind: JobKind,
    course: Option<&str>,
) -> Result<Vec<Job>, StoreError> {
    let sql = format!(
        "{} ORDER BY j.created DESC, j.id DESC LIMIT 500",
        select("j.kind = ?1 AND (CAST(?2 AS TEXT) IS NULL OR j.course_id = ?2)")
    );
    tx.rows(&sql, args![kind.as_str(), course])
        .await?
        .iter()
        .map(job_from)
        .collect()
}

/// Takes the next due job of `kind` and marks it running, in one statement.
pub async fn claim(
    tx: &mut impl Tx,
    kind: JobKind,
    instance: &str,
    now: OffsetDateTime,
) -> Result<Option<ClaimedJob>, StoreError> {
    let skip = tx.skip_locked();
    let sql = format!(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?2,
             claimed_by = ?3
         WHERE id = (SELECT q.id FROM jobs q
                     WHERE q.kind = ?1 AND q.state = 'queued' AND q.next_attempt_at <= ?2
                       -- One at a time per session, so a learner's emails arrive in order.
                       AND (q.session_id IS NULL OR NOT EXISTS (
                           SELECT 1 FROM jobs r WHERE r.session_id = q.session_id
                             AND r.kind = ?1 AND r.state = 'running'))
                     ORDER BY q.next_attempt_at, q.id LIMIT 1{skip})
         RETURNING id"
    );
    let claimed = tx
        .row(&sql, args![kind.as_str(), to_sql(now), instance])
        .await?;
    let Some(r) = claimed else {
        return Ok(None);
    };
    let id: JobId = r.cell(0)?;
    let more = tx.one(super::queries::CLAIMED, args![id]).await?;
    Ok(Some(ClaimedJob {
        job: job(tx, id).await?,
        payload: more.cell(0)?,
        session: more.cell(1)?,
        request_id: more.cell(2)?,
    }))
}

/// A job to queue: every kind is queued through [`enqueue`].
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub kind: JobKind,
    /// JSON; its shape is the kind's.
    pub payload: String,
    pub due: OffsetDateTime,
    pub created: OffsetDateTime,
    pub course: Option<&'a str>,
    pub session: Option<i64>,
    pub decision: Option<i64>,
    pub requested_by: Option<i64>,
}

impl NewJob<'_> {
    /// A job of `kind` with nothing attached, due at `due`.
    pub fn new(kind: JobKind, due: OffsetDateTime, created: OffsetDateTime) -> Self {
        Self {
            kind,
            payload: "{}".into(),
            due,
            created,
            course: None,
            session: None,
            decision: None,
            requested_by: None,
        }
    }
}

pub async fn enqueue(tx: &mut impl Tx, job: &NewJob<'_>) -> Result<JobId, StoreError> {
    let sql = format!("{ENQUEUE} RETURNING id");
    tx.one(&sql, enqueue_args(job)).await?.cell(0)
}

const ENQUEUE: &str = "INSERT INTO jobs (kind, payload, state, next_attempt_at, created, course_id,
     session_id, decision_id, requested_by, request_id)
 VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?)";

fn enqueue_args(job: &NewJob<'_>) -> Vec<Arg> {
    args![
        job.kind.as_str(),
        &job.payload,
        to_sql(job.due),
        to_sql(job.created),
        job.course,
        job.session,
        job.decision,
        job.requested_by,
        // The request that queued it, for its log lines.
        crate::request_id::current().as_deref()
    ]
}

/// The payload of a job, as JSON.
pub fn payload(value: &impl serde::Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::failed("cannot write a job's payload", e))
}

/// A decision's learner email, held until `due` (the end of its undo window); sent with
/// the decision's next statement (see [`Tx::push`]), as nothing waits for its id.
pub async fn queue_email(
    tx: &mut impl Tx,
    mail: &EmailJob,
    session: i64,
    due: OffsetDateTime,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let job = NewJob {
        payload: payload(mail)?,
        session: Some(session),
        decision: mail.decision_id,
        ..NewJob::new(JobKind::Email, due, at)
    };
    tx.push(ENQUEUE, enqueue_args(&job)).await
}

/// Keeps one job of a recurring `kind` queued: queues one due at `due` unless one is
/// queued or running already (the lock keeps two servers from both queueing it); whether
/// it queued one.
pub async fn keep_scheduled(
    tx: &mut impl Tx,
    kind: JobKind,
    due: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    tx.lock(super::tx::Lock::Schedule).await?;
    let pending = tx
        .row(
            "SELECT 1 FROM jobs WHERE kind = ?1 AND state IN ('queued', 'running')",
            args![kind.as_str()],
        )
        .await?;
    if pending.is_some() {
        return Ok(false);
    }
    enqueue(tx, &NewJob::new(kind, due, now)).await?;
    Ok(true)
}

/// Brings a recurring kind's next run forward to `now` (queuing one if none waits); false if
/// one is running already.
pub async fn run_now(
    tx: &mut impl Tx,
    kind: JobKind,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    tx.lock(super::tx::Lock::Schedule).await?;
    let running = tx
        .row(
            "SELECT 1 FROM jobs WHERE kind = ?1 AND state = 'running'",
            args![kind.as_str()],
        )
        .await?;
    if running.is_some() {
        return Ok(false);
    }
    let moved = tx
        .exec(
            "UPDATE jobs SET next_attempt_at = ?2 WHERE kind = ?1 AND state = 'queued'",
            args![kind.as_str(), to_sql(now)],
        )
        .await?;
    if moved == 0 {
        enqueue(tx, &NewJob::new(kind, now, now)).await?;
    }
    Ok(true)
}

pub async fn progress(tx: &mut impl Tx, id: JobId, progress: f64) -> Result<(), StoreError> {
    tx.exec(
        "UPDATE jobs SET progress = ? WHERE id = ? AND state = 'running'",
        args![progress.clamp(0.0, 1.0), id],
    )
    .await?;
    Ok(())
}

/// Says `instance` is alive, and queues again the jobs whose server has gone quiet for
/// `stale`. When `instance` is new (a server starting), email retries waiting out their
/// backoff become due at once.
pub async fn recover(
    tx: &mut impl Tx,
    instance: &str,
    now: OffsetDateTime,
    stale: time::Duration,
) -> Result<u64, StoreError> {
    let now_s = to_sql(now);
    let starting = tx
        .exec(
            "INSERT INTO server_instances (id, seen_at) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING",
            args![instance, &now_s],
        )
        .await?
        == 1;
    tx.exec(
        "UPDATE server_instances SET seen_at = ?2 WHERE id = ?1",
        args![instance, &now_s],
    )
    .await?;
    let quiet = to_sql(now - stale);
    let n = tx
        .exec(
            "UPDATE jobs SET state = 'queued', progress = 0, claimed_by = NULL,
               last_error = 'interrupted by a server restart; started again'
             WHERE state = 'running' AND (claimed_by IS NULL OR claimed_by NOT IN
               (SELECT id FROM server_instances WHERE seen_at > ?1))",
            args![&quiet],
        )
        .await?;
    tx.exec(
        "DELETE FROM server_instances WHERE seen_at <= ?1",
        args![&quiet],
    )
    .await?;
    if starting {
        tx.exec(
            "UPDATE jobs SET next_attempt_at = ?1
             WHERE kind = 'email' AND state = 'queued' AND attempts > 0 AND next_attempt_at > ?1",
            args![&now_s],
        )
        .await?;
    }
    Ok(n)
}

pub async fn release(tx: &mut impl Tx, instance: &str) -> Result<u64, StoreError> {
    let n = tx.exec(super::rows::RELEASE_JOBS, args![instance]).await?;
    tx.exec(
        "DELETE FROM server_instances WHERE id = ?1",
        args![instance],
    )
    .await?;
    Ok(n)
}

pub async fn failed_emails(tx: &mut impl Tx) -> Result<Vec<FailedEmail>, StoreError> {
    tx.rows(
        "SELECT j.id, d.session_id, j.payload, j.attempts, j.last_error, j.created
         FROM jobs j LEFT JOIN decisions d ON d.id = j.decision_id
         WHERE j.kind = 'email' AND j.state = 'failed' ORDER BY j.created, j.id",
        args![],
    )
    .await?
    .iter()
    .map(|r| {
        let mail: EmailJob = serde_json::from_str(&r.cell::<String>(2)?)
            .map_err(|e| StoreError::failed("bad email job payload", e))?;
        Ok(FailedEmail {
            job: r.cell(0)?,
            session_id: r.cell(1)?,
            to: mail.email.to_address,
            subject: mail.email.subject,
            attempts: attempts(r.cell(3)?),
            error: r.cell(4)?,
            created: from_sql(&r.cell::<String>(5)?)?,
        })
    })
    .collect()
}

pub async fn requeue_failed(
    tx: &mut impl Tx,
    kind: JobKind,
    job: Option<JobId>,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    let n = tx
        .exec(
            "UPDATE jobs SET state = 'queued', attempts = 0, next_attempt_at = ?3, finished_at = NULL
             WHERE kind = ?1 AND state = 'failed' AND (CAST(?2 AS BIGINT) IS NULL OR id = ?2)",
            args![kind.as_str(), job, to_sql(now)],
        )
        .await?;
    if n == 0
        && let Some(id) = job
    {
        return Err(StoreError::NotFound(format!(
            "no failed {} job with id {id}",
            kind.as_str()
        )));
    }
    Ok(n)
}

/// Queues a report for the course unless one is already queued or running (the course's
/// row is locked meanwhile, so two servers cannot both queue one).
pub async fn start_report(
    tx: &mut impl Tx,
    course_id: &str,
    reviewer: i64,
    now: OffsetDateTime,
) -> Result<Job, StoreError> {
    let exists = tx
        .row(
            &format!("SELECT 1 FROM courses WHERE id = ?1{}", tx.for_update()),
            args![course_id],
        )
        .await?
        .is_some();
    if !exists {
        return Err(StoreError::NotFound(format!(
            "no course with id {course_id}"
        )));
    }
    let running = tx
        .row(
            "SELECT id FROM jobs WHERE kind = 'report' AND course_id = ?1
               AND state IN ('queued', 'running')",
            args![course_id],
        )
        .await?;
    if let Some(r) = running {
        let id: JobId = r.cell(0)?;
        return Err(StoreError::Conflict(format!(
            "the proctored exam results report for this course is already being created (job {id}); see Pending Tasks"
        )));
    }
    let report = NewJob {
        course: Some(course_id),
        requested_by: Some(reviewer),
        ..NewJob::new(JobKind::Report, now, now)
    };
    let id = enqueue(tx, &report).await?;
    job(tx, id).await
}

/// Where the jobs of `kind` stand at `now`.
pub async fn tally(
    tx: &mut impl Tx,
    kind: JobKind,
    now: OffsetDateTime,
) -> Result<crate::domain::job::JobTally, StoreError> {
    let minute_ago = now - time::Duration::minutes(1);
    let r = tx
        .one(
            "SELECT COUNT(*) FILTER (WHERE state = 'queued' AND next_attempt_at <= ?2),
                    COUNT(*) FILTER (WHERE state = 'queued' AND next_attempt_at > ?2),
                    COUNT(*) FILTER (WHERE state = 'running'),
                    COUNT(*) FILTER (WHERE state = 'failed'),
                    COUNT(*) FILTER (WHERE state = 'done' AND finished_at >= ?3),
                    MIN(next_attempt_at) FILTER (WHERE state = 'queued' AND next_attempt_at <= ?2)
             FROM jobs WHERE kind = ?1",
            args![kind.as_str(), to_sql(now), to_sql(minute_ago)],
        )
        .await?;
    let n = |i: usize| -> Result<u64, StoreError> { Ok(r.cell::<i64>(i)?.max(0) as u64) };
    Ok(crate::domain::job::JobTally {
        due: n(0)?,
        later: n(1)?,
        running: n(2)?,
        failed: n(3)?,
        done_last_minute: n(4)?,
        oldest_due: r
            .cell::<Option<String>>(5)?
            .map(|t| from_sql(&t))
            .transpose()?,
    })
}

pub async fn next_due(
    tx: &mut impl Tx,
    kind: JobKind,
) -> Result<Option<OffsetDateTime>, StoreError> {
    let at: Option<String> = tx
        .one(
            "SELECT MIN(next_attempt_at) FROM jobs WHERE kind = ?1 AND state = 'queued'",
            args![kind.as_str()],
        )
        .await?
        .cell(0)?;
    at.as_deref().map(from_sql).transpose()
}
