//! The Quiz List's counts (`session_counts`, kept by triggers in the statement that changes
//! a session) checked against a recount, written once for both databases.

use super::cells::Cells;
use super::tx::{Lock, Tx};
use super::{CountDrift, StoreError};
use crate::args;

pub async fn check(tx: &mut impl Tx, repair: bool) -> Result<Vec<CountDrift>, StoreError> {
    // No session changes meanwhile: the recount sees them as the kept counts do.
    tx.lock(Lock::Sessions).await?;
    let drift = tx
        .rows(
            "WITH actual AS (SELECT exam_id, status, COUNT(*) AS n FROM sessions
                             GROUP BY exam_id, status)
             SELECT COALESCE(a.exam_id, k.exam_id), CAST(COALESCE(a.status, k.status) AS TEXT),
                    COALESCE(k.n, 0), COALESCE(a.n, 0)
             FROM actual a FULL JOIN session_counts k ON k.exam_id = a.exam_id AND k.status = a.status
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
