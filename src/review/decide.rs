//! The decision use case: who may decide, what the request must carry, and what a Pass or
//! Fail changes (planned by the domain's rules inside the store's transaction).

use super::ReviewError;
use super::scope::allowed_session;
use crate::domain::access::Actor;
use crate::domain::decision::{MAX_REASON_CHARS, ensure_unchanged, valid_idempotency_key};
use crate::domain::email::{EmailContext, learner_email};
use crate::domain::lms::decision_callback;
use crate::domain::second_review;
use crate::domain::undo::{UndoFacts, plan_undo};
use crate::domain::{AttemptStatus, SessionDetail, SessionId, Verdict, plan_decision};
use crate::store::{DecisionCommand, DecisionContext, PlannedDecision, Store, UndoCommand};
use std::sync::Arc;
use time::OffsetDateTime;

/// What a reviewer asked for.
#[derive(Debug, Clone)]
pub struct DecisionInput {
    pub verdict: Verdict,
    pub reason: String,
    pub expected_status: Option<AttemptStatus>,
    pub idempotency_key: Option<String>,
    /// How long the reviewer has had the learner open (the server's word, from their claim).
    pub opened_secs: Option<u32>,
}

/// The server's settings a decision depends on.
#[derive(Debug, Clone)]
pub struct DecideSettings {
    /// Where learners are told to write if they disagree.
    pub contact: Arc<str>,
    /// Our learner emails also for LMS sessions (off: Open edX emails them).
    pub lms_learner_emails: bool,
    /// How long a decision can be undone; its email and callback wait that long.
    pub undo_grace: time::Duration,
}

pub async fn decide<S: Store>(
    store: &S,
    actor: &Actor,
    session_id: SessionId,
    input: DecisionInput,
    settings: &DecideSettings,
    at: OffsetDateTime,
) -> Result<SessionDetail, ReviewError> {
    allowed_session(store, actor, session_id, Actor::may_decide).await?;
    let Some(expected_status) = input.expected_status else {
        return Err(ReviewError::PreconditionRequired(
            "expected_status is required: send the attempt status you saw (e.g. \"second_review_required\"), so a decision never overrides one you have not seen".into(),
        ));
    };
    if let Some(key) = &input.idempotency_key
        && !valid_idempotency_key(key)
    {
        return Err(ReviewError::Invalid(
            "idempotency_key must be 8 to 100 letters, digits, '-' or '_' (a UUID fits)".into(),
        ));
    }
    let reason = input.reason.trim().to_owned();
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(ReviewError::Invalid(format!(
            "reason is longer than {MAX_REASON_CHARS} characters"
        )));
    }
    let contact = settings.contact.clone();
    let own_emails = settings.lms_learner_emails;
    let reviewer_email = actor.reviewer.email.clone();
    let verdict = input.verdict;
    let reviewer_id = actor.reviewer.id;
    let planner = move |ctx: &DecisionContext| {
        ensure_unchanged(expected_status, ctx.facts.status)?;
        let step = second_review::step(
            ctx.second_review,
            ctx.waiting.as_ref(),
            reviewer_id,
            verdict,
        )?;
        let mut plan = plan_decision(&ctx.facts, verdict)?;
        if !step.takes_effect() {
            // Written down only: nobody is told, nothing is sent.
            return Ok(PlannedDecision {
                plan,
                email: None,
                lms: None,
                step,
            });
        }
        // With an LMS, Open edX emails the learner and sets the grade; we only tell it.
        let lms = ctx
            .lms
            .as_ref()
            .map(|l| decision_callback(plan.verdict, &l.violations, &reviewer_email));
        // Ours reads as what Open edX is told (a Fail with a Rules Violation flagged is sent
        // as one): the report and History read ours.
        if let Some(callback) = &lms {
            plan.review_status_after = callback.status.review_status();
        }
        let email = learner_email(
            &plan,
            &EmailContext {
                learner_name: &ctx.learner.full_name,
                learner_email: &ctx.learner.email,
                exam_name: &ctx.exam_name,
                course_id: &ctx.course_id,
                contact: &contact,
            },
        );
        let email = if lms.is_some() && !own_emails {
            None
        } else {
            email
        };
        Ok(PlannedDecision {
            plan,
            email,
            lms,
            step,
        })
    };
    let mut detail = store
        .decide(DecisionCommand {
            session_id,
            reviewer: actor.reviewer.clone(),
            reason,
            at,
            verdict,
            idempotency_key: input.idempotency_key,
            hold_until: at + settings.undo_grace,
            opened_secs: input.opened_secs,
            planner,
        })
        .await?;
    if settings.undo_grace > time::Duration::ZERO {
        detail.undo_until = Some(at + settings.undo_grace);
    }
    Ok(detail)
}

/// Takes back the caller's own latest decision on a session within the grace period.
pub async fn undo<S: Store>(
    store: &S,
    actor: &Actor,
    session_id: SessionId,
    settings: &DecideSettings,
    at: OffsetDateTime,
) -> Result<SessionDetail, ReviewError> {
    allowed_session(store, actor, session_id, Actor::may_decide).await?;
    let reviewer = actor.reviewer.id;
    let grace = settings.undo_grace;
    Ok(store
        .undo(UndoCommand {
            session_id,
            reviewer: actor.reviewer.clone(),
            at,
            plan: move |facts: Option<&UndoFacts>| plan_undo(facts, reviewer, at, grace),
        })
        .await?)
}
