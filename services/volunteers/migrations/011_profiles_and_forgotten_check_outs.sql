-- Volunteers: profiles, party members' 双报到, partner organisations (共建单位) and their members;
-- check-ins closed at shift end because nobody checked out are flagged, as is what they credited.

CREATE TABLE volunteers.profiles (
    volunteer_id       text PRIMARY KEY,
    community_id       text NOT NULL,
    display_name       text,
    availability       text,            -- free text: "周末上午", "工作日晚上"
    availability_slots jsonb NOT NULL DEFAULT '[]',  -- [{"weekday": 1-7, "from": "HH:MM", "to": "HH:MM"}]
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX profiles_by_community ON volunteers.profiles (community_id);

-- An in-service party member (在职党员) who reported to the community where they live (双报到).
CREATE TABLE volunteers.party_members (
    volunteer_id  text PRIMARY KEY,
    name          text NOT NULL,
    work_unit     text NOT NULL,
    work_unit_key text NOT NULL,       -- the work unit as reports compare it (profiles.unit_key)
    party_branch  text NOT NULL,
    community_id  text NOT NULL,       -- the community they reported to
    reported_on   date NOT NULL,
    registered_by text NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX party_members_by_unit ON volunteers.party_members (community_id, work_unit_key);

CREATE TABLE volunteers.partner_organisations (
    id           uuid PRIMARY KEY,
    community_id text NOT NULL,
    name         text NOT NULL,
    name_key     text NOT NULL,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (community_id, name_key)
);

CREATE TABLE volunteers.partner_members (
    organisation_id uuid NOT NULL REFERENCES volunteers.partner_organisations (id),
    volunteer_id    text NOT NULL,
    added_by        text NOT NULL,
    added_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, volunteer_id)
);
CREATE INDEX ON volunteers.partner_members (volunteer_id);

ALTER TABLE volunteers.check_ins ADD COLUMN auto_closed boolean NOT NULL DEFAULT false;
ALTER TABLE volunteers.ledger ADD COLUMN auto_closed boolean NOT NULL DEFAULT false;
-- the sweep looks for open check-ins only
CREATE INDEX check_ins_open ON volunteers.check_ins (shift_id) WHERE checked_out_at IS NULL;
