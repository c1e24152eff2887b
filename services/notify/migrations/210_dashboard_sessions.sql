-- The dashboard's per-session counts (services/notify/dashboard.py session_changes): seats of
-- confirmed sign-ups, people admitted and people per age band, kept from activities' events, with
-- what the session is (its day, end, activity category and 邻里驿家 station). Read per period:
-- sign-ups, attendance and no-shows per category and per station, festival participation by
-- age band. Counts only: no sign-up, resident or name is kept here.
CREATE TABLE notify.dashboard_sessions (
    session_id   uuid PRIMARY KEY,
    community_id text NOT NULL,
    day          date NOT NULL,           -- the local day it starts
    ends_at      timestamptz NOT NULL,
    category     text NOT NULL,
    station      text NOT NULL,           -- '' unless at a station
    version      timestamptz NOT NULL,    -- of the facts above: a moved session's newest win
    seats        bigint NOT NULL DEFAULT 0,
    admitted     bigint NOT NULL DEFAULT 0,
    age_under_18 bigint NOT NULL DEFAULT 0,
    age_18_59    bigint NOT NULL DEFAULT 0,
    age_60_79    bigint NOT NULL DEFAULT 0,
    age_80_plus  bigint NOT NULL DEFAULT 0,
    age_unknown  bigint NOT NULL DEFAULT 0
);
CREATE INDEX dashboard_sessions_by_day ON notify.dashboard_sessions (day, community_id);
