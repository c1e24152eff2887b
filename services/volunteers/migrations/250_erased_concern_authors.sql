-- A concern outlives the account of the resident who raised it (PIPL erasure): the community
-- keeps its record (building, state, decisions) with no link to its author, so who raised it
-- (and, when she raised it herself, who typed it) may be unknown.
ALTER TABLE volunteers.concerns ALTER COLUMN resident_id DROP NOT NULL;
ALTER TABLE volunteers.concerns ALTER COLUMN raised_by DROP NOT NULL;
