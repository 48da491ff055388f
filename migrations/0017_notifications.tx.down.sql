DROP TABLE notification_settings;
DROP TABLE notification_prefs;
DROP TABLE notifications;
UPDATE meetings SET state = 'prevue' WHERE state = 'annulee';
ALTER TABLE meetings DROP CONSTRAINT meetings_opened_check;
ALTER TABLE meetings ADD CONSTRAINT meetings_check1 CHECK (state = 'prevue' OR opened_at IS NOT NULL);
ALTER TABLE meetings DROP CONSTRAINT meetings_state_check;
ALTER TABLE meetings ADD CONSTRAINT meetings_state_check CHECK (state IN ('prevue', 'en_cours', 'close'));
ALTER TABLE meeting_rules DROP COLUMN convocation_days;
