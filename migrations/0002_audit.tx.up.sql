-- The audit trail: append-only and hash-chained. Each row's hash covers its
-- content and the previous row's hash, so editing or deleting a past row breaks
-- the chain at that row (`cla audit verify`).
CREATE TABLE audit_log (
    id          bigint PRIMARY KEY,
    council_id  bigint REFERENCES councils (id),
    actor_id    bigint,
    actor_name  text NOT NULL DEFAULT '',
    action      text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
    object_type text NOT NULL CHECK (length(object_type) BETWEEN 1 AND 100),
    object_id   text NOT NULL DEFAULT '',
    summary     text NOT NULL DEFAULT '',
    before_json text NOT NULL DEFAULT '',
    after_json  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL UNIQUE
);
CREATE SEQUENCE audit_log_id_seq OWNED BY audit_log.id;
CREATE INDEX audit_log_council ON audit_log (council_id, id DESC);
CREATE INDEX audit_log_object ON audit_log (council_id, object_type, object_id);
CREATE INDEX audit_log_actor ON audit_log (council_id, actor_id);

-- Append-only for the application: updates and deletes are refused.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
