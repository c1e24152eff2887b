-- 志愿服务记录证明 (issue 19): numbered certificates and their register, volunteers' requests to
-- correct a record, and who confirmed each ledger entry.

-- One row per issuer and year: the last number given. Locked by the UPDATE in the issuing
-- transaction, so a rolled-back issue gives its number back and numbers have no gaps (a
-- sequence would leave one for every rollback).
CREATE TABLE volunteers.certificate_counters (
    issuer_id text NOT NULL,      -- the community that kept the records
    year      integer NOT NULL,
    last      integer NOT NULL CHECK (last >= 1),
    PRIMARY KEY (issuer_id, year)
);

-- The register: every certificate issued, with what it said when it was issued (its materials).
CREATE TABLE volunteers.certificates (
    id                 uuid PRIMARY KEY,
    number             text NOT NULL UNIQUE,      -- LW-SF-2026-000123
    issuer_id          text NOT NULL,
    year               integer NOT NULL,
    serial             integer NOT NULL,
    volunteer_id       text NOT NULL,
    volunteer_name     text NOT NULL,             -- as given; pages show it masked
    volunteer_identity text NOT NULL DEFAULT '',  -- masked (手机号 138****5678)
    starts_on          date NOT NULL,
    ends_on            date NOT NULL CHECK (ends_on >= starts_on),
    minutes            integer NOT NULL CHECK (minutes >= 0),
    activities         jsonb NOT NULL DEFAULT '[]',  -- [{"content", "place", "on", "minutes"}]
    issuer_name        text NOT NULL,
    person_in_charge   text NOT NULL DEFAULT '',
    handler            text NOT NULL DEFAULT '',
    contact            text NOT NULL DEFAULT '',
    issued_on          date NOT NULL,
    issued_at          timestamptz NOT NULL,
    requested_by       text NOT NULL,
    status             text NOT NULL DEFAULT 'VALID' CHECK (status IN ('VALID', 'REVOKED')),
    revoked_at         timestamptz,
    revoked_by         text,
    revoke_reason      text,
    UNIQUE (issuer_id, year, serial),
    CHECK (status <> 'REVOKED' OR revoke_reason IS NOT NULL)
);
CREATE INDEX certificates_register ON volunteers.certificates (issuer_id, issued_at DESC);
CREATE INDEX certificates_of_volunteer ON volunteers.certificates (volunteer_id, issued_at DESC);

-- A volunteer disputes what the ledger credits them for a shift; the organiser accepts (a
-- correction entry in the ledger) or declines with a reason.
CREATE TABLE volunteers.correction_requests (
    id               uuid PRIMARY KEY,
    volunteer_id     text NOT NULL,
    shift_id         uuid NOT NULL REFERENCES volunteers.shifts (id),
    community_id     text NOT NULL,
    credited_minutes integer NOT NULL,   -- what the ledger said when they asked
    asked_minutes    integer NOT NULL CHECK (asked_minutes >= 0),
    reason           text NOT NULL,
    status           text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'ACCEPTED', 'DECLINED')),
    decided_by       text,
    decided_at       timestamptz,
    decline_reason   text,
    correction_entry uuid REFERENCES volunteers.ledger (id),
    requested_at     timestamptz NOT NULL,
    CHECK (status <> 'DECLINED' OR decline_reason IS NOT NULL)
);
CREATE UNIQUE INDEX correction_requests_one_open
    ON volunteers.correction_requests (volunteer_id, shift_id) WHERE status = 'OPEN';
CREATE INDEX correction_requests_open
    ON volunteers.correction_requests (community_id, requested_at) WHERE status = 'OPEN';
CREATE INDEX ON volunteers.correction_requests (volunteer_id, requested_at);

-- Who confirmed a record and when (an organiser, within LINLI_VOLUNTEER_RECORD_LOCK_DAYS of the
-- shift's end; after that it is locked and changes only by correction entries).
ALTER TABLE volunteers.ledger
    ADD COLUMN confirmed_by text,
    ADD COLUMN confirmed_at timestamptz;
