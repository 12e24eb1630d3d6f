//! What became of a job, recorded the same way on both databases.

use super::StoreError;
use super::timefmt::to_sql;
use super::tx::Tx;
use crate::args;
use crate::domain::JobId;
use time::OffsetDateTime;

pub async fn done(
    tx: &mut impl Tx,
    id: JobId,
    result: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    tx.exec(
        "UPDATE jobs SET state = 'done', progress = 1, last_error = NULL, finished_at = ?2,
             result = ?3
         WHERE id = ?1",
        args![id, to_sql(now), result],
    )
    .await?;
    Ok(())
}

pub async fn retry(
    tx: &mut impl Tx,
    id: JobId,
    error: &str,
    next: OffsetDateTime,
) -> Result<(), StoreError> {
    tx.exec(
        "UPDATE jobs SET state = 'queued', last_error = ?2, next_attempt_at = ?3 WHERE id = ?1",
        args![id, error, to_sql(next)],
    )
    .await?;
    Ok(())
}

pub async fn failed(
    tx: &mut impl Tx,
    id: JobId,
    error: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    tx.exec(
        "UPDATE jobs SET state = 'failed', last_error = ?2, finished_at = ?3 WHERE id = ?1",
        args![id, error, to_sql(now)],
    )
    .await?;
    Ok(())
}
