//! The jobs table: claiming due work, recording progress and outcomes, and the reports a
//! course has asked for.

use crate::domain::{Job, JobId, JobKind, JobState, ReportFile};
use crate::store::timefmt::{from_sql, opt_from_sql, to_sql};
use crate::store::{ClaimedJob, EmailJob, FailedEmail, StoreError};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use time::OffsetDateTime;

const COLUMNS: &str = "j.id, j.kind, j.state, j.progress, j.attempts, j.last_error, r.username,
     j.course_id, j.created, j.started_at, j.finished_at, j.result, j.payload";

fn job_from(r: &Row<'_>) -> Result<Job, StoreError> {
    let bad = |what: &str, v: String| StoreError::Backend(format!("bad {what} '{v}' in jobs"));
    let kind: String = r.get(1)?;
    let state: String = r.get(2)?;
    let result: Option<String> = r.get(11)?;
    Ok(Job {
        id: r.get(0)?,
        kind: JobKind::parse(&kind).ok_or_else(|| bad("kind", kind.clone()))?,
        state: JobState::parse(&state).ok_or_else(|| bad("state", state.clone()))?,
        progress: r.get(3)?,
        attempts: r.get(4)?,
        last_error: r.get(5)?,
        requested_by: r.get(6)?,
        course_id: r.get(7)?,
        created: from_sql(&r.get::<_, String>(8)?)?,
        started_at: opt_from_sql(r.get(9)?)?,
        finished_at: opt_from_sql(r.get(10)?)?,
        report: result
            .as_deref()
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

pub fn insert(
    c: &Connection,
    kind: JobKind,
    payload: &str,
    course_id: Option<&str>,
    requested_by: Option<i64>,
    now: OffsetDateTime,
) -> Result<JobId, StoreError> {
    let now = to_sql(now);
    c.prepare_cached(
        "INSERT INTO jobs (kind, payload, state, next_attempt_at, course_id, requested_by, created)
         VALUES (?1, ?2, 'queued', ?3, ?4, ?5, ?3)",
    )?
    .execute(params![
        kind.as_str(),
        payload,
        now,
        course_id,
        requested_by
    ])?;
    Ok(c.last_insert_rowid())
}

pub fn job(c: &Connection, id: JobId) -> Result<Job, StoreError> {
    let mut stmt = c.prepare_cached(&select("j.id = ?1"))?;
    let mut rows = stmt.query([id])?;
    match rows.next()? {
        Some(r) => job_from(r),
        None => Err(StoreError::NotFound(format!("no job with id {id}"))),
    }
}

/// Jobs of a kind (for one course, if given), newest first.
pub fn list(c: &Connection, kind: JobKind, course: Option<&str>) -> Result<Vec<Job>, StoreError> {
    let sql = format!(
        "{} ORDER BY j.created DESC, j.id DESC LIMIT 500",
        select("j.kind = ?1 AND (?2 IS NULL OR j.course_id = ?2)")
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![kind.as_str(), course])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(job_from(r)?);
    }
    Ok(out)
}

/// Takes the next due job of `kind` and marks it running, in one transaction, so no two
/// workers ever run the same job.
pub fn claim(
    c: &mut Connection,
    kind: JobKind,
    instance: &str,
    now: OffsetDateTime,
) -> Result<Option<ClaimedJob>, StoreError> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now_s = to_sql(now);
    let id: Option<JobId> = tx
        .query_row(
            "SELECT id FROM jobs WHERE kind = ?1 AND state = 'queued' AND next_attempt_at <= ?2
             ORDER BY next_attempt_at, id LIMIT 1",
            params![kind.as_str(), now_s],
            |r| r.get(0),
        )
        .optional()?;
    let Some(id) = id else {
        return Ok(None);
    };
    tx.execute(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?2, claimed_by = ?3
         WHERE id = ?1",
        params![id, now_s, instance],
    )?;
    let job = job(&tx, id)?;
    let (payload, session) = tx.query_row(crate::store::queries::CLAIMED, [id], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    tx.commit()?;
    Ok(Some(ClaimedJob {
        job,
        payload,
        session,
    }))
}

pub fn progress(c: &Connection, id: JobId, progress: f64) -> Result<(), StoreError> {
    c.execute(
        "UPDATE jobs SET progress = ?2 WHERE id = ?1 AND state = 'running'",
        params![id, progress.clamp(0.0, 1.0)],
    )?;
    Ok(())
}

pub fn done(
    c: &Connection,
    id: JobId,
    result: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE jobs SET state = 'done', progress = 1, last_error = NULL, finished_at = ?2, result = ?3
         WHERE id = ?1",
        params![id, to_sql(now), result],
    )?;
    Ok(())
}

pub fn retry(
    c: &Connection,
    id: JobId,
    error: &str,
    next: OffsetDateTime,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE jobs SET state = 'queued', last_error = ?2, next_attempt_at = ?3 WHERE id = ?1",
        params![id, error, to_sql(next)],
    )?;
    Ok(())
}

pub fn failed(
    c: &Connection,
    id: JobId,
    error: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE jobs SET state = 'failed', last_error = ?2, finished_at = ?3 WHERE id = ?1",
        params![id, error, to_sql(now)],
    )?;
    Ok(())
}

/// Says `instance` is alive, and queues again the jobs whose runner has gone quiet for
/// `stale` (a stopped or killed server), saying why. When `instance` is new — a server
/// starting — email retries waiting out their backoff become due at once: a restart is
/// usually the fix for whatever made them fail.
pub fn recover(
    c: &mut Connection,
    instance: &str,
    now: OffsetDateTime,
    stale: time::Duration,
) -> Result<u64, StoreError> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now_s = to_sql(now);
    let starting = tx.execute(
        "INSERT INTO server_instances (id, seen_at) VALUES (?1, ?2)
         ON CONFLICT (id) DO NOTHING",
        params![instance, now_s],
    )? == 1;
    tx.execute(
        "UPDATE server_instances SET seen_at = ?2 WHERE id = ?1",
        params![instance, now_s],
    )?;
    let quiet = to_sql(now - stale);
    let n = tx.execute(
        "UPDATE jobs SET state = 'queued', progress = 0, claimed_by = NULL,
           last_error = 'interrupted by a server restart; started again'
         WHERE state = 'running' AND (claimed_by IS NULL OR claimed_by NOT IN
           (SELECT id FROM server_instances WHERE seen_at > ?1))",
        params![quiet],
    )?;
    tx.execute(
        "DELETE FROM server_instances WHERE seen_at <= ?1",
        params![quiet],
    )?;
    if starting {
        tx.execute(
            "UPDATE jobs SET next_attempt_at = ?1
             WHERE kind = 'email' AND state = 'queued' AND attempts > 0 AND next_attempt_at > ?1",
            params![now_s],
        )?;
    }
    tx.commit()?;
    Ok(n as u64)
}

pub fn release(c: &mut Connection, instance: &str) -> Result<u64, StoreError> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let n = tx.execute(crate::store::rows::RELEASE_JOBS, [instance])?;
    tx.execute("DELETE FROM server_instances WHERE id = ?1", [instance])?;
    tx.commit()?;
    Ok(n as u64)
}

pub fn failed_emails(c: &Connection) -> Result<Vec<FailedEmail>, StoreError> {
    let mut stmt = c.prepare(
        "SELECT j.id, d.session_id, j.payload, j.attempts, j.last_error, j.created
         FROM jobs j LEFT JOIN decisions d ON d.id = j.decision_id
         WHERE j.kind = 'email' AND j.state = 'failed' ORDER BY j.created, j.id",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let payload: String = r.get(2)?;
        let mail: EmailJob = serde_json::from_str(&payload)
            .map_err(|e| StoreError::Backend(format!("bad email job payload: {e}")))?;
        out.push(FailedEmail {
            job: r.get(0)?,
            session_id: r.get(1)?,
            to: mail.email.to_address,
            subject: mail.email.subject,
            attempts: r.get(3)?,
            error: r.get(4)?,
            created: from_sql(&r.get::<_, String>(5)?)?,
        });
    }
    Ok(out)
}

/// Queues failed jobs of `kind` again (one, or all of them) with a fresh retry budget.
pub fn requeue_failed(
    c: &Connection,
    kind: JobKind,
    job: Option<JobId>,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    let n = c.execute(
        "UPDATE jobs SET state = 'queued', attempts = 0, next_attempt_at = ?3, finished_at = NULL
         WHERE kind = ?1 AND state = 'failed' AND (?2 IS NULL OR id = ?2)",
        params![kind.as_str(), job, to_sql(now)],
    )?;
    if n == 0
        && let Some(id) = job
    {
        return Err(StoreError::NotFound(format!(
            "no failed {} job with id {id}",
            kind.as_str()
        )));
    }
    Ok(n as u64)
}

/// Queues a report for the course unless one is already queued or running.
pub fn start_report(
    c: &mut Connection,
    course_id: &str,
    reviewer: i64,
    now: OffsetDateTime,
) -> Result<Job, StoreError> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let exists: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM courses WHERE id = ?1)",
        [course_id],
        |r| r.get(0),
    )?;
    if !exists {
        return Err(StoreError::NotFound(format!(
            "no course with id {course_id}"
        )));
    }
    let running: Option<JobId> = tx
        .query_row(
            "SELECT id FROM jobs WHERE kind = 'report' AND course_id = ?1 AND state IN ('queued', 'running')",
            [course_id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = running {
        return Err(StoreError::Conflict(format!(
            "the proctored exam results report for this course is already being created (job {id}); see Pending Tasks"
        )));
    }
    let id = insert(
        &tx,
        JobKind::Report,
        "{}",
        Some(course_id),
        Some(reviewer),
        now,
    )?;
    let job = job(&tx, id)?;
    tx.commit()?;
    Ok(job)
}

pub fn next_due(c: &Connection, kind: JobKind) -> Result<Option<OffsetDateTime>, StoreError> {
    let at: Option<String> = c.query_row(
        "SELECT MIN(next_attempt_at) FROM jobs WHERE kind = ?1 AND state = 'queued'",
        [kind.as_str()],
        |r| r.get(0),
    )?;
    at.as_deref()
        .map(crate::store::timefmt::from_sql)
        .transpose()
}
