-- The dashboard's counts rolled up per month beside the daily ones: a year's read sums 12 rows
-- per key, not 365 (bench/dashboard_reads.py). Kept in the same statement as the daily rows.
CREATE TABLE notify.dashboard_months (
    community_id text NOT NULL,
    month        date NOT NULL,  -- its first day
    figure       text NOT NULL,
    label        text NOT NULL,
    value        bigint NOT NULL,
    PRIMARY KEY (community_id, month, figure, label)
);
CREATE INDEX dashboard_months_by_month ON notify.dashboard_months (month) INCLUDE (community_id, figure, label, value);
INSERT INTO notify.dashboard_months (community_id, month, figure, label, value)
SELECT community_id, date_trunc('month', day)::date, figure, label, sum(value)
FROM notify.dashboard_counts GROUP BY 1, 2, 3, 4;
