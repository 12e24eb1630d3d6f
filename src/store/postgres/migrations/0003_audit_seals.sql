-- Each decision's seal: an HMAC of its hash under a key kept outside the database, so
-- rewriting the history needs more than write access to the database.
CREATE TABLE audit_seals (
    decision_id BIGINT PRIMARY KEY REFERENCES decisions(id),
    seal TEXT NOT NULL
);
