-- What notify knows of sign-ups, learnt only from activities' events: enough to re-check, when a
-- reminder is due, that the sign-up still stands and the session was not moved.
CREATE TABLE notify.signups (
    signup_id      uuid PRIMARY KEY,
    session_id     uuid NOT NULL,
    resident_id    text NOT NULL,
    status         text NOT NULL CHECK (status IN ('CONFIRMED', 'WAITLISTED', 'CANCELLED')),
    starts_at      timestamptz NOT NULL,
    activity_title text NOT NULL,
    venue          text NOT NULL,
    party_size     integer NOT NULL,
    -- Events may be handled out of order (batches run concurrently): the newest one wins.
    last_event_id  uuid NOT NULL
);
CREATE INDEX ON notify.signups (session_id);
