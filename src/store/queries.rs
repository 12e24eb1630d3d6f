//! SQL both backends send as it is: written with `?` placeholders, which SQLite takes and
//! the PostgreSQL backend numbers (`sql::numbered`).

/// A reviewer who still holds a token that is neither revoked nor expired (`?` = the id,
/// then now as stored text): what a signed link or a live stream speaks for only while the
/// reviewer may still sign in.
pub const ACTIVE_REVIEWER: &str = "SELECT id, username, email, full_name, role FROM reviewers r
     WHERE r.id = ? AND EXISTS (SELECT 1 FROM api_tokens t
        WHERE t.reviewer_id = r.id AND NOT t.revoked AND (t.expires IS NULL OR t.expires > ?))";

/// The earlier decision a reviewer made with an idempotency key (`?` = reviewer, key): its
/// session and verdict.
pub const DECISION_BY_KEY: &str =
    "SELECT session_id, verdict FROM decisions WHERE reviewer_id = ? AND idempotency_key = ?";

/// The LMS that registered a session, with its delivery now (`?` = the session); nothing
/// for a session no LMS registered.
pub const SESSION_LMS: &str =
    "SELECT e.lms_client, e.course_id, s.external_id, l.email, s.lms_state, s.lms_note
     FROM sessions s JOIN exams e ON e.id = s.exam_id JOIN learners l ON l.id = s.learner_id
     WHERE s.id = ? AND e.lms_client IS NOT NULL AND s.external_id IS NOT NULL";

/// Retires the session's review jobs still waiting (`?` = the note saying what replaced
/// them, when, the session): only the latest word on a session may reach the LMS.
pub const SUPERSEDE_REVIEWS: &str =
    "UPDATE jobs SET state = 'failed', last_error = ?, finished_at = ?
     WHERE session_id = ? AND kind = 'lms_review' AND state = 'queued'";

/// A decision's callback job (`?` = the decision).
pub const DECISION_CALLBACK: &str =
    "SELECT payload FROM jobs WHERE decision_id = ? AND kind = 'lms_review'";

/// Queues again what an undone decision superseded (`?` = due, the session, its note).
pub const REQUEUE_SUPERSEDED: &str =
    "UPDATE jobs SET state = 'queued', attempts = 0, last_error = NULL,
         finished_at = NULL, next_attempt_at = ?
     WHERE session_id = ? AND kind = 'lms_review' AND state = 'failed' AND last_error = ?";

/// Puts a session's delivery back as it was (`?` = state, note, the session).
pub const RESTORE_DELIVERY: &str = "UPDATE sessions SET lms_state = ?, lms_note = ? WHERE id = ?";

/// The decision history in order, each entry with its seal (if it has one).
pub const AUDIT_CHAIN: &str =
    "SELECT d.id, d.session_id, d.reviewer_id, d.decided_at, d.verdict, d.reason,
        d.status_before, d.status_after, d.review_status_before, d.review_status_after,
        d.grade_possible, d.grade_before, d.grade_after, d.learner_emailed, d.reason_sha256,
        d.prev_hash, d.hash, a.seal
     FROM decisions d LEFT JOIN audit_seals a ON a.decision_id = d.id ORDER BY d.id";

/// Seals an entry (`?` = the decision, its seal).
pub const INSERT_SEAL: &str = "INSERT INTO audit_seals (decision_id, seal) VALUES (?, ?)";

/// Entries without a seal, in order: their ids and hashes.
pub const UNSEALED: &str = "SELECT d.id, d.hash FROM decisions d
     WHERE NOT EXISTS (SELECT 1 FROM audit_seals a WHERE a.decision_id = d.id) ORDER BY d.id";

/// Every session that has a history, as it is now, and whether its learner was retired
/// (retirement leaves exactly this name and username behind).
pub const AUDIT_SESSIONS: &str = "SELECT s.id, s.status, s.modified,
        CAST(CASE WHEN l.full_name = 'Retired learner' AND l.username LIKE 'retired-%'
             THEN 1 ELSE 0 END AS BIGINT)
     FROM sessions s JOIN learners l ON l.id = s.learner_id
     WHERE EXISTS (SELECT 1 FROM decisions d WHERE d.session_id = s.id) ORDER BY s.id";

/// How many entries the history has, the newest one's hash, and the newest sealed entry's
/// hash and seal (separated by a space).
pub const AUDIT_HEAD: &str = "SELECT COUNT(*),
        (SELECT hash FROM decisions ORDER BY id DESC LIMIT 1),
        (SELECT d.hash || ' ' || a.seal FROM audit_seals a JOIN decisions d ON d.id = a.decision_id
         ORDER BY a.decision_id DESC LIMIT 1)
     FROM decisions";

/// The session an attempt id we gave an LMS, or an attempt code, names (`?` twice).
pub const SESSION_BY_REFERENCE: &str =
    "SELECT id FROM sessions WHERE external_id = ? OR attempt_code = ? LIMIT 1";

/// A claimed job's payload and the session it concerns: its own for an Open edX review, its
/// decision's for a learner email (`?` = the job).
pub const CLAIMED: &str = "SELECT j.payload, COALESCE(j.session_id, d.session_id), j.request_id
     FROM jobs j LEFT JOIN decisions d ON d.id = j.decision_id WHERE j.id = ?";

/// [`SESSION_ROW`] as a literal, so other queries can be built from it at compile time.
macro_rules! session_row_columns {
    () => {
        "s.id, s.exam_id, l.username, l.email, l.full_name, s.status, s.review_status,
         s.violation_count, s.started_at, s.completed_at, s.lms_state, s.lms_note,
         s.reviewed_by, s.grade_earned, s.grade_possible, s.grade_override, s.modified,
         s.awaiting_from"
    };
}

/// A list row's columns, read by `rows::session_row` (from `sessions s` joined with
/// `learners l`). The reviewer, grades and `modified` let the row say who decided and when.
pub const SESSION_ROW: &str = session_row_columns!();
/// How many columns [`SESSION_ROW`] has: what a query adds after it starts here.
pub const SESSION_ROW_COUNT: usize = 18;

/// One session as Learner Detail shows it (`?` = the session): the list row's columns, then
/// the exam's, the attempt's and the course's rule for a second review.
pub const SESSION_DETAIL: &str = concat!(
    "SELECT ",
    session_row_columns!(),
    ", e.course_id, e.exam_name, e.time_limit_mins, e.backend, s.attempt_code,
       s.external_id, s.allowed_time_limit_mins, s.is_sample_attempt, s.track, c.second_review
     FROM sessions s JOIN learners l ON l.id = s.learner_id JOIN exams e ON e.id = s.exam_id
     JOIN courses c ON c.id = e.course_id
     WHERE s.id = ?"
);

/// A session's decision history, oldest first, each entry with its email's job
/// (`?` = the session); read by `rows::history_entry`.
pub const HISTORY: &str =
    "SELECT d.id, r.username, d.decided_at, d.verdict, d.reason, d.status_before, d.status_after,
            d.review_status_before, d.review_status_after, d.grade_possible, d.grade_before,
            d.grade_after, j.id, j.state, j.attempts, j.last_error
     FROM decisions d JOIN reviewers r ON r.id = d.reviewer_id
     LEFT JOIN jobs j ON j.decision_id = d.id AND j.kind = 'email'
     WHERE d.session_id = ? ORDER BY d.decided_at, d.id";
