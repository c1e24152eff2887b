-- Notify: each person's channels, addresses and quiet hours, and every message sent (or to be
-- sent) on a channel other than the inbox, with its status, attempts and last error.
CREATE TABLE notify.preferences (
    person_id     text PRIMARY KEY,
    channels      text[] NOT NULL DEFAULT '{}',
    email         text,
    phone         text,
    wechat_openid text,
    quiet_start   time NOT NULL,
    quiet_end     time NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- A delivery's id follows from its message and channel, so an event handled twice makes one.
-- In development (no provider configured) the row itself is the record of the message sent.
CREATE TABLE notify.deliveries (
    id           uuid PRIMARY KEY,
    channel      text NOT NULL,
    recipient_id text NOT NULL,
    address      text NOT NULL,
    kind         text NOT NULL,
    subject      text NOT NULL,
    body         text NOT NULL,
    urgent       boolean NOT NULL,
    status       text NOT NULL DEFAULT 'QUEUED' CHECK (status IN ('QUEUED', 'SENT', 'DEAD')),
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,
    provider     text,
    not_before   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz
);
CREATE INDEX ON notify.deliveries (recipient_id, created_at DESC);
CREATE INDEX deliveries_dead ON notify.deliveries (updated_at DESC) WHERE status = 'DEAD';
