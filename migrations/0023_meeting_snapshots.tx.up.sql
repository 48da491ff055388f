-- A meeting's quorum as it stood when the roll was taken (or, failing a roll,
-- when the meeting closed), and each vote's as it stood when the vote opened:
-- the number of active members, the quorum required and the rule in force.
-- A closed meeting's page, minutes and tallies read these, never the current
-- membership or rules, so they never change afterwards.
ALTER TABLE meetings
    ADD COLUMN quorum_members  integer CHECK (quorum_members >= 0),
    ADD COLUMN quorum_required integer CHECK (quorum_required >= 0),
    ADD COLUMN quorum_rule     jsonb,
    -- The date the meeting was convened for, kept when it was held on another
    -- day (starts_at then records the day it was really held).
    ADD COLUMN planned_starts_at timestamptz,
    ADD CONSTRAINT meetings_quorum_snapshot CHECK ((quorum_members IS NULL) = (quorum_required IS NULL)
        AND (quorum_members IS NULL) = (quorum_rule IS NULL));

ALTER TABLE votes
    ADD COLUMN quorum_members  integer CHECK (quorum_members >= 0),
    ADD COLUMN quorum_present  integer CHECK (quorum_present >= 0),
    ADD COLUMN quorum_required integer CHECK (quorum_required >= 0),
    ADD COLUMN quorum_rule     jsonb,
    ADD CONSTRAINT votes_quorum_snapshot CHECK ((quorum_members IS NULL) = (quorum_required IS NULL)
        AND (quorum_members IS NULL) = (quorum_present IS NULL) AND (quorum_members IS NULL) = (quorum_rule IS NULL));

-- Meetings closed before this migration: frozen as they read today (the
-- closest to the truth still known), so that they stop moving from now on.
UPDATE meetings m SET
    quorum_members = s.members,
    quorum_rule = s.rule,
    quorum_required = CASE WHEN s.rule->>'kind' = 'count' THEN (s.rule->>'count')::integer
                           ELSE (s.members * (s.rule->>'percent')::integer + 99) / 100 END
FROM (
    SELECT mm.id,
        (SELECT count(*) FROM memberships ms WHERE ms.council_id = mm.council_id AND ms.disabled_at IS NULL)::integer AS members,
        coalesce((SELECT jsonb_build_object('kind', r.quorum_kind, 'count', r.quorum_count, 'percent', r.quorum_percent,
                    'vote_without_quorum', r.vote_without_quorum)
                  FROM meeting_rules r WHERE r.council_id = mm.council_id),
                 jsonb_build_object('kind', 'share', 'count', 0, 'percent', 50, 'vote_without_quorum', false)) AS rule
    FROM meetings mm WHERE mm.state = 'close'
) s
WHERE m.id = s.id;
