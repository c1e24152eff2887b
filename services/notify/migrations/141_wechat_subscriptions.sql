-- WeChat one-time subscriptions (一次性订阅) residents granted, per template of the official
-- account: each subscription message spends one.
CREATE TABLE notify.wechat_subscriptions (
    person_id   text NOT NULL,
    template_id text NOT NULL,
    remaining   integer NOT NULL CHECK (remaining >= 0),
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (person_id, template_id)
);

-- A delivery the resident turned off (WeChat 43101, or no subscription left) is not sent and
-- not a dead letter: nobody should send it again.
ALTER TABLE notify.deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE notify.deliveries ADD CONSTRAINT deliveries_status_check
    CHECK (status IN ('QUEUED', 'SENT', 'DEAD', 'NOT_SENT'));
DROP INDEX notify.deliveries_finished;
CREATE INDEX deliveries_finished ON notify.deliveries (updated_at) WHERE status IN ('SENT', 'DEAD', 'NOT_SENT');
