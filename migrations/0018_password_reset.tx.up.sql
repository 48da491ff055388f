-- Self-service password reset (issue 17): a single-use link of kind 'reset',
-- asked from /connexion/oubli and mailed to the account's own address. It
-- belongs to one council (usable on that council's hosts only) and one
-- account, and is made by no one (created_by NULL).
ALTER TABLE account_tokens DROP CONSTRAINT account_tokens_kind_check;
ALTER TABLE account_tokens ADD CONSTRAINT account_tokens_kind_check CHECK (kind IN ('invitation', 'password', 'reset'));
ALTER TABLE account_tokens ADD CONSTRAINT account_tokens_reset_check
    CHECK (kind <> 'reset' OR (council_id IS NOT NULL AND account_id IS NOT NULL AND created_by IS NULL));
CREATE INDEX account_tokens_account_pending ON account_tokens (account_id) WHERE used_at IS NULL;
