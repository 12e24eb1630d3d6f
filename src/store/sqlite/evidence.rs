//! Evidence records. Adding media is one IMMEDIATE transaction that also moves the files
//! into place, so a row never points at a missing file and no file is left without a row.

use super::read;
use crate::domain::{MediaItem, SessionId};
use crate::store::timefmt::to_sql;
use crate::store::{NewMedia, NewOnboarding, PlaceFiles, StoreError};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use time::OffsetDateTime;

fn check(tx: &Connection, m: &NewMedia) -> Result<(), StoreError> {
    let label = &m.label;
    let exists: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM sessions WHERE id = ?1)",
        [m.session_id],
        |r| r.get(0),
    )?;
    if !exists {
        return Err(StoreError::NotFound(format!(
            "{label}: no session with id {}",
            m.session_id
        )));
    }
    if let Some(v) = m.violation_id {
        let owner: Option<SessionId> = tx
            .query_row(
                "SELECT session_id FROM violations WHERE id = ?1",
                [v],
                |r| r.get(0),
            )
            .optional()?;
        if owner != Some(m.session_id) {
            return Err(StoreError::Invalid(format!(
                "{label}: session {} has no violation with id {v}",
                m.session_id
            )));
        }
    }
    let duplicate: Option<i64> = tx
        .query_row(
            "SELECT id FROM media WHERE session_id = ?1 AND kind = ?2 AND sha256 = ?3
               AND violation_id IS ?4 AND offset_start IS ?5",
            params![
                m.session_id,
                m.kind.as_str(),
                m.sha256,
                m.violation_id,
                m.offset_start
            ],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = duplicate {
        return Err(StoreError::Conflict(format!(
            "{label}: session {} already has this {} (media {id})",
            m.session_id,
            m.kind.label().to_lowercase()
        )));
    }
    Ok(())
}

fn insert(tx: &Connection, m: &NewMedia, now: &str) -> Result<i64, StoreError> {
    // Cached: the demo seeds hundreds of thousands of these.
    tx.prepare_cached(
        "INSERT INTO media (session_id, kind, content_type, size, sha256, offset_start, offset_end,
                            captured_at, violation_id, scan_result, face_match_score, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        m.session_id,
        m.kind.as_str(),
        m.content_type.as_str(),
        i64::try_from(m.size).unwrap_or(i64::MAX),
        m.sha256,
        m.offset_start,
        m.offset_end,
        m.captured_at.map(to_sql),
        m.violation_id,
        m.scan_result.map(|s| s.as_str()),
        m.face_match_score,
        now,
    ])?;
    Ok(tx.last_insert_rowid())
}

pub fn add_evidence<F: PlaceFiles>(
    c: &mut Connection,
    items: &[NewMedia],
    onboarding: &[NewOnboarding],
    mut files: F,
) -> Result<Vec<MediaItem>, StoreError> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    set_onboarding(&tx, onboarding)?;
    let now = to_sql(OffsetDateTime::now_utc());
    let mut ids = Vec::with_capacity(items.len());
    for m in items {
        check(&tx, m)?;
        ids.push(insert(&tx, m, &now)?);
    }
    let added = ids
        .iter()
        .map(|id| read::media(&tx, *id).map(|(_, m)| m))
        .collect::<Result<Vec<_>, _>>()?;
    if let Err(e) = files.place() {
        files.undo();
        return Err(StoreError::Backend(format!(
            "cannot move media into place: {e}"
        )));
    }
    if let Err(e) = tx.commit() {
        files.undo();
        return Err(e.into());
    }
    Ok(added)
}

/// Inserts media rows for files already in place (the demo's), without checks.
pub fn seed_media(tx: &Connection, items: &[NewMedia]) -> Result<(), StoreError> {
    let now = to_sql(OffsetDateTime::now_utc());
    for m in items {
        insert(tx, m, &now)?;
    }
    Ok(())
}

pub fn set_onboarding(tx: &Connection, rows: &[NewOnboarding]) -> Result<(), StoreError> {
    let now = to_sql(OffsetDateTime::now_utc());
    for row in rows {
        let o = &row.onboarding;
        let changed = tx.prepare_cached(
            "INSERT INTO onboarding (learner_id, course_id, status, started_at, submitted_at, verified_at, modified)
             SELECT s.learner_id, e.course_id, ?2, ?3, ?4, ?5, ?6
             FROM sessions s JOIN exams e ON e.id = s.exam_id WHERE s.id = ?1
             ON CONFLICT (learner_id, course_id) DO UPDATE SET status = excluded.status,
               started_at = excluded.started_at, submitted_at = excluded.submitted_at,
               verified_at = excluded.verified_at, modified = excluded.modified",
        )?
        .execute(params![
                row.session_id,
                o.status.as_str(),
                o.started_at.map(to_sql),
                o.submitted_at.map(to_sql),
                o.verified_at.map(to_sql),
                now
            ])?;
        if changed == 0 {
            return Err(StoreError::NotFound(format!(
                "{}: no session with id {}",
                row.label, row.session_id
            )));
        }
    }
    Ok(())
}

pub fn media_count(c: &Connection) -> Result<u64, StoreError> {
    let n: i64 = c.query_row("SELECT COUNT(*) FROM media", [], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}
