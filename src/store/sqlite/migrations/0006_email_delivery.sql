-- A decision's email job is found by the decision, so History can say whether the email
-- was delivered, is still being tried, or failed.
ALTER TABLE jobs ADD COLUMN decision_id INTEGER REFERENCES decisions(id);
UPDATE jobs SET decision_id = json_extract(payload, '$.decision_id')
WHERE kind = 'email' AND json_extract(payload, '$.decision_id') IS NOT NULL;
CREATE INDEX jobs_by_decision ON jobs (decision_id) WHERE decision_id IS NOT NULL;

-- Which server process runs a job. Each process says it is alive in server_instances; a
-- job is queued again only when its runner has gone quiet, so a second server starting on
-- the same database never re-runs (and re-sends) what the first is still delivering.
ALTER TABLE jobs ADD COLUMN claimed_by TEXT;
CREATE TABLE server_instances (
    id TEXT PRIMARY KEY,
    seen_at TEXT NOT NULL
);
