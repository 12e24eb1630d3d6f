-- The Sessions list's default order (Require Attention first, newest first) read straight
-- from an index instead of sorting every session of the exam.
CREATE INDEX sessions_attention_first ON sessions (
    exam_id,
    (status = 'second_review_required') DESC,
    (started_at IS NULL),
    started_at DESC,
    id
);
