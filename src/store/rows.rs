//! How both backends turn stored words into the domain's values, and the decision row they
//! append to the hash chain: one definition, so the two databases cannot drift apart.

use super::StoreError;
use crate::domain::audit::{AuditFields, sha256};
use crate::domain::email::{EmailDelivery, MailState};
use crate::domain::words::Word;
use crate::domain::{Grade, JobState, LmsState, LmsSync, Verdict};

pub use crate::domain::undo::UNDO_PREFIX;
/// The verdict column of a change Open edX's reconciliation made.
pub const SYNC_VERDICT: &str = "sync";

pub fn parse<T: std::str::FromStr>(s: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    s.parse()
        .map_err(|e: T::Err| StoreError::Corrupt(format!("bad value in database: {e}")))
}

pub fn opt_parse<T: std::str::FromStr>(s: Option<&str>) -> Result<Option<T>, StoreError>
where
    T::Err: std::fmt::Display,
{
    s.map(parse).transpose()
}

pub fn grade(possible: Option<f64>, earned: Option<f64>) -> Option<Grade> {
    Some(Grade {
        earned: earned?,
        possible: possible?,
    })
}

/// A decision's email as History shows it, from its job's row (none if it had no email).
pub fn email_delivery(
    job: Option<i64>,
    state: Option<&str>,
    attempts: Option<u32>,
    error: Option<String>,
) -> Result<Option<EmailDelivery>, StoreError> {
    let (Some(job), Some(state)) = (job, state) else {
        return Ok(None);
    };
    let state = match JobState::parse(state) {
        Some(JobState::Queued | JobState::Running) => MailState::Queued,
        Some(JobState::Done) => MailState::Delivered,
        Some(JobState::Failed) => MailState::Failed,
        Some(JobState::Cancelled) => MailState::Cancelled,
        None => return Err(StoreError::Corrupt(format!("bad job state '{state}'"))),
    };
    Ok(Some(EmailDelivery {
        job,
        state,
        attempts: attempts.unwrap_or(0),
        error: if state == MailState::Delivered {
            None
        } else {
            error
        },
    }))
}

/// What a history row's verdict column says: the verdict it gave, the verdict it undid,
/// and the second-review stage of either.
pub struct HistoryVerdicts {
    pub gave: Option<Verdict>,
    pub undoes: Option<Verdict>,
    pub stage: Option<crate::domain::second_review::Stage>,
}

/// A decision's verdict column: its second-review stage, if any, and its verdict.
pub fn verdict_word(
    word: &str,
) -> Result<(Option<crate::domain::second_review::Stage>, Verdict), StoreError> {
    crate::domain::second_review::read_verdict_word(word)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown verdict '{word}' in database")))
}

pub fn history_verdicts(verdict: &str) -> Result<HistoryVerdicts, StoreError> {
    if verdict == SYNC_VERDICT || verdict == super::retention::RETENTION_VERDICT {
        return Ok(HistoryVerdicts {
            gave: None,
            undoes: None,
            stage: None,
        });
    }
    if let Some(undone) = verdict.strip_prefix(UNDO_PREFIX) {
        let (stage, v) = verdict_word(undone)?;
        return Ok(HistoryVerdicts {
            gave: None,
            undoes: Some(v),
            stage,
        });
    }
    let (stage, v) = verdict_word(verdict)?;
    Ok(HistoryVerdicts {
        gave: Some(v),
        undoes: None,
        stage,
    })
}

/// A session's Open edX delivery state, from its `lms_state` and `lms_note` columns.
pub fn lms_sync(state: Option<&str>, note: Option<String>) -> Result<Option<LmsSync>, StoreError> {
    state
        .map(|state| {
            Ok(LmsSync {
                state: LmsState::parse(state).ok_or_else(|| {
                    StoreError::Corrupt(format!("unknown lms_state '{state}' in database"))
                })?,
                note,
            })
        })
        .transpose()
}

/// A list row, from the columns of [`super::queries::SESSION_ROW`] (from column 0).
pub fn session_row(r: &impl super::cells::Cells) -> Result<crate::domain::SessionRow, StoreError> {
    let reviewed_by: Option<String> = r.cell(12)?;
    let original = grade(r.cell(14)?, r.cell(13)?);
    let modified: String = r.cell(16)?;
    // A reviewer's decision sets the status, the reviewer and `modified` together; an
    // automated review clears the reviewer, so `modified` is the decision's time only
    // while a reviewer is named.
    let decided_at = match reviewed_by {
        Some(_) => Some(super::timefmt::from_sql(&modified)?),
        None => None,
    };
    Ok(crate::domain::SessionRow {
        id: r.cell(0)?,
        exam_id: r.cell(1)?,
        learner: crate::domain::Learner {
            username: r.cell(2)?,
            email: r.cell(3)?,
            full_name: r.cell(4)?,
        },
        status: parse(&r.cell::<String>(5)?)?,
        review_status: opt_parse(r.cell::<Option<String>>(6)?.as_deref())?,
        violation_count: u32::try_from(r.cell::<i64>(7)?).unwrap_or(u32::MAX),
        started_at: super::timefmt::opt_from_sql(r.cell(8)?)?,
        completed_at: super::timefmt::opt_from_sql(r.cell(9)?)?,
        marks: Vec::new(),
        lms: lms_sync(r.cell::<Option<String>>(10)?.as_deref(), r.cell(11)?)?,
        grade: Grade::in_force(original, r.cell(15)?),
        reviewed_by,
        decided_at,
        awaiting_from: r.cell(17)?,
    })
}

/// A decision row before it has an id and its place in the chain.
pub struct NewDecision<'a> {
    pub session_id: i64,
    pub reviewer_id: i64,
    pub decided_at: &'a str,
    pub verdict: &'a str,
    pub reason: &'a str,
    pub status_before: &'a str,
    pub status_after: &'a str,
    pub review_status_before: Option<&'a str>,
    pub review_status_after: Option<&'a str>,
    pub grade_possible: Option<f64>,
    pub grade_before: Option<f64>,
    pub grade_after: Option<f64>,
    pub learner_emailed: bool,
    pub idempotency_key: Option<&'a str>,
}

impl NewDecision<'_> {
    /// What the chain hashes of this row once it has id `id`.
    pub fn fields(&self, id: i64) -> AuditFields {
        AuditFields {
            id,
            session_id: self.session_id,
            reviewer_id: self.reviewer_id,
            decided_at: self.decided_at.to_owned(),
            verdict: self.verdict.to_owned(),
            reason_sha256: sha256(self.reason),
            status_before: self.status_before.to_owned(),
            status_after: self.status_after.to_owned(),
            review_status_before: self.review_status_before.map(str::to_owned),
            review_status_after: self.review_status_after.map(str::to_owned),
            grade_possible: self.grade_possible,
            grade_before: self.grade_before,
            grade_after: self.grade_after,
            learner_emailed: self.learner_emailed,
        }
    }
}

/// Hands back the jobs a stopping server is still running (`?`: its instance id).
pub const RELEASE_JOBS: &str = "UPDATE jobs SET state = 'queued', progress = 0, claimed_by = NULL,
       last_error = 'handed back by a server shutting down; started again'
     WHERE state = 'running' AND claimed_by = ?";

/// The history's head as `audit_head` answers it: the count, the newest hash (the chain's
/// start when there is none), and the newest seal.
pub fn head(count: i64, hash: Option<String>, seal: Option<String>) -> crate::domain::audit::Head {
    crate::domain::audit::Head {
        entries: count.max(0) as u64,
        hash: hash.unwrap_or_else(|| crate::domain::audit::GENESIS.to_owned()),
        newest_seal: seal.and_then(|s| {
            s.split_once(' ')
                .map(|(hash, seal)| (hash.to_owned(), seal.to_owned()))
        }),
    }
}

/// An entry of the decision history as `queries::AUDIT_CHAIN` reads it.
pub fn stored_entry(
    r: &impl super::cells::Cells,
) -> Result<crate::domain::audit::StoredEntry, StoreError> {
    let reason: String = r.cell(5)?;
    Ok(crate::domain::audit::StoredEntry {
        fields: AuditFields {
            id: r.cell(0)?,
            session_id: r.cell(1)?,
            reviewer_id: r.cell(2)?,
            decided_at: r.cell(3)?,
            verdict: r.cell(4)?,
            reason_sha256: r
                .cell::<Option<String>>(14)?
                .unwrap_or_else(|| sha256(&reason)),
            status_before: r.cell(6)?,
            status_after: r.cell(7)?,
            review_status_before: r.cell(8)?,
            review_status_after: r.cell(9)?,
            grade_possible: r.cell(10)?,
            grade_before: r.cell(11)?,
            grade_after: r.cell(12)?,
            learner_emailed: r.cell(13)?,
        },
        reason,
        prev_hash: r.cell::<Option<String>>(15)?.unwrap_or_default(),
        hash: r.cell::<Option<String>>(16)?.unwrap_or_default(),
        seal: r.cell(17)?,
    })
}

/// A session with a history as `queries::AUDIT_SESSIONS` reads it.
pub fn session_now(
    r: &impl super::cells::Cells,
) -> Result<crate::domain::audit::SessionNow, StoreError> {
    Ok(crate::domain::audit::SessionNow {
        session_id: r.cell(0)?,
        status: r.cell(1)?,
        modified: r.cell(2)?,
        learner_retired: r.cell::<i64>(3)? != 0,
    })
}

/// The LMS a session came from, as `queries::SESSION_LMS` reads it.
pub(crate) fn session_lms(
    r: &impl super::cells::Cells,
) -> Result<super::lms::SessionLms, StoreError> {
    Ok(super::lms::SessionLms {
        client: r.cell(0)?,
        course_id: r.cell(1)?,
        external_id: r.cell(2)?,
        learner_email: r.cell(3)?,
        before: super::lms::DeliveryBefore {
            state: r.cell(4)?,
            note: r.cell(5)?,
        },
    })
}

/// What a session's detail gathers besides its own row.
pub struct DetailParts {
    pub violations: Vec<crate::domain::Violation>,
    pub history: Vec<crate::domain::HistoryEntry>,
    pub media: Vec<crate::domain::MediaItem>,
    pub onboarding: Option<crate::domain::Onboarding>,
}

/// A session's detail from its row as the detail query reads it (the list row's columns,
/// then the exam's and the attempt's) and its other parts.
pub fn session_detail(
    r: &impl super::cells::Cells,
    mut row: crate::domain::SessionRow,
    parts: DetailParts,
) -> Result<crate::domain::SessionDetail, StoreError> {
    // The list row drawn from this detail keeps its timeline.
    row.marks = parts
        .violations
        .iter()
        .map(|v| crate::domain::ViolationMark {
            at: v.start_time,
            rules: v.is_rules_violation(),
        })
        .collect();
    let original_grade = grade(r.cell(14)?, r.cell(13)?);
    let grade_override: Option<f64> = r.cell(15)?;
    let o = super::queries::SESSION_ROW_COUNT;
    Ok(crate::domain::SessionDetail {
        learner_view: crate::domain::LearnerView::of(row.status),
        course_id: r.cell(o)?,
        exam_name: r.cell(o + 1)?,
        exam_time_limit_mins: r.cell(o + 2)?,
        provider: r.cell(o + 3)?,
        attempt_code: r.cell(o + 4)?,
        external_id: r.cell(o + 5)?,
        allowed_time_limit_mins: r.cell(o + 6)?,
        is_sample_attempt: r.cell(o + 7)?,
        track: r.cell(o + 8)?,
        second_review: super::rows::parse(&r.cell::<String>(o + 9)?)?,
        waiting: waiting(&row, &parts.history),
        original_grade,
        grade_in_force: Grade::in_force(original_grade, grade_override),
        violations: parts.violations,
        history: parts.history,
        undo_until: None,
        media: parts.media,
        onboarding: parts.onboarding,
        row,
    })
}

/// The first opinion a session waits on: the latest first opinion in its history, whole
/// (the application layer hides its verdict from those who must decide blind).
fn waiting(
    row: &crate::domain::SessionRow,
    history: &[crate::domain::HistoryEntry],
) -> Option<crate::domain::second_review::Waiting> {
    use crate::domain::second_review::{Stage, Waiting};
    row.awaiting_from?;
    let first = history
        .iter()
        .rev()
        .find(|h| h.stage == Some(Stage::First) && h.undoes.is_none())?;
    Some(Waiting {
        first_reviewer: first.reviewer.clone(),
        verdict: first.verdict,
    })
}

/// Adds one row of the Quiz List's query (course, exam and its counts, in course order) to
/// the courses read so far.
pub fn add_course_row(
    out: &mut Vec<crate::domain::CourseSummary>,
    r: &impl super::cells::Cells,
) -> Result<(), StoreError> {
    use crate::domain::{CourseSummary, Exam, ExamCounts, ExamSummary};
    let count = |i: usize| -> Result<u64, StoreError> { Ok(r.cell::<i64>(i)?.max(0) as u64) };
    let course_id: String = r.cell(0)?;
    let exam = ExamSummary {
        exam: Exam {
            id: r.cell(2)?,
            course_id: course_id.clone(),
            content_id: r.cell(3)?,
            external_id: r.cell(4)?,
            exam_name: r.cell(5)?,
            time_limit_mins: r.cell(6)?,
            is_proctored: r.cell(7)?,
            is_practice_exam: r.cell(8)?,
            backend: r.cell(9)?,
        },
        counts: ExamCounts {
            sessions: count(10)?,
            require_attention: count(11)?,
            pending: count(12)?,
            passed: count(13)?,
            failed: count(14)?,
            awaiting_second_review: 0,
            yours_awaiting: 0,
        },
    };
    match out.last_mut() {
        Some(last) if last.id == course_id => last.exams.push(exam),
        _ => out.push(CourseSummary {
            id: course_id,
            name: r.cell(1)?,
            exams: vec![exam],
            access: None,
        }),
    }
    Ok(())
}

/// One entry of [`super::queries::HISTORY`].
pub fn history_entry(
    r: &impl super::cells::Cells,
) -> Result<crate::domain::HistoryEntry, StoreError> {
    let HistoryVerdicts {
        gave,
        undoes,
        stage,
    } = history_verdicts(&r.cell::<String>(3)?)?;
    let evidence_deleted = r.cell::<String>(3)? == super::retention::RETENTION_VERDICT;
    let possible: Option<f64> = r.cell(9)?;
    let attempts: Option<i64> = r.cell(14)?;
    Ok(crate::domain::HistoryEntry {
        id: r.cell(0)?,
        reviewer: r.cell(1)?,
        decided_at: super::timefmt::from_sql(&r.cell::<String>(2)?)?,
        verdict: gave,
        undoes,
        stage,
        evidence_deleted,
        reason: r.cell(4)?,
        status_before: parse(&r.cell::<String>(5)?)?,
        status_after: parse(&r.cell::<String>(6)?)?,
        review_status_before: opt_parse(r.cell::<Option<String>>(7)?.as_deref())?,
        review_status_after: opt_parse(r.cell::<Option<String>>(8)?.as_deref())?,
        grade_before: grade(possible, r.cell(10)?),
        grade_after: grade(possible, r.cell(11)?),
        email: email_delivery(
            r.cell(12)?,
            r.cell::<Option<String>>(13)?.as_deref(),
            attempts.map(|a| u32::try_from(a).unwrap_or(u32::MAX)),
            r.cell(15)?,
        )?,
    })
}
