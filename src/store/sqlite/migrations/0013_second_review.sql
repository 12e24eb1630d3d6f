-- Four eyes (issue #26): a course may require a second reviewer before a decision takes
-- effect ('off', 'fail' or 'all'), and a session with a first opinion waiting names the
-- reviewer who gave it (the opinion itself is in the decision history).
ALTER TABLE courses ADD COLUMN second_review TEXT NOT NULL DEFAULT 'off'
    CHECK (second_review IN ('off', 'fail', 'all'));
ALTER TABLE sessions ADD COLUMN awaiting_from INTEGER REFERENCES reviewers(id);

-- The team's stats: a course's history by time, and the sessions awaiting a second look.
CREATE INDEX decisions_by_time ON decisions (decided_at);
CREATE INDEX sessions_awaiting ON sessions (exam_id) WHERE awaiting_from IS NOT NULL;

-- How long each decision's reviewer had the learner open before deciding (their claim's
-- age then), for the team's median time to a decision. Not on the audit chain: a measure,
-- not a record.
CREATE TABLE decision_timings (
    decision_id INTEGER PRIMARY KEY REFERENCES decisions(id),
    opened_secs INTEGER NOT NULL
);
