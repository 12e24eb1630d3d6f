//! Bringing decisions written before the hash chain existed onto it, once, in the migration
//! that creates it (the chain itself is store::audit).

use crate::domain::audit::{GENESIS, StoredEntry, entry_hash};
use crate::store::StoreError;
use rusqlite::{Connection, OptionalExtension, params};

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
