-- Cancellations: organisers call off sessions, residents withdraw sign-ups. The key of the
-- cancelling request is kept so the same request replayed gets the same answer.
ALTER TABLE activities.sessions
    ADD COLUMN status        text NOT NULL DEFAULT 'SCHEDULED'
                             CHECK (status IN ('SCHEDULED', 'CANCELLED')),
    ADD COLUMN cancel_reason text,
    ADD COLUMN cancelled_at  timestamptz,
    ADD COLUMN cancel_key    text;

ALTER TABLE activities.signups
    ADD COLUMN cancelled_at timestamptz,
    ADD COLUMN cancel_key   text;

-- a session's live sign-ups, found when the session is cancelled
CREATE INDEX signups_live ON activities.signups (session_id, arrival)
    WHERE status <> 'CANCELLED';
