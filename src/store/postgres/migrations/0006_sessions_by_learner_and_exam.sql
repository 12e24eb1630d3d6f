-- A search's few learners are looked up with the exam at hand, as on SQLite: the index
-- answers "this learner's sessions of this exam" without reading the sessions themselves,
-- where one on the learner alone read every session of each (and lost to a hash join over
-- the whole exam).
CREATE INDEX sessions_by_learner_exam ON sessions (learner_id, exam_id);
DROP INDEX sessions_by_learner;
