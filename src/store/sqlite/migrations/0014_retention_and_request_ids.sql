-- Retention (issue #28): how long a course keeps the evidence of a decided session after
-- its last decision, as written ('180d', 'forever'); NULL follows the server's
-- --keep-evidence (forever unless it is given).
ALTER TABLE courses ADD COLUMN keep_evidence TEXT;

-- The HTTP request that queued a job (x-request-id), so the job's log lines name it.
ALTER TABLE jobs ADD COLUMN request_id TEXT;
