-- Four eyes (issue #26): a course may require a second reviewer before a decision takes
-- effect ('off', 'fail' or 'all'), and a session with a first opinion waiting names the
-- reviewer who gave it (the opinion itself is in the decision history).
ALTER TABLE courses ADD COLUMN second_review TEXT NOT NULL DEFAULT 'off'
    CHECK (second_review IN ('off', 'fail', 'all'));
ALTER TABLE sessions ADD COLUMN awaiting_from BIGINT REFERENCES reviewers(id);

-- The team's stats: a course's history by time, and the sessions awaiting a second look.
CREATE INDEX decisions_by_time ON decisions (decided_at);
CREATE INDEX sessions_awaiting ON sessions (exam_id) WHERE awaiting_from IS NOT NULL;
