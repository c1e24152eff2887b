-- Pages of lists (README.md, "Pages of a list"): each page of a list is read by keyset on the
-- list's order, so these indexes hold each list in that order and a page reads only its rows.
-- Festival browse, then each festival's activities and each activity's sessions, a page per
-- parent; they replace the indexes on the parent alone, whose work they do as well.
CREATE INDEX festivals_by_start ON activities.festivals (starts_on, id);
CREATE INDEX activities_of_festival ON activities.activities (festival_id, created_at, id);
DROP INDEX activities.activities_festival_id_idx;
CREATE INDEX sessions_of_activity ON activities.sessions (activity_id, starts_at, id);
DROP INDEX activities.sessions_activity_id_idx;
-- My sign-ups, latest first (and every other read of one resident's sign-ups).
CREATE INDEX signups_of_resident ON activities.signups (resident_id, arrival DESC);
DROP INDEX activities.signups_resident_id_idx;
-- A session's roster: confirmed in arrival order, then the waitlist in order.
CREATE INDEX signups_roster ON activities.signups (session_id, (status = 'WAITLISTED'), arrival)
    WHERE status <> 'CANCELLED';
-- A community's venues by name: venues_community_id_name_key (unique) already holds that order.
