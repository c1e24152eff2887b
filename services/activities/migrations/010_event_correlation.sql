-- Events carry the correlation id of the request that caused them.
ALTER TABLE activities.outbox ADD COLUMN correlation_id text;
