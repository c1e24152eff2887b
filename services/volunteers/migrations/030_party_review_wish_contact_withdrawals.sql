-- 双报到 is reviewed by the community; a claimant plans a visit, asks the community to pass a
-- message on (call-back) or gives a wish back; a volunteer withdraws from a shift before it starts.

-- Registrations made before review existed stand as approved; new ones name their state.
ALTER TABLE volunteers.party_members
    ADD COLUMN status text NOT NULL DEFAULT 'APPROVED'
        CHECK (status IN ('PENDING', 'APPROVED', 'DECLINED')),
    ADD COLUMN decline_reason text,
    ADD COLUMN reviewed_by text,
    ADD COLUMN reviewed_at timestamptz,
    ADD CONSTRAINT party_members_declined_say_why CHECK (status <> 'DECLINED' OR decline_reason IS NOT NULL);
ALTER TABLE volunteers.party_members ALTER COLUMN status SET DEFAULT 'PENDING';
CREATE INDEX party_members_pending ON volunteers.party_members (community_id, registered_at)
    WHERE status = 'PENDING';

ALTER TABLE volunteers.wish_claims DROP CONSTRAINT wish_claims_status_check;
ALTER TABLE volunteers.wish_claims ADD CONSTRAINT wish_claims_status_check
    CHECK (status IN ('ACTIVE', 'EXPIRED', 'MET', 'GIVEN_BACK'));
ALTER TABLE volunteers.wish_claims
    ADD COLUMN planned_visit_at timestamptz,
    ADD COLUMN give_back_reason text,
    ADD CONSTRAINT wish_claims_given_back_say_why CHECK (status <> 'GIVEN_BACK' OR give_back_reason IS NOT NULL);

-- A claimant asks the community to pass on a message or have the resident call back: the
-- claimant never sees her number. One request per claim; staff tick it off when done.
CREATE TABLE volunteers.wish_call_backs (
    id           uuid PRIMARY KEY,
    wish_id      uuid NOT NULL REFERENCES volunteers.wishes (id),
    claim_id     uuid NOT NULL UNIQUE REFERENCES volunteers.wish_claims (id),
    community_id text NOT NULL,
    requested_by text NOT NULL,
    note         text,
    requested_at timestamptz NOT NULL,
    handled_by   text,
    handled_at   timestamptz
);
CREATE INDEX wish_call_backs_open ON volunteers.wish_call_backs (community_id, requested_at)
    WHERE handled_at IS NULL;

-- Whom a volunteer calls about a shift (its organiser's or the desk's phone), shown when it is
-- too late to withdraw online.
ALTER TABLE volunteers.shifts ADD COLUMN contact_phone text;

-- A withdrawn sign-up leaves shift_signups (its place is free again); what it was stays here.
CREATE TABLE volunteers.shift_withdrawals (
    id           uuid PRIMARY KEY,
    signup_id    uuid NOT NULL,
    shift_id     uuid NOT NULL REFERENCES volunteers.shifts (id),
    volunteer_id text NOT NULL,
    reason       text,
    signed_up_at timestamptz NOT NULL,
    withdrawn_at timestamptz NOT NULL
);
CREATE INDEX ON volunteers.shift_withdrawals (shift_id);
