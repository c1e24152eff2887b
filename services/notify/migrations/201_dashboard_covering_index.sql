-- A period's counts read from the index alone (bench/dashboard_reads.py measures the city's year).
DROP INDEX notify.dashboard_counts_by_day;
CREATE INDEX dashboard_counts_by_day ON notify.dashboard_counts (day) INCLUDE (community_id, figure, label, value);
