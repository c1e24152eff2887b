-- The dashboard's read model: counts only, per community, local day, figure and label (an
-- activity's title, a shift's role, a wish's category), kept from the events notify consumes.
-- No person is named here: a row says how many, never who.
CREATE TABLE notify.dashboard_counts (
    community_id text NOT NULL,
    day          date NOT NULL,
    figure       text NOT NULL,
    label        text NOT NULL,
    value        bigint NOT NULL,
    PRIMARY KEY (community_id, day, figure, label)
);
CREATE INDEX dashboard_counts_by_day ON notify.dashboard_counts (day, community_id);
