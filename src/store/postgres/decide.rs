//! Decisions and their undo. Each is one transaction that first takes the decision
//! history's lock: decisions from every server on the database are made one at a time, so
//! the status a planner sees is the status it changes (one winner), and each decision is
//! appended after the one before it on the hash chain.

use super::sql::is_unique_violation;
use super::sql::numbered;
use crate::domain::audit::{GENESIS, SealKey, SessionNow, StoredEntry, entry_hash};
use crate::store::StoreError;
use crate::store::queries::{AUDIT_CHAIN, AUDIT_SESSIONS, INSERT_SEAL, UNSEALED};
use crate::store::rows::NewDecision;
use tokio_postgres::{GenericClient, Transaction};

/// The advisory lock that orders the decision history (any number; ours).
pub(super) const HISTORY_LOCK: i64 = 0x7072_6f63_746f_7201;

pub(super) async fn lock_history(tx: &Transaction<'_>) -> Result<(), StoreError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&HISTORY_LOCK])
        .await?;
    Ok(())
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
