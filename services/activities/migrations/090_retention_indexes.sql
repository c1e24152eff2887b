-- The hourly pruning (services/common/retention.py) finds old rows by these, not by a scan.
CREATE INDEX outbox_sent_at ON activities.outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX processed_events_processed_at ON activities.processed_events (processed_at);
