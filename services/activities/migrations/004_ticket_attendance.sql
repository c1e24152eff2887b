-- Attendance: a resident's ticket scanned at the door. One row per sign-up, so a ticket
-- admits once; the row's id follows from the scan's idempotency key, so the same scan
-- replayed is recognised as itself. No foreign key to sessions: a check-in then never
-- waits on a session's row lock (cancellations hold it while they lock sign-ups).
CREATE TABLE activities.attendance (
    signup_id     uuid PRIMARY KEY REFERENCES activities.signups (id),
    id            uuid NOT NULL UNIQUE,
    scanned_by    text NOT NULL,
    checked_in_at timestamptz NOT NULL
);

-- no-shows: a resident's confirmed sign-ups of sessions that have ended
CREATE INDEX sessions_ends_at ON activities.sessions (community_id, ends_at);
