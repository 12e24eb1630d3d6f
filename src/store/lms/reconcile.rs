//! Reconciliation with an LMS's listing, written once for both databases: where the LMS
//! changed an attempt (a staff reset, a decision in the Django admin) we follow it and
//! record it on the decision history; a decision of ours still on its way is flagged, not
//! overwritten. Every server may run it: the history's lock makes them take turns, and the
//! second finds nothing left to change.

use super::{Reconciled, RemoteAttempt, conflict_note, sync_decision};
use crate::args;
use crate::domain::AttemptStatus;
use crate::domain::audit::SealKey;
use crate::domain::words::Word;
use crate::store::StoreError;
use crate::store::cells::Cells;
use crate::store::queries::RESTORE_DELIVERY;
use crate::store::rows::parse;
use crate::store::timefmt::to_sql;
use crate::store::tx::{Arg, Lock, Tx};
use time::OffsetDateTime;

/// Listed attempts whose sessions are locked by one statement.
const LOCKED_AT_ONCE: usize = 500;

/// Locks the listed attempts' sessions, in id order, before the history is locked: the
/// order a decision takes them in. Taken the other way round, a decision on one of them
/// and the reconciliation could each hold what the other waits for.
async fn lock_sessions(
    tx: &mut impl Tx,
    client: &str,
    attempts: &[RemoteAttempt],
) -> Result<(), StoreError> {
    for part in attempts.chunks(LOCKED_AT_ONCE) {
        let marks = vec!["?"; part.len()].join(", ");
        let mut args = args![client];
        args.extend(part.iter().map(|a| Arg::from(a.external_id.as_str())));
        tx.rows(
            &format!(
                "SELECT s.id FROM sessions s JOIN exams e ON e.id = s.exam_id
                 WHERE e.lms_client = ? AND s.external_id IN ({marks})
                 ORDER BY s.id FOR UPDATE OF s"
            ),
            args,
        )
        .await?;
    }
    Ok(())
}

pub async fn reconcile(
    tx: &mut impl Tx,
    client: &str,
    attempts: &[RemoteAttempt],
    at: OffsetDateTime,
    key: Option<&SealKey>,
) -> Result<Reconciled, StoreError> {
    let held = tx.for_update();
    if !held.is_empty() {
        lock_sessions(tx, client, attempts).await?;
    }
    tx.lock(Lock::History).await?;
    let mut out = Reconciled::default();
    let mut system = None;
    let now = to_sql(at);
    let find = format!(
        "SELECT s.id, s.status, s.lms_state, s.learner_id, s.modified, s.lms_note
         FROM sessions s JOIN exams e ON e.id = s.exam_id
         WHERE s.external_id = ? AND e.lms_client = ?{}",
        if held.is_empty() {
            ""
        } else {
            " FOR UPDATE OF s"
        }
    );
    for a in attempts {
        let Ok(remote) = a.status.parse::<AttemptStatus>() else {
            continue;
        };
        let Some(r) = tx.row(&find, args![&a.external_id, client]).await? else {
            continue;
        };
        let id: i64 = r.cell(0)?;
        let ours: AttemptStatus = parse(&r.cell::<String>(1)?)?;
        let lms_state: Option<String> = r.cell(2)?;
        let learner: i64 = r.cell(3)?;
        let modified: String = r.cell(4)?;
        let lms_note: Option<String> = r.cell(5)?;
        out.seen += 1;
        // Changed here (a PATCH from the LMS, a decision) after the listing was asked
        // for: the listing is older than what we have, and the next sync reads it anew.
        // Fixed-width timestamps compare as text.
        if modified > now {
            continue;
        }
        // The LMS knows the learner's username and the attempt's code; we only had stand-ins.
        let renamed = tx
            .exec(
                "UPDATE learners SET username = ?1 WHERE id = ?2 AND username <> ?1
                     AND NOT EXISTS (SELECT 1 FROM learners WHERE username = ?1)",
                args![&a.username, learner],
            )
            .await?;
        if renamed > 0 {
            tx.learner_changed(learner).await?;
        }
        tx.exec(
            "UPDATE sessions SET attempt_code = ?1 WHERE id = ?2 AND attempt_code <> ?1
                 AND NOT EXISTS (SELECT 1 FROM sessions WHERE attempt_code = ?1)",
            args![&a.attempt_code, id],
        )
        .await?;
        if let Some(note) = crate::domain::lms::confirmed_at_sync(lms_note.as_deref(), ours, remote)
        {
            tx.exec(RESTORE_DELIVERY, args!["delivered", note, id])
                .await?;
            continue;
        }
        if ours == remote {
            continue;
        }
        if lms_state.as_deref() == Some("waiting") {
            out.conflict_one(id);
            tx.exec(
                "UPDATE sessions SET lms_state = 'conflict', lms_note = ? WHERE id = ?",
                args![conflict_note(remote, ours), id],
            )
            .await?;
            tx.exec(
                "UPDATE jobs SET state = 'failed', last_error = 'conflict: changed in Open edX',
                     finished_at = ?2
                 WHERE session_id = ?1 AND kind = 'lms_review' AND state = 'queued'",
                args![id, &now],
            )
            .await?;
            continue;
        }
        out.changed_one(id);
        tx.exec(
            "UPDATE sessions SET status = ?, modified = ?, lms_state = 'delivered',
                 lms_note = 'changed in Open edX' WHERE id = ?",
            args![remote.as_str(), &now, id],
        )
        .await?;
        let reviewer = match system {
            Some(id) => id,
            None => *system.insert(
                crate::store::accounts::service_account(tx, super::OPEN_EDX, "Open edX").await?,
            ),
        };
        let entry = sync_decision(id, reviewer, &now, ours, remote);
        crate::store::audit::append(tx, &entry, key).await?;
    }
    Ok(out)
}
