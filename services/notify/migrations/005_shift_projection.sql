-- What notify knows of volunteers' shift sign-ups, learnt only from volunteers' events: enough
-- to re-check, when a shift reminder is due, that the sign-up stands and the shift is unmoved.
CREATE TABLE notify.shift_signups (
    signup_id     uuid PRIMARY KEY,
    shift_id      uuid NOT NULL,
    volunteer_id  text NOT NULL,
    status        text NOT NULL CHECK (status IN ('CONFIRMED', 'CANCELLED')),
    starts_at     timestamptz NOT NULL,
    role          text NOT NULL,
    venue         text NOT NULL,
    last_event_id uuid NOT NULL
);
