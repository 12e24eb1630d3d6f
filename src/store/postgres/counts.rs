//! The Quiz List's counts (`session_counts`, kept by statement triggers) against a recount.

use crate::store::{CountDrift, StoreError};
use tokio_postgres::{GenericClient, Transaction};

pub async fn check(tx: Transaction<'_>, repair: bool) -> Result<Vec<CountDrift>, StoreError> {
    // Sessions change under a shared lock; the recount sees them still.
    tx.batch_execute("LOCK TABLE sessions IN SHARE MODE")
        .await?;
    let drift = tx
        .query(
            "WITH actual AS (SELECT exam_id, status, COUNT(*) AS n FROM sessions GROUP BY exam_id, status)
             SELECT COALESCE(a.exam_id, k.exam_id), COALESCE(a.status, k.status)::text,
                    COALESCE(k.n, 0), COALESCE(a.n, 0)
             FROM actual a FULL JOIN session_counts k ON k.exam_id = a.exam_id AND k.status = a.status
             WHERE COALESCE(k.n, 0) <> COALESCE(a.n, 0)
             ORDER BY 1, 2",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(CountDrift {
                exam_id: r.try_get(0)?,
                status: r.try_get(1)?,
                kept: r.try_get::<_, i64>(2)?.max(0) as u64,
                actual: r.try_get::<_, i64>(3)?.max(0) as u64,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    if repair && !drift.is_empty() {
        recount(&tx).await?;
    }
    tx.commit().await?;
    Ok(drift)
}

pub async fn recount<C: GenericClient + Sync>(tx: &C) -> Result<(), StoreError> {
    tx.batch_execute(
        "DELETE FROM session_counts;
         INSERT INTO session_counts (exam_id, status, n)
         SELECT exam_id, status, COUNT(*) FROM sessions GROUP BY exam_id, status;",
    )
    .await?;
    Ok(())
}
