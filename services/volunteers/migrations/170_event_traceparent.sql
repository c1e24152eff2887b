-- Events carry the W3C trace context of the work that caused them (services/common/tracing.py).
ALTER TABLE volunteers.outbox ADD COLUMN traceparent text;
