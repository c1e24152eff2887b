"""The hot reads find their rows through indexes, not by reading whole tables.

A database of its own holds a small city (``bench.city_data`` with ``COUNTS``: thousands of
sign-ups, inbox messages, ledger entries ... over 50 communities, then VACUUM ANALYZE),
so PostgreSQL's planner weighs real tables with real statistics and no planner setting is
touched. Each read calls the very functions its resolver calls, through a connection that
keeps the plan (``EXPLAIN (FORMAT JSON)``, with the same parameters) of every statement they
run; the test then looks at how each large table was read. Nothing here times anything.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any, cast

import asyncpg
import pytest

from bench.city_data import Counts, Probe, seed
from services.activities import attendance
from services.activities import queries as activities
from services.activities import repository as activities_repository
from services.common.clock import LOCAL_TZ
from services.common.db import Connection, drop_database, ensure_database
from services.identity import queries as identity
from services.notify import queries as notify
from services.volunteers import queries as wishes
from services.volunteers import reports
from tests.conftest import RUN_ID
from tests.dates import day

# Small enough to seed in seconds, large enough that reading a whole table costs more than an
# index would: what decides a plan is how few of a table's rows a read wants.
COUNTS = Counts(residents=2000, sessions=300, signups=15_000, ledger=20_000, wishes=5000, audit_entries=2000)

# A table this many pages long here (~10,000 rows) is never read whole by a hot read. Below it
# the planner may rightly prefer one pass over a small table to a probe per row it wants (the
# roster's 48 door scans among a few thousand); on the city those tables are 100 times larger.
LARGE_PAGES = 150
BY_INDEX = {"Index Scan", "Index Only Scan", "Bitmap Heap Scan"}


@dataclass(frozen=True)
class Scan:
    node: str  # "Seq Scan", "Index Scan", ...
    table: str  # schema.table
    indexes: tuple[str, ...]  # the index it went through (a bitmap's may be several)


@dataclass
class Explaining:
    """A connection that answers every read as usual and keeps the plan chosen for it."""

    conn: asyncpg.Connection
    plans: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def _explain(self, sql: str, args: tuple[Any, ...]) -> None:
        found = await self.conn.fetchval(f"EXPLAIN (FORMAT JSON, VERBOSE) {sql}", *args)
        self.plans.append((sql, json.loads(found)[0]["Plan"]))

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        await self._explain(sql, args)
        return await self.conn.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        await self._explain(sql, args)
        return await self.conn.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        await self._explain(sql, args)
        return await self.conn.fetchval(sql, *args)

    def scans(self) -> list[Scan]:
        found: list[Scan] = []
        for _, plan in self.plans:
            found.extend(_scans(plan))
        return found

    @property
    def as_connection(self) -> Connection:
        return cast(Connection, self)


def _scans(plan: dict[str, Any]) -> Iterator[Scan]:
    if "Relation Name" in plan:
        indexes = [plan["Index Name"]] if "Index Name" in plan else []
        indexes += [child["Index Name"] for child in _below(plan) if "Index Name" in child]
        yield Scan(plan["Node Type"], f"{plan['Schema']}.{plan['Relation Name']}", tuple(indexes))
    for child in plan.get("Plans", []):
        yield from _scans(child)


def _below(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for child in plan.get("Plans", []):
        yield child
        yield from _below(child)


@pytest.fixture(scope="module")
async def city(servers: tuple[str, str]) -> AsyncIterator[tuple[asyncpg.Connection, Probe]]:
    server_url, _ = servers
    name = f"linli_test_{RUN_ID}_plans"
    url = await ensure_database(server_url, name)
    try:
        marker = await seed(url, datetime.combine(day(0), time(), LOCAL_TZ), COUNTS)
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("SET search_path = public")
            yield conn, Probe(**marker["probe"])
        finally:
            await conn.close()
    finally:
        await drop_database(server_url, name)


async def read_through_indexes(explaining: Explaining, *expected: str) -> None:
    """Every large table was read through an index; each ``expected`` index was used."""
    scans = explaining.scans()
    large = {
        row["name"]
        for row in await explaining.conn.fetch(
            "SELECT n.nspname || '.' || c.relname AS name FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND c.relpages >= $1",
            LARGE_PAGES,
        )
    }
    whole = [f"{s.node} on {s.table}" for s in scans if s.table in large and s.node not in BY_INDEX]
    assert not whole, f"{whole} in plans of {[sql for sql, _ in explaining.plans]}"
    used = {index for scan in scans for index in scan.indexes}
    assert set(expected) <= used, f"{set(expected) - used} not used; used {used}"


async def test_a_resident_browsing_the_festival_reads_its_activities_and_sessions_by_index(
    city: tuple[asyncpg.Connection, Probe],
) -> None:
    conn, probe = city
    explaining = Explaining(conn)
    festival = uuid.UUID(probe.festival_id)
    assert await activities.festivals(explaining.as_connection, [], False)
    held = await activities.activities_of(explaining.as_connection, [festival])
    assert held and await activities.sessions_of(explaining.as_connection, [a["id"] for a in held])
    await read_through_indexes(explaining, "signups_waitlist")


async def test_my_sign_ups_and_my_inbox_are_found_by_the_residents_id(
    city: tuple[asyncpg.Connection, Probe],
) -> None:
    conn, probe = city
    explaining = Explaining(conn)
    mine = await activities.signups_of_resident(explaining.as_connection, probe.resident_id)
    assert mine
    for signup in mine:
        assert await activities.session(explaining.as_connection, signup["session_id"])
    assert await notify.inbox(explaining.as_connection, probe.resident_id, 50)
    await read_through_indexes(explaining, "signups_of_resident", "inbox_recipient_id_created_at_idx")


async def test_a_session_roster_reads_its_live_sign_ups_and_their_residents_by_index(
    city: tuple[asyncpg.Connection, Probe],
) -> None:
    conn, probe = city
    explaining = Explaining(conn)
    roster = await attendance.roster(explaining.as_connection, uuid.UUID(probe.roster_session_id))
    assert len(roster) == 48  # 40 confirmed and 8 waiting
    residents = [uuid.UUID(row["resident_id"]) for row in roster]
    assert len(await identity.residents(explaining.as_connection, residents)) == 48
    await read_through_indexes(explaining, "signups_roster", "residents_pkey")


async def test_a_work_units_report_reads_only_its_members_shifts_ledger_and_wishes(
    city: tuple[asyncpg.Connection, Probe],
) -> None:
    conn, probe = city
    explaining = Explaining(conn)
    start, end = (datetime.fromisoformat(d).date() for d in (probe.report_starts_on, probe.report_ends_on))
    report = await reports.unit_report(
        explaining.as_connection, probe.community_id, probe.work_unit, start, end
    )
    assert len(report.members) == 10 and all(len(m.shifts) == 30 for m in report.members)
    assert sum(m.wishes_met for m in report.members) == 20
    await read_through_indexes(
        explaining,
        "ledger_by_shift_volunteer",
        "wish_claims_by_claimant",
        "wishes_met_by_claim",
        "shifts_by_start",
    )


async def test_the_wish_wall_and_the_audit_log_read_one_community_by_index(
    city: tuple[asyncpg.Connection, Probe],
) -> None:
    conn, probe = city
    explaining = Explaining(conn)
    wall = await wishes.wall(explaining.as_connection, probe.community_id, datetime.now(LOCAL_TZ), 200)
    assert len(wall) == 200
    later = await wishes.wall(
        explaining.as_connection, probe.community_id, datetime.now(LOCAL_TZ), 50, wall[-1]["id"]
    )
    assert later and not {w["id"] for w in later} & {w["id"] for w in wall}
    audit = await identity.community_audit_trail(explaining.as_connection, probe.community_id)
    assert len(audit) == 100
    assert await identity.community_audit_trail(
        explaining.as_connection, probe.community_id, 100, audit[-1]["id"]
    )
    await read_through_indexes(explaining, "audit_log_community_page", "wishes_wall_page")


async def test_a_claimants_wishes_are_found_by_the_claimant(city: tuple[asyncpg.Connection, Probe]) -> None:
    conn, _ = city
    claimant = await conn.fetchval(
        "SELECT claimant_id FROM volunteers.wishes WHERE claimant_id IS NOT NULL ORDER BY id LIMIT 1"
    )
    explaining = Explaining(conn)
    claimed = await wishes.wishes_claimed_by(explaining.as_connection, claimant)
    assert claimed and all(w["claimant_id"] == claimant for w in claimed)
    await read_through_indexes(explaining, "wishes_by_claimant")


async def test_a_sign_up_reads_the_session_and_the_residents_sign_ups_by_index(
    city: tuple[asyncpg.Connection, Probe],
) -> None:
    conn, probe = city
    explaining = Explaining(conn)
    session = uuid.UUID(probe.open_session_id)
    async with conn.transaction():  # the sessions are locked FOR UPDATE until it ends
        sessions = await activities_repository.lock_sessions_for_signup(explaining.as_connection, [session])
        festival = sessions[session]["festival_id"]
        await activities_repository.live_signups_among(
            explaining.as_connection, [session], [probe.resident_id]
        )
        held = await activities_repository.festival_signups_held(
            explaining.as_connection, [(festival, probe.resident_id)]
        )
        assert held[(festival, probe.resident_id)] >= 1
    await read_through_indexes(explaining, "signups_live_of_resident")


async def test_the_next_page_of_the_hot_lists_starts_at_its_key_in_an_index(
    city: tuple[asyncpg.Connection, Probe],
) -> None:
    """A later page of festival browse, my sign-ups and a roster (README.md, "Pages of a list")
    finds the item it follows by its primary key and reads on from there in an index held in
    the list's order, never the whole list before it."""
    conn, probe = city
    explaining = Explaining(conn)
    first = await activities.festivals(explaining.as_connection, [], False, 2)
    assert len(first) == 2
    later = await activities.festivals(explaining.as_connection, [], False, 2, first[-1]["id"])
    assert later and later[0]["id"] not in {f["id"] for f in first}
    festival = uuid.UUID(probe.festival_id)
    held = await activities.activities_of(explaining.as_connection, [festival], 1)
    assert await activities.activities_of(explaining.as_connection, [festival], 1, held[0]["id"]) is not None
    sessions = await activities.sessions_of(explaining.as_connection, [held[0]["id"]], 1)
    assert (
        await activities.sessions_of(explaining.as_connection, [held[0]["id"]], 1, sessions[0]["id"])
        is not None
    )
    mine = await activities.signups_of_resident(explaining.as_connection, probe.resident_id, 1)
    assert await activities.signups_of_resident(explaining.as_connection, probe.resident_id, 1, mine[0]["id"])
    session = uuid.UUID(probe.roster_session_id)
    page = await attendance.roster(explaining.as_connection, session, 20)
    rest = await attendance.roster(explaining.as_connection, session, 20, page[-1]["signup_id"])
    assert len(page) == 20 and [r["status"] for r in page + rest][:40] == ["CONFIRMED"] * 40
    await read_through_indexes(
        explaining,
        "festivals_by_start",  # (a festival's few activities are one page of a small table)
        "sessions_of_activity",
        "signups_of_resident",
        "signups_roster",
        "signups_pkey",
    )
