-- Chinese SMS providers send approved templates only: a delivery keeps which template says
-- it (a kind, or kind.variant) and the facts that fill it, besides its rendered text.
ALTER TABLE notify.deliveries
    ADD COLUMN template text,
    ADD COLUMN params jsonb NOT NULL DEFAULT '{}';
