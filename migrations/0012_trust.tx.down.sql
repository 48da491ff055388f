DROP TABLE instance_secrets;
CREATE TABLE rate_limits (
    key    text NOT NULL CHECK (length(key) <= 300),
    bucket timestamptz NOT NULL,
    hits   integer NOT NULL DEFAULT 0,
    PRIMARY KEY (key, bucket)
);
CREATE INDEX rate_limits_bucket ON rate_limits (bucket);
DROP TABLE signin_backoff;
DROP TABLE rate_slots;
