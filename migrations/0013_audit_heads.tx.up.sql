-- The chain head at the end of each day (GET /api/v1/audit/head) is the last
-- entry before each midnight: one probe of this index per day.
CREATE INDEX audit_log_created ON audit_log (created_at DESC, id DESC);
