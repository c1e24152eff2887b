-- PIPL: a resident's account can be deleted (the row stays, named by a pseudonym, so sign-ups,
-- hours and audit rows keep their subject), consents are recorded (the privacy notice at
-- registration, a guardian's for a child), and identity gets the outbox every service has, for
-- what other services must hear of (staff log-in bursts, to the community admins' inboxes).
ALTER TABLE identity.residents ADD COLUMN erased_at timestamptz;

CREATE TABLE identity.consents (
    id             uuid PRIMARY KEY,
    resident_id    uuid NOT NULL REFERENCES identity.residents (id),
    kind           text NOT NULL CHECK (kind IN ('PRIVACY_NOTICE', 'GUARDIAN')),
    notice_version text NOT NULL,
    member_id      uuid,            -- the child a guardian consented for (no FK: kept after removal)
    recorded_by    text NOT NULL,   -- the resident, or the grid worker who read the notice out
    given_at       timestamptz NOT NULL,
    CHECK ((kind = 'GUARDIAN') = (member_id IS NOT NULL))
);
CREATE INDEX consents_of_resident ON identity.consents (resident_id, given_at);

CREATE TABLE identity.outbox (
    id             uuid PRIMARY KEY,
    type           text NOT NULL,
    payload        jsonb NOT NULL,
    created_at     timestamptz NOT NULL,
    sent_at        timestamptz,
    correlation_id text,
    checked_at     timestamptz,               -- redelivery (services/common/redelivery.py)
    resends        integer NOT NULL DEFAULT 0,
    traceparent    text                       -- the W3C trace context (services/common/tracing.py)
);
CREATE INDEX outbox_unsent ON identity.outbox (id) WHERE sent_at IS NULL;
CREATE INDEX outbox_unchecked ON identity.outbox (id) WHERE sent_at IS NOT NULL AND checked_at IS NULL;
CREATE INDEX outbox_sent_at ON identity.outbox (sent_at) WHERE sent_at IS NOT NULL;

CREATE TABLE identity.processed_events (
    event_id     uuid PRIMARY KEY,
    processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX processed_events_processed_at ON identity.processed_events (processed_at);

-- Retention empties audit rows' details and addresses past their period, found by time.
CREATE INDEX audit_log_details_kept ON identity.audit_log (at)
    WHERE details <> '{}'::jsonb OR client_ip IS NOT NULL;
