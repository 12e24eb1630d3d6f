//! Evidence records: added in one transaction that also moves the files into place.

use super::read;
use crate::domain::{MediaItem, SessionId};
use crate::store::timefmt::to_sql;
use crate::store::{NewMedia, NewOnboarding, PlaceFiles, StoreError};
use time::OffsetDateTime;
use tokio_postgres::{GenericClient, Transaction};

async fn check<C: GenericClient + Sync>(tx: &C, m: &NewMedia) -> Result<(), StoreError> {
    let label = &m.label;
    if tx
        .query_opt("SELECT 1 FROM sessions WHERE id = $1", &[&m.session_id])
        .await?
        .is_none()
    {
        return Err(StoreError::NotFound(format!(
            "{label}: no session with id {}",
            m.session_id
        )));
    }
    if let Some(v) = m.violation_id {
        let owner: Option<SessionId> = tx
            .query_opt("SELECT session_id FROM violations WHERE id = $1", &[&v])
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        if owner != Some(m.session_id) {
            return Err(StoreError::Invalid(format!(
                "{label}: session {} has no violation with id {v}",
                m.session_id
            )));
        }
    }
    let duplicate = tx
        .query_opt(
            "SELECT id FROM media WHERE session_id = $1 AND kind = $2 AND sha256 = $3
               AND violation_id IS NOT DISTINCT FROM $4 AND offset_start IS NOT DISTINCT FROM $5",
            &[
                &m.session_id,
                &m.kind.as_str(),
                &m.sha256,
                &m.violation_id,
                &m.offset_start,
            ],
        )
        .await?;
    if let Some(r) = duplicate {
        let id: i64 = r.try_get(0)?;
        return Err(StoreError::Conflict(format!(
            "{label}: session {} already has this {} (media {id})",
            m.session_id,
            m.kind.label().to_lowercase()
        )));
    }
    Ok(())
}

async fn insert<C: GenericClient + Sync>(
    tx: &C,
    m: &NewMedia,
    now: &str,
) -> Result<i64, StoreError> {
    Ok(tx
        .query_one(
            "INSERT INTO media (session_id, kind, content_type, size, sha256, offset_start, offset_end,
                                captured_at, violation_id, scan_result, face_match_score, created)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            &[
                &m.session_id,
                &m.kind.as_str(),
                &m.content_type.as_str(),
                &i64::try_from(m.size).unwrap_or(i64::MAX),
                &m.sha256,
                &m.offset_start,
                &m.offset_end,
                &m.captured_at.map(to_sql),
                &m.violation_id,
                &m.scan_result.map(|s| s.as_str()),
                &m.face_match_score,
                &now,
            ],
        )
        .await?
        .try_get(0)?)
}

pub async fn add_evidence<F: PlaceFiles>(
    tx: Transaction<'_>,
    items: &[NewMedia],
    onboarding: &[NewOnboarding],
    mut files: F,
) -> Result<Vec<MediaItem>, StoreError> {
    set_onboarding(&tx, onboarding).await?;
    let now = to_sql(OffsetDateTime::now_utc());
    let mut added = Vec::with_capacity(items.len());
    for m in items {
        check(&tx, m).await?;
        let id = insert(&tx, m, &now).await?;
        added.push(read::media(&tx, id).await?.1);
    }
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

/// Inserts media rows for files already in place (the demo's), without checks.
pub async fn seed_media<C: GenericClient + Sync>(
    tx: &C,
    items: &[NewMedia],
) -> Result<(), StoreError> {
    let now = to_sql(OffsetDateTime::now_utc());
    for m in items {
        insert(tx, m, &now).await?;
    }
    Ok(())
}

pub async fn set_onboarding<C: GenericClient + Sync>(
    tx: &C,
    rows: &[NewOnboarding],
) -> Result<(), StoreError> {
    let now = to_sql(OffsetDateTime::now_utc());
    for row in rows {
        let o = &row.onboarding;
        let changed = tx
            .execute(
                "INSERT INTO onboarding (learner_id, course_id, status, started_at, submitted_at,
                                         verified_at, modified)
                 SELECT s.learner_id, e.course_id, $2, $3, $4, $5, $6
                 FROM sessions s JOIN exams e ON e.id = s.exam_id WHERE s.id = $1
                 ON CONFLICT (learner_id, course_id) DO UPDATE SET status = excluded.status,
                   started_at = excluded.started_at, submitted_at = excluded.submitted_at,
                   verified_at = excluded.verified_at, modified = excluded.modified",
                &[
                    &row.session_id,
                    &o.status.as_str(),
                    &o.started_at.map(to_sql),
                    &o.submitted_at.map(to_sql),
                    &o.verified_at.map(to_sql),
                    &now,
                ],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::NotFound(format!(
                "{}: no session with id {}",
                row.label, row.session_id
            )));
        }
    }
    Ok(())
}
