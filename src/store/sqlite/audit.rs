//! Writing decisions onto the hash chain, and reading the chain back for `audit verify`.

use crate::domain::audit::{GENESIS, SealKey, SessionNow, StoredEntry, entry_hash};
use crate::store::StoreError;
use crate::store::queries::{AUDIT_CHAIN, AUDIT_SESSIONS, INSERT_SEAL, UNSEALED};
pub use crate::store::rows::NewDecision;
use rusqlite::{Connection, OptionalExtension, params};

fn head(c: &Connection) -> Result<(i64, String), StoreError> {
    let last: Option<(i64, Option<String>)> = c
        .query_row(
            "SELECT id, hash FROM decisions ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match last {
        Some((id, Some(hash))) => (id, hash),
        Some((id, None)) => {
            return Err(StoreError::Backend(format!(
                "decision {id} has no hash; the chain was not brought up to date"
            )));
        }
        None => (0, GENESIS.to_owned()),
    })
}

/// Appends a decision to the chain (inside the caller's write transaction), sealed with
/// `key` if the store has one; its id.
pub fn append(
    c: &Connection,
    d: &NewDecision<'_>,
    key: Option<&SealKey>,
) -> Result<i64, StoreError> {
    let (last, prev) = head(c)?;
    let id = last + 1;
    let fields = d.fields(id);
    let hash = entry_hash(&prev, &fields);
    c.prepare_cached(
        "INSERT INTO decisions (id, session_id, reviewer_id, decided_at, verdict, reason, status_before,
             status_after, review_status_before, review_status_after, grade_possible, grade_before,
             grade_after, learner_emailed, idempotency_key, reason_sha256, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    )?
    .execute(params![
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
        fields.reason_sha256,
        prev,
        hash
    ])?;
    if let Some(key) = key {
        c.prepare_cached(INSERT_SEAL)?
            .execute(params![id, key.seal(&hash)])?;
    }
    Ok(id)
}

const COLUMNS: &str = "id, session_id, reviewer_id, decided_at, verdict, reason, status_before,
    status_after, review_status_before, review_status_after, grade_possible, grade_before,
    grade_after, learner_emailed, reason_sha256, prev_hash, hash";

/// Gives decisions written before the chain existed their hashes, in id order. Runs once,
/// inside the migration that creates the chain — never later, or it would re-seal rows
/// someone tampered with and stripped of their hashes.
pub fn backfill(tx: &Connection) -> Result<u64, StoreError> {
    let missing: Vec<StoredEntry> = {
        let mut stmt = tx.prepare(&format!(
            "SELECT {COLUMNS}, NULL FROM decisions WHERE hash IS NULL ORDER BY id"
        ))?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(crate::store::rows::stored_entry(r)?);
        }
        out
    };
    let mut prev: String = tx
        .query_row(
            "SELECT hash FROM decisions WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or_else(|| GENESIS.to_owned());
    for e in &missing {
        let hash = entry_hash(&prev, &e.fields);
        tx.execute(
            "UPDATE decisions SET reason_sha256 = ?2, prev_hash = ?3, hash = ?4 WHERE id = ?1",
            params![e.fields.id, e.fields.reason_sha256, prev, hash],
        )?;
        prev = hash;
    }
    Ok(missing.len() as u64)
}

/// Every entry of the chain, in id order, with its seal.
pub fn entries(c: &Connection) -> Result<Vec<StoredEntry>, StoreError> {
    all(c, AUDIT_CHAIN, |r| crate::store::rows::stored_entry(r))
}

/// Every session with a history, as it is now.
pub fn sessions(c: &Connection) -> Result<Vec<SessionNow>, StoreError> {
    all(c, AUDIT_SESSIONS, |r| crate::store::rows::session_now(r))
}

fn all<T>(
    c: &Connection,
    sql: &str,
    map: impl Fn(&rusqlite::Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = c.prepare(sql)?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(map(r)?);
    }
    Ok(out)
}

/// Seals the entries that have none (a new key); how many.
pub fn seal_unsealed(c: &mut Connection, key: &SealKey) -> Result<u64, StoreError> {
    let tx = c.transaction()?;
    let unsealed: Vec<(i64, Option<String>)> = tx
        .prepare(UNSEALED)?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (id, hash) in &unsealed {
        let Some(hash) = hash else { continue };
        tx.execute(INSERT_SEAL, params![id, key.seal(hash)])?;
    }
    tx.commit()?;
    Ok(unsealed.len() as u64)
}
