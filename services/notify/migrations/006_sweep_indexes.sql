-- The sweep that re-queues what Redis lost reads only what is due soon.
CREATE INDEX deliveries_queued ON notify.deliveries (not_before) WHERE status = 'QUEUED';
CREATE INDEX signups_confirmed ON notify.signups (starts_at) WHERE status = 'CONFIRMED';
CREATE INDEX shift_signups_confirmed ON notify.shift_signups (starts_at) WHERE status = 'CONFIRMED';
