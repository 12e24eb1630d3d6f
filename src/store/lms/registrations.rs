//! What an LMS registers with us, written once for both databases: its client, its exams,
//! its learners' attempts (and their status, reset and removal), and a learner's
//! retirement. Registrations run under [`Lock::Registrations`]: each reads, then writes what
//! it read was missing.

use super::{LmsAttempt, LmsClient, LmsExam, new_attempt_ids, stand_in_username};
use crate::args;
use crate::domain::AttemptStatus;
use crate::domain::text::search_key;
use crate::domain::words::Word;
use crate::store::StoreError;
use crate::store::cells::Cells;
use crate::store::rows::parse;
use crate::store::timefmt::to_sql;
use crate::store::tx::{Lock, Tx};
use time::OffsetDateTime;

const CLIENT_COLUMNS: &str =
    "client_id, client_secret, lms_url, lms_client_id, lms_client_secret, backend";

fn client_from(r: &impl Cells) -> Result<LmsClient, StoreError> {
    Ok(LmsClient {
        client_id: r.cell(0)?,
        client_secret: r.cell(1)?,
        lms_url: r.cell(2)?,
        lms_client_id: r.cell(3)?,
        lms_client_secret: r.cell(4)?,
        backend: r.cell(5)?,
    })
}

pub async fn client(tx: &mut impl Tx, id: &str) -> Result<Option<LmsClient>, StoreError> {
    let sql = format!("SELECT {CLIENT_COLUMNS} FROM lms_clients WHERE client_id = ?");
    tx.row(&sql, args![id])
        .await?
        .as_ref()
        .map(client_from)
        .transpose()
}

pub async fn clients(tx: &mut impl Tx) -> Result<Vec<LmsClient>, StoreError> {
    let sql = format!("SELECT {CLIENT_COLUMNS} FROM lms_clients ORDER BY client_id");
    tx.rows(&sql, args![])
        .await?
        .iter()
        .map(client_from)
        .collect()
}

pub async fn save_client(tx: &mut impl Tx, l: &LmsClient) -> Result<(), StoreError> {
    tx.exec(
        "INSERT INTO lms_clients (client_id, client_secret, lms_url, lms_client_id, lms_client_secret, backend, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (client_id) DO UPDATE SET client_secret = ?2, lms_url = ?3, lms_client_id = ?4,
             lms_client_secret = ?5, backend = ?6",
        args![
            &l.client_id,
            &l.client_secret,
            &l.lms_url,
            &l.lms_client_id,
            &l.lms_client_secret,
            &l.backend,
            to_sql(OffsetDateTime::now_utc())
        ],
    )
    .await?;
    Ok(())
}

/// The exam found by `sql`, with the LMS client that owns it.
async fn exam_owner(
    tx: &mut impl Tx,
    sql: &str,
    args: Vec<crate::store::tx::Arg>,
) -> Result<Option<(i64, Option<String>)>, StoreError> {
    tx.row(sql, args)
        .await?
        .map(|r| Ok((r.cell(0)?, r.cell(1)?)))
        .transpose()
}

/// Creates or updates the exam an LMS describes; the id it knows it by (`prx-N`).
pub async fn save_exam(tx: &mut impl Tx, client: &str, e: &LmsExam) -> Result<String, StoreError> {
    tx.lock(Lock::Registrations).await?;
    let by_external = match &e.external_id {
        Some(ext) => {
            let sql = "SELECT id, lms_client FROM exams WHERE external_id = ?";
            exam_owner(tx, sql, args![ext]).await?
        }
        None => None,
    };
    let by_our_id = by_external.is_some();
    let existing = match by_external {
        Some(found) => Some(found),
        None => {
            let sql = "SELECT id, lms_client FROM exams WHERE course_id = ? AND content_id = ?";
            exam_owner(tx, sql, args![&e.course_id, &e.content_id]).await?
        }
    };
    let limit = e.time_limit_mins.unwrap_or(0);
    let id: i64 = match super::may_save_exam(client, existing, by_our_id, e)? {
        Some(id) => {
            tx.exec(
                "UPDATE exams SET exam_name = ?, time_limit_mins = ?, is_proctored = ?,
                     is_practice_exam = ?, is_active = ?, backend = ?, lms_client = ?,
                     lms_exam_id = ?
                 WHERE id = ?",
                args![
                    &e.exam_name,
                    limit,
                    e.is_proctored,
                    e.is_practice_exam,
                    e.is_active,
                    &e.backend,
                    client,
                    e.id,
                    id
                ],
            )
            .await?;
            id
        }
        None => {
            tx.exec(
                "INSERT INTO courses (id, name) VALUES (?1, ?1) ON CONFLICT (id) DO NOTHING",
                args![&e.course_id],
            )
            .await?;
            tx.one(
                "INSERT INTO exams (course_id, content_id, exam_name, time_limit_mins, is_proctored,
                     is_practice_exam, is_active, backend, lms_client, lms_exam_id)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                args![
                    &e.course_id,
                    &e.content_id,
                    &e.exam_name,
                    limit,
                    e.is_proctored,
                    e.is_practice_exam,
                    e.is_active,
                    &e.backend,
                    client,
                    e.id
                ],
            )
            .await?
            .cell(0)?
        }
    };
    tx.one(
        "UPDATE exams SET external_id = COALESCE(external_id, 'prx-' || id) WHERE id = ?
         RETURNING external_id",
        args![id],
    )
    .await?
    .cell(0)
}

async fn exam_of(tx: &mut impl Tx, client: &str, exam_ext: &str) -> Result<i64, StoreError> {
    tx.row(
        "SELECT id FROM exams WHERE external_id = ? AND lms_client = ?",
        args![exam_ext, client],
    )
    .await?
    .map(|r| r.cell(0))
    .transpose()?
    .ok_or_else(|| StoreError::NotFound(format!("no exam with id '{exam_ext}'")))
}

/// The attempt's session and status; with `lock`, its row is held until the transaction
/// ends (a status change is then the only one).
async fn session_of(
    tx: &mut impl Tx,
    client: &str,
    exam_ext: &str,
    attempt_ext: &str,
    lock: bool,
) -> Result<(i64, AttemptStatus), StoreError> {
    let exam = exam_of(tx, client, exam_ext).await?;
    let held = if lock { tx.for_update() } else { "" };
    let sql =
        format!("SELECT id, status FROM sessions WHERE external_id = ? AND exam_id = ?{held}");
    let r = tx
        .row(&sql, args![attempt_ext, exam])
        .await?
        .ok_or_else(|| {
            StoreError::NotFound(format!("no attempt '{attempt_ext}' for exam '{exam_ext}'"))
        })?;
    Ok((r.cell(0)?, parse(&r.cell::<String>(1)?)?))
}

/// Registers a learner's attempt at an exam; the id the LMS knows it by (`pra-…`). A
/// registration repeated before the exam starts is the same attempt.
pub async fn register_attempt(
    tx: &mut impl Tx,
    client: &str,
    exam_ext: &str,
    a: &LmsAttempt,
) -> Result<String, StoreError> {
    tx.lock(Lock::Registrations).await?;
    let exam = exam_of(tx, client, exam_ext).await?;
    let now = to_sql(OffsetDateTime::now_utc());
    let known = tx
        .row(
            "SELECT id FROM learners WHERE external_user_id = ?",
            args![&a.user_id],
        )
        .await?
        .map(|r| r.cell::<i64>(0))
        .transpose()?;
    let learner = match known {
        Some(id) => {
            tx.exec(
                "UPDATE learners SET email = ?, full_name = ? WHERE id = ?",
                args![&a.email, &a.full_name, id],
            )
            .await?;
            id
        }
        None => {
            // The LMS sends no username; the email stands in until a sync reads the real one.
            let taken: bool = tx
                .one(
                    "SELECT EXISTS (SELECT 1 FROM learners WHERE username = ?)",
                    args![&a.email],
                )
                .await?
                .cell(0)?;
            let username = stand_in_username(&a.email, &a.user_id, taken);
            tx.one(
                "INSERT INTO learners (username, email, full_name, external_user_id)
                 VALUES (?, ?, ?, ?) RETURNING id",
                args![username, &a.email, &a.full_name, &a.user_id],
            )
            .await?
            .cell(0)?
        }
    };
    tx.learner_changed(learner).await?;
    let existing = tx
        .row(
            "SELECT external_id FROM sessions WHERE exam_id = ? AND learner_id = ?
                 AND status = 'created'
             ORDER BY id DESC LIMIT 1",
            args![exam, learner],
        )
        .await?
        .map(|r| r.cell::<String>(0))
        .transpose()?;
    if let Some(ext) = existing {
        return Ok(ext);
    }
    let (ext, code) = new_attempt_ids()?;
    tx.exec(
        "INSERT INTO sessions (exam_id, learner_id, attempt_code, external_id, status,
             allowed_time_limit_mins, is_sample_attempt, track, created, modified,
             sort_name, sort_username)
         SELECT ?1, ?2, ?3, ?4, 'created', ?5, ?6, '', ?7, ?7, ?8, username
         FROM learners WHERE id = ?2",
        args![
            exam,
            learner,
            code,
            &ext,
            a.time_limit_mins,
            a.is_sample_attempt,
            now,
            search_key(&a.full_name)
        ],
    )
    .await?;
    Ok(ext)
}

pub async fn attempt(
    tx: &mut impl Tx,
    client: &str,
    exam_ext: &str,
    attempt_ext: &str,
) -> Result<AttemptStatus, StoreError> {
    Ok(session_of(tx, client, exam_ext, attempt_ext, false)
        .await?
        .1)
}

/// The LMS's word on an attempt's progress (started, submitted, error); a finished attempt
/// cannot go back.
pub async fn set_attempt_status(
    tx: &mut impl Tx,
    client: &str,
    exam_ext: &str,
    attempt_ext: &str,
    to: AttemptStatus,
) -> Result<(), StoreError> {
    let (id, from) = session_of(tx, client, exam_ext, attempt_ext, true).await?;
    if from.is_completed() && !to.is_completed() {
        return Err(StoreError::Conflict(format!(
            "attempt '{attempt_ext}' is {} and cannot go back to {}",
            from.as_str(),
            to.as_str()
        )));
    }
    let now = to_sql(OffsetDateTime::now_utc());
    tx.exec(
        "UPDATE sessions SET status = ?1, modified = ?2,
             started_at = CASE WHEN ?1 = 'started' THEN COALESCE(started_at, ?2) ELSE started_at END,
             completed_at = CASE WHEN ?1 = 'submitted' THEN COALESCE(completed_at, ?2) ELSE completed_at END
         WHERE id = ?3",
        args![to.as_str(), now, id],
    )
    .await?;
    Ok(())
}

/// An attempt reset (deleted) in the LMS: removed if nothing was reviewed yet, else kept
/// for the record and flagged.
pub async fn delete_attempt(
    tx: &mut impl Tx,
    client: &str,
    exam_ext: &str,
    attempt_ext: &str,
) -> Result<(), StoreError> {
    tx.lock(Lock::Registrations).await?;
    let (id, _) = session_of(tx, client, exam_ext, attempt_ext, true).await?;
    let reviewed: bool = tx
        .one(
            "SELECT EXISTS (SELECT 1 FROM decisions WHERE session_id = ?1)
                 OR EXISTS (SELECT 1 FROM media WHERE session_id = ?1)
                 OR EXISTS (SELECT 1 FROM violations WHERE session_id = ?1)",
            args![id],
        )
        .await?
        .cell(0)?;
    if reviewed {
        // Evidence and decisions stay for the record; the reviewer sees why it moved.
        tx.exec(
            "UPDATE sessions SET lms_state = 'conflict',
                 lms_note = 'the attempt was reset (deleted) in Open edX', modified = ?
             WHERE id = ?",
            args![to_sql(OffsetDateTime::now_utc()), id],
        )
        .await?;
    } else {
        tx.exec("DELETE FROM jobs WHERE session_id = ?", args![id])
            .await?;
        tx.exec("DELETE FROM sessions WHERE id = ?", args![id])
            .await?;
    }
    Ok(())
}

/// Retires a learner the LMS names: name, email, evidence, onboarding and decision reasons
/// erased, anonymous verdicts kept. The evidence files no other session uses (their hashes),
/// or None if the LMS never registered the learner with us.
pub async fn retire_user(
    tx: &mut impl Tx,
    client: &str,
    user: &str,
) -> Result<Option<Vec<String>>, StoreError> {
    tx.lock(Lock::Registrations).await?;
    let held = tx.for_update();
    let sql = format!(
        "SELECT l.id, l.email FROM learners l WHERE l.external_user_id = ?
           AND EXISTS (SELECT 1 FROM sessions s JOIN exams e ON e.id = s.exam_id
                       WHERE s.learner_id = l.id AND e.lms_client = ?){held}"
    );
    let Some(found) = tx.row(&sql, args![user, client]).await? else {
        return Ok(None);
    };
    let (learner, email): (i64, String) = (found.cell(0)?, found.cell(1)?);
    let hashes: Vec<String> = tx
        .rows(
            "SELECT DISTINCT m.sha256 FROM media m JOIN sessions s ON s.id = m.session_id
             WHERE s.learner_id = ?",
            args![learner],
        )
        .await?
        .iter()
        .map(|r| r.cell(0))
        .collect::<Result<_, _>>()?;
    let sessions = "(SELECT id FROM sessions WHERE learner_id = ?)";
    for sql in [
        format!("DELETE FROM media WHERE session_id IN {sessions}"),
        "DELETE FROM onboarding WHERE learner_id = ?".to_owned(),
        format!("UPDATE violations SET comment = '' WHERE session_id IN {sessions}"),
        // Verdicts and counts stay (anonymised); reasons may name the learner, so they go.
        format!(
            "UPDATE decisions SET reason = 'erased: learner retired' WHERE session_id IN {sessions}"
        ),
        "UPDATE learners SET username = 'retired-' || id, email = '', full_name = 'Retired learner',
             external_user_id = NULL WHERE id = ?"
            .to_owned(),
    ] {
        tx.exec(&sql, args![learner]).await?;
    }
    forget_delivered_emails(tx, &email).await?;
    tx.learner_changed(learner).await?;
    Ok(Some(
        crate::store::evidence::release_files(tx, hashes).await?,
    ))
}

/// Empties the learner's emails that are done with (delivered or failed for good): their
/// text names the learner. Matched in JSON, not by the databases' differing JSON operators.
async fn forget_delivered_emails(tx: &mut impl Tx, email: &str) -> Result<(), StoreError> {
    if email.is_empty() {
        return Ok(());
    }
    let candidates = tx
        .rows(
            "SELECT id, payload FROM jobs WHERE kind = 'email' AND state IN ('done', 'failed')
                 AND payload LIKE ?",
            // A wide pattern (`_` and `%` match themselves too); the JSON decides.
            args![format!("%{email}%")],
        )
        .await?;
    for r in candidates {
        let (id, payload): (i64, String) = (r.cell(0)?, r.cell(1)?);
        let to = serde_json::from_str::<serde_json::Value>(&payload)
            .ok()
            .and_then(|v| {
                v.get("to_address")
                    .and_then(|a| a.as_str())
                    .map(str::to_owned)
            });
        if to.as_deref() == Some(email) {
            tx.exec("UPDATE jobs SET payload = '{}' WHERE id = ?", args![id])
                .await?;
        }
    }
    Ok(())
}
