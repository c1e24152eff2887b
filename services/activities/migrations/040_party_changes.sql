-- Part of a party withdrawn (one of a resident's household no longer comes): each change is kept
-- under the key of the request that made it, so the same request replayed changes nothing, and
-- names who asked (the resident, or the grid worker acting for them).
CREATE TABLE activities.party_changes (
    signup_id    uuid NOT NULL REFERENCES activities.signups (id),
    change_key   text NOT NULL,
    dropped      jsonb NOT NULL,      -- [{"id", "name"}] of household members; "me" for the resident
    party_before integer NOT NULL,
    party_after  integer NOT NULL CHECK (party_after >= 1 AND party_after < party_before),
    asked_by     text NOT NULL,
    changed_at   timestamptz NOT NULL,
    PRIMARY KEY (signup_id, change_key)
);
-- who withdrew a whole sign-up for the resident, when a grid worker did
ALTER TABLE activities.signups ADD COLUMN cancelled_by_proxy text;
