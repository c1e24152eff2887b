-- Events notify took in during a command burst and handles once it is over (services/notify/deferral.py):
-- each row is an event already recorded in processed_events, waiting for its messages. Rows live
-- seconds (at most LINLI_NOTIFY_DEFER_MAX_S); the drain deletes them in the transaction of their effect.
CREATE TABLE notify.deferred_events (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- the order they came in
    event_id    uuid NOT NULL UNIQUE,
    subject     text,  -- the session or shift it is about: an urgent event of it takes it along
    envelope    jsonb NOT NULL,
    deferred_at timestamptz NOT NULL
);
CREATE INDEX deferred_events_by_subject ON notify.deferred_events (subject) WHERE subject IS NOT NULL;
