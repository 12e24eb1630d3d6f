//! Retention, written once for both databases: which sessions' evidence has outlived its
//! course's period ([`crate::domain::retention`] judges), and deleting a session's evidence
//! records with an entry on the decision history in the same transaction.

use super::StoreError;
use super::cells::Cells;
use super::rows::NewDecision;
use super::timefmt::{from_sql, to_sql};
use super::tx::{Lock, Tx};
use crate::args;
use crate::domain::audit::SealKey;
use crate::domain::retention::{CourseKeep, Judged, KeepFor, deletion_reason};
use crate::domain::words::Word;
use crate::domain::{AttemptStatus, SessionId};
use time::OffsetDateTime;

/// The service account retention's history entries are attributed to.
pub const RETENTION: &str = "retention";
/// The verdict column of a retention entry: it decides nothing.
pub const RETENTION_VERDICT: &str = "evidence-deleted";

/// A session whose evidence is past its period.
#[derive(Debug, Clone, PartialEq)]
pub struct Expired {
    pub session_id: SessionId,
    pub course_id: String,
    pub keep: KeepFor,
    pub last_decided: OffsetDateTime,
    pub files: u64,
    pub bytes: u64,
}

/// Sets a course's own rule.
pub async fn set_keep(tx: &mut impl Tx, course: &str, keep: CourseKeep) -> Result<(), StoreError> {
    let changed = tx
        .exec(
            "UPDATE courses SET keep_evidence = ? WHERE id = ?",
            args![keep.stored(), course],
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound(format!("no course '{course}'")));
    }
    Ok(())
}

fn course_keep(stored: Option<String>) -> Result<CourseKeep, StoreError> {
    CourseKeep::from_stored(stored.as_deref())
        .map_err(|e| StoreError::Corrupt(format!("bad retention period in database: {e}")))
}

/// A course's own rule.
pub async fn keep_of(tx: &mut impl Tx, course: &str) -> Result<CourseKeep, StoreError> {
    let row = tx
        .row(
            "SELECT keep_evidence FROM courses WHERE id = ?",
            args![course],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no course '{course}'")))?;
    course_keep(row.cell(0)?)
}

/// What each session holds and how it stands, as retention judges it: `?1` the course,
/// `?2` the newest last decision that may be past its period (SQL narrows, Rust judges),
/// and with `one`, `?3` the one session.
fn candidates(one: bool) -> String {
    let only = if one { "AND s.id = ?3" } else { "" };
    // Each session's last decision is looked up by its own index entry, not by grouping
    // the whole history.
    format!(
        "SELECT c.id, c.status, c.awaiting_from, c.lms_state, c.last, c.files, c.bytes,
                c.review_status
         FROM (SELECT s.id, s.status, s.awaiting_from, s.lms_state, s.review_status,
                      (SELECT MAX(d.decided_at) FROM decisions d WHERE d.session_id = s.id)
                          AS last,
                      (SELECT COUNT(*) FROM media m WHERE m.session_id = s.id) AS files,
                      (SELECT CAST(COALESCE(SUM(m.size), 0) AS BIGINT) FROM media m
                       WHERE m.session_id = s.id) AS bytes
               FROM sessions s JOIN exams e ON e.id = s.exam_id
               WHERE e.course_id = ?1 AND s.status IN ('verified', 'rejected') {only}
                 AND EXISTS (SELECT 1 FROM media m WHERE m.session_id = s.id)) c
         WHERE c.last <= ?2
         ORDER BY c.id"
    )
}

fn judged(r: &impl Cells) -> Result<(Judged, u64, u64), StoreError> {
    let status: AttemptStatus = super::rows::parse(&r.cell::<String>(1)?)?;
    let awaiting: Option<i64> = r.cell(2)?;
    let lms: Option<String> = r.cell(3)?;
    let files: i64 = r.cell(5)?;
    let bytes: i64 = r.cell(6)?;
    Ok((
        Judged {
            status,
            awaiting_second_review: awaiting.is_some(),
            lms_conflict: lms.as_deref() == Some("conflict"),
            last_decided: Some(from_sql(&r.cell::<String>(4)?)?),
        },
        files.max(0) as u64,
        bytes.max(0) as u64,
    ))
}

/// Every session whose evidence is past its course's period (or `default`) at `now`.
pub async fn due(
    tx: &mut impl Tx,
    now: OffsetDateTime,
    default: Option<KeepFor>,
) -> Result<Vec<Expired>, StoreError> {
    let courses = tx
        .rows("SELECT id, keep_evidence FROM courses ORDER BY id", args![])
        .await?;
    let mut out = Vec::new();
    for c in courses {
        let course: String = c.cell(0)?;
        let Some(keep) = course_keep(c.cell(1)?)?.effective(default) else {
            continue;
        };
        let cutoff = to_sql(keep.cutoff(now));
        for r in tx.rows(&candidates(false), args![&course, &cutoff]).await? {
            let (judged, files, bytes) = judged(&r)?;
            if !judged.expired(Some(keep), now) {
                continue;
            }
            out.push(Expired {
                session_id: r.cell(0)?,
                course_id: course.clone(),
                keep,
                last_decided: judged.last_decided.unwrap_or(now),
                files,
                bytes,
            });
        }
    }
    Ok(out)
}

/// Deletes the session's evidence records if it is still past its period (judged again
/// under the session's lock: a decision since may have changed that), writes the history
/// entry that says so, and answers the files no record uses any more; None if it was not.
pub async fn delete(
    tx: &mut impl Tx,
    e: &Expired,
    now: OffsetDateTime,
    key: Option<&SealKey>,
) -> Result<Option<Vec<String>>, StoreError> {
    // The session, then the history: the order a decision takes them in.
    let held = tx.for_update();
    let sql = format!("SELECT id FROM sessions WHERE id = ?{held}");
    if tx.row(&sql, args![e.session_id]).await?.is_none() {
        return Ok(None);
    }
    tx.lock(Lock::History).await?;
    let cutoff = to_sql(e.keep.cutoff(now));
    let still = tx
        .row(
            &candidates(true),
            args![&e.course_id, &cutoff, e.session_id],
        )
        .await?;
    let Some(r) = still else { return Ok(None) };
    let (judged, files, bytes) = judged(&r)?;
    if !judged.expired(Some(e.keep), now) {
        return Ok(None);
    }
    let media = tx
        .rows(
            "SELECT kind, sha256 FROM media WHERE session_id = ? ORDER BY id",
            args![e.session_id],
        )
        .await?;
    let mut kinds: Vec<String> = Vec::new();
    let mut hashes: Vec<String> = Vec::new();
    for m in &media {
        let kind: String = m.cell(0)?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
        let sha: String = m.cell(1)?;
        if !hashes.contains(&sha) {
            hashes.push(sha);
        }
    }
    tx.exec(
        "DELETE FROM media WHERE session_id = ?",
        args![e.session_id],
    )
    .await?;
    let status = judged.status.as_str();
    let review: Option<String> = r.cell(7)?;
    let reviewer = super::accounts::service_account(tx, RETENTION, "Retention").await?;
    let at = to_sql(now);
    let reason = deletion_reason(e.keep, files as usize, bytes, &kinds);
    let entry = NewDecision {
        session_id: e.session_id,
        reviewer_id: reviewer,
        decided_at: &at,
        verdict: RETENTION_VERDICT,
        reason: &reason,
        status_before: status,
        status_after: status,
        review_status_before: review.as_deref(),
        review_status_after: review.as_deref(),
        grade_possible: None,
        grade_before: None,
        grade_after: None,
        learner_emailed: false,
        idempotency_key: None,
    };
    super::audit::append(tx, &entry, key).await?;
    Ok(Some(
        crate::store::evidence::release_files(tx, hashes).await?,
    ))
}
