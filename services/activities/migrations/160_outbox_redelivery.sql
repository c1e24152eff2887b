-- Redelivery (services/common/redelivery.py): a relayed event is checked once its consumers
-- should have handled it, and sent again if one of them has no record of it (Redis lost it).
ALTER TABLE activities.outbox ADD COLUMN checked_at timestamptz, ADD COLUMN resends integer NOT NULL DEFAULT 0;
-- Events relayed before this migration were handled long ago, or their loss is beyond repair.
UPDATE activities.outbox SET checked_at = sent_at WHERE sent_at IS NOT NULL;
CREATE INDEX outbox_unchecked ON activities.outbox (id) WHERE sent_at IS NOT NULL AND checked_at IS NULL;
