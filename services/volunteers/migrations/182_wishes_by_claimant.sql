-- 我认领的心愿 (myClaimedWishes): a claimant's wishes, newest first, without reading the whole
-- table of a city's wishes.
CREATE INDEX IF NOT EXISTS wishes_by_claimant
    ON volunteers.wishes (claimant_id, created_at DESC, id)
    WHERE claimant_id IS NOT NULL;
