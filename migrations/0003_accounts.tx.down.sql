DROP TABLE IF EXISTS rate_limits, account_tokens, sessions, memberships, accounts;
