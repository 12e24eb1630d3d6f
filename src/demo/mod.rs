//! The demo data set: the roster in `assets/demo/roster.toml` plus deterministic sessions.
//! The same (roster, seed, size) always yields the same data, so tests and benchmarks can
//! ask for 80 sessions or 100 000 and know exactly what they get.
//!
//! May use: `store`, `media`, `domain`.

pub mod evidence;

pub use crate::store::seed::{
    SeedCourse as DemoCourse, SeedData as DemoData, SeedSession as DemoSession,
};
mod rng;
mod violations;

use crate::domain::{AttemptStatus, Exam, Grade, Learner, ReviewStatus};
use rng::Rng;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use time::{Duration, OffsetDateTime, macros::datetime};

pub const DEMO_SEED: u64 = 0x5EED_2026;
pub const DEMO_SESSIONS: usize = 80;
const ROSTER: &str = include_str!("../../assets/demo/roster.toml");

#[derive(Debug, thiserror::Error)]
#[error("demo roster is invalid: {0}")]
pub struct RosterError(#[from] toml::de::Error);

#[derive(Deserialize)]
struct Roster {
    courses: Vec<RosterCourse>,
    learners: Vec<RosterLearner>,
}

#[derive(Deserialize)]
struct RosterCourse {
    id: String,
    name: String,
    exams: Vec<RosterExam>,
}

#[derive(Deserialize)]
struct RosterExam {
    content_id: String,
    external_id: String,
    exam_name: String,
    time_limit_mins: i64,
    is_practice_exam: bool,
    points_possible: f64,
}

#[derive(Deserialize)]
struct RosterLearner {
    username: String,
    full_name: String,
}

/// The embedded demo: two courses, four exams, 80 sessions.
pub fn embedded() -> Result<DemoData, RosterError> {
    generate(DEMO_SESSIONS, DEMO_SEED)
}

/// Every stored status but `eligible`, which edx-proctoring only ever computes. The first
/// sessions take these in turn so even a small demo shows each one.
const EVERY_STATUS: [AttemptStatus; 18] = [
    AttemptStatus::SecondReviewRequired,
    AttemptStatus::Verified,
    AttemptStatus::Rejected,
    AttemptStatus::Submitted,
    AttemptStatus::Started,
    AttemptStatus::Error,
    AttemptStatus::Declined,
    AttemptStatus::Created,
    AttemptStatus::DownloadSoftwareClicked,
    AttemptStatus::ReadyToStart,
    AttemptStatus::ReadyToSubmit,
    AttemptStatus::TimedOut,
    AttemptStatus::Expired,
    AttemptStatus::OnboardingMissing,
    AttemptStatus::OnboardingPending,
    AttemptStatus::OnboardingFailed,
    AttemptStatus::OnboardingExpired,
    AttemptStatus::OnboardingReset,
];

/// How often each status occurs after the first round, in parts of 100.
const STATUS_WEIGHTS: [(AttemptStatus, u32); 9] = [
    (AttemptStatus::SecondReviewRequired, 34),
    (AttemptStatus::Verified, 30),
    (AttemptStatus::Rejected, 8),
    (AttemptStatus::Submitted, 12),
    (AttemptStatus::Started, 4),
    (AttemptStatus::Error, 4),
    (AttemptStatus::Declined, 3),
    (AttemptStatus::Created, 3),
    (AttemptStatus::ReadyToSubmit, 2),
];

const TRACKS: [&str; 3] = ["verified", "masters", "professional"];
const EXAM_WINDOW_START: OffsetDateTime = datetime!(2026-11-09 08:00 UTC);
const STAFF_REVIEWER: &str = "course-staff@example.edu";

/// Sessions per part of a large demo: each part is made while the one before is written.
pub const BATCH: usize = 25_000;
/// Sessions that come with evidence records (video, screenshots, scans, onboarding). A
/// larger demo is for lists and decisions at scale: its later sessions have none, which
/// keeps a million-session database at a few hundred MB instead of 3.4 GB.
pub const EVIDENCE_SESSIONS: usize = 20_000;

/// The demo data set with `sessions` sessions, all in memory.
pub fn generate(sessions: usize, seed: u64) -> Result<DemoData, RosterError> {
    let mut all = DemoData::default();
    for part in batches(sessions, seed)? {
        all.extend(part);
    }
    Ok(all)
}

/// The same data set in parts of `BATCH` sessions, each made only when asked for, so a
/// million sessions never sit in memory at once.
pub fn batches(sessions: usize, seed: u64) -> Result<Batches, RosterError> {
    let roster: Roster = toml::from_str(ROSTER)?;
    let courses = roster
        .courses
        .iter()
        .map(|c| DemoCourse {
            id: c.id.clone(),
            name: c.name.clone(),
        })
        .collect();
    let mut exams = Vec::new();
    let mut points = Vec::new();
    for course in &roster.courses {
        for e in &course.exams {
            exams.push(Exam {
                id: exams.len() as i64 + 1,
                course_id: course.id.clone(),
                content_id: e.content_id.clone(),
                external_id: Some(e.external_id.clone()),
                exam_name: e.exam_name.clone(),
                time_limit_mins: e.time_limit_mins,
                is_proctored: true,
                is_practice_exam: e.is_practice_exam,
                backend: Some("proctortrack".into()),
            });
            points.push(e.points_possible);
        }
    }

    // Each exam gets its own run of learners, so no learner sits the same exam twice.
    let per_exam = sessions.div_ceil(exams.len().max(1));
    let learner_count = roster.learners.len().max(per_exam);
    let learners = (0..learner_count)
        .map(|i| {
            let base = &roster.learners[i % roster.learners.len()];
            let round = i / roster.learners.len();
            let username = if round == 0 {
                base.username.clone()
            } else {
                format!("{}{}", base.username, round + 1)
            };
            Learner {
                email: format!("{username}@learners.example.edu"),
                username,
                full_name: base.full_name.clone(),
            }
        })
        .collect::<Vec<_>>();
    let course_of_exam = exams.iter().map(|e| (e.id, e.course_id.clone())).collect();
    Ok(Batches {
        head: Some((courses, exams.clone(), learners)),
        exams,
        points,
        learner_count,
        course_of_exam,
        onboarded: HashSet::new(),
        rng: Rng::new(seed),
        next: 0,
        sessions,
    })
}

pub struct Batches {
    /// Courses, exams and learners, for the first part.
    head: Option<(Vec<DemoCourse>, Vec<Exam>, Vec<Learner>)>,
    exams: Vec<Exam>,
    points: Vec<f64>,
    learner_count: usize,
    course_of_exam: HashMap<i64, String>,
    /// (learner, course) pairs whose onboarding is made.
    onboarded: HashSet<(usize, String)>,
    rng: Rng,
    next: usize,
    sessions: usize,
}

impl Iterator for Batches {
    type Item = DemoData;

    fn next(&mut self) -> Option<DemoData> {
        let head = self.head.take();
        if head.is_none() && self.next >= self.sessions {
            return None;
        }
        let end = (self.next + BATCH).min(self.sessions);
        let mut out = Vec::with_capacity(end - self.next);
        for k in self.next..end {
            let exam_idx = k % self.exams.len();
            let exam = &self.exams[exam_idx];
            let learner = (k / self.exams.len() + exam_idx * 10) % self.learner_count;
            let mut status = match EVERY_STATUS.get(k) {
                Some(st) => *st,
                None => self.rng.weighted(&STATUS_WEIGHTS),
            };
            // Onboarding reviews skip second review: a suspicious one is rejected outright.
            if exam.is_practice_exam && status == AttemptStatus::SecondReviewRequired {
                status = AttemptStatus::Rejected;
            }
            out.push(session(
                &mut self.rng,
                k,
                exam,
                self.points[exam_idx],
                learner,
                status,
            ));
        }
        self.next = end;
        let with_evidence = &out[..out
            .len()
            .min(EVIDENCE_SESSIONS.saturating_sub(end - out.len()))];
        let (onboarding, photos) =
            evidence::onboarding(with_evidence, &self.course_of_exam, &mut self.onboarded);
        let mut media: Vec<_> = with_evidence
            .iter()
            .flat_map(evidence::of_session)
            .collect();
        media.extend(photos);
        let (courses, exams, learners) = head.unwrap_or_default();
        Some(DemoData {
            courses,
            exams,
            learners,
            sessions: out,
            media,
            onboarding,
        })
    }
}

fn session(
    rng: &mut Rng,
    k: usize,
    exam: &Exam,
    points_possible: f64,
    learner: usize,
    status: AttemptStatus,
) -> DemoSession {
    use AttemptStatus as S;
    let created = EXAM_WINDOW_START
        + Duration::days(exam.id - 1)
        + Duration::minutes(rng.below(4 * 24 * 60) as i64);
    let started = !matches!(
        status,
        S::Created
            | S::DownloadSoftwareClicked
            | S::ReadyToStart
            | S::Declined
            | S::Expired
            | S::OnboardingMissing
            | S::OnboardingPending
            | S::OnboardingFailed
            | S::OnboardingExpired
            | S::OnboardingReset
    );
    let extra_time = rng.below(8) == 0;
    let allowed = exam.time_limit_mins
        + if extra_time {
            exam.time_limit_mins / 4
        } else {
            0
        };
    let started_at = started.then(|| created + Duration::minutes(2 + rng.below(10) as i64));
    let finished = started && !matches!(status, S::Started | S::ReadyToSubmit);
    let took_secs = if status == S::TimedOut {
        allowed * 60
    } else {
        (allowed * 60) * (40 + rng.below(60) as i64) / 100
    };
    let completed_at = if finished {
        started_at.map(|s| s + Duration::seconds(took_secs))
    } else {
        None
    };

    let review_status = match status {
        S::SecondReviewRequired => Some(if rng.below(3) == 0 {
            ReviewStatus::RulesViolation
        } else {
            ReviewStatus::Suspicious
        }),
        S::Verified => Some(ReviewStatus::Clean),
        S::Rejected => Some(ReviewStatus::Suspicious),
        S::Error if finished => Some(ReviewStatus::NotReviewed),
        _ => None,
    };
    let violation_count = match status {
        S::SecondReviewRequired => 1 + rng.below(6),
        S::Rejected => 2 + rng.below(5),
        S::Verified => rng.below(3),
        _ => 0,
    };
    let recording_secs = if finished { took_secs } else { 0 };
    let violations = (0..violation_count)
        .map(|i| violations::generate(rng, (k * 10 + i as usize) as i64 + 1, recording_secs))
        .collect::<Vec<_>>();

    let original_grade = (!exam.is_practice_exam && finished).then(|| Grade {
        earned: (points_possible * (35 + rng.below(66)) as f64 / 100.0 * 2.0).round() / 2.0,
        possible: points_possible,
    });
    let grade_override = (status == S::Rejected && original_grade.is_some()).then_some(0.0);

    DemoSession {
        id: k as i64 + 1,
        exam_id: exam.id,
        learner,
        attempt_code: rng.uuid_upper(),
        external_id: format!("pt-att-{:08x}", rng.next_u64() as u32),
        status,
        review_status,
        reviewed_by: (status == S::Rejected).then(|| STAFF_REVIEWER.to_owned()),
        started_at,
        completed_at,
        allowed_time_limit_mins: started.then_some(allowed),
        is_sample_attempt: exam.is_practice_exam,
        track: TRACKS[rng.below(TRACKS.len() as u32) as usize].to_owned(),
        original_grade,
        grade_override,
        created,
        violations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_embedded_demo_covers_what_a_reviewer_needs_to_see() {
        let demo = embedded().unwrap();
        assert_eq!(demo.courses.len(), 2);
        assert_eq!(demo.exams.len(), 4);
        assert_eq!(demo.exams.iter().filter(|e| e.is_practice_exam).count(), 1);
        assert_eq!(demo.sessions.len(), 80);
        let statuses: HashSet<_> = demo.sessions.iter().map(|s| s.status).collect();
        assert!(statuses.len() >= 17, "only {statuses:?}");
        let ra = demo
            .sessions
            .iter()
            .filter(|s| s.status == AttemptStatus::SecondReviewRequired)
            .count();
        assert!(ra >= 15, "only {ra} sessions need attention");
        let kinds: HashSet<_> = demo
            .sessions
            .iter()
            .flat_map(|s| s.violations.iter().map(|v| v.kind))
            .collect();
        assert_eq!(kinds.len(), 10, "violation kinds: {kinds:?}");
        for s in &demo.sessions {
            for v in &s.violations {
                let end = s
                    .completed_at
                    .zip(s.started_at)
                    .map(|(c, st)| (c - st).whole_seconds())
                    .unwrap_or(0);
                assert!(v.stop_time <= end && v.start_time <= v.stop_time);
            }
        }
    }

    #[test]
    fn generation_is_deterministic_and_scales() {
        let a = generate(500, 7).unwrap();
        let b = generate(500, 7).unwrap();
        assert_eq!(
            a.sessions
                .iter()
                .map(|s| &s.attempt_code)
                .collect::<Vec<_>>(),
            b.sessions
                .iter()
                .map(|s| &s.attempt_code)
                .collect::<Vec<_>>()
        );
        let pairs: HashSet<_> = a.sessions.iter().map(|s| (s.exam_id, s.learner)).collect();
        assert_eq!(pairs.len(), 500, "a learner sat the same exam twice");
        let names: HashSet<_> = a.learners.iter().map(|l| &l.username).collect();
        assert_eq!(names.len(), a.learners.len(), "usernames must be unique");
    }
}
