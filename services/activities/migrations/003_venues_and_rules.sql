-- Venues with their own capacity; sessions booked into them never overlap. Festivals are
-- published or not and may limit sessions per resident; activities describe who they suit;
-- sessions carry their sign-up window, party limit and cancellation deadline; sign-ups name
-- the household members who come along.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE activities.venues (
    id           uuid PRIMARY KEY,
    community_id text NOT NULL,
    name         text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('STATION', 'SQUARE', 'ROOM')),
    capacity     integer NOT NULL CHECK (capacity >= 1),
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (community_id, name)
);

ALTER TABLE activities.festivals
    ADD COLUMN published                 boolean NOT NULL DEFAULT true,
    ADD COLUMN max_sessions_per_resident integer CHECK (max_sessions_per_resident >= 1);

ALTER TABLE activities.activities
    ADD COLUMN age_bands           text[] NOT NULL DEFAULT '{}',
    ADD COLUMN children_need_adult boolean NOT NULL DEFAULT false;

ALTER TABLE activities.sessions
    ADD COLUMN venue_id               uuid REFERENCES activities.venues (id),
    ADD COLUMN registration_opens_at  timestamptz,
    ADD COLUMN registration_closes_at timestamptz,
    ADD COLUMN max_party_size         integer NOT NULL DEFAULT 10 CHECK (max_party_size >= 1),
    ADD COLUMN cancellation_deadline  timestamptz,
    ADD COLUMN rescheduled_at         timestamptz,
    ADD CONSTRAINT registration_window CHECK (registration_closes_at > registration_opens_at),
    -- the venue lock in the handlers decides clashes; this keeps the rule if anything slips by
    ADD CONSTRAINT venue_never_double_booked EXCLUDE USING gist (
        venue_id WITH =, tstzrange(starts_at, ends_at) WITH &&
    ) WHERE (status = 'SCHEDULED');

ALTER TABLE activities.signups
    ADD COLUMN attendees   jsonb NOT NULL DEFAULT '[]',
    -- set when the session moved after this sign-up: it may be cancelled past the deadline
    ADD COLUMN free_cancel boolean NOT NULL DEFAULT false;

-- a resident's sign-ups, counted against a festival's limit
CREATE INDEX signups_live_of_resident ON activities.signups (resident_id, session_id)
    WHERE status <> 'CANCELLED';
