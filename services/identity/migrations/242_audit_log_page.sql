-- Pages of a community's audit log (README.md, "Pages of a list"): newest first by (at, id), so a
-- later page starts in the index at the entry it follows; it replaces the index on (community_id, at).
CREATE INDEX audit_log_community_page ON identity.audit_log (community_id, at DESC, id DESC);
DROP INDEX identity.audit_log_community_id_at_idx;
