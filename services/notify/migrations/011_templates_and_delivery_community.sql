-- Organisers' own texts for the messages of one festival's sessions in their community, and the
-- community each delivery is about, so organisers see only their own communities' dead letters.
CREATE TABLE notify.message_templates (
    festival_id  uuid NOT NULL,
    community_id text NOT NULL,
    kind         text NOT NULL,
    title_zh     text NOT NULL,
    body_zh      text NOT NULL,
    title_en     text NOT NULL,
    body_en      text NOT NULL,
    updated_by   text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (festival_id, community_id, kind)
);

-- NULL: a delivery from before this migration, or about no community (platform admins see it).
ALTER TABLE notify.deliveries ADD COLUMN community_id text;
CREATE INDEX deliveries_dead_by_community ON notify.deliveries (community_id, updated_at DESC)
    WHERE status = 'DEAD';
CREATE INDEX deliveries_by_community ON notify.deliveries (community_id, created_at DESC);

-- Reminders are rendered from these projections: they need the festival and community too.
ALTER TABLE notify.signups ADD COLUMN festival_id uuid, ADD COLUMN community_id text;
ALTER TABLE notify.shift_signups ADD COLUMN community_id text;
