//! Decisions and their undo. Each is one transaction that first takes the decision
//! history's lock: decisions from every server on the database are made one at a time, so
//! the status a planner sees is the status it changes (one winner), and each decision is
//! appended after the one before it on the hash chain.

use super::read;
use super::sql::is_unique_violation;
use super::sql::numbered;
use crate::domain::audit::{GENESIS, SealKey, SessionNow, StoredEntry, entry_hash};
use crate::domain::undo::{UndoError, UndoFacts, UndoPlan};
use crate::domain::{
    DecisionError, DecisionFacts, Grade, Learner, SessionDetail, SessionId, Verdict,
};
use crate::store::queries::{AUDIT_CHAIN, AUDIT_SESSIONS, INSERT_SEAL, UNSEALED};
use crate::store::rows::{NewDecision, UNDO_PREFIX};
use crate::store::timefmt::{from_sql, to_sql};
use crate::store::{
    DecisionCommand, DecisionContext, EmailJob, PlannedDecision, StoreError, UndoCommand,
};
use tokio_postgres::{GenericClient, Transaction};

/// The advisory lock that orders the decision history (any number; ours).
pub(super) const HISTORY_LOCK: i64 = 0x7072_6f63_746f_7201;

pub(super) async fn lock_history(tx: &Transaction<'_>) -> Result<(), StoreError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&HISTORY_LOCK])
        .await?;
    Ok(())
}

async fn context(
    tx: &Transaction<'_>,
    session: i64,
) -> Result<Option<DecisionContext>, StoreError> {
    let Some(r) = tx
        .query_opt(
            "SELECT s.status, s.review_status, s.grade_earned, s.grade_possible, s.grade_override,
                    s.is_sample_attempt, l.username, l.email, l.full_name, e.exam_name, e.course_id
             FROM sessions s JOIN learners l ON l.id = s.learner_id JOIN exams e ON e.id = s.exam_id
             WHERE s.id = $1 FOR UPDATE OF s",
            &[&session],
        )
        .await?
    else {
        return Ok(None);
    };
    let bad = |e: crate::domain::status::UnknownStatus| StoreError::Backend(e.to_string());
    let earned: Option<f64> = r.try_get(2)?;
    let possible: Option<f64> = r.try_get(3)?;
    Ok(Some(DecisionContext {
        facts: DecisionFacts {
            status: r.try_get::<_, &str>(0)?.parse().map_err(bad)?,
            review_status: r
                .try_get::<_, Option<&str>>(1)?
                .map(str::parse)
                .transpose()
                .map_err(bad)?,
            original_grade: earned
                .zip(possible)
                .map(|(earned, possible)| Grade { earned, possible }),
            grade_override: r.try_get(4)?,
            is_sample_attempt: r.try_get(5)?,
        },
        learner: Learner {
            username: r.try_get(6)?,
            email: r.try_get(7)?,
            full_name: r.try_get(8)?,
        },
        exam_name: r.try_get(9)?,
        course_id: r.try_get(10)?,
        lms: decision_link(tx, session).await?,
    }))
}

/// What a decision on the session must tell the LMS about, if an LMS registered it.
async fn decision_link(
    tx: &Transaction<'_>,
    session: SessionId,
) -> Result<Option<crate::store::LmsLink>, StoreError> {
    let link = crate::store::lms::reviews::session_lms(&mut super::tx::Pg(tx), session).await?;
    Ok(match link {
        Some(link) => Some(crate::store::LmsLink {
            client: link.client,
            violations: read::violations(tx, session).await?,
        }),
        None => None,
    })
}

pub async fn decide<P>(
    tx: Transaction<'_>,
    cmd: DecisionCommand<P>,
    key: Option<&SealKey>,
) -> Result<SessionDetail, StoreError>
where
    P: FnOnce(&DecisionContext) -> Result<PlannedDecision, DecisionError>,
{
    lock_history(&tx).await?;
    if let Some(key) = &cmd.idempotency_key {
        let earlier = tx
            .query_opt(
                &super::sql::numbered(crate::store::queries::DECISION_BY_KEY),
                &[&cmd.reviewer.id, key],
            )
            .await?;
        if let Some(row) = earlier {
            let session: SessionId = row.try_get(0)?;
            let verdict: &str = row.try_get(1)?;
            crate::domain::decision::check_replay(
                (session, crate::store::rows::parse(verdict)?),
                (cmd.session_id, cmd.verdict),
            )?;
            return read::session(&tx, session).await;
        }
    }
    let ctx = context(&tx, cmd.session_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no session with id {}", cmd.session_id)))?;
    let PlannedDecision { plan, email, lms } = (cmd.planner)(&ctx)?;
    let at = to_sql(cmd.at);
    tx.execute(
        "UPDATE sessions SET status = $1, review_status = $2, reviewed_by = $3, grade_override = $4,
             modified = $5
         WHERE id = $6",
        &[
            &plan.status_after.as_str(),
            &plan.review_status_after.as_str(),
            &cmd.reviewer.email,
            &plan.override_after,
            &at,
            &cmd.session_id,
        ],
    )
    .await?;
    let decision_id = append(
        &tx,
        &NewDecision {
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
    )
    .await?;
    if let Some(mail) = email {
        let mail = EmailJob {
            decision_id: Some(decision_id),
            email: mail,
        };
        // Nobody is told before the grace period to undo has passed.
        crate::store::jobs::queue_email(&mut super::tx::Pg(&tx), &mail, cmd.hold_until, &at)
            .await?;
    }
    if let Some(callback) = lms {
        crate::store::lms::reviews::queue_decision(
            &mut super::tx::Pg(&tx),
            crate::store::lms::reviews::DecisionReview {
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
    let detail = read::session(&tx, cmd.session_id).await?;
    tx.commit().await?;
    Ok(detail)
}

async fn undo_facts<C: GenericClient + Sync>(
    c: &C,
    session: i64,
) -> Result<Option<UndoFacts>, StoreError> {
    let Some(r) = c
        .query_opt(
            "SELECT d.id, d.verdict, d.reviewer_id, r.username, d.decided_at, d.status_before,
                    d.status_after, d.review_status_before, d.grade_before, s.status,
                    s.grade_earned, s.grade_possible,
                    NOT EXISTS (SELECT 1 FROM jobs j WHERE j.decision_id = d.id AND j.state <> 'queued')
             FROM decisions d JOIN reviewers r ON r.id = d.reviewer_id
             JOIN sessions s ON s.id = d.session_id
             WHERE d.session_id = $1 ORDER BY d.id DESC LIMIT 1",
            &[&session],
        )
        .await?
    else {
        return Ok(None);
    };
    let bad = |e: crate::domain::status::UnknownStatus| StoreError::Backend(e.to_string());
    let status = |i: usize| -> Result<crate::domain::AttemptStatus, StoreError> {
        r.try_get::<_, &str>(i)?.parse().map_err(bad)
    };
    let earned: Option<f64> = r.try_get(10)?;
    let possible: Option<f64> = r.try_get(11)?;
    Ok(Some(UndoFacts {
        decision_id: r.try_get(0)?,
        verdict: Verdict::parse(r.try_get(1)?),
        reviewer_id: r.try_get(2)?,
        reviewer: r.try_get(3)?,
        decided_at: from_sql(r.try_get(4)?)?,
        status_before: status(5)?,
        status_after: status(6)?,
        review_status_before: r
            .try_get::<_, Option<&str>>(7)?
            .map(str::parse)
            .transpose()
            .map_err(bad)?,
        grade_before: r.try_get(8)?,
        status_now: status(9)?,
        original_grade: earned
            .zip(possible)
            .map(|(earned, possible)| Grade { earned, possible }),
        held: r.try_get(12)?,
    }))
}

pub async fn undo<P>(
    tx: Transaction<'_>,
    cmd: UndoCommand<P>,
    key: Option<&SealKey>,
) -> Result<SessionDetail, StoreError>
where
    P: FnOnce(Option<&UndoFacts>) -> Result<UndoPlan, UndoError>,
{
    lock_history(&tx).await?;
    let Some(session) = tx
        .query_opt(
            "SELECT review_status, grade_possible FROM sessions WHERE id = $1 FOR UPDATE",
            &[&cmd.session_id],
        )
        .await?
    else {
        return Err(StoreError::NotFound(format!(
            "no session with id {}",
            cmd.session_id
        )));
    };
    let review_now: Option<String> = session.try_get(0)?;
    let possible: Option<f64> = session.try_get(1)?;
    // A worker claiming the decision's email waits for this, or this for it: either the
    // undo cancels the email, or it sees the email on its way and is refused.
    tx.execute(
        "SELECT id FROM jobs WHERE decision_id =
           (SELECT MAX(id) FROM decisions WHERE session_id = $1) FOR UPDATE",
        &[&cmd.session_id],
    )
    .await?;
    let found = undo_facts(&tx, cmd.session_id).await?;
    let plan = (cmd.plan)(found.as_ref()).map_err(|e| StoreError::Conflict(e.to_string()))?;
    let at = to_sql(cmd.at);
    let earlier_reviewer: Option<String> = tx
        .query_opt(
            "SELECT r.email FROM decisions d JOIN reviewers r ON r.id = d.reviewer_id
             WHERE d.session_id = $1 AND d.id < $2 AND d.verdict IN ('pass', 'fail')
             ORDER BY d.id DESC LIMIT 1",
            &[&cmd.session_id, &plan.decision_id],
        )
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    tx.execute(
        "UPDATE sessions SET status = $1, review_status = $2, reviewed_by = $3,
             grade_override = $4, modified = $5
         WHERE id = $6",
        &[
            &plan.status_after.as_str(),
            &plan.review_status_after.map(|r| r.as_str()),
            &earlier_reviewer,
            &plan.override_after,
            &at,
            &cmd.session_id,
        ],
    )
    .await?;
    tx.execute(
        "UPDATE jobs SET state = 'cancelled', finished_at = $2,
             last_error = 'the decision was undone before anyone was told'
         WHERE decision_id = $1 AND state = 'queued'",
        &[&plan.decision_id, &at],
    )
    .await?;
    let mut shared = super::tx::Pg(&tx);
    crate::store::lms::reviews::restore_delivery(
        &mut shared,
        cmd.session_id,
        plan.decision_id,
        &at,
    )
    .await?;
    let verdict = format!("{UNDO_PREFIX}{}", plan.undoes.as_str());
    append(
        &tx,
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
    let detail = read::session(&tx, cmd.session_id).await?;
    tx.commit().await?;
    Ok(detail)
}

/// Appends a decision to the chain; the caller holds the history's lock.
pub(super) async fn append(
    tx: &Transaction<'_>,
    d: &NewDecision<'_>,
    key: Option<&SealKey>,
) -> Result<i64, StoreError> {
    let (last, prev) = match tx
        .query_opt(
            "SELECT id, hash FROM decisions ORDER BY id DESC LIMIT 1",
            &[],
        )
        .await?
    {
        Some(r) => (
            r.try_get::<_, i64>(0)?,
            r.try_get::<_, Option<String>>(1)?.ok_or_else(|| {
                StoreError::Backend("the latest decision has no hash; the chain is broken".into())
            })?,
        ),
        None => (0, GENESIS.to_owned()),
    };
    let id = last + 1;
    let fields = d.fields(id);
    let hash = entry_hash(&prev, &fields);
    let inserted = tx
        .execute(
            "INSERT INTO decisions (id, session_id, reviewer_id, decided_at, verdict, reason,
                 status_before, status_after, review_status_before, review_status_after,
                 grade_possible, grade_before, grade_after, learner_emailed, idempotency_key,
                 reason_sha256, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
            &[
                &id,
                &d.session_id,
                &d.reviewer_id,
                &d.decided_at,
                &d.verdict,
                &d.reason,
                &d.status_before,
                &d.status_after,
                &d.review_status_before,
                &d.review_status_after,
                &d.grade_possible,
                &d.grade_before,
                &d.grade_after,
                &d.learner_emailed,
                &d.idempotency_key,
                &fields.reason_sha256,
                &prev,
                &hash,
            ],
        )
        .await;
    match inserted {
        Ok(_) => {
            if let Some(key) = key {
                tx.execute(&numbered(INSERT_SEAL), &[&id, &key.seal(&hash)])
                    .await?;
            }
            Ok(id)
        }
        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(
            "this idempotency key was already used for another decision".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Every entry of the chain, in id order, with its seal.
pub async fn entries<C: GenericClient + Sync>(c: &C) -> Result<Vec<StoredEntry>, StoreError> {
    c.query(AUDIT_CHAIN, &[])
        .await?
        .iter()
        .map(crate::store::rows::stored_entry)
        .collect()
}

/// Every session with a history, as it is now.
pub async fn sessions<C: GenericClient + Sync>(c: &C) -> Result<Vec<SessionNow>, StoreError> {
    c.query(AUDIT_SESSIONS, &[])
        .await?
        .iter()
        .map(crate::store::rows::session_now)
        .collect()
}

/// Seals the entries that have none (a new key); how many.
pub async fn seal_unsealed(tx: Transaction<'_>, key: &SealKey) -> Result<u64, StoreError> {
    lock_history(&tx).await?;
    let unsealed = tx.query(UNSEALED, &[]).await?;
    for r in &unsealed {
        let id: i64 = r.try_get(0)?;
        let Some(hash) = r.try_get::<_, Option<String>>(1)? else {
            continue;
        };
        tx.execute(&numbered(INSERT_SEAL), &[&id, &key.seal(&hash)])
            .await?;
    }
    tx.commit().await?;
    Ok(unsealed.len() as u64)
}
