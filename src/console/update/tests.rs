//! Key → action → state and effects, with no terminal and no network.

use super::update;
use crate::api::Page;
use crate::client::ClientError;
use crate::console::action::{Action, Effect, ListId};
use crate::console::fixtures::*;
use crate::console::state::{Pane, State, Tone};
use crate::console::theme::Theme;
use crate::domain::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[test]
fn opening_an_exam_loads_its_sessions_and_the_first_learner() {
    let mut s = State::new("http://test".into(), Theme::plain(), 80, 24);
    let fx = update(&mut s, Action::Start);
    assert!(fx.contains(&Effect::LoadMe));
    let fx = update(
        &mut s,
        Action::CoursesLoaded {
            request: 1,
            result: Ok(courses()),
        },
    );
    assert_eq!(
        s.quizzes.cursor, 0,
        "launch lands on the queue: there is work"
    );
    match &fx[..] {
        [Effect::LoadSessions { list, query, .. }] => {
            assert_eq!(*list, ListId::Queue, "the queue shows at once");
            assert!(!query.desc, "oldest waiting first");
        }
        other => panic!("{other:?}"),
    }
    update(&mut s, key('j'));
    let fx = update(&mut s, key('j'));
    match &fx[..] {
        [Effect::LoadSessions { list, query, .. }] => {
            assert_eq!(
                *list,
                ListId::Exam(2),
                "moving previews the exam under the cursor"
            );
            assert_eq!(query.offset, 0);
            assert!(query.status.is_empty() && query.q.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.focus, Pane::Quizzes);
    assert!(
        update(&mut s, code(KeyCode::Enter)).is_empty(),
        "already loaded"
    );
    assert_eq!(s.focus, Pane::Sessions);
    let s = opened();
    assert_eq!(s.detail.current().map(|d| d.row.id), Some(11));
    assert_eq!(s.sessions.rows.len(), 4);
}

#[test]
fn stale_answers_are_dropped_not_drawn_on_the_wrong_row() {
    let mut s = opened();
    // The reviewer narrows the list twice; only the answer to the last query may land.
    let first = only_request(&update(&mut s, key('a')));
    let second = only_request(&update(&mut s, key('a')));
    assert_ne!(first, second);
    let only_ra = Page {
        total: 1,
        offset: 0,
        items: vec![rows()[2].clone()],
        prev: None,
        next: None,
        at_least: false,
    };
    update(
        &mut s,
        Action::SessionsLoaded {
            request: first,
            result: Ok(only_ra),
        },
    );
    assert_eq!(
        s.sessions.rows.len(),
        4,
        "a superseded answer changed the list"
    );

    // Moving on while a detail is loading: the late answer for the old row is ignored.
    let r1 = detail_request(&update(&mut s, key('j')), 12);
    let r2 = detail_request(&update(&mut s, key('j')), 13);
    update(
        &mut s,
        Action::DetailLoaded {
            request: r1,
            result: Ok(detail(&rows()[1])),
        },
    );
    assert!(s.detail.current().is_none());
    update(
        &mut s,
        Action::DetailLoaded {
            request: r2,
            result: Ok(detail(&rows()[2])),
        },
    );
    assert_eq!(s.detail.current().map(|d| d.row.id), Some(13));
}

#[test]
fn fail_confirms_with_the_consequences_and_names_the_session_on_screen() {
    let mut s = opened();
    assert!(update(&mut s, key('f')).is_empty());
    let d = s.dialog.as_ref().expect("confirmation open");
    assert_eq!(d.session, 11);
    assert_eq!(
        d.consequences,
        vec![
            "status Require Attention → Failed",
            "grade 17/20 → 0/20",
            "learner emailed: did not pass the proctoring review"
        ]
    );
    // Letters type into the reason; `q` does not quit here.
    for c in "quiet phone".chars() {
        assert!(!update(&mut s, key(c)).contains(&Effect::Quit));
    }
    // A refresh reorders the list underneath the dialog; the decision still names session 11.
    let mut reordered = rows();
    reordered.reverse();
    let request = s.request_id();
    s.sessions.request = Some(request);
    update(&mut s, first_page(request, reordered));
    let fx = update(&mut s, code(KeyCode::Enter));
    match &fx[..] {
        [Effect::Decide { session, body, .. }] => {
            assert_eq!(*session, 11);
            assert_eq!(body.verdict, Verdict::Fail);
            assert_eq!(body.reason, "quiet phone");
            assert_eq!(
                body.expected_status,
                Some(AttemptStatus::SecondReviewRequired)
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        update(&mut s, code(KeyCode::Enter)).is_empty(),
        "no double submit"
    );
}

#[test]
fn after_a_decision_the_cursor_moves_to_the_next_require_attention_session() {
    let mut s = opened();
    update(&mut s, key('f'));
    let fx = update(&mut s, code(KeyCode::Enter));
    let Effect::Decide { request, .. } = fx[0].clone() else {
        panic!()
    };
    let mut failed = detail(&rows()[0]);
    failed.row.status = AttemptStatus::Rejected;
    failed.grade_in_force = Some(Grade {
        earned: 0.0,
        possible: 20.0,
    });
    let fx = update(
        &mut s,
        Action::Decided {
            request,
            session: 11,
            result: Ok(failed),
        },
    );
    assert!(s.dialog.is_none());
    assert_eq!(s.sessions.rows[0].status, AttemptStatus::Rejected);
    assert_eq!(
        s.sessions.selected().map(|r| r.id),
        Some(13),
        "skips the Passed row"
    );
    detail_request(&fx, 13);
    assert!(
        fx.iter().any(|e| matches!(e, Effect::LoadCourses { .. })),
        "counts refresh"
    );
    let status = s.status.clone().unwrap();
    assert_eq!(status.tone, Tone::Success);
    assert!(
        status.text.starts_with("✘ Failed Ana, grade 0/20"),
        "{}",
        status.text
    );
}

#[test]
fn a_refused_send_keeps_the_dialog_and_the_reason_for_a_retry() {
    let mut s = opened();
    update(&mut s, key('p'));
    update(&mut s, Action::Paste("looks\nfine\u{1b}[2J".into()));
    let fx = update(&mut s, code(KeyCode::Enter));
    let Effect::Decide { request, .. } = fx[0].clone() else {
        panic!()
    };
    update(
        &mut s,
        Action::Decided {
            request,
            session: 11,
            result: Err(ClientError::Rejected("reason is too long".into())),
        },
    );
    let d = s.dialog.as_ref().expect("dialog still open");
    assert_eq!(
        d.reason.value(),
        "looks fine [2J",
        "pasted control characters are dropped"
    );
    assert!(d.error.as_deref().unwrap().contains("too long"));
    assert!(
        s.status
            .as_ref()
            .unwrap()
            .text
            .contains("Pass not recorded")
    );
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(
        matches!(&fx[..], [Effect::Decide { session: 11, .. }]),
        "Enter retries"
    );
}

/// The answer to a decision is lost (timeout, dropped connection, server killed after
/// commit): the console never claims either outcome. It asks again with the same
/// idempotency key until the server says what is true.
#[test]
fn a_lost_answer_is_outcome_unknown_and_checked_with_the_same_key() {
    let mut s = opened();
    update(&mut s, key('f'));
    let Effect::Decide { request, body, .. } = update(&mut s, code(KeyCode::Enter))[0].clone()
    else {
        panic!()
    };
    let key = body
        .idempotency_key
        .clone()
        .expect("every decision carries a key");
    let fx = update(
        &mut s,
        Action::Decided {
            request,
            session: 11,
            result: Err(ClientError::Timeout),
        },
    );
    let [
        Effect::Decide {
            request: again,
            body: again_body,
            delay_ms,
            ..
        },
    ] = &fx[..]
    else {
        panic!("asks again: {fx:?}")
    };
    assert_eq!(again_body.idempotency_key.as_deref(), Some(key.as_str()));
    assert_eq!(*delay_ms, 1000);
    let status = &s.status.as_ref().unwrap().text;
    assert!(status.contains("outcome unknown"), "{status}");
    assert!(!status.contains("not sent") && !status.contains("nothing changed"));
    let d = s.dialog.as_ref().unwrap();
    assert_eq!(d.checking, Some(0));
    assert!(d.error.as_deref().unwrap().contains("Outcome unknown"));

    // Still no answer: asks again, later.
    let fx = update(
        &mut s,
        Action::Decided {
            request: *again,
            session: 11,
            result: Err(ClientError::Unreachable {
                url: "http://test".into(),
                reason: "connection reset".into(),
            }),
        },
    );
    let [
        Effect::Decide {
            request: third,
            delay_ms: 2000,
            ..
        },
    ] = &fx[..]
    else {
        panic!("{fx:?}")
    };
    // The server answers: the truth is shown.
    let mut detail = detail(&rows()[0]);
    detail.row.status = crate::domain::AttemptStatus::Rejected;
    update(
        &mut s,
        Action::Decided {
            request: *third,
            session: 11,
            result: Ok(detail),
        },
    );
    assert!(s.dialog.is_none());
    let status = &s.status.as_ref().unwrap().text;
    assert!(
        status.contains("Failed") && status.contains("Confirmed"),
        "{status}"
    );
}

#[test]
fn esc_while_checking_never_says_nothing_changed() {
    let mut s = opened();
    update(&mut s, key('f'));
    let Effect::Decide { request, .. } = update(&mut s, code(KeyCode::Enter))[0].clone() else {
        panic!()
    };
    update(
        &mut s,
        Action::Decided {
            request,
            session: 11,
            result: Err(ClientError::Timeout),
        },
    );
    let fx = update(&mut s, code(KeyCode::Esc));
    assert!(s.dialog.is_none());
    let status = &s.status.as_ref().unwrap().text;
    assert!(
        status.contains("unknown") && !status.contains("nothing changed"),
        "{status}"
    );
    assert!(
        matches!(&fx[..], [Effect::LoadDetail { session: 11, .. }]),
        "{fx:?}"
    );
}

#[test]
fn a_conflict_closes_the_dialog_and_reloads_the_session() {
    let mut s = opened();
    update(&mut s, key('f'));
    let Effect::Decide { request, .. } = update(&mut s, code(KeyCode::Enter))[0].clone() else {
        panic!()
    };
    let fx = update(
        &mut s,
        Action::Decided {
            request,
            session: 11,
            result: Err(ClientError::Conflict(
                "the session is already Failed".into(),
            )),
        },
    );
    assert!(s.dialog.is_none());
    detail_request(&fx, 11);
    assert!(s.status.unwrap().text.contains("already Failed"));
}

#[test]
fn decisions_that_cannot_apply_say_why_without_a_dialog() {
    let mut s = opened();
    update(&mut s, key('j'));
    assert!(update(&mut s, key('p')).is_empty());
    assert!(s.dialog.is_none(), "detail not loaded yet");
    assert!(
        s.status
            .as_ref()
            .unwrap()
            .text
            .contains("the Pass opens when it is here")
    );
    let request = s.detail.request.unwrap();
    update(
        &mut s,
        Action::DetailLoaded {
            request,
            result: Ok(detail(&rows()[1])),
        },
    );
    // The Pass pressed while it loaded is taken up: this one is already Passed.
    assert!(s.dialog.is_none());
    assert!(s.status.unwrap().text.contains("already Passed"));
}

#[test]
fn a_fail_pressed_while_the_session_loads_opens_once_it_is_here() {
    let mut s = opened();
    update(&mut s, key('j'));
    update(&mut s, key('j'));
    update(&mut s, key('f'));
    assert!(s.dialog.is_none());
    let request = s.detail.request.unwrap();
    let id = s.sessions.selected().unwrap().id;
    let row = rows().into_iter().find(|r| r.id == id).unwrap();
    update(
        &mut s,
        Action::DetailLoaded {
            request,
            result: Ok(detail(&row)),
        },
    );
    let d = s.dialog.as_ref().expect("the dialog opened by itself");
    assert_eq!((d.session, d.verdict), (id, Verdict::Fail));
}

#[test]
fn a_read_only_course_says_so_instead_of_opening_a_dialog() {
    let mut s = opened();
    s.quizzes.courses[0].access = Some(crate::domain::access::Access::Read);
    assert!(update(&mut s, key('f')).is_empty());
    assert!(s.dialog.is_none());
    let said = s.status.unwrap().text;
    assert!(said.contains("Read-only access to this course"), "{said}");
}

/// Fails the first row with a grace period ending at `until`; the effects of the answer.
fn fail_with_undo(s: &mut State, until: time::OffsetDateTime) -> Vec<Effect> {
    update(s, key('f'));
    let fx = update(s, code(KeyCode::Enter));
    let Effect::Decide { request, .. } = fx[0].clone() else {
        panic!()
    };
    let mut failed = detail(&rows()[0]);
    failed.row.status = AttemptStatus::Rejected;
    failed.undo_until = Some(until);
    update(
        s,
        Action::Decided {
            request,
            session: 11,
            result: Ok(failed),
        },
    )
}

#[test]
fn u_undoes_a_decision_while_its_countdown_runs() {
    let t0 = time::macros::datetime!(2026-11-26 10:00 UTC);
    let mut s = opened();
    let fx = fail_with_undo(&mut s, t0 + time::Duration::seconds(30));
    assert!(fx.contains(&Effect::Tick { delay_ms: 0 }));
    assert_eq!(
        update(&mut s, Action::Tick(t0)),
        [Effect::Tick { delay_ms: 1000 }]
    );
    assert_eq!(s.undo.as_ref().unwrap().seconds_left(s.now), Some(30));
    update(&mut s, Action::Tick(t0 + time::Duration::seconds(3)));
    assert_eq!(s.undo.as_ref().unwrap().seconds_left(s.now), Some(27));

    // Another key's message replaces the decision's; u still works.
    let fx = update(&mut s, key('u'));
    let [
        Effect::Undo {
            request,
            session: 11,
        },
    ] = fx[..]
    else {
        panic!("{fx:?}")
    };
    assert!(update(&mut s, key('u')).is_empty(), "one undo at a time");
    let back = detail(&rows()[0]);
    let fx = update(
        &mut s,
        Action::Undone {
            request,
            result: Ok(back),
        },
    );
    assert!(s.undo.is_none());
    assert_eq!(
        s.sessions.rows[0].status,
        AttemptStatus::SecondReviewRequired
    );
    assert!(
        fx.iter().any(|e| matches!(e, Effect::LoadCourses { .. })),
        "counts refresh"
    );
    let said = s.status.clone().unwrap().text;
    assert!(
        said.starts_with("↶ Undid the Fail of Ana: nobody was told"),
        "{said}"
    );
}

#[test]
fn after_the_grace_period_u_says_the_way_back_is_a_new_decision() {
    let t0 = time::macros::datetime!(2026-11-26 10:00 UTC);
    let mut s = opened();
    fail_with_undo(&mut s, t0 + time::Duration::seconds(30));
    assert!(update(&mut s, Action::Tick(t0 + time::Duration::seconds(30))).is_empty());
    assert!(s.undo.is_none(), "the countdown stops");
    assert!(update(&mut s, key('u')).is_empty());
    assert!(s.status.unwrap().text.contains("a new decision"));
}

#[test]
fn a_refused_decision_refreshes_the_counts_too() {
    let mut s = opened();
    update(&mut s, key('f'));
    let fx = update(&mut s, code(KeyCode::Enter));
    let Effect::Decide { request, .. } = fx[0].clone() else {
        panic!()
    };
    let fx = update(
        &mut s,
        Action::Decided {
            request,
            session: 11,
            result: Err(ClientError::Conflict("someone else decided".into())),
        },
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadCourses { .. })));
}

fn change(session: i64, reviewer: &str, verdict: Verdict) -> crate::api::ChangeEvent {
    crate::api::ChangeEvent {
        id: 7,
        kind: crate::api::ChangeKind::Decision,
        session_id: session,
        exam_id: 1,
        course_id: "course-v1:TestX+T1+2026".into(),
        learner: "Ana".into(),
        status: AttemptStatus::Rejected,
        reviewer: Some(reviewer.into()),
        verdict: Some(verdict),
        delivery: None,
        note: None,
    }
}

fn delivered(
    session: i64,
    kind: crate::api::ChangeKind,
    how: crate::api::Delivery,
) -> crate::api::ChangeEvent {
    crate::api::ChangeEvent {
        kind,
        reviewer: None,
        verdict: None,
        delivery: Some(how),
        note: (how != crate::api::Delivery::Delivered).then(|| "550 no such mailbox".into()),
        ..change(session, "", Verdict::Fail)
    }
}

#[test]
fn an_email_delivered_after_the_undo_window_replaces_queued_on_the_status_bar() {
    use crate::api::{ChangeKind, Delivery};
    let mut s = opened();
    s.reviewer = Some("me".into());
    update(&mut s, key('f'));
    s.say(Tone::Success, "✘ Failed Ana, grade 0, learner email queued");
    let fx = update(
        &mut s,
        Action::Changed(delivered(11, ChangeKind::Email, Delivery::Delivered)),
    );
    assert_eq!(
        s.status.as_ref().unwrap().text,
        "✉ Learner email to Ana delivered"
    );
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::LoadDetail { session: 11, .. })),
        "the open session's History is reloaded"
    );
    assert!(
        s.dialog.as_ref().and_then(|d| d.error.clone()).is_none(),
        "a delivery does not make a decision in progress stale"
    );
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::LoadCourses { .. })),
        "no counts moved"
    );

    update(
        &mut s,
        Action::Changed(delivered(11, ChangeKind::Email, Delivery::Failed)),
    );
    let bar = s.status.clone().unwrap();
    assert_eq!(bar.tone, Tone::Error);
    assert!(
        bar.text.contains("550 no such mailbox") && bar.text.contains("mail retry"),
        "{}",
        bar.text
    );

    update(
        &mut s,
        Action::Changed(delivered(11, ChangeKind::OpenEdx, Delivery::Failed)),
    );
    assert!(s.status.as_ref().unwrap().text.contains("R sends it again"));
    update(
        &mut s,
        Action::Changed(delivered(11, ChangeKind::OpenEdx, Delivery::Changed)),
    );
    assert!(
        s.dialog.as_ref().and_then(|d| d.error.clone()).is_some(),
        "Open edX changing the attempt does make it stale"
    );
}

#[test]
fn a_colleagues_decision_shows_at_once_on_the_row_the_counts_and_the_open_session() {
    let mut s = opened();
    s.reviewer = Some("me".into());
    update(&mut s, key('f'));
    let fx = update(&mut s, Action::Changed(change(11, "ada", Verdict::Fail)));
    assert_eq!(s.sessions.rows[0].status, AttemptStatus::Rejected);
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadCourses { .. })));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::LoadDetail { session: 11, .. })),
        "the open session is reloaded before any key"
    );
    assert_eq!(s.status.as_ref().unwrap().text, "ada failed Ana just now");
    let warned = s.dialog.as_ref().and_then(|d| d.error.clone()).unwrap();
    assert!(warned.contains("would be refused"), "{warned}");
    // Its email delivered a moment later: the line keeps who decided.
    update(
        &mut s,
        Action::Changed(delivered(
            11,
            crate::api::ChangeKind::Email,
            crate::api::Delivery::Delivered,
        )),
    );
    assert_eq!(
        s.status.as_ref().unwrap().text,
        "ada failed Ana just now · ✉ learner email delivered"
    );

    // One's own decisions, echoed back, say nothing new.
    let mut s = opened();
    s.reviewer = Some("me".into());
    let before = s.status.clone();
    update(&mut s, Action::Changed(change(12, "me", Verdict::Pass)));
    assert_eq!(s.status, before);
}

#[test]
fn when_the_server_is_lost_the_screen_keeps_its_rows_and_counts_down_to_reconnecting() {
    let mut s = opened();
    assert_eq!(
        update(&mut s, Action::Live(true)),
        [Effect::LoadClaims],
        "who is on which learner, as of the stream's start"
    );
    let fx = update(&mut s, Action::Live(false));
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadCourses { .. })));
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadSessions { .. })));
    assert!(s.status.as_ref().unwrap().text.contains("Lost the server"));
    let now = time::OffsetDateTime::now_utc();
    let fx = update(
        &mut s,
        Action::Reconnecting(now + time::Duration::seconds(4)),
    );
    assert_eq!(fx, vec![Effect::Tick { delay_ms: 0 }], "the clock starts");
    assert!(
        update(
            &mut s,
            Action::Reconnecting(now + time::Duration::seconds(8))
        )
        .is_empty(),
        "one clock at a time"
    );
    assert_eq!(
        update(&mut s, Action::Tick(now)),
        vec![Effect::Tick { delay_ms: 1000 }]
    );

    // The refresh made while away fails: the rows stay and no error replaces the words.
    let rows_before = s.sessions.rows.clone();
    let Some(request) = s.sessions.request else {
        panic!("a reload is on its way")
    };
    update(
        &mut s,
        Action::SessionsLoaded {
            request,
            result: Err(crate::client::ClientError::Unreachable {
                url: "http://x".into(),
                reason: "connection refused".into(),
            }),
        },
    );
    assert_eq!(s.sessions.rows, rows_before);
    assert!(s.status.as_ref().unwrap().text.contains("Lost the server"));

    update(&mut s, Action::Live(true));
    assert_eq!(s.status.clone().unwrap().text, "Live updates are back.");
    assert!(
        update(&mut s, Action::Tick(now)).is_empty(),
        "the clock stops with nothing to count"
    );
}

#[test]
fn after_the_last_session_of_an_exam_enter_goes_on_to_the_next_exam_with_work() {
    let mut s = opened();
    for id in [11, 13] {
        assert_eq!(s.sessions.selected().map(|r| r.id), Some(id));
        update(&mut s, key('f'));
        let fx = update(&mut s, code(KeyCode::Enter));
        let Effect::Decide { request, .. } = fx[0].clone() else {
            panic!()
        };
        let mut failed = detail(&s.sessions.rows[s.sessions.cursor].clone());
        failed.row.status = AttemptStatus::Rejected;
        let fx = update(
            &mut s,
            Action::Decided {
                request,
                session: id,
                result: Ok(failed),
            },
        );
        if id == 11 {
            let request = detail_request(&fx, 13);
            update(
                &mut s,
                Action::DetailLoaded {
                    request,
                    result: Ok(detail(&rows()[2])),
                },
            );
        }
    }
    let said = s.status.clone().unwrap().text;
    assert!(
        said.ends_with("no more here; Final has 2: Enter to go"),
        "{said}"
    );
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(
        matches!(
            &fx[..],
            [Effect::LoadSessions {
                list: ListId::Exam(2),
                ..
            }]
        ),
        "{fx:?}"
    );
    assert_eq!(s.focus, Pane::Sessions);
    assert!(s.next_exam.is_none(), "offered once");
}

#[test]
fn search_reloads_as_you_type_and_escape_clears_it() {
    let mut s = opened();
    update(&mut s, key('/'));
    assert!(s.sessions.searching);
    let fx = update(&mut s, key('c'));
    match &fx[..] {
        [Effect::LoadSessions { query, .. }] => assert_eq!(query.q, "c"),
        other => panic!("{other:?}"),
    }
    update(&mut s, key('h'));
    assert_eq!(
        s.sessions.search.value(),
        "ch",
        "h types, it does not go back"
    );
    let fx = update(&mut s, code(KeyCode::Esc));
    assert!(matches!(&fx[..], [Effect::LoadSessions { query, .. }] if query.q.is_empty()));
    assert!(!s.sessions.searching);
}

#[test]
fn sorting_starts_in_the_direction_a_reviewer_expects() {
    let mut s = opened();
    let mut seen = Vec::new();
    for _ in 0..6 {
        match &update(&mut s, key('s'))[..] {
            [Effect::LoadSessions { query, .. }] => seen.push((query.sort.label(), query.desc)),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        seen,
        [
            ("learner", false),
            ("username", false),
            ("violations", true),
            ("duration", true),
            ("status", false),
            ("started", true)
        ]
    );
    match &update(&mut s, key('S'))[..] {
        [Effect::LoadSessions { query, .. }] => assert!(!query.desc, "S reverses"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_list_fetches_the_next_page_as_the_cursor_nears_the_end() {
    let mut s = opened();
    let request = s.request_id();
    s.sessions.request = Some(request);
    let first: Vec<_> = (0..200)
        .map(|i| row(100 + i, "P", AttemptStatus::Verified))
        .collect();
    let fx = update(&mut s, page_of(request, 0, first, 450));
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::LoadSessions { .. })),
        "cursor is at the top"
    );
    // End would jump to the true end; walking there fetches the next page on the way.
    s.sessions.cursor = 198;
    let fx = update(&mut s, key('j'));
    let (request, after) = fx
        .iter()
        .find_map(|e| match e {
            Effect::LoadSessions { request, query, .. } => Some((*request, query.after.clone())),
            _ => None,
        })
        .expect("next page requested");
    assert_eq!(after, "at199", "the rows after the last one loaded");
    let more: Vec<_> = (0..200)
        .map(|i| row(300 + i, "Q", AttemptStatus::Verified))
        .collect();
    update(&mut s, page_of(request, 200, more, 450));
    assert_eq!(s.sessions.rows.len(), 400);
    assert_eq!(
        s.sessions.selected().map(|r| r.id),
        Some(299),
        "the cursor stays on its row"
    );
}

#[test]
fn detail_scrolling_stops_when_the_last_line_is_on_screen() {
    let mut s = opened();
    update(&mut s, Action::Resize(80, 24));
    update(&mut s, code(KeyCode::Enter));
    for _ in 0..500 {
        update(&mut s, key('j'));
    }
    let max = s.detail.scroll;
    assert!(max > 5 && max < 40, "{max}");
    update(&mut s, key('k'));
    assert_eq!(s.detail.scroll, max - 1, "one key back up is one line");
}

/// The effect `o` asks for, and what the status bar says.
fn press_open(s: &mut State) -> Vec<Effect> {
    update(s, key('o'))
        .into_iter()
        .filter(|e| matches!(e, Effect::Open { .. }))
        .collect()
}

/// What the status bar says now.
fn status_text(s: &State) -> String {
    s.status
        .as_ref()
        .map(|l| l.text.clone())
        .unwrap_or_default()
}

/// Presses `o` and answers it with `result`, as the runner would.
fn open_answered(s: &mut State, result: Result<(), String>) {
    let request = match &press_open(s)[..] {
        [Effect::Open { request, .. }] => *request,
        other => panic!("{other:?}"),
    };
    update(
        s,
        Action::Opened {
            request,
            session: 11,
            kind: MediaKind::Video,
            result,
        },
    );
}

#[test]
fn tabs_switch_by_number_and_brackets_and_each_keeps_its_selection() {
    let mut s = opened();
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.detail.tab, crate::console::state::Tab::ExamData);
    update(&mut s, key(']'));
    assert_eq!(s.detail.tab.title(), "Video Monitoring");
    update(&mut s, key('['));
    update(&mut s, key('['));
    assert_eq!(s.detail.tab.title(), "History", "[ wraps around");
    update(&mut s, key('3'));
    assert_eq!(s.detail.tab.title(), "Online Violations");
    for _ in 0..9 {
        update(&mut s, key('j'));
    }
    assert_eq!(
        s.detail.pick(),
        2,
        "the selection stops at the last violation"
    );
    update(&mut s, key('4'));
    assert_eq!(s.detail.pick(), 0);
    update(&mut s, key('j'));
    update(&mut s, key('3'));
    assert_eq!(s.detail.pick(), 2, "each tab keeps its own selection");
    // Another learner starts at the top again.
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, key('j'));
    assert_eq!(s.detail.picks, [0; 6]);
}

#[test]
fn o_opens_the_clip_of_the_selected_violation_at_the_flagged_moment() {
    let mut s = opened();
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, key('3'));
    match &press_open(&mut s)[..] {
        [
            Effect::Open {
                session,
                media,
                kind,
                fragment,
                ..
            },
        ] => {
            assert_eq!((*session, *media, *kind), (11, 1101, MediaKind::Video));
            assert_eq!(fragment.as_deref(), Some("#t=4,12"));
        }
        other => panic!("{other:?}"),
    }
    assert!(s.loading(), "the status bar shows the open is under way");
    // The second violation has no clip: its screenshot opens, without a fragment.
    update(&mut s, key('j'));
    match &press_open(&mut s)[..] {
        [
            Effect::Open {
                media,
                kind,
                fragment: None,
                ..
            },
        ] => {
            assert_eq!((*media, *kind), (1104, MediaKind::Screenshot));
        }
        other => panic!("{other:?}"),
    }
    update(&mut s, key('6'));
    assert!(press_open(&mut s).is_empty());
    let said = status_text(&s);
    assert!(said.contains("Nothing to open on this tab"), "{said}");
}

#[test]
fn y_copies_a_link_to_the_flagged_moment_where_no_viewer_opens_it() {
    let mut s = opened();
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, key('3'));
    // Over SSH nothing opens: the message says what to press instead.
    open_answered(&mut s, Err("no viewer could be started".into()));
    let said = status_text(&s);
    assert!(
        said.contains("Space plays it here, y copies its link"),
        "{said}"
    );
    let first = match &update(&mut s, key('y'))[..] {
        [
            Effect::LinkFor {
                request,
                media,
                fragment,
                ..
            },
        ] => {
            assert_eq!((*media, fragment.as_deref()), (1101, Some("#t=4,12")));
            *request
        }
        other => panic!("{other:?}"),
    };
    // Asked again before the first answer: only the newest link is copied.
    let second = match &update(&mut s, key('y'))[..] {
        [Effect::LinkFor { request, .. }] => *request,
        other => panic!("{other:?}"),
    };
    let link = "http://127.0.0.1:1/media/1101?sig=abc#t=4,12";
    let answer = |request| Action::LinkReady {
        request,
        kind: MediaKind::Video,
        result: Ok(link.into()),
    };
    assert!(update(&mut s, answer(first)).is_empty());
    assert_eq!(
        update(&mut s, answer(second)),
        vec![Effect::Clipboard(link.into())]
    );
    let said = status_text(&s);
    assert!(said.contains("Copied a link to the video"), "{said}");
    assert!(
        s.messages.iter().any(|m| m.text == link),
        "the log keeps the link for terminals that ignore the clipboard"
    );
}

#[test]
fn the_confirmation_names_the_evidence_and_whether_the_video_was_seen() {
    let mut s = opened();
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, key('f'));
    let evidence = s.dialog.as_ref().map(|d| d.evidence.clone()).unwrap();
    assert_eq!(
        evidence,
        "3 violations: 1 Rules Violation, 2 Suspicious; video not watched; 1 scan without a match"
    );
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, key('3'));
    open_answered(&mut s, Ok(()));
    assert_eq!(s.status.as_ref().map(|l| l.tone), Some(Tone::Success));
    update(&mut s, key('f'));
    let evidence = s.dialog.as_ref().map(|d| d.evidence.clone()).unwrap();
    assert!(evidence.contains("; video watched"), "{evidence}");
}

#[test]
fn the_preview_follows_the_selection_and_drops_stale_answers() {
    let mut s = opened();
    update(&mut s, code(KeyCode::Enter));
    let fx = update(&mut s, key('3'));
    let first = match &fx[..] {
        [
            Effect::LoadPreview {
                request,
                media,
                cols,
                rows,
            },
        ] => {
            assert_eq!(*media, 1103, "the selected violation's screenshot");
            assert!(*cols >= 20 && *rows >= 10, "{cols}x{rows}");
            *request
        }
        other => panic!("{other:?}"),
    };
    let fx = update(&mut s, key('j'));
    let second = match &fx[..] {
        [Effect::LoadPreview { request, media, .. }] => {
            assert_eq!(*media, 1104);
            *request
        }
        other => panic!("{other:?}"),
    };
    let image = blank_image;
    update(
        &mut s,
        Action::PreviewLoaded {
            request: first,
            result: Ok(image()),
        },
    );
    assert!(
        s.detail.preview.as_ref().is_some_and(|p| p.image.is_none()),
        "a stale image is dropped"
    );
    update(
        &mut s,
        Action::PreviewLoaded {
            request: second,
            result: Ok(image()),
        },
    );
    assert!(s.detail.preview.as_ref().is_some_and(|p| p.image.is_some()));
    // Same image, same size: nothing is fetched again.
    assert!(update(&mut s, Action::Resize(120, 40)).is_empty());
    // A new size re-fits it; a row without an image has no preview.
    let fx = update(&mut s, Action::Resize(100, 40));
    assert!(
        matches!(&fx[..], [Effect::LoadPreview { media: 1104, .. }]),
        "{fx:?}"
    );
    update(&mut s, key('j'));
    assert!(s.detail.preview.is_none());
    s.images = false;
    update(&mut s, key('k'));
    assert!(s.detail.preview.is_none(), "no previews when they are off");
}

#[test]
fn panes_and_quitting() {
    let mut s = opened();
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.focus, Pane::Detail);
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.focus, Pane::Sessions);
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(s.focus, Pane::Detail);
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(s.focus, Pane::Quizzes);
    update(&mut s, key('?'));
    assert!(s.overlay.is_some());
    let fx = update(&mut s, key('q'));
    assert!(s.overlay.is_none() && fx.is_empty(), "q closes help first");
    let fx = update(
        &mut s,
        Action::Key(KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL)),
    );
    assert_eq!(fx, [Effect::Suspend], "Ctrl-z asks the loop to suspend");
    update(&mut s, key('f'));
    let fx = update(
        &mut s,
        Action::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    );
    assert_eq!(fx, [Effect::Quit]);
}

#[test]
fn any_key_sequence_keeps_the_state_consistent() {
    let keys = [
        code(KeyCode::Up),
        code(KeyCode::Down),
        code(KeyCode::Enter),
        code(KeyCode::Esc),
        code(KeyCode::Tab),
        code(KeyCode::BackTab),
        code(KeyCode::PageDown),
        code(KeyCode::PageUp),
        code(KeyCode::Home),
        code(KeyCode::End),
        code(KeyCode::Backspace),
        key('j'),
        key('k'),
        key('f'),
        key('p'),
        key('/'),
        key('a'),
        key('s'),
        key('?'),
        key('x'),
        Action::Paste("é\u{1b}".into()),
        Action::Resize(80, 24),
        Action::Resize(200, 60),
    ];
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..200 {
        let mut s = opened();
        for _ in 0..60 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let action = keys[(seed % keys.len() as u64) as usize].clone();
            for effect in update(&mut s, action) {
                assert_ne!(effect, Effect::Quit, "none of these keys quits");
                if let Effect::Decide { session, .. } = effect {
                    assert!(
                        s.sessions.rows.iter().any(|r| r.id == session),
                        "decision for a session not listed"
                    );
                }
            }
            assert!(s.sessions.rows.is_empty() || s.sessions.cursor < s.sessions.rows.len());
            assert!(s.quizzes.cursor < s.quizzes.entry_count().max(1));
            if let Some(d) = &s.dialog {
                assert_eq!(Some(d.session), s.sessions.selected().map(|r| r.id));
            }
        }
    }
}

#[test]
fn reports_update_live_while_a_task_runs_and_warn_once_before_a_download() {
    let mut s = opened();
    update(&mut s, code(KeyCode::Esc));
    let fx = update(&mut s, key('R'));
    let request = match &fx[..] {
        [
            Effect::LoadReports {
                request,
                course,
                delay_ms: 0,
            },
        ] => {
            assert_eq!(course, "course-v1:TestX+T1+2026");
            *request
        }
        other => panic!("{other:?}"),
    };
    assert!(matches!(
        &update(&mut s, key('n'))[..],
        [Effect::StartReport { .. }]
    ));
    let list = crate::api::ReportList {
        pending: vec![report_job(3, JobState::Running)],
        available: vec![report_job(2, JobState::Done), report_job(1, JobState::Done)],
    };
    let fx = update(
        &mut s,
        Action::ReportsLoaded {
            request,
            result: Ok(list.clone()),
        },
    );
    let again = match &fx[..] {
        [
            Effect::LoadReports {
                request, delay_ms, ..
            },
        ] => {
            assert!(*delay_ms > 0, "polls again while a task is pending");
            *request
        }
        other => panic!("{other:?}"),
    };
    let done = crate::api::ReportList {
        pending: vec![],
        ..list
    };
    assert!(
        update(
            &mut s,
            Action::ReportsLoaded {
                request: again,
                result: Ok(done)
            }
        )
        .is_empty(),
        "and stops when none is"
    );
    update(&mut s, key('j'));
    assert_eq!(
        s.reports.as_ref().and_then(|r| r.selected()).map(|j| j.id),
        Some(1)
    );
    // The first Enter warns; the second downloads; later downloads do not warn again.
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    assert!(s.reports.as_ref().is_some_and(|r| r.warning));
    match &update(&mut s, code(KeyCode::Enter))[..] {
        [Effect::DownloadReport { job, dir, .. }] => {
            assert_eq!(job.id, 1);
            assert_eq!(dir, &s.export_dir);
        }
        other => panic!("{other:?}"),
    }
    update(&mut s, key('k'));
    assert!(matches!(
        &update(&mut s, code(KeyCode::Enter))[..],
        [Effect::DownloadReport { .. }]
    ));
    update(&mut s, code(KeyCode::Esc));
    assert!(s.reports.is_none(), "Esc closes Reports");
}

#[test]
fn e_exports_the_session_on_screen_and_capital_e_the_list_as_queried() {
    let mut s = opened();
    // The session has clips: e asks first; Esc exports nothing, c takes them, e leaves them.
    assert!(update(&mut s, key('e')).is_empty());
    assert!(
        s.status
            .as_ref()
            .is_some_and(|l| l.text.contains("with them"))
    );
    assert!(update(&mut s, code(KeyCode::Esc)).is_empty());
    assert!(s.export_ask.is_none() && !s.loading());
    update(&mut s, key('e'));
    match &update(&mut s, key('c'))[..] {
        [Effect::ExportSession { clips, .. }] => assert!(*clips),
        other => panic!("{other:?}"),
    }
    update(&mut s, key('e'));
    match &update(&mut s, key('e'))[..] {
        [
            Effect::ExportSession {
                detail, dir, clips, ..
            },
        ] => {
            assert_eq!(detail.row.id, 11);
            assert_eq!(dir, &s.export_dir);
            assert!(!clips);
        }
        other => panic!("{other:?}"),
    }
    assert!(s.loading());
    update(&mut s, key('a'));
    update(&mut s, key('s'));
    match &update(&mut s, key('E'))[..] {
        [Effect::ExportTable { exam, query, .. }] => {
            assert_eq!(exam.as_ref().map(|e| e.exam.id), Some(1));
            assert_eq!(
                query,
                &super::sessions_query(&s),
                "exactly the list's filter and sort"
            );
            assert_eq!(query.status, "second_review_required");
        }
        other => panic!("{other:?}"),
    }
    let request = s.exporting.unwrap();
    update(
        &mut s,
        Action::Exported {
            request,
            result: Ok(("/tmp/x/sessions.csv".into(), "2 rows".into())),
        },
    );
    let said = s.status.clone().unwrap();
    assert_eq!(said.tone, Tone::Success);
    assert!(said.text.contains("2 rows") && said.text.contains("/tmp/x/sessions.csv"));
}

/// `opened()`, but the selected session came from Open edX and its delivery failed.
fn opened_with_failed_delivery() -> State {
    let mut s = opened();
    let failed = Some(crate::domain::LmsSync {
        state: crate::domain::LmsState::Failed,
        note: Some("Open edX refused (400): bad".into()),
    });
    s.sessions.rows[0].lms = failed.clone();
    if let Some(d) = s.detail.data.as_mut() {
        d.row.lms = failed;
    }
    s
}

#[test]
fn l_resends_a_failed_delivery_and_the_answer_updates_the_row() {
    let mut plain = opened();
    assert!(update(&mut plain, key('L')).is_empty());
    assert!(
        plain
            .status
            .as_ref()
            .unwrap()
            .text
            .contains("did not come from Open edX")
    );

    let mut s = opened_with_failed_delivery();
    let fx = update(&mut s, key('L'));
    let (request, session) = match fx.as_slice() {
        [Effect::RetryLms { request, session }] => (*request, *session),
        other => panic!("{other:?}"),
    };
    assert_eq!(session, 11);
    let mut answer = s.detail.data.clone().unwrap();
    answer.row.lms = Some(crate::domain::LmsSync {
        state: crate::domain::LmsState::Waiting,
        note: None,
    });
    update(
        &mut s,
        Action::LmsRetried {
            request,
            result: Ok(answer),
        },
    );
    assert_eq!(
        s.sessions.rows[0].lms.as_ref().map(|l| l.state),
        Some(crate::domain::LmsState::Waiting)
    );
    assert!(
        s.status
            .as_ref()
            .unwrap()
            .text
            .contains("queued for Open edX")
    );
}

#[test]
fn the_fail_dialog_of_an_open_edx_session_says_open_edx_sets_the_grade_and_emails() {
    let mut s = opened_with_failed_delivery();
    update(&mut s, key('f'));
    let lines = s.dialog.as_ref().unwrap().consequences.join("\n");
    assert!(lines.contains("grade: Open edX sets it to 0"), "{lines}");
    assert!(!lines.contains("learner emailed:"), "{lines}");
}

#[test]
fn a_message_lasts_until_the_next_key_and_the_log_keeps_it_whole() {
    let mut s = opened();
    let long = "x".repeat(3) + &" word".repeat(40);
    s.say(Tone::Error, long.clone());
    assert!(s.status.is_some());
    update(&mut s, key('j'));
    assert!(s.status.is_none(), "the next action clears it");
    update(&mut s, key('m'));
    assert_eq!(
        s.overlay,
        Some((crate::console::state::Overlay::Messages, 0))
    );
    assert_eq!(
        s.messages.back().map(|m| m.text.as_str()),
        Some(long.as_str())
    );
    update(&mut s, code(KeyCode::Esc));
    assert!(s.overlay.is_none());
    for i in 0..300 {
        s.say(Tone::Info, format!("message {i}"));
    }
    assert_eq!(s.messages.len(), crate::console::state::MESSAGES_KEPT);
    assert_eq!(s.messages.back().unwrap().text, "message 299");
}

#[test]
fn a_colleagues_decision_about_another_learner_is_tied_to_that_learner() {
    let mut s = opened();
    update(&mut s, key('f'));
    assert_eq!(s.dialog.as_ref().map(|d| d.session), Some(11));
    update(&mut s, Action::Changed(change(12, "ada", Verdict::Fail)));
    let status = s.status.clone().unwrap();
    assert_eq!(status.about, Some(12), "{}", status.text);
    assert!(
        s.dialog.as_ref().unwrap().error.is_none(),
        "the dialog is not about 12"
    );
}

#[test]
fn rebound_keys_act_and_the_old_ones_are_free() {
    use crate::console::keymap::{KeySetting, Keymap};
    let mut s = opened();
    s.keys = Keymap::customized(&[KeySetting {
        name: "fail".into(),
        keys: vec!["x".into()],
        line: 1,
    }])
    .unwrap();
    assert!(update(&mut s, key('f')).is_empty());
    assert!(s.dialog.is_none(), "f no longer fails");
    update(&mut s, key('x'));
    assert_eq!(s.dialog.as_ref().map(|d| d.verdict), Some(Verdict::Fail));
    update(&mut s, code(KeyCode::Esc));
    // Messages name the key in force.
    s.keys = Keymap::customized(&[KeySetting {
        name: "retry_lms".into(),
        keys: vec!["Ctrl-l".into()],
        line: 1,
    }])
    .unwrap();
    s.detail = Default::default();
    update(
        &mut s,
        Action::Key(KeyEvent::new(KeyCode::Char('l'), KeyModifiers::CONTROL)),
    );
    let said = s.status.clone().map(|m| m.text).unwrap_or_default();
    assert_eq!(
        said,
        "Select a session whose details have loaded, then press Ctrl-l."
    );
}

fn numbered(from: u64, n: u64) -> Vec<SessionRow> {
    (from..from + n)
        .map(|i| {
            let mut r = row(
                1_000 + i as i64,
                &format!("Learner{i}"),
                AttemptStatus::Verified,
            );
            r.learner.username = format!("l{i}");
            r
        })
        .collect()
}

#[test]
fn capital_g_fetches_the_last_page_of_a_huge_exam_directly() {
    const TOTAL: u64 = 250_000;
    let mut s = opened();
    let request = s.request_id();
    s.sessions.request = Some(request);
    update(&mut s, page_of(request, 0, numbered(0, 200), TOTAL));
    let fx = update(&mut s, key('G'));
    let [Effect::LoadSessions { request, query, .. }] = &fx[..] else {
        panic!("{fx:?}")
    };
    assert!(
        query.last && query.offset == 0 && query.after.is_empty(),
        "one request for the end of the index, no skipping: {query:?}"
    );
    update(
        &mut s,
        page_of(*request, 249_800, numbered(249_800, 200), TOTAL),
    );
    assert_eq!(s.sessions.selected().map(|r| r.id), Some(1_000 + 249_999));
    assert_eq!((s.sessions.base, s.sessions.total), (249_800, TOTAL));

    // Going up from there fills in the page before the window; the cursor stays put.
    let mut fx = Vec::new();
    for _ in 0..160 {
        fx = update(&mut s, key('k'));
        if fx.iter().any(|e| matches!(e, Effect::LoadSessions { .. })) {
            break;
        }
    }
    let Some(Effect::LoadSessions { request, query, .. }) =
        fx.iter().find(|e| matches!(e, Effect::LoadSessions { .. }))
    else {
        panic!("no earlier page asked for")
    };
    assert_eq!(
        (query.before.as_str(), query.limit),
        ("at249800", 200),
        "the rows before the window's first"
    );
    let on = s.sessions.selected().map(|r| r.id);
    update(
        &mut s,
        page_of(*request, 249_600, numbered(249_600, 200), TOTAL),
    );
    assert_eq!(s.sessions.selected().map(|r| r.id), on);
    assert_eq!(s.sessions.base, 249_600);

    // g goes back to the very first row.
    let fx = update(&mut s, key('g'));
    let [Effect::LoadSessions { request, query, .. }] = &fx[..] else {
        panic!("{fx:?}")
    };
    assert!(
        query.offset == 0 && query.before.is_empty() && !query.last,
        "{query:?}"
    );
    update(&mut s, page_of(*request, 0, numbered(0, 200), TOTAL));
    assert_eq!(s.sessions.selected().map(|r| r.id), Some(1_000));
}

#[test]
fn the_console_starts_where_the_reviewer_left_off() {
    use crate::console::state::{Place, SavedPane};
    let left = Place {
        exam: Some(2),
        attention_only: true,
        sort: crate::api::SortKey::Violations,
        desc: false,
        search: "ch".into(),
        session: Some(13),
        focus: SavedPane::Sessions,
    };
    let mut s = State::new("http://test".into(), Theme::plain(), 120, 40);
    s.resume = Some(left.clone());
    let fx = update(&mut s, Action::Start);
    let request = only_courses(&fx);
    let fx = update(
        &mut s,
        Action::CoursesLoaded {
            request,
            result: Ok(courses()),
        },
    );
    let [
        Effect::LoadSessions {
            request,
            list: ListId::Exam(2),
            query,
        },
    ] = &fx[..]
    else {
        panic!("{fx:?}")
    };
    assert_eq!(
        (
            query.status.as_str(),
            query.sort,
            query.desc,
            query.q.as_str()
        ),
        (
            "second_review_required",
            crate::api::SortKey::Violations,
            false,
            "ch"
        )
    );
    assert_eq!((s.focus, s.quizzes.cursor), (Pane::Sessions, 2));
    update(&mut s, first_page(*request, rows()));
    assert_eq!(s.sessions.selected().map(|r| r.id), Some(13));
    assert_eq!(s.place(), Some(left), "and it is what is saved again");

    // An exam the reviewer can no longer see: the first screen, as for a new reviewer.
    let mut s = State::new("http://test".into(), Theme::plain(), 120, 40);
    s.resume = Some(Place {
        exam: Some(99),
        ..open_place()
    });
    let request = only_courses(&update(&mut s, Action::Start));
    update(
        &mut s,
        Action::CoursesLoaded {
            request,
            result: Ok(courses()),
        },
    );
    assert_eq!(
        (s.focus, s.quizzes.cursor),
        (Pane::Quizzes, 0),
        "on the queue, which has work"
    );
}

fn open_place() -> crate::console::state::Place {
    opened().place().expect("an open list has a place")
}

fn only_courses(fx: &[Effect]) -> u64 {
    fx.iter()
        .find_map(|e| match e {
            Effect::LoadCourses { request } => Some(*request),
            _ => None,
        })
        .expect("the quiz list is asked for")
}

/// Issue #23: the queue exports too, with every exam's name and course for its rows.
#[test]
fn capital_e_exports_the_queue_with_its_exams() {
    let mut s = crate::console::fixtures::queue_with(crate::console::fixtures::rows());
    s.focus = crate::console::state::Pane::Sessions;
    match &update(&mut s, key('E'))[..] {
        [Effect::ExportTable { exam, exams, .. }] => {
            assert!(exam.is_none(), "the queue, not one exam");
            assert_eq!(exams.len(), s.quizzes.exams().count());
            assert!(
                exams
                    .values()
                    .all(|(name, course)| !name.is_empty() && !course.is_empty())
            );
        }
        other => panic!("{other:?}"),
    }
    let said = s.status.clone().unwrap().text;
    assert!(said.contains("Exporting all 4 rows"), "{said}");
}

/// The one effect of `fx` that asks for stills: its request and what it asks.
fn frames_asked(fx: &[Effect]) -> (u64, i64, u64, u64) {
    fx.iter()
        .find_map(|e| match e {
            Effect::LoadFrames {
                request,
                media,
                from_ms,
                to_ms,
                ..
            } => Some((*request, *media, *from_ms, *to_ms)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no LoadFrames in {fx:?}"))
}

fn tick_of(fx: &[Effect]) -> Option<(u64, u64)> {
    fx.iter().find_map(|e| match e {
        Effect::PlayTick {
            generation, ticket, ..
        } => Some((*generation, *ticket)),
        _ => None,
    })
}

#[test]
fn space_plays_the_flagged_moment_and_the_keys_pause_step_seek_and_stop_it() {
    let mut s = opened();
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, key('3'));
    let fx = update(&mut s, key(' '));
    // The phone at 300 s: its clip (from 296 s) from 1 s to 12 s in.
    let (request, media, from_ms, to_ms) = frames_asked(&fx);
    assert_eq!((media, from_ms, to_ms), (1101, 1_000, 12_000));
    assert!(
        s.key_scopes()
            .contains(&crate::console::keymap::Scope::Playback)
    );

    // The stills come in batches; the first starts the clock, the others join it.
    let batch = |times: &[u64]| {
        times
            .iter()
            .map(|t| (*t, blank_image()))
            .collect::<Vec<_>>()
    };
    let fx = update(
        &mut s,
        Action::FramesLoaded {
            request,
            result: Ok(batch(&[1_000, 1_125, 1_250])),
            done: false,
        },
    );
    let (generation, ticket) = tick_of(&fx).expect("the clock starts");
    let fx = update(
        &mut s,
        Action::FramesLoaded {
            request,
            result: Ok(batch(&[1_375, 1_500])),
            done: true,
        },
    );
    assert!(tick_of(&fx).is_none(), "one clock");
    let session = s.detail.session.unwrap();
    assert!(
        s.detail.video_opened.contains(&session),
        "played counts as watched"
    );

    let t0 = std::time::Instant::now();
    let at = |ms| t0 + std::time::Duration::from_millis(ms);
    let tick = |s: &mut State, ticket, ms| {
        update(
            s,
            Action::PlayTick {
                generation,
                ticket,
                at: at(ms),
            },
        )
    };
    let fx = tick(&mut s, ticket, 0);
    assert!(tick_of(&fx).is_some(), "the next tick is asked for");
    tick(&mut s, ticket, 260);
    let p = s.detail.play.as_ref().unwrap();
    assert_eq!((p.at_ms, p.current()), (1_260, Some(2)));

    // Space pauses: the old chain's next tick changes nothing; → steps a still.
    update(&mut s, key(' '));
    tick(&mut s, ticket, 900);
    assert_eq!(s.detail.play.as_ref().unwrap().at_ms, 1_260);
    update(&mut s, code(KeyCode::Right));
    assert_eq!(s.detail.play.as_ref().unwrap().at_ms, 1_375);
    update(&mut s, code(KeyCode::Left));
    update(&mut s, code(KeyCode::Left));
    assert_eq!(s.detail.play.as_ref().unwrap().at_ms, 1_125);
    // Playing again, → seeks a second (to the end here); . doubles the speed.
    let fx = update(&mut s, key(' '));
    assert!(tick_of(&fx).is_some_and(|(_, t)| t > ticket), "a new chain");
    update(&mut s, key('.'));
    assert_eq!(s.detail.play.as_ref().unwrap().speed_label(), "2×");
    update(&mut s, code(KeyCode::Right));
    assert_eq!(s.detail.play.as_ref().unwrap().at_ms, 1_500);

    // z zooms; Esc leaves the zoom, then stops; choosing another row stops it too.
    let fx = update(&mut s, key('z'));
    assert!(s.detail.zoomed);
    let (refit, ..) = frames_asked(&fx);
    assert_ne!(refit, request, "refitted to the whole terminal");
    update(&mut s, code(KeyCode::Esc));
    assert!(!s.detail.zoomed && s.detail.play.is_some());
    update(&mut s, code(KeyCode::Esc));
    assert!(s.detail.play.is_none());
    update(&mut s, key(' '));
    assert!(s.detail.play.is_some());
    update(&mut s, key('j'));
    assert!(s.detail.play.is_none(), "another row drops its stills");
    // A row with no clip says so instead of playing.
    update(&mut s, key(' '));
    assert!(s.detail.play.is_none());
    assert!(
        s.status
            .as_ref()
            .is_some_and(|l| l.text.contains("Nothing to play"))
    );
}

#[test]
fn a_moment_that_cannot_be_drawn_says_why_and_what_to_press_instead() {
    let mut s = opened();
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, key('3'));
    let (request, ..) = frames_asked(&update(&mut s, key(' ')));
    update(
        &mut s,
        Action::FramesLoaded {
            request,
            result: Err(
                "this recording is WebM and the server has no ffmpeg to draw its frames".into(),
            ),
            done: true,
        },
    );
    let p = s.detail.play.as_ref().unwrap();
    assert!(p.error.as_deref().unwrap().contains("no ffmpeg"));
    assert!(s.detail.video_opened.is_empty(), "nothing was seen");
}

#[test]
fn c_opens_the_contact_sheet_which_moves_jumps_and_plays_from_a_blank_image() {
    let mut s = opened();
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, key('2'));
    let fx = update(&mut s, key('c'));
    let request = fx
        .iter()
        .find_map(|e| match e {
            Effect::LoadSheet { request, media, .. } => {
                assert_eq!(*media, 1101, "the selected segment");
                Some(*request)
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no LoadSheet in {fx:?}"));
    assert_eq!(
        s.key_scopes(),
        vec![
            crate::console::keymap::Scope::Sheet,
            crate::console::keymap::Scope::Global
        ]
    );
    let stills = (0..12).map(|i| (i * 1_000, blank_image())).collect();
    update(
        &mut s,
        Action::SheetLoaded {
            request,
            result: Ok(stills),
        },
    );
    // The phone was flagged 4 s into the clip: ] goes there, → and ↓ move.
    update(&mut s, key(']'));
    assert_eq!(s.detail.sheet.as_ref().unwrap().cursor, 4);
    assert_eq!(s.detail.sheet.as_ref().unwrap().letters(4), "P");
    update(&mut s, code(KeyCode::Right));
    assert_eq!(s.detail.sheet.as_ref().unwrap().cursor, 5);
    update(&mut s, code(KeyCode::Left));
    update(&mut s, key('['));
    assert!(
        s.status
            .as_ref()
            .is_some_and(|l| l.text.contains("Nothing flagged before")),
        "{:?}",
        s.status
    );
    // Enter plays from the still: the sheet closes, the stills of that stretch are asked for.
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(s.detail.sheet.is_none());
    let (_, media, from_ms, _) = frames_asked(&fx);
    assert_eq!((media, from_ms), (1101, 4_000));
    // Esc on a sheet closes only the sheet; another learner closes it too.
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, key('c'));
    assert!(s.detail.sheet.is_some());
    update(&mut s, code(KeyCode::Esc));
    assert!(s.detail.sheet.is_none() && s.focus == Pane::Detail);
}

#[test]
fn z_zooms_a_scan_to_the_whole_terminal_and_esc_returns() {
    let mut s = opened();
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, key('4'));
    let small = match s.detail.preview.as_ref() {
        Some(p) => p.size,
        None => panic!("a scan is previewed"),
    };
    let fx = update(&mut s, key('z'));
    assert!(s.detail.zoomed);
    // Fitted again to the terminal (120x40) but its caption's line.
    assert!(
        matches!(
            &fx[..],
            [Effect::LoadPreview {
                cols: 120,
                rows: 39,
                ..
            }]
        ),
        "{fx:?} (was {small:?})"
    );
    update(&mut s, code(KeyCode::Esc));
    assert!(!s.detail.zoomed);
    assert_eq!(s.detail.preview.as_ref().map(|p| p.size), Some(small));
    // A row with no image says so rather than zooming nothing.
    update(&mut s, key('6'));
    update(&mut s, key('z'));
    assert!(!s.detail.zoomed);
}
