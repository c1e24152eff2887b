-- The hourly pruning (services/common/retention.py) finds old rows by these, not by a scan.
CREATE INDEX outbox_sent_at ON notify.outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX processed_events_processed_at ON notify.processed_events (processed_at);
CREATE INDEX deliveries_finished ON notify.deliveries (updated_at) WHERE status IN ('SENT', 'DEAD');
