-- A learner is inserted by SQL both databases share; the search key is written right
-- after (SQLite's triggers do it there), so the insert need not name it.
ALTER TABLE learners ALTER COLUMN search_key SET DEFAULT '';
