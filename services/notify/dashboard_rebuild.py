"""``linli dashboard-rebuild``: the dashboard's read model rebuilt from the services' own tables.

The one place in the code base that reads other services' schemas (activities, volunteers)
from notify's: the read model is otherwise kept only from events (services/notify/dashboard.py),
but events sent before a figure existed, or before an event carried what a figure needs, cannot
be replayed. This reads the facts those events reported and writes what they would have added,
replacing the read model of the communities rebuilt (all of them by default), in one transaction.
Running it twice gives the same read model: it is idempotent.

Run it while notify's consumers are stopped (after the migration, before the workers start):
its tables are locked against them, but an event of a fact it has already counted that arrives
after it would be counted again. Where a table keeps no time of the event, the nearest is used:
a sign-up promoted off the waiting list counts on the day it signed up, a concern rated after it
was done on the day it was last changed, a party member's or partner's minutes under the unit
they belong to now."""

from __future__ import annotations

from collections.abc import Sequence

from services.common.db import Connection
from services.notify import dashboard as d
from services.notify.dashboard import Increment
from services.notify.dashboard_repository import add_counts

_LOCAL = "'Asia/Shanghai'"  # services/common/clock.py LOCAL_TZ


def _day(column: str) -> str:
    return f"({column} AT TIME ZONE {_LOCAL})::date"


# Each: community_id, day, figure, label, value, from one service's own tables.
_COUNTS = f"""
SELECT se.community_id, {_day("g.created_at")} AS day, '{d.SIGNUPS_CONFIRMED}' AS figure, a.title AS label,
       count(*) AS value
FROM activities.signups g JOIN activities.sessions se ON se.id = g.session_id
JOIN activities.activities a ON a.id = se.activity_id
WHERE g.status = 'CONFIRMED' GROUP BY 1, 2, 3, 4
UNION ALL
SELECT se.community_id, {_day("x.at")}, '{d.PEOPLE_ADMITTED}', a.title, sum(x.people)
FROM (
    SELECT signup_id, admitted_at AS at, people FROM activities.admissions
    UNION ALL  -- check-ins from before admissions were kept one by one
    SELECT t.signup_id, t.checked_in_at, t.admitted FROM activities.attendance t
    WHERE NOT EXISTS (SELECT 1 FROM activities.admissions m WHERE m.signup_id = t.signup_id)
) x
JOIN activities.signups g ON g.id = x.signup_id JOIN activities.sessions se ON se.id = g.session_id
JOIN activities.activities a ON a.id = se.activity_id GROUP BY 1, 2, 3, 4
UNION ALL
SELECT sh.community_id, {_day("l.created_at")}, '{d.VOLUNTEER_MINUTES}', '', sum(l.minutes)
FROM volunteers.ledger l JOIN volunteers.shifts sh ON sh.id = l.shift_id GROUP BY 1, 2, 3, 4
UNION ALL
SELECT sh.community_id, {_day("l.created_at")}, '{d.PARTY_MEMBER_MINUTES}', pm.work_unit, sum(l.minutes)
FROM volunteers.ledger l JOIN volunteers.shifts sh ON sh.id = l.shift_id
JOIN volunteers.party_members pm ON pm.volunteer_id = l.volunteer_id GROUP BY 1, 2, 3, 4
UNION ALL
SELECT sh.community_id, {_day("l.created_at")}, '{d.PARTNER_MINUTES}', o.name, sum(l.minutes)
FROM volunteers.ledger l JOIN volunteers.shifts sh ON sh.id = l.shift_id
JOIN volunteers.partner_members m ON m.volunteer_id = l.volunteer_id
JOIN volunteers.partner_organisations o ON o.id = m.organisation_id GROUP BY 1, 2, 3, 4
UNION ALL
SELECT community_id, {_day("created_at")}, '{d.WISHES_POSTED}', category, count(*)
FROM volunteers.wishes GROUP BY 1, 2, 3, 4
UNION ALL
SELECT w.community_id, {_day("c.claimed_at")}, '{d.WISHES_CLAIMED}', w.category, count(*)
FROM volunteers.wish_claims c JOIN volunteers.wishes w ON w.id = c.wish_id GROUP BY 1, 2, 3, 4
UNION ALL
SELECT community_id, {_day("met_at")}, '{d.WISHES_MET}', category, count(*)
FROM volunteers.wishes WHERE met_at IS NOT NULL GROUP BY 1, 2, 3, 4
UNION ALL
SELECT community_id, {_day("met_at")}, '{d.WISH_DAYS_TO_MET}',
       ({_day("met_at")} - {_day("created_at")})::text, count(*)
FROM volunteers.wishes WHERE met_at IS NOT NULL GROUP BY 1, 2, 3, 4
UNION ALL
SELECT i.community_id, {_day("c.claimed_at")}, '{d.ITEMS_CLAIMED}', o.name, count(*)
FROM volunteers.item_claims c JOIN volunteers.list_items i ON i.id = c.item_id
JOIN volunteers.partner_organisations o ON o.id = c.partner_id GROUP BY 1, 2, 3, 4
UNION ALL
SELECT i.community_id, {_day("i.closed_at")}, '{d.ITEMS_CLOSED}', o.name, count(DISTINCT i.id)
FROM volunteers.list_items i JOIN volunteers.item_claims c ON c.item_id = i.id
JOIN volunteers.partner_organisations o ON o.id = c.partner_id
WHERE i.status = 'CLOSED' GROUP BY 1, 2, 3, 4
UNION ALL
SELECT community_id, {_day("created_at")}, '{d.CONCERNS_RAISED}', '', count(*)
FROM volunteers.concerns GROUP BY 1, 2, 3, 4
UNION ALL
SELECT community_id, {_day("updated_at")}, '{d.CONCERNS_RESOLVED}', '', count(*)
FROM volunteers.concerns WHERE status IN ('HANDLED', 'DONE', 'RATED') GROUP BY 1, 2, 3, 4
"""


def _members(bands: str) -> str:
    """How many household members along, of the confirmed sign-ups, are in one of ``bands``."""
    # Some rows hold their list as a JSON string (written as text into jsonb, as
    # activities.repository.attendees_of reads them back): read those as the list they spell.
    members = (
        "CASE jsonb_typeof(g.attendees) WHEN 'array' THEN g.attendees "
        "WHEN 'string' THEN (g.attendees #>> '{}')::jsonb ELSE '[]'::jsonb END"
    )
    return f"sum((SELECT count(*) FROM jsonb_array_elements({members}) m WHERE m->>'age_band' IN ({bands})))"


# One row per session that took a sign-up or let someone in, as session_changes would keep it.
_SESSIONS = f"""
INSERT INTO notify.dashboard_sessions
    (session_id, community_id, day, ends_at, category, station, version, seats, admitted,
     age_under_18, age_18_59, age_60_79, age_80_plus, age_unknown)
SELECT se.id, se.community_id, {_day("se.starts_at")}, se.ends_at, a.category,
       CASE WHEN v.kind = 'STATION' THEN v.name ELSE '' END, coalesce(se.rescheduled_at, se.created_at),
       coalesce(p.seats, 0), coalesce(t.admitted, 0),
       coalesce(p.under_18, 0), coalesce(p.adult, 0), coalesce(p.senior, 0), coalesce(p.elder, 0),
       coalesce(p.seats, 0) - coalesce(p.banded, 0)
FROM activities.sessions se
JOIN activities.activities a ON a.id = se.activity_id
LEFT JOIN activities.venues v ON v.id = se.venue_id
LEFT JOIN (
    SELECT g.session_id, sum(g.party_size) AS seats,
           {_members("'CHILD', 'TEEN'")} AS under_18, {_members("'ADULT'")} AS adult,
           {_members("'SENIOR'")} AS senior, {_members("'ELDER'")} AS elder,
           {_members("'CHILD', 'TEEN', 'ADULT', 'SENIOR', 'ELDER'")} AS banded
    FROM activities.signups g WHERE g.status = 'CONFIRMED' GROUP BY g.session_id
) p ON p.session_id = se.id
LEFT JOIN (
    SELECT g.session_id, sum(t.admitted) AS admitted
    FROM activities.attendance t JOIN activities.signups g ON g.id = t.signup_id GROUP BY g.session_id
) t ON t.session_id = se.id
WHERE (p.seats IS NOT NULL OR t.admitted IS NOT NULL) AND ($1::text[] IS NULL OR se.community_id = any($1))
"""


async def rebuild(conn: Connection, communities: Sequence[str] | None = None) -> int:
    """Replace the read model of ``communities`` (None: every one) with what the services' tables
    say; returns how many rows of daily counts it wrote. The caller holds the transaction."""
    only = None if communities is None else list(communities)
    await conn.execute(
        "LOCK TABLE notify.dashboard_counts, notify.dashboard_months, notify.dashboard_sessions "
        "IN SHARE ROW EXCLUSIVE MODE"
    )
    for table in ("dashboard_counts", "dashboard_months", "dashboard_sessions"):
        await conn.execute(
            f"DELETE FROM notify.{table} WHERE $1::text[] IS NULL OR community_id = any($1)",
            only,
        )
    rows = await conn.fetch(
        f"SELECT * FROM ({_COUNTS}) counted WHERE $1::text[] IS NULL OR community_id = any($1)",
        only,
    )
    await add_counts(
        conn,
        [Increment(r["community_id"], r["day"], r["figure"], r["label"] or "", r["value"]) for r in rows],
    )
    await conn.execute(_SESSIONS, only)
    return len(rows)
