-- Notify: every person's in-app inbox, and the events already turned into messages.
CREATE SCHEMA IF NOT EXISTS notify;

CREATE TABLE notify.inbox (
    id           uuid PRIMARY KEY,
    recipient_id text NOT NULL,
    kind         text NOT NULL,
    title_zh     text NOT NULL,
    body_zh      text NOT NULL,
    title_en     text NOT NULL,
    body_en      text NOT NULL,
    event_id     uuid NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    read_at      timestamptz,
    UNIQUE (event_id, recipient_id)
);
CREATE INDEX ON notify.inbox (recipient_id, created_at DESC);

CREATE TABLE notify.outbox (
    id         uuid PRIMARY KEY,
    type       text NOT NULL,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    sent_at    timestamptz
);
CREATE INDEX outbox_unsent ON notify.outbox (id) WHERE sent_at IS NULL;

CREATE TABLE notify.processed_events (
    event_id     uuid PRIMARY KEY,
    processed_at timestamptz NOT NULL DEFAULT now()
);
