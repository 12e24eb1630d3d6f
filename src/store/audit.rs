//! The decision history's hash chain, written once for both databases: appending a sealed
//! entry (the caller holds [`Lock::History`](super::tx::Lock)), reading the chain and the
//! sessions it speaks of back for `audit verify`, and sealing what a new key finds unsealed.

use super::StoreError;
use super::cells::Cells;
use super::queries::{AUDIT_CHAIN, AUDIT_SESSIONS, INSERT_SEAL, UNSEALED};
use super::rows::NewDecision;
use super::tx::{Lock, Tx};
use crate::args;
use crate::domain::audit::{GENESIS, SealKey, SessionNow, StoredEntry, entry_hash};

/// The newest entry's id and hash (0 and the genesis hash for an empty history).
async fn head(tx: &mut impl Tx) -> Result<(i64, String), StoreError> {
    let Some(r) = tx
        .row(
            "SELECT id, hash FROM decisions ORDER BY id DESC LIMIT 1",
            args![],
        )
        .await?
    else {
        return Ok((0, GENESIS.to_owned()));
    };
    let id: i64 = r.cell(0)?;
    let hash: Option<String> = r.cell(1)?;
    let hash = hash.ok_or_else(|| {
        StoreError::Corrupt(format!(
            "decision {id} has no hash; the chain was not brought up to date"
        ))
    })?;
    Ok((id, hash))
}

/// Appends a decision after the newest entry, sealed with `key` if the store has one; its id.
pub async fn append(
    tx: &mut impl Tx,
    d: &NewDecision<'_>,
    key: Option<&SealKey>,
) -> Result<i64, StoreError> {
    let (last, prev) = head(tx).await?;
    let id = last + 1;
    let fields = d.fields(id);
    let hash = entry_hash(&prev, &fields);
    // Sent with what follows: the entry's id and hash are known here, and nothing reads
    // an answer, so the history's turn is not spent waiting for one.
    tx.push(
        "INSERT INTO decisions (id, session_id, reviewer_id, decided_at, verdict, reason,
             status_before, status_after, review_status_before, review_status_after,
             grade_possible, grade_before, grade_after, learner_emailed, idempotency_key,
             reason_sha256, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        args![
            id,
            d.session_id,
            d.reviewer_id,
            d.decided_at,
            d.verdict,
            d.reason,
            d.status_before,
            d.status_after,
            d.review_status_before,
            d.review_status_after,
            d.grade_possible,
            d.grade_before,
            d.grade_after,
            d.learner_emailed,
            d.idempotency_key,
            &fields.reason_sha256,
            &prev,
            &hash
        ],
    )
    .await?;
    if let Some(key) = key {
        tx.push(INSERT_SEAL, args![id, key.seal(&hash)]).await?;
    }
    Ok(id)
}

/// Every entry of the chain, in id order, with its seal.
pub async fn entries(tx: &mut impl Tx) -> Result<Vec<StoredEntry>, StoreError> {
    tx.rows(AUDIT_CHAIN, args![])
        .await?
        .iter()
        .map(super::rows::stored_entry)
        .collect()
}

/// Every session with a history, as it is now.
pub async fn sessions(tx: &mut impl Tx) -> Result<Vec<SessionNow>, StoreError> {
    tx.rows(AUDIT_SESSIONS, args![])
        .await?
        .iter()
        .map(super::rows::session_now)
        .collect()
}

/// Seals the entries that have none (a new key); how many.
pub async fn seal_unsealed(tx: &mut impl Tx, key: &SealKey) -> Result<u64, StoreError> {
    tx.lock(Lock::History).await?;
    let unsealed = tx.rows(UNSEALED, args![]).await?;
    for r in &unsealed {
        let id: i64 = r.cell(0)?;
        let Some(hash) = r.cell::<Option<String>>(1)? else {
            continue;
        };
        tx.exec(INSERT_SEAL, args![id, key.seal(&hash)]).await?;
    }
    Ok(unsealed.len() as u64)
}
