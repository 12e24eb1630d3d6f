-- Retention (issue #28): how long a course keeps the evidence of a decided session after
-- its last decision, as written ('180d', 'forever'); NULL follows the server's
-- --keep-evidence (forever unless it is given).
ALTER TABLE courses ADD COLUMN keep_evidence TEXT;

-- The HTTP request that queued a job (x-request-id), so the job's log lines name it.
ALTER TABLE jobs ADD COLUMN request_id TEXT;

-- Evidence files whose last record is gone (retention, a learner's retirement), written in
-- the same transaction that deletes the records, and removed once the file is: a file the
-- media folder or object store could not remove then stays listed and is tried again.
CREATE TABLE files_to_remove (
    sha256 TEXT PRIMARY KEY,
    since TEXT NOT NULL,
    last_error TEXT
);
