//! PostgreSQL's own versioned migrations, run under an advisory lock so several servers
//! starting at once apply each exactly once.

use crate::store::StoreError;
use tokio_postgres::Client;

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_schema.sql"),
    include_str!("migrations/0002_retirement_erases_reasons.sql"),
    include_str!("migrations/0003_audit_seals.sql"),
    include_str!("migrations/0004_sessions_by_external.sql"),
    include_str!("migrations/0005_learner_key_default.sql"),
    include_str!("migrations/0006_sessions_by_learner_and_exam.sql"),
    include_str!("migrations/0007_second_review.sql"),
    include_str!("migrations/0008_retention_and_request_ids.sql"),
    include_str!("migrations/0009_counts_as_a_ledger.sql"),
];

pub const VERSION: u32 = MIGRATIONS.len() as u32;

/// Any number; ours.
const MIGRATION_LOCK: i64 = 0x7072_6f63_746f_7202;

pub async fn run(client: &mut Client) -> Result<(), StoreError> {
    let tx = client.transaction().await?;
    super::sql::unbudgeted(&tx).await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version BIGINT PRIMARY KEY,
             applied_at TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))",
    )
    .await?;
    let current = current(&tx).await?;
    if current > VERSION {
        return Err(StoreError::Invalid(format!(
            "the database has schema version {current}, newer than this program knows ({VERSION}); upgrade proctor-review"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&(i as i64 + 1)],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn current<C: tokio_postgres::GenericClient + Sync>(c: &C) -> Result<u32, StoreError> {
    let v: i64 = c
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .await?
        .try_get(0)?;
    Ok(u32::try_from(v).unwrap_or(0))
}
