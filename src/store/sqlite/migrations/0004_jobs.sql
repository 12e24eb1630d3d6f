-- One table for every kind of background work. The outbox's emails become jobs of kind
-- 'email' (delivered ones as done), so nothing queued before the upgrade is lost.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    requested_by INTEGER REFERENCES reviewers(id),
    course_id TEXT,
    created TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    result TEXT
);
CREATE INDEX jobs_due ON jobs (kind, next_attempt_at, id) WHERE state = 'queued';
CREATE INDEX jobs_by_course ON jobs (kind, course_id, created);

INSERT INTO jobs (kind, payload, state, attempts, next_attempt_at, last_error, created, finished_at)
SELECT 'email',
       json_object('decision_id', decision_id, 'to_name', to_name, 'to_address', to_address,
                   'subject', subject, 'body', body),
       CASE WHEN delivered_at IS NULL THEN 'queued' ELSE 'done' END,
       attempts, created, last_error, created, delivered_at
FROM outbox ORDER BY id;
DROP TABLE outbox;

-- The report reads each exam's attempts newest first.
CREATE INDEX sessions_by_exam_created ON sessions (exam_id, created);
