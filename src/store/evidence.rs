//! Evidence records, written once for both databases: an evidence file's row (checked
//! against its session and violation, never twice), reading it back, and a learner's
//! onboarding. The backends add the files themselves inside the same transaction.

use super::cells::Cells;
use super::rows::{opt_parse, parse};
use super::timefmt::{opt_from_sql, to_sql};
use super::tx::Tx;
use super::{NewMedia, NewOnboarding, StoreError};
use crate::args;
use crate::domain::words::Word;
use crate::domain::{ContentType, MediaId, MediaItem, MediaKind, ScanResult, SessionId};
use time::OffsetDateTime;

/// A media row's columns, read by [`media_item`] (from `media m`).
pub const MEDIA_COLUMNS: &str =
    "m.id, m.kind, m.content_type, m.size, m.sha256, m.offset_start, m.offset_end,
     m.captured_at, m.violation_id, m.scan_result, m.face_match_score";

pub fn media_item(r: &impl Cells) -> Result<MediaItem, StoreError> {
    Ok(MediaItem {
        id: r.cell(0)?,
        kind: parse::<MediaKind>(&r.cell::<String>(1)?)?,
        content_type: parse::<ContentType>(&r.cell::<String>(2)?)?,
        size: r.cell::<i64>(3)?.max(0) as u64,
        sha256: r.cell(4)?,
        offset_start: r.cell(5)?,
        offset_end: r.cell(6)?,
        captured_at: opt_from_sql(r.cell(7)?)?,
        violation_id: r.cell(8)?,
        scan_result: opt_parse::<ScanResult>(r.cell::<Option<String>>(9)?.as_deref())?,
        face_match_score: r.cell(10)?,
    })
}

/// One evidence file's record and the session it belongs to.
pub async fn media(tx: &mut impl Tx, id: MediaId) -> Result<(SessionId, MediaItem), StoreError> {
    let sql = format!("SELECT {MEDIA_COLUMNS}, m.session_id FROM media m WHERE m.id = ?");
    let Some(r) = tx.row(&sql, args![id]).await? else {
        return Err(StoreError::NotFound(format!("no media with id {id}")));
    };
    Ok((r.cell(11)?, media_item(&r)?))
}

async fn check(tx: &mut impl Tx, m: &NewMedia) -> Result<(), StoreError> {
    let label = &m.label;
    let exists: bool = tx
        .one(
            "SELECT EXISTS (SELECT 1 FROM sessions WHERE id = ?)",
            args![m.session_id],
        )
        .await?
        .cell(0)?;
    if !exists {
        return Err(StoreError::NotFound(format!(
            "{label}: no session with id {}",
            m.session_id
        )));
    }
    if let Some(v) = m.violation_id {
        let owner: Option<SessionId> = tx
            .row("SELECT session_id FROM violations WHERE id = ?", args![v])
            .await?
            .map(|r| r.cell(0))
            .transpose()?;
        if owner != Some(m.session_id) {
            return Err(StoreError::Invalid(format!(
                "{label}: session {} has no violation with id {v}",
                m.session_id
            )));
        }
    }
    let duplicate = tx
        .row(
            "SELECT id FROM media WHERE session_id = ? AND kind = ? AND sha256 = ?
               AND violation_id IS NOT DISTINCT FROM ? AND offset_start IS NOT DISTINCT FROM ?",
            args![
                m.session_id,
                m.kind.as_str(),
                &m.sha256,
                m.violation_id,
                m.offset_start
            ],
        )
        .await?;
    if let Some(r) = duplicate {
        let id: i64 = r.cell(0)?;
        return Err(StoreError::Conflict(format!(
            "{label}: session {} already has this {} (media {id})",
            m.session_id,
            m.kind.label().to_lowercase()
        )));
    }
    Ok(())
}

async fn insert(tx: &mut impl Tx, m: &NewMedia, now: &str) -> Result<i64, StoreError> {
    tx.one(
        "INSERT INTO media (session_id, kind, content_type, size, sha256, offset_start, offset_end,
                            captured_at, violation_id, scan_result, face_match_score, created)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        args![
            m.session_id,
            m.kind.as_str(),
            m.content_type.as_str(),
            i64::try_from(m.size).unwrap_or(i64::MAX),
            &m.sha256,
            m.offset_start,
            m.offset_end,
            m.captured_at.map(to_sql),
            m.violation_id,
            m.scan_result.map(|s| s.as_str()),
            m.face_match_score,
            now
        ],
    )
    .await?
    .cell(0)
}

/// Adds the rows of an import (all or nothing: the caller's transaction), checking each;
/// the records as read back. The caller moves the files into place before committing.
/// Of `hashes` (files whose records were just deleted), those no record uses any more
/// (several sessions may share one file): listed in `files_to_remove` in the same
/// transaction, so a file that cannot be removed now is not forgotten.
pub async fn release_files(
    tx: &mut impl Tx,
    hashes: Vec<String>,
) -> Result<Vec<String>, StoreError> {
    let now = super::timefmt::to_sql(time::OffsetDateTime::now_utc());
    let mut unused = Vec::new();
    for h in hashes {
        let used: bool = tx
            .one(
                "SELECT EXISTS (SELECT 1 FROM media WHERE sha256 = ?)",
                args![&h],
            )
            .await?
            .cell(0)?;
        if !used {
            tx.exec(
                "INSERT INTO files_to_remove (sha256, since) VALUES (?, ?)
                 ON CONFLICT (sha256) DO NOTHING",
                args![&h, &now],
            )
            .await?;
            unused.push(h);
        }
    }
    Ok(unused)
}

/// Files waiting to be removed, oldest first.
pub async fn files_to_remove(tx: &mut impl Tx, limit: i64) -> Result<Vec<String>, StoreError> {
    tx.rows(
        "SELECT sha256 FROM files_to_remove ORDER BY since, sha256 LIMIT ?",
        args![limit],
    )
    .await?
    .iter()
    .map(|r| r.cell(0))
    .collect()
}

/// Whether the file may still go: no record took it up again since it was listed (the
/// same bytes uploaded anew). One that may not is taken off the list.
pub async fn still_unused(tx: &mut impl Tx, sha256: &str) -> Result<bool, StoreError> {
    let used: bool = tx
        .one(
            "SELECT EXISTS (SELECT 1 FROM media WHERE sha256 = ?)",
            args![sha256],
        )
        .await?
        .cell(0)?;
    if used {
        tx.exec(
            "DELETE FROM files_to_remove WHERE sha256 = ?",
            args![sha256],
        )
        .await?;
    }
    Ok(!used)
}

/// The file is gone (`error` None), or could not be removed and stays listed.
pub async fn file_removal(
    tx: &mut impl Tx,
    sha256: &str,
    error: Option<&str>,
) -> Result<(), StoreError> {
    match error {
        None => tx.exec(
            "DELETE FROM files_to_remove WHERE sha256 = ?",
            args![sha256],
        ),
        Some(e) => tx.exec(
            "UPDATE files_to_remove SET last_error = ? WHERE sha256 = ?",
            args![e, sha256],
        ),
    }
    .await?;
    Ok(())
}

pub async fn add_rows(
    tx: &mut impl Tx,
    items: &[NewMedia],
    onboarding: &[NewOnboarding],
) -> Result<Vec<MediaItem>, StoreError> {
    set_onboarding(tx, onboarding).await?;
    let now = to_sql(OffsetDateTime::now_utc());
    let mut added = Vec::with_capacity(items.len());
    for m in items {
        check(tx, m).await?;
        let id = insert(tx, m, &now).await?;
        added.push(media(tx, id).await?.1);
    }
    Ok(added)
}

/// Inserts media rows for files already in place (the demo's), without checks.
pub async fn seed_media(tx: &mut impl Tx, items: &[NewMedia]) -> Result<(), StoreError> {
    let now = to_sql(OffsetDateTime::now_utc());
    for m in items {
        insert(tx, m, &now).await?;
    }
    Ok(())
}

pub async fn set_onboarding(tx: &mut impl Tx, rows: &[NewOnboarding]) -> Result<(), StoreError> {
    let now = to_sql(OffsetDateTime::now_utc());
    for row in rows {
        let o = &row.onboarding;
        let changed = tx
            .exec(
                "INSERT INTO onboarding (learner_id, course_id, status, started_at, submitted_at,
                                         verified_at, modified)
                 SELECT s.learner_id, e.course_id, ?2, ?3, ?4, ?5, ?6
                 FROM sessions s JOIN exams e ON e.id = s.exam_id WHERE s.id = ?1
                 ON CONFLICT (learner_id, course_id) DO UPDATE SET status = excluded.status,
                   started_at = excluded.started_at, submitted_at = excluded.submitted_at,
                   verified_at = excluded.verified_at, modified = excluded.modified",
                args![
                    row.session_id,
                    o.status.as_str(),
                    o.started_at.map(to_sql),
                    o.submitted_at.map(to_sql),
                    o.verified_at.map(to_sql),
                    &now
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
