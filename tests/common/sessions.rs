//! Finding sessions to decide on, and deciding them, through the real API.

use proctor_review::api::{DecisionRequest, SessionQuery};
use proctor_review::client::ApiClient;
use proctor_review::domain::{SessionRow, Verdict};

/// Up to `n` Require Attention sessions of the seeded demo, across its exams (at least one).
pub async fn attention(api: &ApiClient, n: usize) -> Vec<SessionRow> {
    let q = SessionQuery {
        status: "second_review_required".into(),
        limit: 500,
        ..Default::default()
    };
    let mut out = Vec::new();
    for exam in 1..=4 {
        out.extend(api.sessions(exam, &q).await.unwrap().items);
    }
    assert!(
        out.len() >= n.max(1),
        "only {} sessions need attention",
        out.len()
    );
    out.truncate(n);
    out
}

/// Decides `s` as the reviewer saw it.
pub async fn decide(api: &ApiClient, s: &SessionRow, verdict: Verdict, reason: &str) {
    api.decide(
        s.id,
        &DecisionRequest {
            verdict,
            reason: reason.into(),
            expected_status: Some(s.status),
            idempotency_key: None,
        },
    )
    .await
    .unwrap();
}
