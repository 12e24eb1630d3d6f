-- Times are UTC text, fixed width (YYYY-MM-DDTHH:MM:SS.ffffffZ), so they sort as text.
CREATE TABLE courses (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE exams (
    id INTEGER PRIMARY KEY,
    course_id TEXT NOT NULL REFERENCES courses(id),
    content_id TEXT NOT NULL,
    external_id TEXT,
    exam_name TEXT NOT NULL,
    time_limit_mins INTEGER NOT NULL,
    is_proctored INTEGER NOT NULL,
    is_practice_exam INTEGER NOT NULL,
    is_active INTEGER NOT NULL DEFAULT 1,
    backend TEXT,
    UNIQUE (course_id, content_id)
);

CREATE TABLE learners (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    full_name TEXT NOT NULL
);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    exam_id INTEGER NOT NULL REFERENCES exams(id),
    learner_id INTEGER NOT NULL REFERENCES learners(id),
    attempt_code TEXT NOT NULL UNIQUE,
    external_id TEXT,
    status TEXT NOT NULL,
    review_status TEXT,
    reviewed_by TEXT,
    started_at TEXT,
    completed_at TEXT,
    allowed_time_limit_mins INTEGER,
    taking_as_proctored INTEGER NOT NULL DEFAULT 1,
    is_sample_attempt INTEGER NOT NULL,
    track TEXT NOT NULL,
    grade_earned REAL,
    grade_possible REAL,
    grade_override REAL,
    violation_count INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE INDEX sessions_by_exam_status ON sessions (exam_id, status);
CREATE INDEX sessions_by_exam_started ON sessions (exam_id, started_at);

CREATE TABLE violations (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    start_time INTEGER NOT NULL,
    stop_time INTEGER NOT NULL,
    duration INTEGER NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    comment TEXT NOT NULL
);
CREATE INDEX violations_by_session ON violations (session_id);

CREATE TABLE reviewers (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    full_name TEXT NOT NULL,
    created TEXT NOT NULL
);

-- Only the SHA-256 of a token is kept; the token itself is shown once, when made.
CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    reviewer_id INTEGER NOT NULL REFERENCES reviewers(id),
    created TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    reviewer_id INTEGER NOT NULL REFERENCES reviewers(id),
    decided_at TEXT NOT NULL,
    verdict TEXT NOT NULL,
    reason TEXT NOT NULL,
    status_before TEXT NOT NULL,
    status_after TEXT NOT NULL,
    review_status_before TEXT,
    review_status_after TEXT,
    grade_possible REAL,
    grade_before REAL,
    grade_after REAL,
    learner_emailed INTEGER NOT NULL
);
CREATE INDEX decisions_by_session ON decisions (session_id);

-- Learner emails are queued in the decision's transaction and delivered after it commits.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    decision_id INTEGER REFERENCES decisions(id),
    to_name TEXT NOT NULL,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created TEXT NOT NULL,
    delivered_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox (delivered_at) WHERE delivered_at IS NULL;
