-- A party may come through the door in parts (one of two now, the other later). Attendance
-- keeps one row per sign-up (its first scan) with how many of the party are in so far; each
-- scan is an admission whose id follows from its idempotency key, so the same scan replayed
-- is recognised as itself and admits nobody twice.
ALTER TABLE activities.attendance ADD COLUMN admitted integer;
UPDATE activities.attendance t SET admitted = g.party_size
FROM activities.signups g WHERE g.id = t.signup_id;
ALTER TABLE activities.attendance
    ALTER COLUMN admitted SET NOT NULL,
    ADD CONSTRAINT admitted_someone CHECK (admitted >= 1);

CREATE TABLE activities.admissions (
    id          uuid PRIMARY KEY,
    signup_id   uuid NOT NULL REFERENCES activities.signups (id),
    people      integer NOT NULL CHECK (people >= 1),
    admitted    integer NOT NULL CHECK (admitted >= people),  -- of the party, after this scan
    scanned_by  text NOT NULL,
    admitted_at timestamptz NOT NULL
);
CREATE INDEX ON activities.admissions (signup_id, admitted_at);
