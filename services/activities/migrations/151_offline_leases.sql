-- The offline lease of a session: the one door device that may admit its tickets while it has no
-- network (services/activities/leases.py). One row per session; an expired row is anybody's.
CREATE TABLE activities.offline_leases (
    session_id  uuid PRIMARY KEY REFERENCES activities.sessions (id),
    device_id   text NOT NULL,
    holder      text NOT NULL,
    acquired_at timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
