//! Retention on every backend: only settled sessions past their course's period lose
//! their evidence, each with an entry on the history that still verifies.

use super::{Backend, admin, attention, fail, seeded, settings};
use proctor_review::domain::access::CourseScope;
use proctor_review::domain::audit;
use proctor_review::domain::retention::{CourseKeep, KeepFor};
use proctor_review::domain::second_review::SecondReview;
use proctor_review::domain::{MediaKind, SessionRow, Verdict};
use proctor_review::review::{self, DecisionInput};
use proctor_review::store::prelude::*;
use time::{Duration, OffsetDateTime};

fn pass(s: &SessionRow) -> DecisionInput {
    DecisionInput {
        verdict: Verdict::Pass,
        reason: "nothing wrong".into(),
        expected_status: Some(s.status),
        idempotency_key: None,
        opened_secs: None,
    }
}

pub async fn only_settled_evidence_past_its_period_goes<B: Backend>(b: B) {
    let store = seeded(&b).await;
    let (ada, bo) = (admin(&store, "ada").await, admin(&store, "bo").await);
    let now = OffsetDateTime::now_utc();
    let (old, young) = (now - Duration::days(200), now - Duration::days(10));
    let rows = attention(&store).await;
    let course_of = |s: &SessionRow| {
        let store = store.clone();
        let id = s.id;
        async move { store.session(id).await.unwrap().course_id }
    };
    // A first opinion waiting for a second reviewer: disputed, whatever its age.
    let disputed = &rows[0];
    let its_course = course_of(disputed).await;
    store
        .set_second_review(its_course.clone(), SecondReview::All)
        .await
        .unwrap();
    review::decide(
        &store,
        &ada,
        disputed.id,
        fail(disputed, None),
        &settings(),
        old,
    )
    .await
    .unwrap();
    store
        .set_second_review(its_course, SecondReview::Off)
        .await
        .unwrap();
    let (passed_long_ago, failed_long_ago, recent, undecided) =
        (&rows[1], &rows[2], &rows[3], &rows[4]);
    review::decide(
        &store,
        &ada,
        passed_long_ago.id,
        pass(passed_long_ago),
        &settings(),
        old,
    )
    .await
    .unwrap();
    review::decide(
        &store,
        &bo,
        failed_long_ago.id,
        fail(failed_long_ago, None),
        &settings(),
        old,
    )
    .await
    .unwrap();
    review::decide(&store, &ada, recent.id, pass(recent), &settings(), young)
        .await
        .unwrap();
    for s in &rows[..5] {
        assert!(!store.session(s.id).await.unwrap().media.is_empty());
    }

    // Nothing goes while every course keeps its evidence forever (the default).
    assert!(store.expired_evidence(now, None).await.unwrap().is_empty());
    // The server's default of 180 days: the two settled long ago, nothing else.
    let keep = KeepFor { days: 180 };
    let due = store.expired_evidence(now, Some(keep)).await.unwrap();
    let mut ids: Vec<_> = due.iter().map(|e| e.session_id).collect();
    ids.sort();
    let mut expected = vec![passed_long_ago.id, failed_long_ago.id];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(
        due.iter()
            .all(|e| e.files > 0 && e.bytes > 0 && e.keep == keep)
    );
    // A course that keeps its evidence forever overrides the default; one with a period of
    // its own overrides it the other way.
    let passed_course = course_of(passed_long_ago).await;
    store
        .set_keep_evidence(passed_course.clone(), CourseKeep::Forever)
        .await
        .unwrap();
    let due_now = store.expired_evidence(now, Some(keep)).await.unwrap();
    assert!(due_now.iter().all(|e| e.course_id != passed_course));
    store
        .set_keep_evidence(passed_course.clone(), CourseKeep::For(keep))
        .await
        .unwrap();
    assert_eq!(
        store.keep_evidence(passed_course).await.unwrap(),
        CourseKeep::For(keep)
    );
    for c in store.courses(CourseScope::All).await.unwrap() {
        store
            .set_keep_evidence(c.id.clone(), CourseKeep::For(keep))
            .await
            .unwrap();
    }
    let due = store.expired_evidence(now, None).await.unwrap();
    assert_eq!(due.len(), 2);

    let entries_before = store.audit_chain().await.unwrap().len();
    for e in due.clone() {
        assert!(store.delete_expired(e, now).await.unwrap().is_some());
    }
    // Done once: a second run finds nothing, and deleting again does nothing.
    assert!(store.expired_evidence(now, None).await.unwrap().is_empty());
    assert!(
        store
            .delete_expired(due[0].clone(), now)
            .await
            .unwrap()
            .is_none()
    );

    for s in [passed_long_ago, failed_long_ago] {
        let d = store.session(s.id).await.unwrap();
        // What remains shown is the learner's onboarding photo from another session of the
        // course, which is that session's evidence.
        assert!(
            d.media.iter().all(|m| m.kind == MediaKind::OnboardingPhoto),
            "session {}: {:?}",
            s.id,
            d.media
        );
        let last = d.history.last().unwrap();
        assert_eq!(last.reviewer, "retention");
        assert_eq!(last.verdict, None);
        assert!(
            last.reason
                .starts_with("evidence deleted after the course's retention period (180d): "),
            "{}",
            last.reason
        );
        assert_eq!(last.status_before, last.status_after);
        // The decision itself stays.
        assert!(d.history.iter().any(|h| h.verdict.is_some()));
    }
    for s in [disputed, recent, undecided] {
        assert!(
            !store.session(s.id).await.unwrap().media.is_empty(),
            "session {}",
            s.id
        );
    }
    let chain = store.audit_chain().await.unwrap();
    assert_eq!(chain.len(), entries_before + 2);
    assert!(audit::verify(chain).is_ok());
}
