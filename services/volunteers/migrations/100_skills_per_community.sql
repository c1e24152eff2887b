-- Skills belong to a community (issue 16): an organiser records one for a volunteer serving in
-- their community, and it unlocks that community's shifts only. Skills recorded before had no
-- community and could have been recorded by any community's organiser for anybody: they keep
-- the empty community, which matches no shift, until an organiser of the volunteer's community
-- records them again.
ALTER TABLE volunteers.skills ADD COLUMN community_id text NOT NULL DEFAULT '';
ALTER TABLE volunteers.skills ALTER COLUMN community_id DROP DEFAULT;
ALTER TABLE volunteers.skills DROP CONSTRAINT skills_pkey;
ALTER TABLE volunteers.skills ADD PRIMARY KEY (volunteer_id, community_id, skill);
