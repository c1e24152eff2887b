-- Identity: residents (log in by SMS code), their households, and staff accounts (password).
CREATE SCHEMA IF NOT EXISTS identity;

CREATE TABLE identity.residents (
    id            uuid PRIMARY KEY,
    phone         text NOT NULL UNIQUE,
    name          text NOT NULL DEFAULT '',
    community_id  text,
    building      text NOT NULL DEFAULT '',
    unit          text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    last_login_at timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE TABLE identity.household_members (
    id          uuid PRIMARY KEY,
    resident_id uuid NOT NULL REFERENCES identity.residents (id) ON DELETE CASCADE,
    name        text NOT NULL,
    relation    text NOT NULL,
    age_band    text NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX ON identity.household_members (resident_id, created_at);

-- One live code per number; a new request replaces it. Only an HMAC of the code is kept.
CREATE TABLE identity.login_codes (
    phone      text PRIMARY KEY,
    code_hash  text NOT NULL,
    expires_at timestamptz NOT NULL,
    attempts   integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL
);

CREATE TABLE identity.staff_accounts (
    id            uuid PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    display_name  text NOT NULL DEFAULT '',
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL,
    last_login_at timestamptz
);

CREATE TABLE identity.staff_roles (
    account_id   uuid NOT NULL REFERENCES identity.staff_accounts (id) ON DELETE CASCADE,
    role         text NOT NULL CHECK (role IN ('organiser', 'community_admin', 'scanner')),
    community_id text NOT NULL,
    PRIMARY KEY (account_id, role, community_id)
);
