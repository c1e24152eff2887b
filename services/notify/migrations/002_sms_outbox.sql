-- The development SMS channel: texts are recorded here instead of being sent.
CREATE TABLE notify.sms_outbox (
    id         uuid PRIMARY KEY,
    job_id     text NOT NULL UNIQUE,
    phone      text NOT NULL,
    template   text NOT NULL,
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON notify.sms_outbox (phone, created_at DESC);
