-- Who got in, who was turned away, who made whose account: kept for a community's admins and
-- for incident review. Phone numbers appear only masked.
CREATE TABLE identity.audit_log (
    id        uuid PRIMARY KEY,
    at        timestamptz NOT NULL,
    action    text NOT NULL,
    actor_id  text,
    subject   text NOT NULL,
    client_ip text,
    details   jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX ON identity.audit_log (subject, at DESC);
CREATE INDEX ON identity.audit_log (at DESC);
