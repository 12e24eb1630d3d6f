-- The recording pipeline and Open edX name a session by the attempt id we gave the LMS:
-- found by index, as on SQLite (its migration 0005).
CREATE INDEX sessions_by_external ON sessions (external_id);
