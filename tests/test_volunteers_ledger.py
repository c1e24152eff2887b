"""The service-hours ledger under concurrency, on real PostgreSQL: the handlers, no gateway.

The two shifts lie in the past, which the public API rightly refuses to check anyone into, so
the story is set up through the repository: volunteers who checked in to two back-to-back
shifts and forgot to check out of either.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.common.actor import VOLUNTEER, Actor
from services.common.ids import new_id
from services.common.settings import Settings
from services.volunteers import codes, domain, handlers
from services.volunteers import repository as repo
from tests.conftest import COMMUNITY


async def past_shift(conn: Any, starts_at: datetime, venue: str) -> uuid.UUID:
    plan = domain.ShiftPlan(COMMUNITY, venue, "引导员", starts_at, starts_at + timedelta(hours=1), 100)
    row = await repo.insert_shift(conn, new_id(), plan, codes.venue_key(venue), "organiser-test")
    shift_id: uuid.UUID = row["id"]
    return shift_id


async def test_checking_out_of_two_shifts_at_once_credits_the_rounded_total_exactly_once(
    pool: Any, settings: Settings
) -> None:
    now = datetime.now(UTC)
    first_start, second_start = now - timedelta(hours=3), now - timedelta(hours=2)
    people = [f"volunteer-{uuid.uuid4().hex[:8]}" for _ in range(25)]
    async with pool.acquire() as conn:
        venue = f"西苑社区广场 {uuid.uuid4().hex[:6]}"
        first = await past_shift(conn, first_start, venue)
        second = await past_shift(conn, second_start, venue)
        for person in people:
            for shift_id, arrived in (
                (first, first_start + timedelta(minutes=10)),
                (second, second_start + timedelta(minutes=20)),
            ):
                await repo.insert_signup(conn, new_id(), shift_id, person, uuid.uuid4().hex)
                await repo.insert_check_in(
                    conn, new_id(), shift_id, person, domain.CheckInMethod.STATION, person, arrived
                )
    ctx = {"pool": pool, "settings": settings}

    # 50 minutes in the first shift and 40 in the second: 90 minutes, six quarter hours; but
    # 45 + 30 if each check-out were rounded on its own, as a race between them would do.
    await asyncio.gather(
        *(
            handlers.check_out(
                ctx, Actor(person, frozenset({VOLUNTEER}), frozenset()), {"shift_id": str(shift_id)}
            )
            for person in people
            for shift_id in (first, second)
        )
    )

    async with pool.acquire() as conn:
        totals = await conn.fetch(
            "SELECT volunteer_id, sum(minutes) AS minutes, count(*) AS entries "
            "FROM volunteers.ledger WHERE volunteer_id = ANY($1::text[]) GROUP BY volunteer_id",
            people,
        )
    assert sorted((t["minutes"], t["entries"]) for t in totals) == [(90, 2)] * len(people)
