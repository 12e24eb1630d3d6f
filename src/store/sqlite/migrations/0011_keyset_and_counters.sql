-- Every order of the Sessions list read straight from an index (keyset paging), and the
-- Quiz List's counts kept in a table instead of counted per request.

-- What each order sorts by, on the session itself so one index serves it: the learner's
-- folded name and username (kept in step with `learners` by the triggers below), whether
-- the session waits for a reviewer (0 = Require Attention, first), and how long it took.
ALTER TABLE sessions ADD COLUMN sort_name TEXT;
ALTER TABLE sessions ADD COLUMN sort_username TEXT;
ALTER TABLE sessions ADD COLUMN attention_rank INTEGER
    GENERATED ALWAYS AS (status <> 'second_review_required') VIRTUAL;
ALTER TABLE sessions ADD COLUMN duration_secs INTEGER
    GENERATED ALWAYS AS (unixepoch(completed_at) - unixepoch(started_at)) VIRTUAL;

UPDATE sessions SET
    sort_name = (SELECT search_key(full_name) FROM learners WHERE id = sessions.learner_id),
    sort_username = (SELECT username FROM learners WHERE id = sessions.learner_id);

CREATE TRIGGER sessions_sort_columns AFTER INSERT ON sessions
WHEN new.sort_name IS NULL OR new.sort_username IS NULL BEGIN
    UPDATE sessions SET
        sort_name = (SELECT search_key(full_name) FROM learners WHERE id = new.learner_id),
        sort_username = (SELECT username FROM learners WHERE id = new.learner_id)
    WHERE id = new.id;
END;

CREATE TRIGGER learners_sort_columns AFTER UPDATE OF username, full_name ON learners BEGIN
    UPDATE sessions SET sort_name = search_key(new.full_name), sort_username = new.username
    WHERE learner_id = new.id;
END;

-- Superseded by the ones below (their first column is the exam too).
DROP INDEX sessions_attention_first;
DROP INDEX sessions_by_exam_started;

-- One exam's list: Require Attention first, then the order, the id breaking ties. The
-- learner is in the index too, so a search that reads the list in order tests each entry
-- without fetching its row.
CREATE INDEX sessions_exam_started ON sessions (exam_id, attention_rank, started_at, id, learner_id);
CREATE INDEX sessions_exam_name ON sessions (exam_id, attention_rank, sort_name, id, learner_id);
CREATE INDEX sessions_exam_username ON sessions (exam_id, attention_rank, sort_username, id, learner_id);
CREATE INDEX sessions_exam_violations ON sessions (exam_id, attention_rank, violation_count, id, learner_id);
CREATE INDEX sessions_exam_duration ON sessions (exam_id, attention_rank, duration_secs, id, learner_id);
CREATE INDEX sessions_exam_status ON sessions (exam_id, attention_rank, status, id, learner_id);

-- The cross-exam queue holds only Require Attention sessions: small partial indexes.
CREATE INDEX queue_started ON sessions (started_at, id, exam_id, learner_id)
    WHERE status = 'second_review_required';
CREATE INDEX queue_name ON sessions (sort_name, id, exam_id, learner_id)
    WHERE status = 'second_review_required';
CREATE INDEX queue_username ON sessions (sort_username, id, exam_id, learner_id)
    WHERE status = 'second_review_required';
CREATE INDEX queue_violations ON sessions (violation_count, id, exam_id, learner_id)
    WHERE status = 'second_review_required';
CREATE INDEX queue_duration ON sessions (duration_secs, id, exam_id, learner_id)
    WHERE status = 'second_review_required';
CREATE INDEX queue_status ON sessions (status, id, exam_id, learner_id)
    WHERE status = 'second_review_required';

-- Sessions per exam and status, changed by the same statement that changes a session.
CREATE TABLE session_counts (
    exam_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (exam_id, status)
) WITHOUT ROWID;

INSERT INTO session_counts (exam_id, status, n)
SELECT exam_id, status, COUNT(*) FROM sessions GROUP BY exam_id, status;

CREATE TRIGGER session_counts_insert AFTER INSERT ON sessions BEGIN
    INSERT OR IGNORE INTO session_counts (exam_id, status, n) VALUES (new.exam_id, new.status, 0);
    UPDATE session_counts SET n = n + 1 WHERE exam_id = new.exam_id AND status = new.status;
END;

CREATE TRIGGER session_counts_delete AFTER DELETE ON sessions BEGIN
    UPDATE session_counts SET n = n - 1 WHERE exam_id = old.exam_id AND status = old.status;
END;

CREATE TRIGGER session_counts_update AFTER UPDATE OF exam_id, status ON sessions
WHEN old.exam_id <> new.exam_id OR old.status <> new.status BEGIN
    UPDATE session_counts SET n = n - 1 WHERE exam_id = old.exam_id AND status = old.status;
    INSERT OR IGNORE INTO session_counts (exam_id, status, n) VALUES (new.exam_id, new.status, 0);
    UPDATE session_counts SET n = n + 1 WHERE exam_id = new.exam_id AND status = new.status;
END;

