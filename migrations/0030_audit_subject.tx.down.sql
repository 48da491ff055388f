ALTER TABLE account_tokens DROP COLUMN term_ends_at;
ALTER TABLE memberships DROP COLUMN term_ends_at;
ALTER TABLE audit_log DROP COLUMN subject_name;
