-- The directory of places: city/district → 街道 (street) → 社区 (community) → 小区/网格 (grid) →
-- 楼栋 (building), and each community's 邻里驿家 stations. Community ids stay the plain strings
-- used everywhere so far (staff_roles, residents, activities, volunteers): the directory gives
-- them names. Staff may now also be granted a role for a whole street.
CREATE TABLE identity.streets (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    district   text NOT NULL DEFAULT '',   -- the city or district, e.g. 灵武市
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (district, name)
);

CREATE TABLE identity.communities (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    short_name text NOT NULL DEFAULT '',
    street_id  text REFERENCES identity.streets (id),
    desk_phone text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX communities_by_street ON identity.communities (street_id, name);

CREATE TABLE identity.grids (
    id           uuid PRIMARY KEY,
    community_id text NOT NULL REFERENCES identity.communities (id),
    name         text NOT NULL,             -- 小区 or 网格, e.g. 朔方小区第一网格
    buildings    text[] NOT NULL DEFAULT '{}',  -- its 楼栋, e.g. {1号楼,2号楼}
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (community_id, name)
);

CREATE TABLE identity.stations (
    id           uuid PRIMARY KEY,
    community_id text NOT NULL REFERENCES identity.communities (id),
    name         text NOT NULL,             -- e.g. 朔方社区邻里驿家
    address      text NOT NULL,
    phone        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (community_id, name)
);

-- A role over every community of a street (街道): expanded into communities when the account's
-- actor is made (identity.repository.staff_grants), so the rest of Linli sees communities only.
CREATE TABLE identity.staff_street_roles (
    account_id uuid NOT NULL REFERENCES identity.staff_accounts (id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('organiser', 'community_admin', 'scanner', 'grid_worker')),
    street_id  text NOT NULL REFERENCES identity.streets (id),
    PRIMARY KEY (account_id, role, street_id)
);

-- The communities Linli has served so far, under their names.
INSERT INTO identity.streets (id, name, district) VALUES ('lingwu-chengqu', '城区街道', '灵武市');
INSERT INTO identity.communities (id, name, short_name, street_id) VALUES
    ('lingwu-shuofang', '朔方社区', '朔方', 'lingwu-chengqu'),
    ('lingwu-xiyuan', '西苑社区', '西苑', 'lingwu-chengqu'),
    ('lingwu-dongta', '东塔社区', '东塔', 'lingwu-chengqu');

-- Every other community id found in existing data gets an entry named after its id, so nothing
-- that refers to it breaks; an admin names it properly later. Identity migrates before the other
-- services, so on an existing database their tables are there; on a new one they are not yet
-- (and hold nothing): each table is read only if it exists.
DO $$
DECLARE
    source record;
BEGIN
    INSERT INTO identity.communities (id, name)
    SELECT DISTINCT community_id, community_id FROM (
        SELECT community_id FROM identity.staff_roles
        UNION SELECT community_id FROM identity.residents
        UNION SELECT community_id FROM identity.audit_log
    ) found
    WHERE community_id IS NOT NULL AND community_id <> ''
    ON CONFLICT (id) DO NOTHING;
    FOR source IN
        SELECT * FROM (VALUES
            ('activities.activities', 'community_id'),
            ('activities.venues', 'community_id'),
            ('activities.sessions', 'community_id'),
            ('volunteers.shifts', 'community_id'),
            ('volunteers.wishes', 'community_id'),
            ('volunteers.profiles', 'community_id'),
            ('volunteers.party_members', 'community_id'),
            ('activities.festivals', 'unnest(community_ids)')
        ) AS t (tab, expr)
    LOOP
        IF to_regclass(source.tab) IS NOT NULL THEN
            EXECUTE format(
                'INSERT INTO identity.communities (id, name) '
                'SELECT DISTINCT c, c FROM (SELECT %s AS c FROM %s) found '
                'WHERE c IS NOT NULL AND c <> '''' ON CONFLICT (id) DO NOTHING',
                source.expr, source.tab);
        END IF;
    END LOOP;
END $$;
