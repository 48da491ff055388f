DROP TABLE subscribers;
DROP TABLE notification_optouts;
DROP INDEX notifications_event;
DELETE FROM notification_prefs WHERE kind = 'renewal';
ALTER TABLE notification_prefs DROP CONSTRAINT notification_prefs_kind_check;
ALTER TABLE notification_prefs ADD CONSTRAINT notification_prefs_kind_check CHECK (kind IN ('convocation', 'vote_opened',
    'vote_closing', 'results', 'digest'));
DELETE FROM notifications WHERE kind IN ('renewal', 'application', 'public_digest', 'subscription');
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('convocation', 'vote_opened',
    'vote_closing', 'results', 'digest'));
