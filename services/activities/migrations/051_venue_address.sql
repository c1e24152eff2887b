-- Where a venue is, in words an elder can follow on paper (the printed ticket shows it).
ALTER TABLE activities.venues ADD COLUMN address text NOT NULL DEFAULT '';
