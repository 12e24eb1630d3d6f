//! The jobs table shared by every server on the database. A job is claimed with
//! `FOR UPDATE SKIP LOCKED`, so two servers never take the same one; a server that stops
//! mid-job stops saying it is alive, and the next to look queues its jobs again.

use crate::domain::{Job, JobId, JobKind, JobState, ReportFile};
use crate::store::timefmt::{from_sql, opt_from_sql, to_sql};
use crate::store::{ClaimedJob, EmailJob, FailedEmail, StoreError};
use time::OffsetDateTime;
use tokio_postgres::{GenericClient, Row, Transaction};

const COLUMNS: &str = "j.id, j.kind, j.state, j.progress, j.attempts, j.last_error, r.username,
     j.course_id, j.created, j.started_at, j.finished_at, j.result, j.payload";

fn attempts(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

fn job_from(r: &Row) -> Result<Job, StoreError> {
    let bad = |what: &str, v: &str| StoreError::Backend(format!("bad {what} '{v}' in jobs"));
    let kind: &str = r.try_get(1)?;
    let state: &str = r.try_get(2)?;
    let result: Option<&str> = r.try_get(11)?;
    Ok(Job {
        id: r.try_get(0)?,
        kind: JobKind::parse(kind).ok_or_else(|| bad("kind", kind))?,
        state: JobState::parse(state).ok_or_else(|| bad("state", state))?,
        progress: r.try_get(3)?,
        attempts: attempts(r.try_get(4)?),
        last_error: r.try_get(5)?,
        requested_by: r.try_get(6)?,
        course_id: r.try_get(7)?,
        created: from_sql(r.try_get(8)?)?,
        started_at: opt_from_sql(r.try_get(9)?)?,
        finished_at: opt_from_sql(r.try_get(10)?)?,
        report: result
            .map(serde_json::from_str::<ReportFile>)
            .transpose()
            .map_err(|e| StoreError::Backend(format!("bad report result in jobs: {e}")))?,
    })
}

fn select(where_: &str) -> String {
    format!(
        "SELECT {COLUMNS} FROM jobs j LEFT JOIN reviewers r ON r.id = j.requested_by WHERE {where_}"
    )
}

pub async fn job<C: GenericClient + Sync>(c: &C, id: JobId) -> Result<Job, StoreError> {
    match c.query_opt(&select("j.id = $1"), &[&id]).await? {
        Some(r) => job_from(&r),
        None => Err(StoreError::NotFound(format!("no job with id {id}"))),
    }
}

pub async fn list<C: GenericClient + Sync>(
    c: &C,
    kind: JobKind,
    course: Option<&str>,
) -> Result<Vec<Job>, StoreError> {
    let sql = format!(
        "{} ORDER BY j.created DESC, j.id DESC LIMIT 500",
        select("j.kind = $1 AND ($2::text IS NULL OR j.course_id = $2)")
    );
    c.query(&sql, &[&kind.as_str(), &course])
        .await?
        .iter()
        .map(job_from)
        .collect()
}

/// Takes the next due job of `kind` and marks it running. Rows another server is taking
/// at this moment are skipped, never waited for or taken twice.
pub async fn claim<C: GenericClient + Sync>(
    c: &C,
    kind: JobKind,
    instance: &str,
    now: OffsetDateTime,
) -> Result<Option<ClaimedJob>, StoreError> {
    let now_s = to_sql(now);
    let claimed = c
        .query_opt(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = $2,
                 claimed_by = $3
             WHERE id = (SELECT id FROM jobs
                         WHERE kind = $1 AND state = 'queued' AND next_attempt_at <= $2
                         ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING id",
            &[&kind.as_str(), &now_s, &instance],
        )
        .await?;
    let Some(r) = claimed else {
        return Ok(None);
    };
    let id: JobId = r.try_get(0)?;
    let more = c
        .query_one(
            &super::sql::numbered(crate::store::queries::CLAIMED),
            &[&id],
        )
        .await?;
    Ok(Some(ClaimedJob {
        job: job(c, id).await?,
        payload: more.try_get(0)?,
        session: more.try_get(1)?,
    }))
}

pub async fn progress<C: GenericClient + Sync>(
    c: &C,
    id: JobId,
    progress: f64,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE jobs SET progress = $2 WHERE id = $1 AND state = 'running'",
        &[&id, &progress.clamp(0.0, 1.0)],
    )
    .await?;
    Ok(())
}

pub async fn done<C: GenericClient + Sync>(
    c: &C,
    id: JobId,
    result: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE jobs SET state = 'done', progress = 1, last_error = NULL, finished_at = $2,
             result = $3
         WHERE id = $1",
        &[&id, &to_sql(now), &result],
    )
    .await?;
    Ok(())
}

pub async fn retry<C: GenericClient + Sync>(
    c: &C,
    id: JobId,
    error: &str,
    next: OffsetDateTime,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE jobs SET state = 'queued', last_error = $2, next_attempt_at = $3 WHERE id = $1",
        &[&id, &error, &to_sql(next)],
    )
    .await?;
    Ok(())
}

pub async fn failed<C: GenericClient + Sync>(
    c: &C,
    id: JobId,
    error: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE jobs SET state = 'failed', last_error = $2, finished_at = $3 WHERE id = $1",
        &[&id, &error, &to_sql(now)],
    )
    .await?;
    Ok(())
}

/// Says `instance` is alive, and queues again the jobs whose server has gone quiet for
/// `stale`. When `instance` is new (a server starting), email retries waiting out their
/// backoff become due at once.
pub async fn recover(
    tx: Transaction<'_>,
    instance: &str,
    now: OffsetDateTime,
    stale: time::Duration,
) -> Result<u64, StoreError> {
    let now_s = to_sql(now);
    let starting = tx
        .execute(
            "INSERT INTO server_instances (id, seen_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
            &[&instance, &now_s],
        )
        .await?
        == 1;
    tx.execute(
        "UPDATE server_instances SET seen_at = $2 WHERE id = $1",
        &[&instance, &now_s],
    )
    .await?;
    let quiet = to_sql(now - stale);
    let n = tx
        .execute(
            "UPDATE jobs SET state = 'queued', progress = 0, claimed_by = NULL,
               last_error = 'interrupted by a server restart; started again'
             WHERE state = 'running' AND (claimed_by IS NULL OR claimed_by NOT IN
               (SELECT id FROM server_instances WHERE seen_at > $1))",
            &[&quiet],
        )
        .await?;
    tx.execute(
        "DELETE FROM server_instances WHERE seen_at <= $1",
        &[&quiet],
    )
    .await?;
    if starting {
        tx.execute(
            "UPDATE jobs SET next_attempt_at = $1
             WHERE kind = 'email' AND state = 'queued' AND attempts > 0 AND next_attempt_at > $1",
            &[&now_s],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(n)
}

pub async fn release(tx: Transaction<'_>, instance: &str) -> Result<u64, StoreError> {
    let n = tx
        .execute(
            &super::sql::numbered(crate::store::rows::RELEASE_JOBS),
            &[&instance],
        )
        .await?;
    tx.execute("DELETE FROM server_instances WHERE id = $1", &[&instance])
        .await?;
    tx.commit().await?;
    Ok(n)
}

pub async fn failed_emails<C: GenericClient + Sync>(c: &C) -> Result<Vec<FailedEmail>, StoreError> {
    c.query(
        "SELECT j.id, d.session_id, j.payload, j.attempts, j.last_error, j.created
         FROM jobs j LEFT JOIN decisions d ON d.id = j.decision_id
         WHERE j.kind = 'email' AND j.state = 'failed' ORDER BY j.created, j.id",
        &[],
    )
    .await?
    .iter()
    .map(|r| {
        let mail: EmailJob = serde_json::from_str(r.try_get(2)?)
            .map_err(|e| StoreError::Backend(format!("bad email job payload: {e}")))?;
        Ok(FailedEmail {
            job: r.try_get(0)?,
            session_id: r.try_get(1)?,
            to: mail.email.to_address,
            subject: mail.email.subject,
            attempts: attempts(r.try_get(3)?),
            error: r.try_get(4)?,
            created: from_sql(r.try_get(5)?)?,
        })
    })
    .collect()
}

pub async fn requeue_failed<C: GenericClient + Sync>(
    c: &C,
    kind: JobKind,
    job: Option<JobId>,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    let n = c
        .execute(
            "UPDATE jobs SET state = 'queued', attempts = 0, next_attempt_at = $3, finished_at = NULL
             WHERE kind = $1 AND state = 'failed' AND ($2::bigint IS NULL OR id = $2)",
            &[&kind.as_str(), &job, &to_sql(now)],
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
    tx: Transaction<'_>,
    course_id: &str,
    reviewer: i64,
    now: OffsetDateTime,
) -> Result<Job, StoreError> {
    let exists = tx
        .query_opt(
            "SELECT 1 FROM courses WHERE id = $1 FOR UPDATE",
            &[&course_id],
        )
        .await?
        .is_some();
    if !exists {
        return Err(StoreError::NotFound(format!(
            "no course with id {course_id}"
        )));
    }
    let running = tx
        .query_opt(
            "SELECT id FROM jobs WHERE kind = 'report' AND course_id = $1
               AND state IN ('queued', 'running')",
            &[&course_id],
        )
        .await?;
    if let Some(r) = running {
        let id: JobId = r.try_get(0)?;
        return Err(StoreError::Conflict(format!(
            "the proctored exam results report for this course is already being created (job {id}); see Pending Tasks"
        )));
    }
    let now = to_sql(now);
    let id: JobId = tx
        .query_one(
            "INSERT INTO jobs (kind, payload, state, next_attempt_at, course_id, requested_by, created)
             VALUES ('report', '{}', 'queued', $1, $2, $3, $1) RETURNING id",
            &[&now, &course_id, &reviewer],
        )
        .await?
        .try_get(0)?;
    let job = job(&tx, id).await?;
    tx.commit().await?;
    Ok(job)
}

pub async fn next_due<C: GenericClient + Sync>(
    c: &C,
    kind: JobKind,
) -> Result<Option<OffsetDateTime>, StoreError> {
    let at: Option<String> = c
        .query_one(
            "SELECT MIN(next_attempt_at) FROM jobs WHERE kind = $1 AND state = 'queued'",
            &[&kind.as_str()],
        )
        .await?
        .try_get(0)?;
    at.as_deref().map(from_sql).transpose()
}
