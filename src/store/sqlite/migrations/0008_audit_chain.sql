-- The decision history is append-only and tamper-evident: each row keeps the SHA-256 of
-- its reason, the previous row's hash and its own (over its content and that previous
-- hash). Rows from before this migration get their hashes once, in id order, on open.
ALTER TABLE decisions ADD COLUMN reason_sha256 TEXT;
ALTER TABLE decisions ADD COLUMN prev_hash TEXT;
ALTER TABLE decisions ADD COLUMN hash TEXT;

-- Only two changes are allowed: giving an old row its hashes, and a learner's retirement
-- erasing the reason (the chain keeps the reason's digest, so it still verifies).
CREATE TRIGGER decisions_append_only BEFORE UPDATE ON decisions
WHEN OLD.hash IS NOT NULL AND NOT (
    NEW.reason = 'erased: learner retired'
    AND NEW.id IS OLD.id AND NEW.session_id IS OLD.session_id
    AND NEW.reviewer_id IS OLD.reviewer_id AND NEW.decided_at IS OLD.decided_at
    AND NEW.verdict IS OLD.verdict AND NEW.status_before IS OLD.status_before
    AND NEW.status_after IS OLD.status_after
    AND NEW.review_status_before IS OLD.review_status_before
    AND NEW.review_status_after IS OLD.review_status_after
    AND NEW.grade_possible IS OLD.grade_possible AND NEW.grade_before IS OLD.grade_before
    AND NEW.grade_after IS OLD.grade_after AND NEW.learner_emailed IS OLD.learner_emailed
    AND NEW.idempotency_key IS OLD.idempotency_key
    AND NEW.reason_sha256 IS OLD.reason_sha256 AND NEW.prev_hash IS OLD.prev_hash
    AND NEW.hash IS OLD.hash)
BEGIN
    SELECT RAISE(ABORT, 'the decision history is append-only');
END;

CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
BEGIN
    SELECT RAISE(ABORT, 'the decision history is append-only');
END;
