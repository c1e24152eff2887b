-- Admissions a door device made offline and sent on reconnect: which device, when it let them in
-- by its own clock, and whether it did so under a manual override (it lacked the lease).
ALTER TABLE activities.admissions
    ADD COLUMN device_id text,
    ADD COLUMN offline_at timestamptz,
    ADD COLUMN override boolean NOT NULL DEFAULT false;

-- An offline admission that arrived after the party was already in: never merged, kept with both
-- records for the organiser (the console's 离线冲突). Its id is the offline scan's admission id, so
-- the same queued scan sent again finds its conflict instead of making a second one.
CREATE TABLE activities.offline_conflicts (
    id                 uuid PRIMARY KEY,
    session_id         uuid NOT NULL REFERENCES activities.sessions (id),
    signup_id          uuid NOT NULL REFERENCES activities.signups (id),
    device_id          text NOT NULL,
    scanned_by         text NOT NULL,
    offline_at         timestamptz NOT NULL,
    override           boolean NOT NULL,
    first_admission_id uuid NOT NULL,
    first_scanned_by   text NOT NULL,
    first_admitted_at  timestamptz NOT NULL,
    first_device_id    text,
    first_override     boolean NOT NULL,
    reported_at        timestamptz NOT NULL
);
CREATE INDEX ON activities.offline_conflicts (session_id, reported_at);
