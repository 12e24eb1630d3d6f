//! A decision and its undo, written once for both databases. Each is one transaction that
//! takes the session's row, then the decision history's lock ([`Lock::History`]; SQLite's
//! one writer holds both by itself), always in that order so that neither waits on the
//! other: the status a planner sees is the status it changes (one winner), and each entry
//! is appended after the one before it on the hash chain.

use super::cells::Cells;
use super::rows::{NewDecision, UNDO_PREFIX};
use super::timefmt::{from_sql, to_sql};
use super::tx::{Lock, Tx};
use super::{DecisionCommand, DecisionContext, EmailJob, PlannedDecision, StoreError, UndoCommand};
use crate::args;
use crate::domain::audit::SealKey;
use crate::domain::second_review::{FirstOpinion, Stage, Step, read_verdict_word, verdict_word};
use crate::domain::undo::{UndoError, UndoFacts, UndoPlan};
use crate::domain::words::Word;
use crate::domain::{
    DecisionError, DecisionFacts, Grade, Learner, SessionDetail, SessionId, Violation,
    ViolationKind,
};

/// The flagged moments of a session, in order.
pub async fn violations(
    tx: &mut impl Tx,
    session: SessionId,
) -> Result<Vec<Violation>, StoreError> {
    tx.rows(
        "SELECT id, start_time, stop_time, duration, kind, status, comment FROM violations
         WHERE session_id = ? ORDER BY start_time, id",
        args![session],
    )
    .await?
    .iter()
    .map(violation_from)
    .collect()
}

/// A violation row (`id, start_time, stop_time, duration, kind, status, comment`).
pub fn violation_from(r: &impl Cells) -> Result<Violation, StoreError> {
    let kind: String = r.cell(4)?;
    Ok(Violation {
        id: r.cell(0)?,
        start_time: r.cell(1)?,
        stop_time: r.cell(2)?,
        duration: r.cell(3)?,
        kind: ViolationKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown violation kind '{kind}'")))?,
        status: r.cell(5)?,
        comment: r.cell(6)?,
    })
}

async fn context(tx: &mut impl Tx, session: i64) -> Result<Option<DecisionContext>, StoreError> {
    let held = if tx.for_update().is_empty() {
        ""
    } else {
        " FOR UPDATE OF s"
    };
    let sql = format!(
        "SELECT s.status, s.review_status, s.grade_earned, s.grade_possible, s.grade_override,
                s.is_sample_attempt, l.username, l.email, l.full_name, e.exam_name, e.course_id,
                c.second_review, s.awaiting_from
         FROM sessions s JOIN learners l ON l.id = s.learner_id JOIN exams e ON e.id = s.exam_id
         JOIN courses c ON c.id = e.course_id
         WHERE s.id = ?{held}"
    );
    let Some(r) = tx.row(&sql, args![session]).await? else {
        return Ok(None);
    };
    let bad = |e: crate::domain::status::UnknownStatus| StoreError::failed("bad status", e);
    let earned: Option<f64> = r.cell(2)?;
    let possible: Option<f64> = r.cell(3)?;
    Ok(Some(DecisionContext {
        facts: DecisionFacts {
            status: r.cell::<String>(0)?.parse().map_err(bad)?,
            review_status: super::rows::opt_parse(r.cell::<Option<String>>(1)?.as_deref())?,
            original_grade: earned
                .zip(possible)
                .map(|(earned, possible)| Grade { earned, possible }),
            grade_override: r.cell(4)?,
            is_sample_attempt: r.cell(5)?,
        },
        learner: Learner {
            username: r.cell(6)?,
            email: r.cell(7)?,
            full_name: r.cell(8)?,
        },
        exam_name: r.cell(9)?,
        course_id: r.cell(10)?,
        lms: decision_link(tx, session).await?,
        second_review: super::rows::parse(&r.cell::<String>(11)?)?,
        waiting: match r.cell::<Option<i64>>(12)? {
            Some(_) => first_opinion(tx, session).await?,
            None => None,
        },
    }))
}

/// The latest first opinion given on the session (the one waiting, when one is).
async fn first_opinion(
    tx: &mut impl Tx,
    session: SessionId,
) -> Result<Option<FirstOpinion>, StoreError> {
    let Some(r) = tx
        .row(
            "SELECT d.id, d.reviewer_id, r.username, d.verdict
             FROM decisions d JOIN reviewers r ON r.id = d.reviewer_id
             WHERE d.session_id = ? AND d.verdict LIKE 'first-%' ORDER BY d.id DESC LIMIT 1",
            args![session],
        )
        .await?
    else {
        return Ok(None);
    };
    let (_, verdict) = super::rows::verdict_word(&r.cell::<String>(3)?)?;
    Ok(Some(FirstOpinion {
        decision_id: r.cell(0)?,
        reviewer_id: r.cell(1)?,
        reviewer: r.cell(2)?,
        verdict,
    }))
}

/// What a decision on the session must tell the LMS about, if an LMS registered it.
async fn decision_link(
    tx: &mut impl Tx,
    session: SessionId,
) -> Result<Option<crate::store::LmsLink>, StoreError> {
    let link = super::lms::reviews::session_lms(tx, session).await?;
    Ok(match link {
        Some(link) => Some(crate::store::LmsLink {
            client: link.client,
            violations: violations(tx, session).await?,
        }),
        None => None,
    })
}

/// Decides on the session; the session whose detail answers (another one's when the key
/// was used there before). Only the session is locked while the decision is planned, so
/// decisions on different sessions run side by side; the history is locked for the append
/// alone. The detail is read after the commit, outside both.
pub async fn decide<P>(
    tx: &mut impl Tx,
    cmd: DecisionCommand<P>,
    key: Option<&SealKey>,
) -> Result<SessionId, StoreError>
where
    P: FnOnce(&DecisionContext) -> Result<PlannedDecision, DecisionError>,
{
    // A retry with the same key waits here for the first to commit, then finds it.
    let sql = format!("SELECT id FROM sessions WHERE id = ?{}", tx.for_update());
    if tx.row(&sql, args![cmd.session_id]).await?.is_none() {
        return Err(StoreError::NotFound(format!(
            "no session with id {}",
            cmd.session_id
        )));
    }
    if let Some(key) = &cmd.idempotency_key {
        let earlier = tx
            .row(super::queries::DECISION_BY_KEY, args![cmd.reviewer.id, key])
            .await?;
        if let Some(row) = earlier {
            let session: SessionId = row.cell(0)?;
            let (_, verdict) = super::rows::verdict_word(&row.cell::<String>(1)?)?;
            crate::domain::decision::check_replay(
                (session, verdict),
                (cmd.session_id, cmd.verdict),
            )?;
            return Ok(session);
        }
    }
    let ctx = context(tx, cmd.session_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no session with id {}", cmd.session_id)))?;
    let PlannedDecision {
        plan,
        email,
        lms,
        step,
    } = (cmd.planner)(&ctx)?;
    let at = to_sql(cmd.at);
    let verdict = verdict_word(step.stage(), plan.verdict);
    // A first opinion and an overturn are written down and change nothing else.
    let now = step.takes_effect();
    // The session changes before the history's turn is taken, so the turn is short: the
    // update maintains every index of the sessions, and the Quiz List's counts it moves are
    // rows of their own that no one else waits on (see `counts`).
    if now {
        tx.exec(
            "UPDATE sessions SET status = ?, review_status = ?, reviewed_by = ?,
                 grade_override = ?, modified = ?, awaiting_from = NULL
             WHERE id = ?",
            args![
                plan.status_after.as_str(),
                plan.review_status_after.as_str(),
                &cmd.reviewer.email,
                plan.override_after,
                &at,
                cmd.session_id
            ],
        )
        .await?;
    } else {
        // The session waits for a second reviewer (a first opinion) or again for anyone
        // (an overturn); the learner, the grade and Open edX see no change.
        let waiting_on = matches!(step, Step::First).then_some(cmd.reviewer.id);
        tx.exec(
            "UPDATE sessions SET awaiting_from = ? WHERE id = ?",
            args![waiting_on, cmd.session_id],
        )
        .await?;
    }
    // One chain: appends take their turn, and nothing else waits on them.
    tx.lock(Lock::History).await?;
    let decision_id = super::audit::append(
        tx,
        &NewDecision {
            session_id: cmd.session_id,
            reviewer_id: cmd.reviewer.id,
            decided_at: &at,
            verdict: &verdict,
            reason: &cmd.reason,
            status_before: plan.status_before.as_str(),
            status_after: if now {
                plan.status_after
            } else {
                plan.status_before
            }
            .as_str(),
            review_status_before: plan.review_status_before.map(|r| r.as_str()),
            review_status_after: if now {
                Some(plan.review_status_after.as_str())
            } else {
                plan.review_status_before.map(|r| r.as_str())
            },
            grade_possible: ctx.facts.original_grade.map(|g| g.possible),
            grade_before: plan.grade_before.map(|g| g.earned),
            grade_after: if now {
                plan.grade_after
            } else {
                plan.grade_before
            }
            .map(|g| g.earned),
            learner_emailed: email.is_some(),
            idempotency_key: cmd.idempotency_key.as_deref(),
        },
        key,
    )
    .await?;
    if let Some(secs) = cmd.opened_secs {
        tx.push(
            "INSERT INTO decision_timings (decision_id, opened_secs) VALUES (?, ?)",
            args![decision_id, i64::from(secs)],
        )
        .await?;
    }
    if let Some(mail) = email {
        let mail = EmailJob {
            decision_id: Some(decision_id),
            email: mail,
        };
        // Nobody is told before the grace period to undo has passed.
        super::jobs::queue_email(tx, &mail, cmd.session_id, cmd.hold_until, cmd.at).await?;
    }
    if let Some(callback) = lms {
        super::lms::reviews::queue_decision(
            tx,
            super::lms::reviews::DecisionReview {
                session: cmd.session_id,
                decision_id,
                callback,
                expect: plan.status_after,
                at: cmd.at,
                hold_until: cmd.hold_until,
            },
        )
        .await?;
    }
    Ok(cmd.session_id)
}

async fn undo_facts(tx: &mut impl Tx, session: i64) -> Result<Option<UndoFacts>, StoreError> {
    let Some(r) = tx
        .row(
            "SELECT d.id, d.verdict, d.reviewer_id, r.username, d.decided_at, d.status_before,
                    d.status_after, d.review_status_before, d.grade_before, s.status,
                    s.grade_earned, s.grade_possible,
                    NOT EXISTS (SELECT 1 FROM jobs j WHERE j.decision_id = d.id AND j.state <> 'queued')
             FROM decisions d JOIN reviewers r ON r.id = d.reviewer_id
             JOIN sessions s ON s.id = d.session_id
             WHERE d.session_id = ? ORDER BY d.id DESC LIMIT 1",
            args![session],
        )
        .await?
    else {
        return Ok(None);
    };
    let bad = |e: crate::domain::status::UnknownStatus| StoreError::failed("bad status", e);
    let status = |i: usize| -> Result<crate::domain::AttemptStatus, StoreError> {
        r.cell::<String>(i)?.parse().map_err(bad)
    };
    let earned: Option<f64> = r.cell(10)?;
    let possible: Option<f64> = r.cell(11)?;
    let step = read_verdict_word(&r.cell::<String>(1)?);
    Ok(Some(UndoFacts {
        decision_id: r.cell(0)?,
        verdict: step.map(|(_, v)| v),
        stage: step.and_then(|(stage, _)| stage),
        reviewer_id: r.cell(2)?,
        reviewer: r.cell(3)?,
        decided_at: from_sql(&r.cell::<String>(4)?)?,
        status_before: status(5)?,
        status_after: status(6)?,
        review_status_before: super::rows::opt_parse(r.cell::<Option<String>>(7)?.as_deref())?,
        grade_before: r.cell(8)?,
        status_now: status(9)?,
        original_grade: earned
            .zip(possible)
            .map(|(earned, possible)| Grade { earned, possible }),
        held: r.cell(12)?,
    }))
}

pub async fn undo<P>(
    tx: &mut impl Tx,
    cmd: UndoCommand<P>,
    key: Option<&SealKey>,
) -> Result<SessionDetail, StoreError>
where
    P: FnOnce(Option<&UndoFacts>) -> Result<UndoPlan, UndoError>,
{
    // The session first, then the history, as a decision takes them: taken the other way
    // round, an undo and a decision on one session could each hold what the other waits
    // for (PostgreSQL ends that by failing one).
    let held = tx.for_update();
    let sql = format!("SELECT review_status, grade_possible FROM sessions WHERE id = ?{held}");
    let Some(session) = tx.row(&sql, args![cmd.session_id]).await? else {
        return Err(StoreError::NotFound(format!(
            "no session with id {}",
            cmd.session_id
        )));
    };
    tx.lock(Lock::History).await?;
    let review_now: Option<String> = session.cell(0)?;
    let possible: Option<f64> = session.cell(1)?;
    // A worker claiming the decision's email waits for this, or this for it: either the
    // undo cancels the email, or it sees the email on its way and is refused.
    let sql = format!(
        "SELECT id FROM jobs WHERE decision_id =
           (SELECT MAX(id) FROM decisions WHERE session_id = ?){held}"
    );
    tx.rows(&sql, args![cmd.session_id]).await?;
    let found = undo_facts(tx, cmd.session_id).await?;
    let plan = (cmd.plan)(found.as_ref()).map_err(|e| StoreError::Conflict(e.to_string()))?;
    let at = to_sql(cmd.at);
    let earlier_reviewer: Option<String> = tx
        .row(
            "SELECT r.email FROM decisions d JOIN reviewers r ON r.id = d.reviewer_id
             WHERE d.session_id = ? AND d.id < ?
               AND (d.verdict IN ('pass', 'fail') OR d.verdict LIKE 'confirm-%')
             ORDER BY d.id DESC LIMIT 1",
            args![cmd.session_id, plan.decision_id],
        )
        .await?
        .map(|r| r.cell(0))
        .transpose()?;
    tx.exec(
        "UPDATE sessions SET status = ?, review_status = ?, reviewed_by = ?,
             grade_override = ?, modified = ?
         WHERE id = ?",
        args![
            plan.status_after.as_str(),
            plan.review_status_after.map(|r| r.as_str()),
            earlier_reviewer,
            plan.override_after,
            &at,
            cmd.session_id
        ],
    )
    .await?;
    tx.exec(
        "UPDATE jobs SET state = 'cancelled', finished_at = ?2,
             last_error = 'the decision was undone before anyone was told'
         WHERE decision_id = ?1 AND state = 'queued'",
        args![plan.decision_id, &at],
    )
    .await?;
    super::lms::reviews::restore_delivery(tx, cmd.session_id, plan.decision_id, &at).await?;
    // What waits for a second reviewer after the undo: the first opinion a confirmation
    // or an overturn had settled; nothing once a first opinion itself is taken back.
    let waiting_on = match plan.stage {
        Some(Stage::Confirm | Stage::Overturn) => first_opinion(tx, cmd.session_id)
            .await?
            .map(|f| f.reviewer_id),
        _ => None,
    };
    tx.exec(
        "UPDATE sessions SET awaiting_from = ? WHERE id = ?",
        args![waiting_on, cmd.session_id],
    )
    .await?;
    let verdict = format!("{UNDO_PREFIX}{}", verdict_word(plan.stage, plan.undoes));
    super::audit::append(
        tx,
        &NewDecision {
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
    )
    .await?;
    tx.session_detail(cmd.session_id).await
}
