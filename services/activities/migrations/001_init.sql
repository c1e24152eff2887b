-- Activities: festivals, their activities, scheduled sessions and residents' sign-ups.
CREATE SCHEMA IF NOT EXISTS activities;

CREATE TABLE activities.festivals (
    id            uuid PRIMARY KEY,
    name          text NOT NULL,
    community_ids text[] NOT NULL CHECK (cardinality(community_ids) > 0),
    starts_on     date NOT NULL,
    ends_on       date NOT NULL CHECK (ends_on >= starts_on),
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE activities.activities (
    id           uuid PRIMARY KEY,
    festival_id  uuid NOT NULL REFERENCES activities.festivals (id),
    community_id text NOT NULL,
    title        text NOT NULL,
    category     text NOT NULL DEFAULT '',
    description  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON activities.activities (festival_id);

CREATE TABLE activities.sessions (
    id           uuid PRIMARY KEY,
    activity_id  uuid NOT NULL REFERENCES activities.activities (id),
    community_id text NOT NULL,
    venue        text NOT NULL,
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL CHECK (ends_at > starts_at),
    capacity     integer NOT NULL CHECK (capacity >= 1),
    taken        integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- the invariant the whole service exists to keep
    CONSTRAINT seats_never_oversold CHECK (taken >= 0 AND taken <= capacity)
);
CREATE INDEX ON activities.sessions (activity_id);

CREATE TABLE activities.signups (
    id              uuid PRIMARY KEY,
    session_id      uuid NOT NULL REFERENCES activities.sessions (id),
    resident_id     text NOT NULL,
    party_size      integer NOT NULL CHECK (party_size >= 1),
    status          text NOT NULL CHECK (status IN ('CONFIRMED', 'WAITLISTED', 'CANCELLED')),
    idempotency_key text NOT NULL,
    arrival         bigserial NOT NULL,  -- first come, first served: the waitlist order
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (resident_id, idempotency_key)
);
-- one live sign-up per person per session; a cancelled one does not block a new one
CREATE UNIQUE INDEX signups_one_live_per_resident
    ON activities.signups (session_id, resident_id) WHERE status <> 'CANCELLED';
CREATE INDEX signups_waitlist ON activities.signups (session_id, arrival)
    WHERE status = 'WAITLISTED';
CREATE INDEX ON activities.signups (resident_id);

CREATE TABLE activities.outbox (
    id         uuid PRIMARY KEY,
    type       text NOT NULL,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    sent_at    timestamptz
);
CREATE INDEX outbox_unsent ON activities.outbox (id) WHERE sent_at IS NULL;

CREATE TABLE activities.processed_events (
    event_id     uuid PRIMARY KEY,
    processed_at timestamptz NOT NULL DEFAULT now()
);
