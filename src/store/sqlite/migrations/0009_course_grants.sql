-- Reviewers see only the courses granted to them ('read': sees; 'review': also decides).
-- Admins and the service account see every course and need no grants. A grant names a
-- course id, so it may be made before the LMS registers the course.
CREATE TABLE course_grants (
    reviewer_id INTEGER NOT NULL REFERENCES reviewers(id),
    course_id TEXT NOT NULL,
    access TEXT NOT NULL CHECK (access IN ('read', 'review')),
    granted_at TEXT NOT NULL,
    PRIMARY KEY (reviewer_id, course_id)
) WITHOUT ROWID;

-- Reviewers of an existing installation could see and decide everywhere; they keep that
-- for the courses that exist now. New courses need a grant.
INSERT INTO course_grants (reviewer_id, course_id, access, granted_at)
SELECT r.id, c.id, 'review', strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')
FROM reviewers r CROSS JOIN courses c
WHERE r.role = 'reviewer' AND r.username <> 'open-edx';

-- A token may stop working at a set time (NULL: until revoked).
ALTER TABLE api_tokens ADD COLUMN expires TEXT;
CREATE INDEX api_tokens_by_reviewer ON api_tokens (reviewer_id);
