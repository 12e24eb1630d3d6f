//! The Open edX side of the contract: what an LMS registers, reviews queued for its
//! callback, a decision's callback held with its email, reconciliation with the LMS's
//! listing, and retirement — the same on every backend.

use super::{Backend, admin, settings};
use proctor_review::domain::access::CourseScope;
use proctor_review::domain::audit;
use proctor_review::domain::lms::{AutomatedComment, AutomatedReview, CallbackStatus};
use proctor_review::domain::query::{PageFrom, SessionFilter, SortKey};
use proctor_review::domain::words::Word;
use proctor_review::domain::{
    AttemptStatus, JobKind, LmsState, Onboarding, OnboardingStatus, ReviewStatus, SessionDetail,
    SessionId, Verdict, ViolationKind,
};
use proctor_review::review::{self, DecideSettings, DecisionInput};
use proctor_review::store::prelude::*;
use proctor_review::store::{
    LmsAttempt, LmsClient, LmsExam, LmsOutcome, NewOnboarding, PlaceFiles, RemoteAttempt, Store,
    StoreError,
};
use time::OffsetDateTime;

const CLIENT: &str = "lms";
const COURSE: &str = "course-v1:A+B+C";

struct NoFiles;

impl PlaceFiles for NoFiles {
    fn place(&mut self) -> std::io::Result<()> {
        Ok(())
    }
    fn undo(&mut self) {}
}

fn exam(id: i64) -> LmsExam {
    LmsExam {
        id,
        course_id: COURSE.into(),
        content_id: format!("block-v1:A+B+C+type@sequential+block@{id}"),
        external_id: None,
        exam_name: "Final".into(),
        time_limit_mins: Some(60),
        is_proctored: true,
        is_practice_exam: false,
        is_active: true,
        backend: Some("proctortrack".into()),
    }
}

fn lena() -> LmsAttempt {
    LmsAttempt {
        user_id: "abc123".into(),
        full_name: "Lena Şahin".into(),
        email: "lena@example.com".into(),
        time_limit_mins: Some(60),
        is_sample_attempt: false,
    }
}

/// An LMS client, one exam, and Lena's submitted attempt: (exam, attempt) external ids.
async fn registered<S: Store>(store: &S) -> (String, String) {
    store
        .save_lms_client(LmsClient {
            client_id: CLIENT.into(),
            client_secret: "s".repeat(20),
            lms_url: "http://lms".into(),
            lms_client_id: "id".into(),
            lms_client_secret: "secret".into(),
            backend: "proctortrack".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        store
            .lms_client(CLIENT.into())
            .await
            .unwrap()
            .unwrap()
            .lms_url,
        "http://lms"
    );
    let ext = store.lms_save_exam(CLIENT.into(), exam(7)).await.unwrap();
    assert_eq!(
        store.lms_save_exam(CLIENT.into(), exam(7)).await.unwrap(),
        ext,
        "saving an exam again is the same exam"
    );
    let taken = store.lms_save_exam("other".into(), exam(7)).await;
    assert!(
        matches!(taken, Err(StoreError::Conflict(_))),
        "another client cannot register the same exam: {taken:?}"
    );
    // Updating it by our id is answered as if there were no such exam, as every other
    // access across clients is.
    let update = LmsExam {
        external_id: Some(ext.clone()),
        ..exam(7)
    };
    let taken = store.lms_save_exam("other".into(), update).await;
    assert!(
        matches!(&taken, Err(StoreError::NotFound(m)) if m == &format!("no exam with id {ext}")),
        "{taken:?}"
    );
    let a = store
        .lms_register_attempt(CLIENT.into(), ext.clone(), lena())
        .await
        .unwrap();
    assert_eq!(
        store
            .lms_register_attempt(CLIENT.into(), ext.clone(), lena())
            .await
            .unwrap(),
        a,
        "a repeated registration before the start is the same attempt"
    );
    for s in [AttemptStatus::Started, AttemptStatus::Submitted] {
        store
            .lms_set_attempt_status(CLIENT.into(), ext.clone(), a.clone(), s)
            .await
            .unwrap();
    }
    let back = store
        .lms_set_attempt_status(
            CLIENT.into(),
            ext.clone(),
            a.clone(),
            AttemptStatus::Started,
        )
        .await;
    assert!(matches!(back, Err(StoreError::Conflict(_))), "{back:?}");
    assert_eq!(
        store
            .lms_attempt(CLIENT.into(), ext.clone(), a.clone())
            .await
            .unwrap(),
        AttemptStatus::Submitted
    );
    assert_eq!(store.lms_courses(CLIENT.into()).await.unwrap(), [COURSE]);
    (ext, a)
}

/// The session a search for `text` finds in the LMS's exam, if one.
async fn found<S: Store>(store: &S, text: &str) -> Option<SessionId> {
    let course = store
        .courses(CourseScope::All)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.id == COURSE)?;
    let page = store
        .sessions(
            course.exams[0].exam.id,
            SessionFilter {
                from: PageFrom::Start,
                limit: 50,
                statuses: vec![],
                search: text.into(),
                sort: SortKey::Learner,
                desc: false,
            },
        )
        .await
        .unwrap();
    page.items.first().map(|r| r.id)
}

async fn flag<S: Store>(store: &S, session: SessionId) -> SessionDetail {
    let review = AutomatedReview {
        status: CallbackStatus::Violation,
        comments: vec![AutomatedComment {
            comment: "Phone".into(),
            status: "violation".into(),
            start: 5,
            stop: 9,
            duration: None,
            kind: ViolationKind::Phone,
        }],
    };
    store.automated_review(session, review).await.unwrap()
}

pub fn remote(a: &str, status: &str) -> RemoteAttempt {
    RemoteAttempt {
        external_id: a.into(),
        status: status.into(),
        username: "lena".into(),
        email: "lena@example.com".into(),
        attempt_code: "LMS-CODE".into(),
    }
}

/// An LMS's session that needs attention (flagged by the automated review) and its
/// attempt's external id.
pub async fn flagged<S: Store>(store: &S) -> (SessionId, String) {
    let (_, a) = registered(store).await;
    let session = found(store, "lena").await.expect("the LMS's session");
    assert_eq!(
        flag(store, session).await.row.status,
        AttemptStatus::SecondReviewRequired
    );
    (session, a)
}

pub async fn a_waiting_review_is_flagged_not_overwritten_by_the_lms<B: Backend>(b: B) {
    let store = b.fresh().await;
    let (_, a) = registered(&store).await;
    let session = found(&store, "sahin").await.expect("found by folded name");
    let d = flag(&store, session).await;
    assert_eq!(d.row.status, AttemptStatus::SecondReviewRequired);
    assert_eq!(d.row.lms.as_ref().unwrap().state, LmsState::Waiting);
    assert_eq!(d.violations.len(), 1);

    // A listing asked for before our last change is older than what we have.
    let asked = OffsetDateTime::now_utc() - time::Duration::seconds(1);
    let r = store
        .lms_reconcile(CLIENT.into(), vec![remote(&a, "started")], asked)
        .await
        .unwrap();
    assert_eq!((r.seen, r.changed, r.conflicts), (1, 0, 0));
    assert_eq!(
        store.session(session).await.unwrap().row.status,
        AttemptStatus::SecondReviewRequired
    );

    let now = OffsetDateTime::now_utc();
    let r = store
        .lms_reconcile(CLIENT.into(), vec![remote(&a, "verified")], now)
        .await
        .unwrap();
    assert_eq!((r.changed, r.conflicts), (0, 1));
    let d = store.session(session).await.unwrap();
    assert_eq!(d.row.status, AttemptStatus::SecondReviewRequired);
    assert_eq!(d.row.lms.as_ref().unwrap().state, LmsState::Conflict);
    assert_eq!(
        d.row.learner.username, "lena",
        "the LMS's username replaces the stand-in"
    );
    assert_eq!(d.attempt_code, "LMS-CODE");
    assert_eq!(found(&store, "lena").await, Some(session));
    let undelivered = store.lms_undelivered().await.unwrap();
    assert_eq!(undelivered.len(), 1);
    assert_eq!(undelivered[0].state, LmsState::Conflict);
    assert_eq!(undelivered[0].external_id, a);
}

pub async fn a_delivered_session_follows_the_lms_and_retirement_erases_the_learner<B: Backend>(
    b: B,
) {
    let store = b.fresh().await;
    let (ext, a) = registered(&store).await;
    let session = found(&store, "lena").await.unwrap();
    flag(&store, session).await;
    let job = store
        .claim_job(JobKind::LmsReview, "i1".into(), OffsetDateTime::now_utc())
        .await
        .unwrap()
        .expect("the automated review's callback");
    assert!(job.payload.contains(&a));
    store
        .lms_delivery_outcome(job.job.id, LmsOutcome::Delivered { note: "ok".into() })
        .await
        .unwrap();
    assert!(store.lms_undelivered().await.unwrap().is_empty());

    let r = store
        .lms_reconcile(
            CLIENT.into(),
            vec![remote(&a, "rejected")],
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    assert_eq!((r.changed, r.conflicts), (1, 0));
    let d = store.session(session).await.unwrap();
    assert_eq!(d.row.status, AttemptStatus::Rejected);
    let last = d.history.last().unwrap();
    assert_eq!(last.reason, "changed in Open edX");
    assert_eq!(last.reviewer, "open-edx");
    assert_eq!(last.verdict, Some(Verdict::Fail));

    let verified = Onboarding {
        status: OnboardingStatus::Verified,
        started_at: None,
        submitted_at: None,
        verified_at: Some(time::macros::datetime!(2026-09-02 08:30 UTC)),
    };
    store
        .add_evidence(
            vec![],
            vec![NewOnboarding {
                label: "test".into(),
                session_id: session,
                onboarding: verified.clone(),
            }],
            NoFiles,
        )
        .await
        .unwrap();
    let seen = store
        .lms_onboarding(CLIENT.into(), COURSE.into(), Some("abc123".into()))
        .await
        .unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].onboarding, verified);
    assert!(
        store
            .lms_onboarding("other".into(), COURSE.into(), None)
            .await
            .unwrap()
            .is_empty()
    );

    assert_eq!(
        store
            .lms_retire_user(CLIENT.into(), "nobody".into())
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .lms_retire_user(CLIENT.into(), "abc123".into())
            .await
            .unwrap()
            .is_some()
    );
    let d = store.session(session).await.unwrap();
    assert_eq!(d.row.learner.full_name, "Retired learner");
    assert_eq!(d.row.learner.email, "");
    assert!(d.violations.iter().all(|v| v.comment.is_empty()));
    assert_eq!(d.history.len(), 1, "the decision stays");
    assert!(d.history[0].reason.starts_with("erased"));
    assert_eq!(
        found(&store, "lena").await,
        None,
        "nothing finds her any more"
    );
    assert_eq!(found(&store, "retired").await, Some(session));
    assert!(
        store
            .lms_onboarding(CLIENT.into(), COURSE.into(), None)
            .await
            .unwrap()
            .is_empty()
    );
    // The erased reason keeps its hash: the chain still verifies.
    let chain = store.audit_chain().await.unwrap();
    assert_eq!(audit::verify(chain).unwrap().entries, 1);

    // An attempt nobody reviewed is deleted when the LMS resets it.
    let again = store
        .lms_register_attempt(CLIENT.into(), ext.clone(), lena())
        .await
        .unwrap();
    assert_ne!(again, a, "a retired learner registers anew");
    store
        .lms_delete_attempt(CLIENT.into(), ext.clone(), again.clone())
        .await
        .unwrap();
    let gone = store.lms_attempt(CLIENT.into(), ext, again).await;
    assert!(matches!(gone, Err(StoreError::NotFound(_))), "{gone:?}");
}

pub async fn a_decision_s_callback_waits_out_the_grace_and_an_undo_cancels_it<B: Backend>(b: B) {
    let store = b.fresh().await;
    let (ext, a) = registered(&store).await;
    let session = found(&store, "lena").await.unwrap();
    let flagged = flag(&store, session).await;
    let ada = admin(&store, "ada").await;
    let grace = DecideSettings {
        undo_grace: time::Duration::minutes(10),
        ..settings()
    };
    let now = OffsetDateTime::now_utc();
    let d = review::decide(
        &store,
        &ada,
        session,
        DecisionInput {
            verdict: Verdict::Fail,
            reason: "phone in view".into(),
            expected_status: Some(flagged.row.status),
            idempotency_key: None,
            opened_secs: None,
        },
        &grace,
        now,
    )
    .await
    .unwrap();
    assert_eq!(d.row.status, AttemptStatus::Rejected);
    assert_eq!(d.row.lms.as_ref().unwrap().state, LmsState::Waiting);
    // A Rules Violation was flagged, so the Fail goes to Open edX as one, and reads so here.
    assert_eq!(d.row.review_status, Some(ReviewStatus::RulesViolation));
    assert!(
        store
            .claim_job(JobKind::LmsReview, "i1".into(), now)
            .await
            .unwrap()
            .is_none(),
        "the automated review's callback was superseded, the decision's is held"
    );
    let undone = review::undo(&store, &ada, session, &grace, now)
        .await
        .unwrap();
    assert_eq!(undone.row.status, AttemptStatus::SecondReviewRequired);
    // The undone Fail's callback never leaves; the automated review it superseded waits
    // again, due now, so Open edX still hears that the session needs attention.
    assert_eq!(
        undone.row.lms.as_ref().map(|l| l.state),
        Some(LmsState::Waiting),
        "the superseded review waits again"
    );
    let due = store.next_due(JobKind::LmsReview).await.unwrap();
    assert!(due.is_some_and(|t| t <= now), "{due:?}");
    let later = now + time::Duration::minutes(11);

    // Decided again: after the grace the callback leaves, saying what the reviewer saw.
    let d = review::decide(
        &store,
        &ada,
        session,
        DecisionInput {
            verdict: Verdict::Pass,
            reason: "the phone was the proctor's call".into(),
            expected_status: Some(undone.row.status),
            idempotency_key: None,
            opened_secs: None,
        },
        &grace,
        now,
    )
    .await
    .unwrap();
    assert_eq!(d.row.status, AttemptStatus::Verified);
    let job = store
        .claim_job(JobKind::LmsReview, "i1".into(), later)
        .await
        .unwrap()
        .expect("the Pass's callback");
    assert!(job.payload.contains(&a), "{}", job.payload);
    assert!(
        job.payload.contains("Phone"),
        "the flagged moment goes along"
    );
    assert!(
        store
            .claim_job(JobKind::LmsReview, "i2".into(), later)
            .await
            .unwrap()
            .is_none(),
        "claimed once"
    );
    store
        .lms_delivery_outcome(
            job.job.id,
            LmsOutcome::Failed {
                error: "LMS said 500".into(),
            },
        )
        .await
        .unwrap();
    let failed = store.lms_undelivered().await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].state, LmsState::Failed);
    let retried = store.lms_retry(session).await.unwrap();
    assert_eq!(retried.row.lms.as_ref().unwrap().state, LmsState::Waiting);
    let again = store
        .claim_job(JobKind::LmsReview, "i1".into(), OffsetDateTime::now_utc())
        .await
        .unwrap()
        .expect("sent again at once");
    assert_eq!(again.job.id, job.job.id);

    // A reviewed attempt that the LMS resets stays, flagged for the reviewer.
    store
        .lms_delete_attempt(CLIENT.into(), ext, a)
        .await
        .unwrap();
    let d = store.session(session).await.unwrap();
    assert_eq!(d.row.lms.as_ref().unwrap().state, LmsState::Conflict);
    let chain = store.audit_chain().await.unwrap();
    assert_eq!(audit::verify(chain).unwrap().entries, 3);
}

/// A review Open edX already has stays delivered through a decision that is undone: the
/// undo puts back exactly what the decision replaced, and sends nothing.
pub async fn an_undo_restores_a_delivered_review_as_it_was<B: Backend>(b: B) {
    let store = b.fresh().await;
    let (_ext, _a) = registered(&store).await;
    let session = found(&store, "lena").await.unwrap();
    let flagged = flag(&store, session).await;
    let now = OffsetDateTime::now_utc();
    let job = store
        .claim_job(JobKind::LmsReview, "i1".into(), now)
        .await
        .unwrap()
        .expect("the automated review goes out");
    store
        .lms_delivery_outcome(
            job.job.id,
            LmsOutcome::Delivered {
                note: "Open edX shows it as Second Review Required".into(),
            },
        )
        .await
        .unwrap();
    let delivered = store.session(session).await.unwrap().row.lms.unwrap();
    assert_eq!(delivered.state, LmsState::Delivered);
    let ada = admin(&store, "ada").await;
    let grace = DecideSettings {
        undo_grace: time::Duration::minutes(10),
        ..settings()
    };
    review::decide(
        &store,
        &ada,
        session,
        DecisionInput {
            verdict: Verdict::Fail,
            reason: "phone".into(),
            expected_status: Some(flagged.row.status),
            idempotency_key: None,
            opened_secs: None,
        },
        &grace,
        now,
    )
    .await
    .unwrap();
    let undone = review::undo(&store, &ada, session, &grace, now)
        .await
        .unwrap();
    assert_eq!(
        undone.row.lms.as_ref(),
        Some(&delivered),
        "delivered, with its note, as before the decision"
    );
    assert_eq!(store.next_due(JobKind::LmsReview).await.unwrap(), None);
    assert!(store.lms_undelivered().await.unwrap().is_empty());
}

/// Open edX took the review but our service user may not read the attempt back (not course
/// staff): the cause and the fix are recorded, and the next sync that can read the attempt
/// as we decided it marks the review delivered by itself.
pub async fn a_review_not_read_back_is_confirmed_at_the_next_sync<B: Backend>(b: B) {
    let store = b.fresh().await;
    let (_, a) = registered(&store).await;
    let session = found(&store, "lena").await.unwrap();
    let d = flag(&store, session).await;
    let job = store
        .claim_job(JobKind::LmsReview, "i1".into(), OffsetDateTime::now_utc())
        .await
        .unwrap()
        .expect("the review goes out");
    let note = proctor_review::domain::lms::read_back_refused_note(
        "peer-staff-client",
        COURSE,
        "Must be a Staff User to Perform this request.",
    );
    store
        .lms_delivery_outcome(job.job.id, LmsOutcome::Failed { error: note })
        .await
        .unwrap();
    let undelivered = store.lms_undelivered().await.unwrap();
    assert_eq!(undelivered.len(), 1);
    let said = undelivered[0].note.clone().unwrap_or_default();
    assert!(
        said.contains("not course staff") && said.contains("Make that user staff"),
        "{said}"
    );

    let now = OffsetDateTime::now_utc();
    store
        .lms_reconcile(CLIENT.into(), vec![remote(&a, d.row.status.as_str())], now)
        .await
        .unwrap();
    let lms = store.session(session).await.unwrap().row.lms.unwrap();
    assert_eq!(lms.state, LmsState::Delivered);
    assert!(
        lms.note
            .as_deref()
            .is_some_and(|n| n.contains("read back at sync")),
        "{lms:?}"
    );
    assert!(store.lms_undelivered().await.unwrap().is_empty());
}
