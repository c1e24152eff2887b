-- Staff actions are audited per community, so each community's admins can read their own.
ALTER TABLE identity.audit_log ADD COLUMN community_id text;
CREATE INDEX ON identity.audit_log (community_id, at DESC);
