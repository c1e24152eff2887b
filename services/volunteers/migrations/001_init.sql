-- Volunteers: the schema and its event tables; shifts and check-ins arrive with their issue.
CREATE SCHEMA IF NOT EXISTS volunteers;

CREATE TABLE volunteers.outbox (
    id         uuid PRIMARY KEY,
    type       text NOT NULL,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    sent_at    timestamptz
);
CREATE INDEX outbox_unsent ON volunteers.outbox (id) WHERE sent_at IS NULL;

CREATE TABLE volunteers.processed_events (
    event_id     uuid PRIMARY KEY,
    processed_at timestamptz NOT NULL DEFAULT now()
);
