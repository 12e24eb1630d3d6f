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
