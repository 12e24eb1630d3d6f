-- The Quiz List's counts become a ledger (issue #27). A counter row per (exam, status) was
-- locked by every decision on the exam until its commit, so a decision could not change
-- its session before taking the history's turn: it would have held the counter while
-- waiting for the history. Now a change appends its own rows, which nobody else waits on,
-- and readers already add them up (`SUM(n)`); running servers fold each (exam, status)'s
-- rows back into one every second (`counts::fold`).
ALTER TABLE session_counts DROP CONSTRAINT session_counts_pkey;
CREATE INDEX session_counts_by_exam ON session_counts (exam_id, status) INCLUDE (n);

-- Loads and deletions still count once a statement.
CREATE OR REPLACE FUNCTION count_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO session_counts (exam_id, status, n)
        SELECT exam_id, status, -COUNT(*) FROM old_rows GROUP BY exam_id, status;
    ELSE
        INSERT INTO session_counts (exam_id, status, n)
        SELECT exam_id, status, COUNT(*) FROM new_rows GROUP BY exam_id, status;
    END IF;
    RETURN NULL;
END $$;

-- An update counts only when it moves a session to another status or exam: two rows, and
-- no transition tables to build for the many updates that change neither.
DROP TRIGGER sessions_counted_update ON sessions;
CREATE FUNCTION count_session_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO session_counts (exam_id, status, n)
    VALUES (OLD.exam_id, OLD.status, -1), (NEW.exam_id, NEW.status, 1);
    RETURN NULL;
END $$;
CREATE TRIGGER sessions_counted_update AFTER UPDATE OF exam_id, status ON sessions
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.exam_id IS DISTINCT FROM NEW.exam_id)
    EXECUTE FUNCTION count_session_move();
