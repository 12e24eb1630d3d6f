-- Open edX instances this server is the proctoring provider for. `client_secret` is the
-- secret the LMS authenticates with; it is kept (not hashed) because the instructor-dashboard
-- launch JWT is HS256-signed with it and can only be checked with it. `lms_client_*` are the
-- LMS's own client credentials, used to post reviews to its callback.
CREATE TABLE lms_clients (
    client_id TEXT PRIMARY KEY,
    client_secret TEXT NOT NULL,
    lms_url TEXT NOT NULL,
    lms_client_id TEXT NOT NULL,
    lms_client_secret TEXT NOT NULL,
    backend TEXT NOT NULL,
    created TEXT NOT NULL,
    last_sync_at TEXT,
    last_sync_error TEXT
);

-- Exams and attempts the LMS registered: which LMS, and its ids.
ALTER TABLE exams ADD COLUMN lms_client TEXT REFERENCES lms_clients(client_id);
ALTER TABLE exams ADD COLUMN lms_exam_id INTEGER;
CREATE INDEX exams_by_external ON exams (external_id);
CREATE INDEX sessions_by_external ON sessions (external_id);

-- edx-proctoring's obscured user id (an HMAC of the LMS user id), how the LMS names a learner.
ALTER TABLE learners ADD COLUMN external_user_id TEXT;
CREATE UNIQUE INDEX learners_by_external ON learners (external_user_id)
    WHERE external_user_id IS NOT NULL;

-- How far the session's latest review has got on its way to the LMS (NULL: no LMS).
ALTER TABLE sessions ADD COLUMN lms_state TEXT;
ALTER TABLE sessions ADD COLUMN lms_note TEXT;
ALTER TABLE jobs ADD COLUMN session_id INTEGER REFERENCES sessions(id);
CREATE INDEX jobs_by_session ON jobs (session_id, kind) WHERE session_id IS NOT NULL;
