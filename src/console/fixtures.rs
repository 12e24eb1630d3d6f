//! The console's test fixtures: a course, its sessions and a console opened on them, shared
//! by the update and view tests.

use crate::api::Page;
use crate::console::action::{Action, Effect};
use crate::console::state::State;
use crate::console::theme::Theme;
use crate::console::update::update;
use crate::domain::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub fn exam(id: i64, name: &str) -> ExamSummary {
    ExamSummary {
        exam: Exam {
            id,
            course_id: "course-v1:TestX+T1+2026".into(),
            content_id: format!("block-v1:TestX+T1+2026+type@sequential+block@e{id}"),
            external_id: Some(format!("ext-{id}")),
            exam_name: name.into(),
            time_limit_mins: 60,
            is_proctored: true,
            is_practice_exam: false,
            backend: Some("proctortrack".into()),
        },
        counts: ExamCounts {
            sessions: 4,
            require_attention: 2,
            pending: 1,
            passed: 1,
            failed: 0,
            awaiting_second_review: 0,
            yours_awaiting: 0,
        },
    }
}

pub fn courses() -> Vec<CourseSummary> {
    vec![CourseSummary {
        id: "course-v1:TestX+T1+2026".into(),
        name: "Testing 101".into(),
        exams: vec![exam(1, "Midterm"), exam(2, "Final")],
        access: Some(crate::domain::access::Access::Review),
    }]
}

pub fn row(id: i64, name: &str, status: AttemptStatus) -> SessionRow {
    let start = time::macros::datetime!(2026-11-10 09:00 UTC);
    SessionRow {
        id,
        exam_id: 1,
        learner: Learner {
            username: name.to_lowercase(),
            email: format!("{}@example.edu", name.to_lowercase()),
            full_name: name.into(),
        },
        status,
        review_status: Some(ReviewStatus::Suspicious),
        violation_count: 2,
        started_at: Some(start),
        completed_at: Some(start + time::Duration::minutes(47)),
        marks: vec![
            ViolationMark {
                at: 300,
                rules: true,
            },
            ViolationMark {
                at: 2400,
                rules: false,
            },
        ],
        lms: None,
        grade: None,
        reviewed_by: None,
        decided_at: None,
        awaiting_from: None,
    }
}

pub fn rows() -> Vec<SessionRow> {
    vec![
        row(11, "Ana", AttemptStatus::SecondReviewRequired),
        row(12, "Bo", AttemptStatus::Verified),
        row(13, "Chen", AttemptStatus::SecondReviewRequired),
        row(14, "Dee", AttemptStatus::Submitted),
    ]
}

pub fn detail(r: &SessionRow) -> SessionDetail {
    let g = Grade {
        earned: 17.0,
        possible: 20.0,
    };
    SessionDetail {
        row: r.clone(),
        course_id: "course-v1:TestX+T1+2026".into(),
        exam_name: "Midterm".into(),
        exam_time_limit_mins: 60,
        provider: Some("proctortrack".into()),
        attempt_code: "0A1B2C3D-0000-4000-8000-000000000001".into(),
        external_id: Some(format!("pt-att-{}", r.id)),
        allowed_time_limit_mins: Some(60),
        is_sample_attempt: false,
        track: "verified".into(),
        original_grade: Some(g),
        grade_in_force: Some(g),
        learner_view: LearnerView::of(r.status),
        violations: violations(),
        history: vec![],
        undo_until: None,
        media: media(r),
        onboarding: Some(Onboarding {
            status: OnboardingStatus::Verified,
            started_at: Some(time::macros::datetime!(2026-09-01 10:00 UTC)),
            submitted_at: Some(time::macros::datetime!(2026-09-01 11:00 UTC)),
            verified_at: Some(time::macros::datetime!(2026-09-02 08:30 UTC)),
        }),
        second_review: Default::default(),
        waiting: None,
    }
}

/// Two violations that overlap early in the recording, and one late.
pub fn violations() -> Vec<Violation> {
    let v = |id, start, kind, status: &str, comment: &str| Violation {
        id,
        start_time: start,
        stop_time: start + 20,
        duration: 20,
        kind,
        status: status.into(),
        comment: comment.into(),
    };
    vec![
        v(
            101,
            300,
            ViolationKind::Phone,
            "Rules Violation",
            "Mobile phone visible in the learner's hand, held below the desk for most of the stretch.",
        ),
        v(
            102,
            310,
            ViolationKind::LookingAway,
            "Suspicious",
            "Sustained gaze away from the screen.",
        ),
        v(
            103,
            2400,
            ViolationKind::TabSwitch,
            "Suspicious",
            "Browser focus left the exam tab.",
        ),
    ]
}

pub fn media(r: &SessionRow) -> Vec<MediaItem> {
    let m = |id, kind, ct| MediaItem {
        id,
        kind,
        content_type: ct,
        size: 8000,
        sha256: format!("{id:064x}"),
        offset_start: None,
        offset_end: None,
        captured_at: r.started_at,
        violation_id: None,
        scan_result: None,
        face_match_score: None,
    };
    vec![
        MediaItem {
            offset_start: Some(296),
            offset_end: Some(308),
            violation_id: Some(101),
            ..m(r.id * 100 + 1, MediaKind::Video, ContentType::Webm)
        },
        MediaItem {
            offset_start: Some(2396),
            offset_end: Some(2408),
            violation_id: Some(103),
            ..m(r.id * 100 + 2, MediaKind::Video, ContentType::Webm)
        },
        MediaItem {
            violation_id: Some(101),
            ..m(r.id * 100 + 3, MediaKind::Screenshot, ContentType::Jpeg)
        },
        MediaItem {
            violation_id: Some(102),
            ..m(r.id * 100 + 4, MediaKind::Screenshot, ContentType::Jpeg)
        },
        MediaItem {
            scan_result: Some(ScanResult::Match),
            ..m(r.id * 100 + 5, MediaKind::IdScan, ContentType::Jpeg)
        },
        MediaItem {
            scan_result: Some(ScanResult::NoMatch),
            face_match_score: Some(0.31),
            ..m(r.id * 100 + 6, MediaKind::FaceScan, ContentType::Jpeg)
        },
        m(r.id * 100 + 7, MediaKind::RoomScan, ContentType::Jpeg),
        m(
            r.id * 100 + 8,
            MediaKind::OnboardingPhoto,
            ContentType::Jpeg,
        ),
    ]
}

pub fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

pub fn code(k: KeyCode) -> Action {
    Action::Key(KeyEvent::new(k, KeyModifiers::NONE))
}

/// The server's answer to `request`: the first page of a list of `items.len()` sessions.
pub fn first_page(request: u64, items: Vec<SessionRow>) -> Action {
    let total = items.len() as u64;
    page_of(request, 0, items, total)
}

/// The server's answer to `request`: `items` from `offset` of a list of `total`, with the
/// cursors a server hands out (`at{N}` for the row at N).
pub fn page_of(request: u64, offset: u64, items: Vec<SessionRow>, total: u64) -> Action {
    let end = offset + items.len() as u64;
    Action::SessionsLoaded {
        request,
        result: Ok(Page {
            total,
            offset,
            prev: (offset > 0).then(|| format!("at{offset}")),
            next: (end < total).then(|| format!("at{}", end - 1)),
            items,
            at_least: false,
        }),
    }
}

pub fn only_request(effects: &[Effect]) -> u64 {
    match effects {
        [Effect::LoadSessions { request, .. }]
        | [Effect::LoadDetail { request, .. }]
        | [Effect::LoadCourses { request }] => *request,
        other => panic!("expected one load, got {other:?}"),
    }
}

pub fn detail_request(effects: &[Effect], session: i64) -> u64 {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadDetail {
                request,
                session: s,
            } if *s == session => Some(*request),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no detail load for {session} in {effects:?}"))
}

/// A console just started at 120x40: the request its Quiz List is loading with.
pub fn started() -> (State, u64) {
    let mut s = State::new("http://test".into(), Theme::plain(), 120, 40);
    let fx = update(&mut s, Action::Start);
    let request = fx
        .iter()
        .find_map(|e| match e {
            Effect::LoadCourses { request } => Some(*request),
            _ => None,
        })
        .unwrap();
    (s, request)
}

/// A console with the quiz list loaded and exam 1's sessions open, cursor on the first row
/// and its detail loaded.
pub fn opened() -> State {
    let (mut s, request) = started();
    update(
        &mut s,
        Action::CoursesLoaded {
            request,
            result: Ok(courses()),
        },
    );
    // Moving onto the exam previews it; Enter moves into it.
    let fx = update(&mut s, key('j'));
    let request = only_request(&fx);
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    let fx = update(&mut s, first_page(request, rows()));
    let request = detail_request(&fx, 11);
    update(
        &mut s,
        Action::DetailLoaded {
            request,
            result: Ok(detail(&rows()[0])),
        },
    );
    s
}

/// A console on the queue (All exams — Require Attention) as at launch, listing `items`.
pub fn queue_with(items: Vec<SessionRow>) -> State {
    let (mut s, request) = started();
    let fx = update(
        &mut s,
        Action::CoursesLoaded {
            request,
            result: Ok(courses()),
        },
    );
    let request = only_request(&fx);
    update(&mut s, first_page(request, items));
    s
}

pub fn report_job(id: i64, state: JobState) -> Job {
    Job {
        id,
        kind: JobKind::Report,
        state,
        progress: if state == JobState::Done { 1.0 } else { 0.5 },
        attempts: 1,
        last_error: None,
        requested_by: Some("demo-reviewer".into()),
        course_id: Some("course-v1:TestX+T1+2026".into()),
        created: time::macros::datetime!(2026-11-20 10:00 UTC),
        started_at: Some(time::macros::datetime!(2026-11-20 10:00 UTC)),
        finished_at: None,
        report: (state == JobState::Done).then(|| ReportFile {
            name: format!("TestX_T1_2026_proctored_exam_results_report_2026-11-20-10{id:02}.csv"),
            size: 2048,
            rows: 4,
        }),
    }
}

/// A small blank image, fitted with half-blocks, standing for any still or preview.
pub fn blank_image() -> crate::console::state::PreviewImage {
    let p = ratatui_image::picker::Picker::halfblocks()
        .new_protocol(
            image::DynamicImage::new_rgb8(8, 8),
            ratatui::layout::Size::new(4, 2),
            ratatui_image::Resize::Scale(None),
        )
        .expect("a blank image fits");
    crate::console::state::PreviewImage(std::sync::Arc::new(p))
}
