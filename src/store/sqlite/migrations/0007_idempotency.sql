-- A decision carries the key its console made when the dialog opened; a repeat of the same
-- request (after a lost answer) finds it and changes nothing.
ALTER TABLE decisions ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX decisions_idempotency ON decisions (reviewer_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
