-- Residents their grid worker tells in person (no mobile of their own: a landline, a family
-- member's phone, or none), and the grid workers' "要告知的居民" list: one entry per event such a
-- resident must hear of, with what to say, ticked off (who, when) once passed on.
CREATE TABLE notify.told_in_person (
    person_id    text PRIMARY KEY,
    community_id text NOT NULL,
    set_by       text NOT NULL,
    set_at       timestamptz NOT NULL
);

CREATE TABLE notify.to_tell (
    id           uuid PRIMARY KEY,
    event_id     uuid NOT NULL,
    person_id    text NOT NULL,
    community_id text NOT NULL,
    kind         text NOT NULL,
    title_zh     text NOT NULL,
    body_zh      text NOT NULL,
    title_en     text NOT NULL,
    body_en      text NOT NULL,
    created_at   timestamptz NOT NULL,
    told_at      timestamptz,
    told_by      text,
    UNIQUE (event_id, person_id)
);
CREATE INDEX to_tell_by_community ON notify.to_tell (community_id, created_at);
