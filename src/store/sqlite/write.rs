//! Statements that change data. A decision is one IMMEDIATE transaction: status, grade,
//! history and the queued email commit together or not at all.

use super::read;
use crate::domain::{DecisionError, DecisionFacts, Grade, Learner, SessionDetail};
use crate::store::timefmt::to_sql;
use crate::store::{
    DecisionCommand, DecisionContext, EmailJob, LmsLink, PlannedDecision, StoreError,
};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

fn context(c: &Connection, session: i64) -> Result<Option<DecisionContext>, StoreError> {
    let row = c
        .query_row(
            "SELECT s.status, s.review_status, s.grade_earned, s.grade_possible, s.grade_override,
                    s.is_sample_attempt, l.username, l.email, l.full_name, e.exam_name, e.course_id
             FROM sessions s JOIN learners l ON l.id = s.learner_id JOIN exams e ON e.id = s.exam_id
             WHERE s.id = ?1",
            [session],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<f64>>(2)?,
                    r.get::<_, Option<f64>>(3)?,
                    r.get::<_, Option<f64>>(4)?,
                    r.get::<_, bool>(5)?,
                    Learner {
                        username: r.get(6)?,
                        email: r.get(7)?,
                        full_name: r.get(8)?,
                    },
                    r.get::<_, String>(9)?,
                    r.get::<_, String>(10)?,
                ))
            },
        )
        .optional()?;
    let Some((
        status,
        review,
        earned,
        possible,
        override_earned,
        sample,
        learner,
        exam_name,
        course_id,
    )) = row
    else {
        return Ok(None);
    };
    let bad = |e: crate::domain::status::UnknownStatus| StoreError::Backend(e.to_string());
    Ok(Some(DecisionContext {
        facts: DecisionFacts {
            status: status.parse().map_err(bad)?,
            review_status: review.as_deref().map(str::parse).transpose().map_err(bad)?,
            original_grade: earned
                .zip(possible)
                .map(|(earned, possible)| Grade { earned, possible }),
            grade_override: override_earned,
            is_sample_attempt: sample,
        },
        learner,
        exam_name,
        course_id,
        lms: match crate::store::tx::at_once(crate::store::lms::reviews::session_lms(
            &mut super::tx::Lite(c),
            session,
        ))? {
            Some(link) => Some(LmsLink {
                client: link.client,
                violations: read::violations(c, session)?,
            }),
            None => None,
        },
    }))
}

pub fn decide<P>(
    c: &mut Connection,
    cmd: DecisionCommand<P>,
    key: Option<&crate::domain::audit::SealKey>,
) -> Result<SessionDetail, StoreError>
where
    P: FnOnce(&DecisionContext) -> Result<PlannedDecision, DecisionError>,
{
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(key) = &cmd.idempotency_key {
        let earlier: Option<(crate::domain::SessionId, String)> = tx
            .prepare_cached(crate::store::queries::DECISION_BY_KEY)?
            .query_row(params![cmd.reviewer.id, key], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        if let Some((session, verdict)) = earlier {
            crate::domain::decision::check_replay(
                (session, crate::store::rows::parse(&verdict)?),
                (cmd.session_id, cmd.verdict),
            )?;
            return read::session(&tx, session);
        }
    }
    let ctx = context(&tx, cmd.session_id)?
        .ok_or_else(|| StoreError::NotFound(format!("no session with id {}", cmd.session_id)))?;
    let PlannedDecision { plan, email, lms } = (cmd.planner)(&ctx)?;
    let at = to_sql(cmd.at);

    tx.execute(
        "UPDATE sessions SET status = ?1, review_status = ?2, reviewed_by = ?3, grade_override = ?4, modified = ?5
         WHERE id = ?6",
        params![
            plan.status_after.as_str(),
            plan.review_status_after.as_str(),
            cmd.reviewer.email,
            plan.override_after,
            at,
            cmd.session_id
        ],
    )?;
    let decision_id = super::audit::append(
        &tx,
        &super::audit::NewDecision {
            session_id: cmd.session_id,
            reviewer_id: cmd.reviewer.id,
            decided_at: &at,
            verdict: plan.verdict.as_str(),
            reason: &cmd.reason,
            status_before: plan.status_before.as_str(),
            status_after: plan.status_after.as_str(),
            review_status_before: plan.review_status_before.map(|r| r.as_str()),
            review_status_after: Some(plan.review_status_after.as_str()),
            grade_possible: ctx.facts.original_grade.map(|g| g.possible),
            grade_before: plan.grade_before.map(|g| g.earned),
            grade_after: plan.grade_after.map(|g| g.earned),
            learner_emailed: email.is_some(),
            idempotency_key: cmd.idempotency_key.as_deref(),
        },
        key,
    )?;
    if let Some(mail) = email {
        let mail = EmailJob {
            decision_id: Some(decision_id),
            email: mail,
        };
        // Nobody is told before the grace period to undo has passed.
        crate::store::tx::at_once(crate::store::jobs::queue_email(
            &mut super::tx::Lite(&tx),
            &mail,
            cmd.hold_until,
            &at,
        ))?;
    }
    if let Some(callback) = lms {
        let review = crate::store::lms::reviews::DecisionReview {
            session: cmd.session_id,
            decision_id,
            callback,
            expect: plan.status_after,
            at: cmd.at,
            hold_until: cmd.hold_until,
        };
        crate::store::tx::at_once(crate::store::lms::reviews::queue_decision(
            &mut super::tx::Lite(&tx),
            review,
        ))?;
    }
    let detail = read::session(&tx, cmd.session_id)?;
    tx.commit()?;
    Ok(detail)
}
