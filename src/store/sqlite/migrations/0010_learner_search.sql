-- Search that ignores case and accents in every script: each learner's folded
-- "username email full name" in an FTS5 trigram index (substrings of 3+ characters).
-- search_key() is the program's own function (registered on every connection).
CREATE VIRTUAL TABLE learner_search USING fts5(key, tokenize = 'trigram');

-- A search finds learners first; their sessions in the exam are then looked up directly.
CREATE INDEX sessions_by_learner ON sessions (learner_id, exam_id);

INSERT INTO learner_search (rowid, key)
SELECT id, search_key(username || ' ' || email || ' ' || full_name) FROM learners;

CREATE TRIGGER learner_search_insert AFTER INSERT ON learners BEGIN
    INSERT INTO learner_search (rowid, key)
    VALUES (new.id, search_key(new.username || ' ' || new.email || ' ' || new.full_name));
END;

CREATE TRIGGER learner_search_update AFTER UPDATE OF username, email, full_name ON learners BEGIN
    DELETE FROM learner_search WHERE rowid = old.id;
    INSERT INTO learner_search (rowid, key)
    VALUES (new.id, search_key(new.username || ' ' || new.email || ' ' || new.full_name));
END;

CREATE TRIGGER learner_search_delete AFTER DELETE ON learners BEGIN
    DELETE FROM learner_search WHERE rowid = old.id;
END;
