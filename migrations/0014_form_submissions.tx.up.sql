-- Idempotency keys of create-forms (internal/idempotency, docs/decisions.md):
-- each rendered form carries a random key in a hidden field; the first
-- submission of a key creates and records where it led (result), the others
-- (a double click, a form sent again) create nothing and lead there too. The
-- primary key makes concurrent submissions of one key wait for the first.
-- Rows older than a day are purged as new keys are claimed.
CREATE TABLE form_submissions (
    council_id bigint NOT NULL REFERENCES councils (id) ON DELETE CASCADE,
    key        text NOT NULL CHECK (key ~ '^[A-Za-z0-9_-]{16,64}$'),
    result     text NOT NULL DEFAULT '' CHECK (length(result) <= 500),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, key)
);
CREATE INDEX form_submissions_created ON form_submissions (created_at);
