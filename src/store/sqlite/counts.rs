//! The Quiz List's counts (table `session_counts`, kept by triggers in the statement that
//! changes a session) checked against a recount.

use crate::store::{CountDrift, StoreError};
use rusqlite::Connection;

pub fn check(c: &mut Connection, repair: bool) -> Result<Vec<CountDrift>, StoreError> {
    let tx = c.transaction()?;
    let drift = {
        let mut stmt = tx.prepare(
            "WITH actual AS (SELECT exam_id, status, COUNT(*) AS n FROM sessions GROUP BY exam_id, status)
             SELECT COALESCE(a.exam_id, k.exam_id), COALESCE(a.status, k.status),
                    COALESCE(k.n, 0), COALESCE(a.n, 0)
             FROM actual a FULL JOIN session_counts k ON k.exam_id = a.exam_id AND k.status = a.status
             WHERE COALESCE(k.n, 0) <> COALESCE(a.n, 0)
             ORDER BY 1, 2",
        )?;
        stmt.query_map([], |r| {
            Ok(CountDrift {
                exam_id: r.get(0)?,
                status: r.get(1)?,
                kept: r.get::<_, i64>(2)?.max(0) as u64,
                actual: r.get::<_, i64>(3)?.max(0) as u64,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?
    };
    if repair && !drift.is_empty() {
        recount(&tx)?;
    }
    tx.commit()?;
    Ok(drift)
}

/// Replaces the kept counts with a count of the sessions.
pub fn recount(tx: &Connection) -> Result<(), StoreError> {
    tx.execute_batch(
        "DELETE FROM session_counts;
         INSERT INTO session_counts (exam_id, status, n)
         SELECT exam_id, status, COUNT(*) FROM sessions GROUP BY exam_id, status;",
    )?;
    Ok(())
}
