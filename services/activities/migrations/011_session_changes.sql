-- Organisers' changes to a session (a move, a new capacity), one row per request. A change
-- command run a second time (its worker died between the commit and the acknowledgement, and
-- another worker claimed it) must answer as before, not undo a change made since.
CREATE TABLE activities.session_changes (
    command_key text PRIMARY KEY,
    session_id  uuid NOT NULL REFERENCES activities.sessions (id),
    applied_at  timestamptz NOT NULL DEFAULT now()
);
