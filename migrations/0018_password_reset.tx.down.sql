DROP INDEX account_tokens_account_pending;
DELETE FROM account_tokens WHERE kind = 'reset';
ALTER TABLE account_tokens DROP CONSTRAINT account_tokens_reset_check;
ALTER TABLE account_tokens DROP CONSTRAINT account_tokens_kind_check;
ALTER TABLE account_tokens ADD CONSTRAINT account_tokens_kind_check CHECK (kind IN ('invitation', 'password'));
