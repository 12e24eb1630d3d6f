//! Taking back a decision within its grace period: one IMMEDIATE transaction that restores
//! the session, cancels the decision's held email and callback, and appends the undo to the
//! history. A job worker claims in a write transaction too, so either the undo wins and
//! nothing is sent, or the worker does and the undo is refused.

use super::read::{self, UNDO_PREFIX};
use crate::domain::undo::{UndoError, UndoFacts, UndoPlan};
use crate::domain::{Grade, SessionDetail, Verdict};
use crate::store::timefmt::{from_sql, to_sql};
use crate::store::{StoreError, UndoCommand};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

fn facts(c: &Connection, session: i64) -> Result<Option<UndoFacts>, StoreError> {
    let row = c
        .query_row(
            "SELECT d.id, d.verdict, d.reviewer_id, r.username, d.decided_at, d.status_before,
                    d.status_after, d.review_status_before, d.grade_before, s.status,
                    s.grade_earned, s.grade_possible,
                    NOT EXISTS (SELECT 1 FROM jobs j WHERE j.decision_id = d.id AND j.state <> 'queued')
             FROM decisions d JOIN reviewers r ON r.id = d.reviewer_id
             JOIN sessions s ON s.id = d.session_id
             WHERE d.session_id = ?1 ORDER BY d.id DESC LIMIT 1",
            [session],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, Option<f64>>(8)?,
                    r.get::<_, String>(9)?,
                    r.get::<_, Option<f64>>(10)?,
                    r.get::<_, Option<f64>>(11)?,
                    r.get::<_, bool>(12)?,
                ))
            },
        )
        .optional()?;
    let Some((
        id,
        verdict,
        reviewer_id,
        reviewer,
        at,
        before,
        after,
        review,
        grade,
        now,
        e,
        p,
        held,
    )) = row
    else {
        return Ok(None);
    };
    let bad = |e: crate::domain::status::UnknownStatus| StoreError::Backend(e.to_string());
    Ok(Some(UndoFacts {
        decision_id: id,
        verdict: Verdict::parse(&verdict),
        reviewer_id,
        reviewer,
        decided_at: from_sql(&at)?,
        status_before: before.parse().map_err(bad)?,
        status_after: after.parse().map_err(bad)?,
        review_status_before: review.as_deref().map(str::parse).transpose().map_err(bad)?,
        grade_before: grade,
        status_now: now.parse().map_err(bad)?,
        original_grade: e
            .zip(p)
            .map(|(earned, possible)| Grade { earned, possible }),
        held,
    }))
}

pub fn undo<P>(
    c: &mut Connection,
    cmd: UndoCommand<P>,
    key: Option<&crate::domain::audit::SealKey>,
) -> Result<SessionDetail, StoreError>
where
    P: FnOnce(Option<&UndoFacts>) -> Result<UndoPlan, UndoError>,
{
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let exists: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM sessions WHERE id = ?1)",
        [cmd.session_id],
        |r| r.get(0),
    )?;
    if !exists {
        return Err(StoreError::NotFound(format!(
            "no session with id {}",
            cmd.session_id
        )));
    }
    let found = facts(&tx, cmd.session_id)?;
    let plan = (cmd.plan)(found.as_ref()).map_err(|e| StoreError::Conflict(e.to_string()))?;
    let at = to_sql(cmd.at);
    let (review_now, possible): (Option<String>, Option<f64>) = tx.query_row(
        "SELECT review_status, grade_possible FROM sessions WHERE id = ?1",
        [cmd.session_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    // Whoever decided before the undone decision is the reviewer of record again.
    let earlier_reviewer: Option<String> = tx
        .query_row(
            "SELECT r.email FROM decisions d JOIN reviewers r ON r.id = d.reviewer_id
             WHERE d.session_id = ?1 AND d.id < ?2 AND d.verdict IN ('pass', 'fail')
             ORDER BY d.id DESC LIMIT 1",
            params![cmd.session_id, plan.decision_id],
            |r| r.get(0),
        )
        .optional()?;
    tx.execute(
        "UPDATE sessions SET status = ?1, review_status = ?2, reviewed_by = ?3,
             grade_override = ?4, modified = ?5
         WHERE id = ?6",
        params![
            plan.status_after.as_str(),
            plan.review_status_after.map(|r| r.as_str()),
            earlier_reviewer,
            plan.override_after,
            at,
            cmd.session_id
        ],
    )?;
    tx.execute(
        "UPDATE jobs SET state = 'cancelled', finished_at = ?2,
             last_error = 'the decision was undone before anyone was told'
         WHERE decision_id = ?1 AND state = 'queued'",
        params![plan.decision_id, at],
    )?;
    crate::store::tx::at_once(crate::store::lms::reviews::restore_delivery(
        &mut super::tx::Lite(&tx),
        cmd.session_id,
        plan.decision_id,
        &at,
    ))?;
    let verdict = format!("{UNDO_PREFIX}{}", plan.undoes.as_str());
    super::audit::append(
        &tx,
        &super::audit::NewDecision {
            session_id: cmd.session_id,
            reviewer_id: cmd.reviewer.id,
            decided_at: &at,
            verdict: &verdict,
            reason: "",
            status_before: plan.status_before.as_str(),
            status_after: plan.status_after.as_str(),
            review_status_before: review_now.as_deref(),
            review_status_after: plan.review_status_after.map(|r| r.as_str()),
            grade_possible: possible,
            grade_before: plan.grade_before,
            grade_after: plan.grade_after,
            learner_emailed: false,
            idempotency_key: None,
        },
        key,
    )?;
    let detail = read::session(&tx, cmd.session_id)?;
    tx.commit()?;
    Ok(detail)
}
