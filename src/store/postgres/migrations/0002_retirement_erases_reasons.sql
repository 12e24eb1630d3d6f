-- Retiring a learner erases the reasons given for decisions on their sessions (a reason may
-- name the learner), as on SQLite: that one change is allowed; every other column, and so
-- the hash chain (which holds the reason's SHA-256), stays as it was.
CREATE OR REPLACE FUNCTION decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.reason = 'erased: learner retired'
       AND (NEW.id, NEW.session_id, NEW.reviewer_id, NEW.decided_at, NEW.verdict,
            NEW.status_before, NEW.status_after, NEW.review_status_before,
            NEW.review_status_after, NEW.grade_possible, NEW.grade_before, NEW.grade_after,
            NEW.learner_emailed, NEW.idempotency_key, NEW.reason_sha256, NEW.prev_hash, NEW.hash)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.session_id, OLD.reviewer_id, OLD.decided_at, OLD.verdict,
            OLD.status_before, OLD.status_after, OLD.review_status_before,
            OLD.review_status_after, OLD.grade_possible, OLD.grade_before, OLD.grade_after,
            OLD.learner_emailed, OLD.idempotency_key, OLD.reason_sha256, OLD.prev_hash, OLD.hash)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the decision history is append-only';
END $$;
