-- Issue 20 (point 7): the audit trail names the person an action is about
-- ("Karim Benali a masqué un argument de Lucas Morel"): the argument's author,
-- the member whose role changed…, as named when the entry was written. Part
-- of the hash when not empty, so entries written before it verify unchanged
-- (internal/audit, hashOf).
ALTER TABLE audit_log ADD COLUMN subject_name text NOT NULL DEFAULT ''
    CHECK (char_length(subject_name) <= 400);

-- Issue 21 (point 5): a membership that comes from a seat drawn by lot ends
-- with its term. Read as ended as soon as term_ends_at passes (the queries of
-- internal/auth), and disabled by the hourly auth.term_sweep job.
ALTER TABLE memberships ADD COLUMN term_ends_at timestamptz;
-- The invitation that follows an accepted seat carries the term's end to
-- the membership it creates.
ALTER TABLE account_tokens ADD COLUMN term_ends_at timestamptz;
