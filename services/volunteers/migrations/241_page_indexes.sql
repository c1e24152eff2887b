-- Pages of lists (README.md, "Pages of a list"): a shift's roster in the order volunteers signed
-- up, and a community's shifts by start then id, each page read by keyset.
CREATE INDEX shift_signups_roster ON volunteers.shift_signups (shift_id, created_at, volunteer_id);
CREATE INDEX shifts_of_community_page ON volunteers.shifts (community_id, starts_at, id);
CREATE INDEX ledger_of_volunteer_page ON volunteers.ledger (volunteer_id, created_at, id);
-- The wish wall, latest published first, and the review queue, oldest first.
CREATE INDEX wishes_wall_page ON volunteers.wishes (community_id, published_at DESC, id DESC)
    WHERE status IN ('PUBLISHED', 'CLAIMED', 'DONE', 'MET');
CREATE INDEX wishes_to_review_page ON volunteers.wishes (community_id, created_at, id)
    WHERE status IN ('POSTED', 'APPROVED');
