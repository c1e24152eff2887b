-- 楼栋长: the resident who represents a building, named in the directory so the 邻里议事会 can
-- invite them (services/volunteers/council.py). One per building of a community.
CREATE TABLE identity.building_leaders (
    community_id text NOT NULL REFERENCES identity.communities (id),
    building     text NOT NULL,
    resident_id  uuid NOT NULL REFERENCES identity.residents (id) ON DELETE CASCADE,
    set_by       text NOT NULL,
    set_at       timestamptz NOT NULL,
    PRIMARY KEY (community_id, building)
);
