-- Evidence files live in the media folder, named by their SHA-256 (several sessions may
-- share one file); these rows say what each is and which session it belongs to.
CREATE TABLE media (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    kind TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    offset_start INTEGER,
    offset_end INTEGER,
    captured_at TEXT,
    violation_id INTEGER REFERENCES violations(id),
    scan_result TEXT,
    face_match_score REAL,
    created TEXT NOT NULL
);
-- The same file may serve twice in a session (two moments of one kind share a demo clip),
-- but never twice for the same moment.
CREATE UNIQUE INDEX media_unique ON media
    (session_id, kind, sha256, COALESCE(violation_id, -1), COALESCE(offset_start, -1));
CREATE INDEX media_by_session ON media (session_id);
CREATE INDEX media_by_sha ON media (sha256);

-- A learner's onboarding for a course (the instructor dashboard's vocabulary).
CREATE TABLE onboarding (
    learner_id INTEGER NOT NULL REFERENCES learners(id),
    course_id TEXT NOT NULL REFERENCES courses(id),
    status TEXT NOT NULL,
    started_at TEXT,
    submitted_at TEXT,
    verified_at TEXT,
    modified TEXT NOT NULL,
    PRIMARY KEY (learner_id, course_id)
);

-- reviewer, admin (may add evidence) or service (the provider's account).
ALTER TABLE reviewers ADD COLUMN role TEXT NOT NULL DEFAULT 'reviewer';
