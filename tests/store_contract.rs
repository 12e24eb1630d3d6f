//! The store contract: behaviours every `Store` backend must have, written once against the
//! trait. `backend!` runs the whole suite on a backend: SQLite, and PostgreSQL in a fresh
//! database per test (skipped loudly when no PostgreSQL answers, unless required).

#[path = "common/pg.rs"]
mod pg;

#[path = "store_contract/lms.rs"]
mod lms;

#[path = "store_contract/retention.rs"]
mod retention;

use proctor_review::demo;
use proctor_review::domain::access::{Access, Actor, CourseScope, Grant, authenticate};
use proctor_review::domain::audit;
use proctor_review::domain::query::{Cursor, PageFrom, SessionFilter, SortKey};
use proctor_review::domain::{AttemptStatus, JobKind, JobState, Role, SessionRow, Verdict};
use proctor_review::review::{self, DecideSettings, DecisionInput, ReviewError};
use proctor_review::store::prelude::*;
use proctor_review::store::{Store, StoreError};
use std::future::Future;
use time::OffsetDateTime;

const SESSIONS: usize = 60;

/// A fresh, seeded store of the backend under test.
trait Backend {
    type S: Store;
    fn fresh(&self) -> impl Future<Output = Self::S>;
    /// Sets where searches change how they are answered (in matching learners).
    fn search_tiers(&self, store: &Self::S, few: i64, several: i64);
}

async fn seeded<B: Backend>(b: &B) -> B::S {
    let store = b.fresh().await;
    assert!(store.is_empty().await.unwrap());
    store
        .seed(demo::generate(SESSIONS, demo::DEMO_SEED).unwrap())
        .await
        .unwrap();
    assert!(!store.is_empty().await.unwrap());
    store
}

async fn admin<S: Store>(store: &S, name: &str) -> Actor {
    let r = store
        .create_reviewer(
            name.into(),
            format!("{name}@x.edu"),
            name.into(),
            Role::Admin,
        )
        .await
        .unwrap();
    Actor::new(r, [])
}

fn filter(statuses: Vec<AttemptStatus>) -> SessionFilter {
    SessionFilter {
        from: PageFrom::Start,
        limit: 500,
        statuses,
        search: String::new(),
        sort: SortKey::Started,
        desc: true,
    }
}

async fn attention<S: Store>(store: &S) -> Vec<SessionRow> {
    let mut out = Vec::new();
    for c in store.courses(CourseScope::All).await.unwrap() {
        for e in c.exams {
            let page = store
                .sessions(e.exam.id, filter(vec![AttemptStatus::SecondReviewRequired]))
                .await
                .unwrap();
            out.extend(page.items);
        }
    }
    assert!(out.len() >= 3, "the demo has sessions to review");
    out
}

fn settings() -> DecideSettings {
    DecideSettings {
        contact: "staff@x.edu".into(),
        lms_learner_emails: false,
        undo_grace: time::Duration::ZERO,
    }
}

fn fail(s: &SessionRow, key: Option<&str>) -> DecisionInput {
    DecisionInput {
        verdict: Verdict::Fail,
        reason: "phone in view".into(),
        expected_status: Some(s.status),
        idempotency_key: key.map(str::to_owned),
        opened_secs: None,
    }
}

async fn counts_and_lists_agree<B: Backend>(b: B) {
    let store = seeded(&b).await;
    let courses = store.courses(CourseScope::All).await.unwrap();
    assert_eq!(courses.len(), 2);
    let mut total = 0;
    for c in &courses {
        for e in &c.exams {
            let page = store.sessions(e.exam.id, filter(vec![])).await.unwrap();
            assert_eq!(page.total, e.counts.sessions);
            assert_eq!(page.items.len() as u64, e.counts.sessions);
            let attention = page
                .items
                .iter()
                .take_while(|r| r.status == AttemptStatus::SecondReviewRequired)
                .count() as u64;
            assert_eq!(attention, e.counts.require_attention, "attention first");
            assert_eq!(
                store.exam_course(e.exam.id).await.unwrap().as_deref(),
                Some(c.id.as_str())
            );
            for r in &page.items {
                assert_eq!(
                    store.session_course(r.id).await.unwrap().as_deref(),
                    Some(c.id.as_str())
                );
            }
            total += e.counts.sessions;
        }
    }
    assert_eq!(total, SESSIONS as u64);
    assert_eq!(store.exam_course(99_999).await.unwrap(), None);
    assert_eq!(store.session_course(99_999).await.unwrap(), None);

    let one = CourseScope::Only(vec![courses[1].id.clone()]);
    let scoped = store.courses(one).await.unwrap();
    assert_eq!(scoped.len(), 1);
    assert_eq!(scoped[0].exams, courses[1].exams);
    assert!(
        store
            .courses(CourseScope::Only(vec![]))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_decision_applies_once_records_history_and_queues_one_email<B: Backend>(b: B) {
    let store = seeded(&b).await;
    let ada = admin(&store, "ada").await;
    let s = attention(&store).await.remove(0);
    let before = store.session(s.id).await.unwrap();
    let at = OffsetDateTime::now_utc();
    let key = Some("key-0000001");
    let detail = review::decide(&store, &ada, s.id, fail(&s, key), &settings(), at)
        .await
        .unwrap();
    assert_eq!(detail.row.status, AttemptStatus::Rejected);
    assert_eq!(detail.grade_in_force.unwrap().earned, 0.0);
    assert_eq!(detail.original_grade, before.original_grade);
    assert_eq!(detail.history.len(), 1);
    assert_eq!(detail.history[0].reviewer, "ada");
    assert_eq!(detail.history[0].reason, "phone in view");

    // The same request again (a lost answer) changes nothing and answers the same.
    let again = review::decide(&store, &ada, s.id, fail(&s, key), &settings(), at)
        .await
        .unwrap();
    assert_eq!(again.history.len(), 1);
    assert_eq!(again.row.status, AttemptStatus::Rejected);

    // Without the key it is a new decision on a status that has changed: refused.
    let stale = review::decide(&store, &ada, s.id, fail(&s, None), &settings(), at).await;
    assert!(
        matches!(stale, Err(ReviewError::Store(StoreError::Decision(_)))),
        "{stale:?}"
    );
    let missing = review::decide(&store, &ada, 99_999, fail(&s, None), &settings(), at).await;
    assert!(matches!(missing, Err(ReviewError::NotFound(_))));

    // Exactly one email was queued, and a worker claims it exactly once.
    let job = store
        .claim_job(JobKind::Email, "i1".into(), OffsetDateTime::now_utc())
        .await
        .unwrap()
        .expect("the Fail's email");
    assert!(job.payload.contains(&before.row.learner.email));
    let none = store
        .claim_job(JobKind::Email, "i2".into(), OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert!(none.is_none(), "claimed once");
    store.job_done(job.job.id, None).await.unwrap();
    assert_eq!(store.job(job.job.id).await.unwrap().state, JobState::Done);

    // The audit chain covers it.
    let chain = store.audit_chain().await.unwrap();
    assert_eq!(audit::verify(chain).unwrap().entries, 1);
}

async fn concurrent_decisions_on_one_session_have_one_winner<B: Backend>(b: B) {
    let store = seeded(&b).await;
    let s = attention(&store).await.remove(1);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let who = admin(&store, &format!("r{i}")).await;
            review::decide(
                &store,
                &who,
                s.id,
                fail(&s, None),
                &settings(),
                OffsetDateTime::now_utc(),
            )
            .await
            .is_ok()
        }));
    }
    let mut winners = 0;
    for t in tasks {
        winners += usize::from(t.await.unwrap());
    }
    assert_eq!(winners, 1);
    assert_eq!(store.session(s.id).await.unwrap().history.len(), 1);
}

/// Decisions on many sessions at once, every third sent with a status the session does not
/// have: each stands or falls by itself (SQLite's writer commits those that arrive together
/// in one transaction), and what stood is whole — status, history, email, audit chain, and
/// the Quiz List's counts, folded meanwhile as a running server does.
async fn decisions_at_once_stand_or_fall_each_alone<B: Backend>(b: B) {
    let store = seeded(&b).await;
    let sessions = attention(&store).await;
    let attention_before = require_attention(&store).await;
    // Folds until told to stop; a fold that fails fails the test when it is awaited.
    let stop_folding = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let folding = tokio::spawn({
        let (store, stop) = (store.clone(), stop_folding.clone());
        async move {
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                store.fold_counts().await?;
                tokio::task::yield_now().await;
            }
            Ok::<_, StoreError>(())
        }
    });
    let mut tasks = Vec::new();
    for (i, s) in sessions.iter().cloned().enumerate() {
        let store = store.clone();
        let stale = i % 3 == 2;
        tasks.push(tokio::spawn(async move {
            let who = admin(&store, &format!("r{i}")).await;
            let mut input = fail(&s, None);
            if stale {
                input.expected_status = Some(AttemptStatus::Verified);
            }
            let out = review::decide(
                &store,
                &who,
                s.id,
                input,
                &settings(),
                OffsetDateTime::now_utc(),
            )
            .await;
            (s.id, stale, out)
        }));
    }
    let mut stood = 0;
    for t in tasks {
        let (id, stale, out) = t.await.unwrap();
        let now = store.session(id).await.unwrap();
        if stale {
            assert!(
                matches!(out, Err(ReviewError::Store(StoreError::Decision(_)))),
                "{out:?}"
            );
            assert!(now.history.is_empty(), "a refused decision leaves nothing");
            assert_eq!(now.row.status, AttemptStatus::SecondReviewRequired);
        } else {
            out.unwrap();
            stood += 1;
            assert_eq!(now.history.len(), 1);
            assert_eq!(now.row.status, AttemptStatus::Rejected);
        }
    }
    assert!(stood >= 2 && stood < sessions.len());
    stop_folding.store(true, std::sync::atomic::Ordering::SeqCst);
    folding.await.unwrap().unwrap();
    assert_eq!(store.check_counts(false).await.unwrap(), []);
    assert_eq!(
        require_attention(&store).await,
        attention_before - stood as u64
    );
    store.fold_counts().await.unwrap();
    assert_eq!(
        store.fold_counts().await.unwrap(),
        0,
        "one fold leaves nothing to fold"
    );
    assert_eq!(store.check_counts(false).await.unwrap(), []);
    assert_eq!(
        require_attention(&store).await,
        attention_before - stood as u64
    );
    let emails = store.jobs(JobKind::Email, None).await.unwrap();
    assert_eq!(
        emails.len(),
        stood,
        "one email for each decision that stood"
    );
    let chain = store.audit_chain().await.unwrap();
    assert_eq!(audit::verify(chain).unwrap().entries, stood as u64);
}

/// What the Quiz List says requires attention, over every course.
async fn require_attention<S: Store>(store: &S) -> u64 {
    store
        .courses(CourseScope::All)
        .await
        .unwrap()
        .iter()
        .flat_map(|c| &c.exams)
        .map(|e| e.counts.require_attention)
        .sum()
}

/// A Fail then a Pass on one session: the learner's two emails go out one after the
/// other, never side by side, so they arrive in the order they were decided.
async fn a_learners_emails_go_out_one_at_a_time<B: Backend>(b: B) {
    let store = seeded(&b).await;
    let ada = admin(&store, "ada").await;
    let s = attention(&store).await.remove(2);
    let now = OffsetDateTime::now_utc();
    review::decide(&store, &ada, s.id, fail(&s, None), &settings(), now)
        .await
        .unwrap();
    let pass = DecisionInput {
        verdict: Verdict::Pass,
        reason: "the phone was a calculator".into(),
        expected_status: Some(AttemptStatus::Rejected),
        idempotency_key: None,
        opened_secs: None,
    };
    review::decide(&store, &ada, s.id, pass, &settings(), now)
        .await
        .unwrap();
    let first = store
        .claim_job(JobKind::Email, "i1".into(), now)
        .await
        .unwrap()
        .expect("the Fail's email");
    let meanwhile = store
        .claim_job(JobKind::Email, "i2".into(), now)
        .await
        .unwrap();
    assert!(meanwhile.is_none(), "the Pass's email waits for the Fail's");
    let tally = store.job_tally(JobKind::Email).await.unwrap();
    assert_eq!((tally.due, tally.running, tally.failed), (1, 1, 0));
    store.job_done(first.job.id, None).await.unwrap();
    let tally = store.job_tally(JobKind::Email).await.unwrap();
    assert_eq!(
        (tally.due, tally.running, tally.done_last_minute),
        (1, 0, 1)
    );
    let second = store
        .claim_job(JobKind::Email, "i2".into(), now)
        .await
        .unwrap()
        .expect("then the Pass's");
    assert!(second.job.id > first.job.id);
}

async fn jobs_retry_fail_and_come_back<B: Backend>(b: B) {
    let store = seeded(&b).await;
    let ada = admin(&store, "ada").await;
    let s = attention(&store).await.remove(2);
    let now = OffsetDateTime::now_utc();
    review::decide(&store, &ada, s.id, fail(&s, None), &settings(), now)
        .await
        .unwrap();
    let claimed = store
        .claim_job(JobKind::Email, "i1".into(), now)
        .await
        .unwrap()
        .unwrap();
    let id = claimed.job.id;
    let later = now + time::Duration::minutes(5);
    store.job_retry(id, "mx down".into(), later).await.unwrap();
    assert!(
        store
            .claim_job(JobKind::Email, "i1".into(), now)
            .await
            .unwrap()
            .is_none(),
        "not before its time"
    );
    let again = store
        .claim_job(JobKind::Email, "i1".into(), later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.job.id, id);
    store.job_failed(id, "mx gone".into()).await.unwrap();
    let failed = store.failed_emails().await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].job, id);
    assert_eq!(failed[0].session_id, Some(s.id));
    assert_eq!(
        store
            .requeue_failed(JobKind::Email, Some(id), later)
            .await
            .unwrap(),
        1
    );
    assert!(store.failed_emails().await.unwrap().is_empty());

    // A job left running by an instance that went quiet is queued again.
    let taken = store
        .claim_job(JobKind::Email, "dead".into(), later)
        .await
        .unwrap()
        .unwrap();
    let much_later = later + time::Duration::minutes(10);
    let recovered = store
        .recover_jobs("alive".into(), much_later, time::Duration::seconds(45))
        .await
        .unwrap();
    assert_eq!(recovered, 1);
    let back = store
        .claim_job(JobKind::Email, "alive".into(), much_later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.job.id, taken.job.id);
}

async fn tokens_and_grants<B: Backend>(b: B) {
    let store = seeded(&b).await;
    let courses = store.courses(CourseScope::All).await.unwrap();
    let r = store
        .create_reviewer(
            "mira".into(),
            "m@x.edu".into(),
            "Mira".into(),
            Role::Reviewer,
        )
        .await
        .unwrap();
    let dup = store
        .create_reviewer(
            "mira".into(),
            "m@x.edu".into(),
            "Mira".into(),
            Role::Reviewer,
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))));
    let bad = store
        .create_reviewer(
            "mi\u{1b}ra".into(),
            "m@x.edu".into(),
            "M".into(),
            Role::Reviewer,
        )
        .await;
    assert!(matches!(bad, Err(StoreError::Invalid(_))));

    let now = OffsetDateTime::now_utc();
    store.add_token(r.id, "a".repeat(64), None).await.unwrap();
    store
        .add_token(r.id, "b".repeat(64), Some(now - time::Duration::hours(1)))
        .await
        .unwrap();
    let actor = authenticate(store.token("a".repeat(64)).await.unwrap(), now).unwrap();
    assert_eq!(actor.scope(), CourseScope::Only(vec![]));
    assert!(authenticate(store.token("b".repeat(64)).await.unwrap(), now).is_err());
    assert!(store.token("c".repeat(64)).await.unwrap().is_none());

    let course = courses[0].id.clone();
    store
        .grant(
            "mira".into(),
            Grant {
                course_id: course.clone(),
                access: Access::Read,
            },
        )
        .await
        .unwrap();
    store
        .grant(
            "mira".into(),
            Grant {
                course_id: course.clone(),
                access: Access::Review,
            },
        )
        .await
        .unwrap();
    let actor = authenticate(store.token("a".repeat(64)).await.unwrap(), now).unwrap();
    assert_eq!(
        actor.access(&course),
        Some(Access::Review),
        "a grant is changed, not doubled"
    );
    let scoped = review::courses(&store, &actor).await.unwrap();
    assert_eq!(scoped.len(), 1);
    assert_eq!(scoped[0].access, Some(Access::Review));
    assert!(matches!(
        store
            .grant(
                "nobody".into(),
                Grant {
                    course_id: course.clone(),
                    access: Access::Read
                }
            )
            .await,
        Err(StoreError::NotFound(_))
    ));

    let listing = store.reviewers().await.unwrap();
    let mira = listing
        .iter()
        .find(|l| l.reviewer.username == "mira")
        .unwrap();
    assert_eq!(mira.grants.len(), 1);
    assert_eq!(mira.tokens.len(), 2);
    assert_eq!(mira.tokens[0].id.len(), 12);

    assert!(store.withdraw("mira".into(), course.clone()).await.unwrap());
    assert!(!store.withdraw("mira".into(), course).await.unwrap());
    assert_eq!(store.revoke_token("a".repeat(12)).await.unwrap(), 1);
    assert!(authenticate(store.token("a".repeat(64)).await.unwrap(), now).is_err());
    assert_eq!(store.revoke_tokens("mira".into()).await.unwrap(), 1);
    assert!(matches!(
        store.revoke_token("zz".into()).await,
        Err(StoreError::Invalid(_))
    ));
}

/// Search finds people in any script, whatever the case and accents, by any 3+ character
/// part of name, username or email (shorter queries too, by scanning).
async fn search_folds_case_and_accents_in_every_script<B: Backend>(b: B) {
    let store = b.fresh().await;
    let mut data = demo::generate(SESSIONS, demo::DEMO_SEED).unwrap();
    let names = [
        "Luísa Fernández",
        "José Núñez",
        "Jürgen Müller",
        "ΣΩΚΡΆΤΗΣ Παπαδόπουλος",
        "Иван Иванов",
        "田中 優子",
        "مُحَمَّد عَلِي",
        "שָׁלוֹם כהן",
    ];
    for (learner, name) in data.learners.iter_mut().zip(names) {
        learner.full_name = name.into();
    }
    store.seed(data.clone()).await.unwrap();
    let exam_of = |name: &str| {
        let i = data
            .learners
            .iter()
            .position(|l| l.full_name == name)
            .unwrap();
        data.sessions
            .iter()
            .find(|s| s.learner == i)
            .unwrap()
            .exam_id
    };
    let found = async |query: &str, name: &str| -> bool {
        let mut f = filter(vec![]);
        f.search = query.into();
        let page = store.sessions(exam_of(name), f).await.unwrap();
        assert_eq!(page.total as usize, page.items.len());
        page.items.iter().any(|r| r.learner.full_name == name)
    };
    for (query, name) in [
        ("luisa", "Luísa Fernández"),
        ("FERNANDEZ", "Luísa Fernández"),
        ("jose", "José Núñez"),
        ("nunez", "José Núñez"),
        ("muller", "Jürgen Müller"),
        ("σωκρατης", "ΣΩΚΡΆΤΗΣ Παπαδόπουλος"),
        ("ΠΑΠΑΔΟΠΟΥΛΟΣ", "ΣΩΚΡΆΤΗΣ Παπαδόπουλος"),
        ("иванов", "Иван Иванов"),
        ("ИВАН", "Иван Иванов"),
        ("優子", "田中 優子"),
        ("田中", "田中 優子"),
        ("محمد", "مُحَمَّد عَلِي"),
        ("שלום", "שָׁלוֹם כהן"),
    ] {
        assert!(found(query, name).await, "'{query}' should find {name}");
    }
    assert!(!found("ivanov", "Иван Иванов").await, "no transliteration");
    assert!(!found("zzq", "Jürgen Müller").await);
}

/// Property: whatever decisions and undos are made, in whatever order, the counts kept for
/// the Quiz List equal a recount of the sessions (eight random sequences of 30 steps),
/// folded or not.
async fn kept_counts_equal_a_recount_after_any_decisions<B: Backend>(b: B) {
    let store = seeded(&b).await;
    let ada = admin(&store, "ada").await;
    let settings = DecideSettings {
        undo_grace: time::Duration::hours(1),
        ..settings()
    };
    let exams: Vec<_> = store
        .courses(CourseScope::All)
        .await
        .unwrap()
        .into_iter()
        .flat_map(|c| c.exams)
        .map(|e| e.exam.id)
        .collect();
    let mut ids = Vec::new();
    for e in &exams {
        ids.extend(
            store
                .sessions(*e, filter(vec![]))
                .await
                .unwrap()
                .items
                .iter()
                .map(|r| r.id),
        );
    }
    let mut changed = 0;
    for seed in 1..=8u64 {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..30 {
            let id = ids[(next() % ids.len() as u64) as usize];
            let status = store.session(id).await.unwrap().row.status;
            let at = OffsetDateTime::now_utc();
            let verdict = match next() % 3 {
                0 => Some(Verdict::Fail),
                1 => Some(Verdict::Pass),
                _ => None,
            };
            let done = match verdict {
                Some(verdict) => {
                    let input = DecisionInput {
                        verdict,
                        reason: "property".into(),
                        expected_status: Some(status),
                        idempotency_key: None,
                        opened_secs: None,
                    };
                    review::decide(&store, &ada, id, input, &settings, at).await
                }
                None => review::undo(&store, &ada, id, &settings, at).await,
            };
            // Refusals (not decidable, nothing to undo) are part of the sequence too.
            changed += usize::from(done.is_ok_and(|d| d.row.status != status));
        }
        // Counts as each change left them, and as a running server folds them.
        if seed % 2 == 0 {
            store.fold_counts().await.unwrap();
        }
        assert_eq!(
            store.check_counts(false).await.unwrap(),
            [],
            "sequence {seed}"
        );
        for summary in store
            .courses(CourseScope::All)
            .await
            .unwrap()
            .iter()
            .flat_map(|c| &c.exams)
        {
            let rows = store
                .sessions(summary.exam.id, filter(vec![]))
                .await
                .unwrap()
                .items;
            let n = |st: AttemptStatus| rows.iter().filter(|r| r.status == st).count() as u64;
            let c = &summary.counts;
            assert_eq!(
                (
                    c.sessions,
                    c.require_attention,
                    c.pending,
                    c.passed,
                    c.failed
                ),
                (
                    rows.len() as u64,
                    n(AttemptStatus::SecondReviewRequired),
                    n(AttemptStatus::Submitted),
                    n(AttemptStatus::Verified),
                    n(AttemptStatus::Rejected)
                ),
                "sequence {seed}, exam {}",
                summary.exam.id
            );
        }
    }
    assert!(changed > 20, "the sequences changed statuses ({changed})");
}

/// Every row exactly once, in the same order, whether the list is read by offset, forwards
/// by cursor, or backwards from the end — for every order, both directions, with ties and
/// rows without a sort value, filtered or searched, in an exam and in the queue.
async fn cursor_and_offset_paging_agree<B: Backend>(b: B) {
    let store = b.fresh().await;
    store
        .seed(demo::generate(640, demo::DEMO_SEED).unwrap())
        .await
        .unwrap();
    for exam in [Some(2), None] {
        for sort in SortKey::ALL {
            for desc in [false, true] {
                for statuses in [
                    vec![],
                    vec![AttemptStatus::SecondReviewRequired],
                    vec![AttemptStatus::Verified, AttemptStatus::Created],
                ] {
                    let f = SessionFilter {
                        sort,
                        desc,
                        ..filter(statuses)
                    };
                    assert!(!pages_agree(&store, exam, f, 7).await, "counted exactly");
                }
            }
        }
    }
    // A search is answered in one of three ways, by how many learners match; small tiers
    // take each way on this small data set, and each way finds the same rows in the same
    // order.
    let mut counted_so_far = 0;
    let mut found = std::collections::HashMap::new();
    for (few, several) in [(2_000, 20_000), (5, 40), (1, 10_000), (1, 2)] {
        b.search_tiers(&store, few, several);
        for exam in [Some(2), None] {
            // A nullable order, a text one and one full of ties.
            for sort in [SortKey::Started, SortKey::Learner, SortKey::Violations] {
                for desc in [false, true] {
                    for search in ["an", "EXAMPLE.edu", "e", "ar"] {
                        let f = SessionFilter {
                            sort,
                            desc,
                            search: search.into(),
                            ..filter(vec![])
                        };
                        let rows = whole(&store, exam, f.clone()).await;
                        let first = found
                            .entry(format!("{exam:?} {f:?}"))
                            .or_insert(rows.clone());
                        assert_eq!(&rows, first, "{exam:?} {f:?} with tiers {few}, {several}");
                        counted_so_far += usize::from(pages_agree(&store, exam, f, 7).await);
                    }
                }
            }
        }
    }
    assert!(
        counted_so_far > 0,
        "the way for very common terms was taken"
    );
}

/// The ids of a list's rows, read whole in pages of 500.
async fn whole<S: Store>(store: &S, exam: Option<i64>, base: SessionFilter) -> Vec<i64> {
    let mut out = Vec::new();
    let mut from = PageFrom::Start;
    loop {
        let f = SessionFilter {
            from,
            limit: 500,
            ..base.clone()
        };
        let page = match exam {
            Some(e) => store.sessions(e, f).await,
            None => store.queue(CourseScope::All, f).await,
        }
        .unwrap();
        out.extend(page.items.iter().map(|r| r.id));
        match page.next {
            Some(c) => from = PageFrom::After(Cursor::decode(&c).unwrap()),
            None => return out,
        }
    }
}

/// Reads one list whole, then by offset, by cursor and backwards by cursor in pages of
/// `step`, and checks all four agree; answers whether the total was only a lower bound.
async fn pages_agree<S: Store>(
    store: &S,
    exam: Option<i64>,
    base: SessionFilter,
    step: u32,
) -> bool {
    let what = format!("{exam:?} {base:?}");
    let ids = |items: &[SessionRow]| items.iter().map(|r| r.id).collect::<Vec<_>>();
    let read = async |from: PageFrom, limit: u32| {
        let f = SessionFilter {
            from,
            limit,
            ..base.clone()
        };
        match exam {
            Some(e) => store.sessions(e, f).await,
            None => store.queue(CourseScope::All, f).await,
        }
        .unwrap()
    };
    let all = read(PageFrom::Start, 500).await;
    let mut want = ids(&all.items);
    let mut next = all.next.clone();
    while let Some(c) = next {
        let more = read(PageFrom::After(Cursor::decode(&c).unwrap()), 500).await;
        want.extend(ids(&more.items));
        next = more.next;
    }
    if all.at_least {
        assert!(
            want.len() as u64 >= all.total,
            "{what}: at least {}",
            all.total
        );
    } else {
        assert_eq!(want.len() as u64, all.total, "{what}");
    }
    let (mut by_offset, mut by_cursor) = (Vec::new(), Vec::new());
    let mut from = PageFrom::Start;
    loop {
        let page = read(from, step).await;
        assert_eq!(page.offset, by_cursor.len() as u64, "{what}");
        by_cursor.extend(ids(&page.items));
        match page.next {
            Some(c) => from = PageFrom::After(Cursor::decode(&c).unwrap()),
            None => break,
        }
        assert!(by_cursor.len() <= want.len(), "{what}: runs past the end");
    }
    for offset in (0..want.len() as u64).step_by(step as usize) {
        by_offset.extend(ids(&read(PageFrom::Offset(offset), step).await.items));
    }
    let mut backwards = Vec::new();
    let mut from = PageFrom::End;
    loop {
        let page = read(from, step).await;
        if !all.at_least {
            assert_eq!(
                page.offset + page.items.len() as u64,
                all.total - backwards.len() as u64,
                "{what}: the offset of a page read backwards"
            );
        }
        let mut got = ids(&page.items);
        got.extend(backwards);
        backwards = got;
        match page.prev {
            Some(c) => from = PageFrom::Before(Cursor::decode(&c).unwrap()),
            None => break,
        }
        assert!(backwards.len() <= want.len(), "{what}: runs past the start");
    }
    assert!(
        want.len() > 2 * step as usize,
        "{what}: long enough to page through"
    );
    assert_eq!(by_cursor, want, "{what}: forwards by cursor");
    assert_eq!(by_offset, want, "{what}: by offset");
    assert_eq!(backwards, want, "{what}: backwards from the end");
    all.at_least
}

macro_rules! backend {
    ($module:ident, $backend:expr) => {
        mod $module {
            use super::*;

            #[tokio::test]
            async fn counts_and_lists_agree() {
                super::counts_and_lists_agree($backend).await;
            }

            #[tokio::test]
            async fn a_decision_applies_once_records_history_and_queues_one_email() {
                super::a_decision_applies_once_records_history_and_queues_one_email($backend).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn concurrent_decisions_on_one_session_have_one_winner() {
                super::concurrent_decisions_on_one_session_have_one_winner($backend).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn decisions_at_once_stand_or_fall_each_alone() {
                super::decisions_at_once_stand_or_fall_each_alone($backend).await;
            }

            #[tokio::test]
            async fn a_learners_emails_go_out_one_at_a_time() {
                super::a_learners_emails_go_out_one_at_a_time($backend).await;
            }

            #[tokio::test]
            async fn jobs_retry_fail_and_come_back() {
                super::jobs_retry_fail_and_come_back($backend).await;
            }

            #[tokio::test]
            async fn search_folds_case_and_accents_in_every_script() {
                super::search_folds_case_and_accents_in_every_script($backend).await;
            }

            #[tokio::test]
            async fn cursor_and_offset_paging_agree() {
                super::cursor_and_offset_paging_agree($backend).await;
            }

            #[tokio::test]
            async fn kept_counts_equal_a_recount_after_any_decisions() {
                super::kept_counts_equal_a_recount_after_any_decisions($backend).await;
            }

            #[tokio::test]
            async fn retention_only_settled_evidence_past_its_period_goes() {
                super::retention::only_settled_evidence_past_its_period_goes($backend).await;
            }

            #[tokio::test]
            async fn tokens_and_grants() {
                super::tokens_and_grants($backend).await;
            }

            #[tokio::test]
            async fn lms_a_waiting_review_is_flagged_not_overwritten_by_the_lms() {
                super::lms::a_waiting_review_is_flagged_not_overwritten_by_the_lms($backend).await;
            }

            #[tokio::test]
            async fn lms_a_delivered_session_follows_the_lms_and_retirement_erases_the_learner() {
                super::lms::a_delivered_session_follows_the_lms_and_retirement_erases_the_learner(
                    $backend,
                )
                .await;
            }

            #[tokio::test]
            async fn lms_a_review_not_read_back_is_confirmed_at_the_next_sync() {
                super::lms::a_review_not_read_back_is_confirmed_at_the_next_sync($backend).await;
            }

            #[tokio::test]
            async fn lms_an_undo_restores_a_delivered_review_as_it_was() {
                super::lms::an_undo_restores_a_delivered_review_as_it_was($backend).await;
            }

            #[tokio::test]
            async fn lms_a_decision_s_callback_waits_out_the_grace_and_an_undo_cancels_it() {
                super::lms::a_decision_s_callback_waits_out_the_grace_and_an_undo_cancels_it(
                    $backend,
                )
                .await;
            }
        }
    };
}

/// SQLite in a temporary folder that lives as long as the test.
struct Sqlite(tempfile::TempDir);

impl Sqlite {
    fn new() -> Self {
        Self(tempfile::tempdir().expect("temp dir"))
    }
}

impl Backend for Sqlite {
    type S = proctor_review::store::sqlite::SqliteStore;
    async fn fresh(&self) -> Self::S {
        static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = self.0.path().join(format!("contract-{n}.sqlite3"));
        proctor_review::store::sqlite::SqliteStore::open(&path).expect("open")
    }

    fn search_tiers(&self, store: &Self::S, few: i64, several: i64) {
        store.set_search_tiers(few, several);
    }
}

backend!(sqlite, Sqlite::new());

/// PostgreSQL: each store in a database of its own, dropped with the backend.
struct Postgres(std::sync::Mutex<Vec<pg::TestDb>>);

impl Postgres {
    /// `None` when no PostgreSQL answers (and it is not required).
    async fn new() -> Option<Self> {
        // Answers now whether there is a server to use.
        let probe = pg::TestDb::create().await?;
        Some(Self(std::sync::Mutex::new(vec![probe])))
    }
}

impl Backend for Postgres {
    type S = proctor_review::store::postgres::PgStore;
    async fn fresh(&self) -> Self::S {
        let db = pg::TestDb::create().await.expect("a test database");
        let store = proctor_review::store::postgres::PgStore::connect(
            &db.url,
            std::time::Duration::from_secs(30),
        )
        .await
        .expect("connect");
        self.0.lock().expect("databases").push(db);
        store
    }

    fn search_tiers(&self, store: &Self::S, few: i64, several: i64) {
        store.set_search_tiers(few, several);
    }
}

backend!(
    postgres,
    match Postgres::new().await {
        Some(b) => b,
        None => return,
    }
);

/// Every row of a course's report, as the store hands them over.
async fn report<S: Store>(store: &S, course: &str) -> Vec<proctor_review::domain::ReportRow> {
    let rows = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let into = rows.clone();
    let n = store
        .report_rows(course.to_owned(), move |r| {
            into.lock().expect("rows").push(r);
            Ok(())
        })
        .await
        .unwrap();
    let rows = std::mem::take(&mut *rows.lock().expect("rows"));
    assert_eq!(
        n as usize,
        rows.len(),
        "the count is of the rows handed over"
    );
    rows
}

/// The Proctored Exam Results report reads the same rows, in the same order and with the
/// same comments, from both databases — over exams larger than a part, so PostgreSQL's
/// cursor and SQLite's keyset walk both go from part to part.
#[tokio::test]
async fn the_report_is_the_same_on_both_databases() {
    let Some(pg) = Postgres::new().await else {
        return;
    };
    // PostgreSQL is filled by `db copy`, which is quicker than seeding it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.sqlite3");
    let lite = proctor_review::store::sqlite::SqliteStore::open(&path).unwrap();
    lite.seed(demo::generate(9_000, demo::DEMO_SEED).unwrap())
        .await
        .unwrap();
    let pg = pg.fresh().await;
    pg.copy_from_sqlite(&path).await.unwrap();
    let course = "course-v1:MITx+6.0001x+2026_Fall";
    let (a, b) = (report(&lite, course).await, report(&pg, course).await);
    let mut by_exam = std::collections::HashMap::new();
    for r in &a {
        *by_exam.entry(&r.exam_name).or_insert(0usize) += 1;
    }
    let largest = by_exam.values().copied().max().unwrap_or(0);
    assert!(largest > 2_000, "an exam larger than a part: {largest}");
    assert!(
        a.iter().any(|r| !r.suspicious.is_empty())
            && a.iter().any(|r| !r.rules_violation.is_empty()),
        "comments of both kinds are read"
    );
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x, y, "row {i}");
    }
}

/// Transactions waiting for a lock (the history's, a session's) in the store's database.
async fn waiting(watcher: &tokio_postgres::Client) -> i64 {
    watcher
        .query_one(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

/// Runs `first`, then `second`, on the database at `url` while the decision history's lock
/// is held from outside, so that both line up for what they lock, `first` ahead; then lets
/// go and answers both outcomes.
async fn lined_up<A, B>(
    url: &str,
    first: impl Future<Output = Result<A, ReviewError>> + Send + 'static,
    second: impl Future<Output = Result<B, ReviewError>> + Send + 'static,
) -> [Option<ReviewError>; 2]
where
    A: Send + 'static,
    B: Send + 'static,
{
    let connect = || async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
    };
    let (holder, watcher) = (connect().await, connect().await);
    holder
        .batch_execute("BEGIN; SELECT pg_advisory_xact_lock(x'70726f63746f7201'::bigint)")
        .await
        .unwrap();
    let wait_for = |n: i64| {
        let watcher = &watcher;
        async move {
            for _ in 0..1_000 {
                if waiting(watcher).await >= n {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            panic!("{n} transactions never waited");
        }
    };
    let first = tokio::spawn(first);
    wait_for(1).await;
    let second = tokio::spawn(second);
    wait_for(2).await;
    holder.batch_execute("COMMIT").await.unwrap();
    [first.await.unwrap().err(), second.await.unwrap().err()]
}

/// Neither failed: each stood, or was refused for what the other did.
fn neither_failed(outcomes: [Option<ReviewError>; 2]) {
    for outcome in outcomes {
        assert!(
            matches!(
                outcome,
                None | Some(ReviewError::Store(
                    StoreError::Conflict(_) | StoreError::Decision(_)
                ))
            ),
            "{outcome:?}"
        );
    }
}

/// The test database of the store `pg` made last.
fn url_of(pg: &Postgres) -> String {
    pg.0.lock().unwrap().last().unwrap().url.clone()
}

/// A reviewer takes back a decision while another decides the same session again. Each
/// takes the session and the history in the same order, so neither fails: on PostgreSQL
/// the undo used to take the history first and the decision the session first, and when
/// each held what the other waited for, PostgreSQL broke the deadlock by failing one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_undo_and_a_decision_on_one_session_do_not_deadlock() {
    let Some(pg) = Postgres::new().await else {
        return;
    };
    let store = seeded(&pg).await;
    let ada = admin(&store, "ada").await;
    let s = attention(&store).await[0].clone();
    let grace = DecideSettings {
        undo_grace: time::Duration::minutes(10),
        ..settings()
    };
    let now = OffsetDateTime::now_utc();
    let failed = review::decide(&store, &ada, s.id, fail(&s, None), &grace, now)
        .await
        .unwrap();
    let again = DecisionInput {
        verdict: Verdict::Pass,
        expected_status: Some(failed.row.status),
        ..fail(&s, None)
    };
    let undo = {
        let (store, ada, grace) = (store.clone(), ada.clone(), grace.clone());
        async move { review::undo(&store, &ada, s.id, &grace, now).await }
    };
    let decide = async move { review::decide(&store, &ada, s.id, again, &grace, now).await };
    neither_failed(lined_up(&url_of(&pg), undo, decide).await);
}

/// Open edX's listing is reconciled while a reviewer decides one of its sessions: as with
/// an undo, the reconciliation takes its sessions before the history.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reconciliation_and_a_decision_on_one_session_do_not_deadlock() {
    let Some(pg) = Postgres::new().await else {
        return;
    };
    let store = pg.fresh().await;
    let (session, attempt) = lms::flagged(&store).await;
    let ada = admin(&store, "ada").await;
    let s = store.session(session).await.unwrap().row;
    let reconcile = {
        let store = store.clone();
        async move {
            let listing = vec![lms::remote(&attempt, "verified")];
            Ok(store
                .lms_reconcile("lms".into(), listing, OffsetDateTime::now_utc())
                .await?)
        }
    };
    let decide = async move {
        let now = OffsetDateTime::now_utc();
        review::decide(&store, &ada, s.id, fail(&s, None), &settings(), now).await
    };
    neither_failed(lined_up(&url_of(&pg), reconcile, decide).await);
}

/// Evidence past its period is deleted while a reviewer decides the session again: the
/// deletion, too, takes the session before the history.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_evidence_deletion_and_a_decision_on_one_session_do_not_deadlock() {
    use proctor_review::domain::retention::KeepFor;
    let Some(pg) = Postgres::new().await else {
        return;
    };
    let store = seeded(&pg).await;
    let ada = admin(&store, "ada").await;
    let s = attention(&store).await[0].clone();
    let now = OffsetDateTime::now_utc();
    let long_ago = now - time::Duration::days(200);
    let failed = review::decide(&store, &ada, s.id, fail(&s, None), &settings(), long_ago)
        .await
        .unwrap();
    let keep = Some(KeepFor { days: 180 });
    let expired = store.expired_evidence(now, keep).await.unwrap();
    let expired = expired
        .into_iter()
        .find(|e| e.session_id == s.id)
        .expect("the session's evidence is past its period");
    let delete = {
        let store = store.clone();
        async move { Ok(store.delete_expired(expired, now).await?) }
    };
    let again = DecisionInput {
        verdict: Verdict::Pass,
        expected_status: Some(failed.row.status),
        ..fail(&s, None)
    };
    let decide = async move { review::decide(&store, &ada, s.id, again, &settings(), now).await };
    neither_failed(lined_up(&url_of(&pg), delete, decide).await);
}
