//! Versioned migrations, tracked in `PRAGMA user_version`.

use crate::store::StoreError;
use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_attention_first_index.sql"),
    include_str!("migrations/0003_evidence.sql"),
    include_str!("migrations/0004_jobs.sql"),
    include_str!("migrations/0005_lms.sql"),
    include_str!("migrations/0006_email_delivery.sql"),
    include_str!("migrations/0007_idempotency.sql"),
    include_str!("migrations/0008_audit_chain.sql"),
    include_str!("migrations/0009_course_grants.sql"),
    include_str!("migrations/0010_learner_search.sql"),
    include_str!("migrations/0011_keyset_and_counters.sql"),
    include_str!("migrations/0012_audit_seals.sql"),
    include_str!("migrations/0013_second_review.sql"),
    include_str!("migrations/0014_retention_and_request_ids.sql"),
];

/// The schema version this program brings a database to.
pub const VERSION: u32 = MIGRATIONS.len() as u32;

pub fn run(conn: &Connection) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let current = usize::try_from(current).unwrap_or(usize::MAX);
    if current > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "the database has schema version {current}, newer than this program knows ({}); upgrade proctor-review",
            MIGRATIONS.len()
        )));
    }
    // The search index's triggers call the program's folding.
    super::search::register(conn)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        if sql.contains("CREATE TRIGGER decisions_append_only") {
            super::audit::backfill(&tx)?;
        }
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once_in_order_and_refuse_a_newer_schema() {
        let conn = Connection::open_in_memory().unwrap();
        run(&conn).unwrap();
        run(&conn).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v as usize, MIGRATIONS.len());
        conn.pragma_update(None, "user_version", 99).unwrap();
        let err = run(&conn).unwrap_err().to_string();
        assert!(err.contains("newer than this program knows"), "{err}");
    }

    #[test]
    fn reviewers_of_an_older_database_keep_the_courses_they_could_see() {
        let conn = Connection::open_in_memory().unwrap();
        for (i, sql) in MIGRATIONS[..8].iter().enumerate() {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", i as i64 + 1)
                .unwrap();
        }
        conn.execute_batch(
            "INSERT INTO courses (id, name) VALUES ('c1', 'One'), ('c2', 'Two');
             INSERT INTO reviewers (username, email, full_name, created, role) VALUES
               ('ada', 'a@x', 'Ada', '2026-01-01T00:00:00.000000Z', 'reviewer'),
               ('root', 'r@x', 'Root', '2026-01-01T00:00:00.000000Z', 'admin');",
        )
        .unwrap();
        run(&conn).unwrap();
        let grants: Vec<(String, String, String)> = conn
            .prepare("SELECT r.username, g.course_id, g.access FROM course_grants g JOIN reviewers r ON r.id = g.reviewer_id ORDER BY 1, 2")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let want = |c: &str| ("ada".to_owned(), c.to_owned(), "review".to_owned());
        assert_eq!(grants, [want("c1"), want("c2")], "admins need none");
    }
}
