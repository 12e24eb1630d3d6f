//! The Quiz List's counts (`session_counts`, kept by triggers in the statement that changes
//! a session) checked against a recount, and folded, written once for both databases.
//!
//! Readers add up an (exam, status)'s rows, so a backend may keep one row for each (SQLite,
//! whose one writer makes a counter row no point of contention) or append a row a change
//! (PostgreSQL, where a counter row every decision on an exam updates makes them take turns),
//! which [`fold`] gathers back into one.

use super::cells::Cells;
use super::tx::{Lock, Tx};
use super::{CountDrift, StoreError};
use crate::args;
use std::time::Duration;

/// How often a running server folds the counts: a second's changes are a few hundred rows
/// to add up at the most for a reader, and folding them costs less than that.
pub const FOLD_EVERY: Duration = Duration::from_secs(1);

pub async fn check(tx: &mut impl Tx, repair: bool) -> Result<Vec<CountDrift>, StoreError> {
    // No session changes meanwhile: the recount sees them as the kept counts do.
    tx.lock(Lock::Sessions).await?;
    let drift = tx
        .rows(
            "WITH actual AS (SELECT exam_id, status, COUNT(*) AS n FROM sessions
                             GROUP BY exam_id, status),
                  kept AS (SELECT exam_id, status, CAST(SUM(n) AS BIGINT) AS n FROM session_counts
                           GROUP BY exam_id, status)
             SELECT COALESCE(a.exam_id, k.exam_id), CAST(COALESCE(a.status, k.status) AS TEXT),
                    COALESCE(k.n, 0), COALESCE(a.n, 0)
             FROM actual a FULL JOIN kept k ON k.exam_id = a.exam_id AND k.status = a.status
             WHERE COALESCE(k.n, 0) <> COALESCE(a.n, 0)
             ORDER BY 1, 2",
            args![],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(CountDrift {
                exam_id: r.cell(0)?,
                status: r.cell(1)?,
                kept: r.cell::<i64>(2)?.max(0) as u64,
                actual: r.cell::<i64>(3)?.max(0) as u64,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    if repair && !drift.is_empty() {
        recount(tx).await?;
    }
    Ok(drift)
}

/// Replaces the kept counts with a count of the sessions.
pub async fn recount(tx: &mut impl Tx) -> Result<(), StoreError> {
    tx.exec("DELETE FROM session_counts", args![]).await?;
    tx.exec(
        "INSERT INTO session_counts (exam_id, status, n)
         SELECT exam_id, status, COUNT(*) FROM sessions GROUP BY exam_id, status",
        args![],
    )
    .await?;
    Ok(())
}

/// Gathers the rows of each (exam, status) that has several into one; how many rows went.
/// One statement takes them, so what it removes is exactly what it adds back up: a change
/// committed meanwhile stays for the next fold, and two servers folding at once each add
/// back only the rows they removed.
pub async fn fold(tx: &mut impl Tx) -> Result<u64, StoreError> {
    let gone = tx
        .rows(
            "DELETE FROM session_counts WHERE (exam_id, status) IN
               (SELECT exam_id, status FROM session_counts GROUP BY exam_id, status
                HAVING COUNT(*) > 1)
             RETURNING exam_id, status, n",
            args![],
        )
        .await?;
    let mut sums: std::collections::BTreeMap<(i64, String), i64> = Default::default();
    for r in &gone {
        *sums.entry((r.cell(0)?, r.cell(1)?)).or_default() += r.cell::<i64>(2)?;
    }
    for ((exam, status), n) in sums {
        tx.exec(
            "INSERT INTO session_counts (exam_id, status, n) VALUES (?, ?, ?)",
            args![exam, status, n],
        )
        .await?;
    }
    Ok(gone.len() as u64)
}
