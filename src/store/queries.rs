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
