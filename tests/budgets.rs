//! No query holds the database for long (issue #10): a read over its budget is stopped
//! with a clear error, one abandoned by its caller gives its connection back at once, and
//! lists can never take the reader a session's detail needs.

use proctor_review::demo;
use proctor_review::domain::access::CourseScope;
use proctor_review::store::StoreError;
use proctor_review::store::prelude::*;
use proctor_review::store::sqlite::SqliteStore;
use std::time::Duration;
use tokio::time::timeout;

/// A query that never ends by itself.
const ENDLESS: &str =
    "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT count(*) FROM r";
/// Far longer than any answer here takes; reaching it means the store hung.
const HUNG: Duration = Duration::from_secs(60);

async fn seeded(dir: &tempfile::TempDir) -> SqliteStore {
    let store = SqliteStore::open(&dir.path().join("review.sqlite3")).unwrap();
    store.seed(demo::embedded().unwrap()).await.unwrap();
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_over_its_budget_is_stopped_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(&dir).await;
    store.set_query_budget(Duration::from_millis(300));
    let err = timeout(HUNG, store.count_sql(ENDLESS.into()))
        .await
        .expect("stopped, not left running")
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Busy(m) if m.contains("300 ms")),
        "{err:?}"
    );
    // The connection it ran on answers the next request.
    for _ in 0..8 {
        store.courses(CourseScope::All).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_queries_give_their_connections_back_and_never_block_a_detail() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(&dir).await;
    // Only being abandoned can stop these.
    store.set_query_budget(Duration::from_secs(3600));
    let lists: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.count_sql(ENDLESS.into()).await })
        })
        .collect();
    // Every reader lists may take is taken: three of the four, one kept for quick reads
    // (the other lists wait for one).
    let deadline = std::time::Instant::now() + HUNG;
    while store.lists_running() < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the lists never started"
        );
        tokio::task::yield_now().await;
    }
    // While every list reader is busy, a reviewer's detail still answers.
    let detail = timeout(HUNG, store.session(1))
        .await
        .expect("a detail is never queued behind lists");
    assert_eq!(detail.unwrap().row.id, 1);
    // The clients hang up.
    for l in &lists {
        l.abort();
    }
    // Every connection comes back: lists run again at once.
    for _ in 0..8 {
        timeout(HUNG, store.courses(CourseScope::All))
            .await
            .expect("the abandoned queries were stopped")
            .unwrap();
    }
}
