-- Volunteers: shifts, sign-ups for them, check-ins at the venue and the service-hours ledger.

CREATE TABLE volunteers.shifts (
    id             uuid PRIMARY KEY,
    community_id   text NOT NULL,
    festival_id    text,
    venue          text NOT NULL,
    venue_key      text NOT NULL,  -- the venue as station codes compare it (codes.venue_key)
    role           text NOT NULL,
    starts_at      timestamptz NOT NULL,
    ends_at        timestamptz NOT NULL CHECK (ends_at > starts_at),
    headcount      integer NOT NULL CHECK (headcount >= 1),
    taken          integer NOT NULL DEFAULT 0,
    required_skill text,
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT headcount_never_exceeded CHECK (taken >= 0 AND taken <= headcount)
);
CREATE INDEX shifts_by_venue ON volunteers.shifts (venue_key, starts_at);
CREATE INDEX shifts_by_community ON volunteers.shifts (community_id, starts_at);

-- Skills organisers have recorded for a volunteer; a shift may require one.
CREATE TABLE volunteers.skills (
    volunteer_id text NOT NULL,
    skill        text NOT NULL,
    recorded_by  text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (volunteer_id, skill)
);

CREATE TABLE volunteers.shift_signups (
    id              uuid PRIMARY KEY,
    shift_id        uuid NOT NULL REFERENCES volunteers.shifts (id),
    volunteer_id    text NOT NULL,
    idempotency_key text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (shift_id, volunteer_id),
    UNIQUE (volunteer_id, idempotency_key)
);
CREATE INDEX ON volunteers.shift_signups (volunteer_id);

CREATE TABLE volunteers.check_ins (
    id             uuid PRIMARY KEY,
    shift_id       uuid NOT NULL REFERENCES volunteers.shifts (id),
    volunteer_id   text NOT NULL,
    method         text NOT NULL CHECK (method IN ('STATION', 'CARD')),
    scanned_by     text NOT NULL,  -- the volunteer themself, or the organiser who scanned the card
    checked_in_at  timestamptz NOT NULL,
    checked_out_at timestamptz,
    CHECK (checked_out_at IS NULL OR checked_out_at >= checked_in_at)
);
-- at most one open check-in per volunteer and shift: a second scan finds the first
CREATE UNIQUE INDEX check_ins_one_open
    ON volunteers.check_ins (shift_id, volunteer_id) WHERE checked_out_at IS NULL;
CREATE INDEX ON volunteers.check_ins (volunteer_id);

-- Append-only: attendance credited at check-out, and organisers' corrections with a reason.
CREATE TABLE volunteers.ledger (
    id           uuid PRIMARY KEY,
    volunteer_id text NOT NULL,
    shift_id     uuid REFERENCES volunteers.shifts (id),
    check_in_id  uuid UNIQUE REFERENCES volunteers.check_ins (id),
    kind         text NOT NULL CHECK (kind IN ('ATTENDANCE', 'CORRECTION')),
    minutes      integer NOT NULL,
    reason       text,
    recorded_by  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (kind = 'ATTENDANCE' AND check_in_id IS NOT NULL AND minutes >= 0
        OR kind = 'CORRECTION' AND reason IS NOT NULL AND minutes <> 0)
);
CREATE INDEX ON volunteers.ledger (volunteer_id, created_at);
