"""Check-ins answered in batches: when a shift's crowd scans at once, the scans a worker reads
together are decided in one transaction, each with the answer it would get alone, and a broken
one fails alone."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from services.common import clock
from services.common.actor import VOLUNTEER, Actor
from services.common.commands import (
    GROUP,
    CommandBus,
    CommandConsumer,
    Reply,
    claim_key,
    dead_commands,
    stream_key,
)
from services.common.ids import new_id
from services.common.settings import Settings
from services.volunteers import codes, contracts, domain
from services.volunteers import repository as repo
from services.volunteers.check_in_handlers import CHECK_IN_COMMANDS
from tests.conftest import COMMUNITY

SERVICE = contracts.SERVICE


class Door:
    """A shift that began an hour ago, its station, and a bus to a volunteers worker of the test's
    own that is started only once the crowd's scans wait in its stream, so it reads them as one
    batch."""

    def __init__(self, bus: CommandBus, settings: Settings, redis: Any, pool: Any) -> None:
        self.bus, self.settings, self.redis, self.pool = bus, settings, redis, pool
        self.venue = f"朔方社区邻里驿家 {uuid.uuid4().hex[:6]}"
        self.shift_id = uuid.uuid4()
        self._consumer: CommandConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def open(self, signed_up: list[str]) -> None:
        starts_at = clock.now() - timedelta(hours=1)
        plan = domain.ShiftPlan(
            COMMUNITY, self.venue, "引导员", starts_at, starts_at + timedelta(hours=3), 500
        )
        async with self.pool.acquire() as conn:
            await repo.insert_shift(conn, self.shift_id, plan, codes.venue_key(self.venue), "organiser-door")
            for volunteer_id in signed_up:
                await repo.insert_signup(conn, new_id(), self.shift_id, volunteer_id, uuid.uuid4().hex)

    def code(self, venue: str | None = None) -> str:
        return codes.mint_station_code(self.settings.secret, COMMUNITY, venue or self.venue, time.time())

    async def queue(self, scans: list[tuple[str, dict[str, Any], str]]) -> None:
        """Scans (volunteer, args, key) waiting in the stream, unanswered: nobody reads it yet."""
        sent = await asyncio.gather(
            *(
                self.bus.send(SERVICE, contracts.CHECK_IN, actor(who), args, key, 0.05)
                for who, args, key in scans
            )
        )
        assert sent == [None] * len(scans)

    async def _send(self, who: str, args: dict[str, Any], key: str, wait_s: float) -> Reply | None:
        return await self.bus.send(SERVICE, contracts.CHECK_IN, actor(who), args, key, wait_s)

    def start(self) -> None:
        ctx = {"pool": self.pool, "settings": self.settings, "redis": self.redis}
        self._consumer = CommandConsumer(self.redis, self.settings, SERVICE, CHECK_IN_COMMANDS, ctx)
        self._task = asyncio.create_task(self._consumer.run())

    async def answers(self, scans: list[tuple[str, dict[str, Any], str]]) -> list[Reply]:
        """The answer each scan got (the same key again reads it)."""
        replies = await asyncio.gather(
            *(
                self.bus.send(SERVICE, contracts.CHECK_IN, actor(who), args, key, 10)
                for who, args, key in scans
            )
        )
        assert all(reply is not None for reply in replies)
        return [reply for reply in replies if reply is not None]

    async def stop(self) -> None:
        if self._consumer is not None and self._task is not None:
            await self._consumer.stop()
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def recorded(self) -> tuple[int, int, int, int]:
        """Check-ins, people checked in, their events, and the transactions that wrote them."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetchrow(
                "SELECT count(*) AS check_ins, count(DISTINCT volunteer_id) AS people, "
                "count(DISTINCT xmin::text) AS transactions FROM volunteers.check_ins WHERE shift_id = $1",
                self.shift_id,
            )
            events = await conn.fetchval(
                "SELECT count(*) FROM volunteers.outbox "
                "WHERE type = 'volunteer.checked_in' AND payload->>'shift_id' = $1",
                str(self.shift_id),
            )
        return rows["check_ins"], rows["people"], events, rows["transactions"]


def actor(volunteer_id: str) -> Actor:
    return Actor(volunteer_id, frozenset({VOLUNTEER}), frozenset({COMMUNITY}))


@pytest.fixture
async def door(settings: Settings, redis: Any, pool: Any) -> AsyncIterator[Door]:
    own = settings.model_copy(
        update={"namespace": f"{settings.namespace}-door-{uuid.uuid4().hex[:6]}", "command_claim_idle_s": 60}
    )
    await redis.xgroup_create(stream_key(own, SERVICE), GROUP, id="0", mkstream=True)
    bus = CommandBus(redis, own)
    await bus.start()
    found = Door(bus, own, redis, pool)
    try:
        yield found
    finally:
        await found.stop()
        await bus.stop()


def scan(door: Door, who: str, key: str, code: str | None = None) -> tuple[str, dict[str, Any], str]:
    return who, {"shift_id": str(door.shift_id), "code": code or door.code()}, key


async def test_forty_volunteers_scanning_at_once_some_twice_are_each_checked_in_once_in_one_transaction(
    door: Door,
) -> None:
    crowd = [f"volunteer-{uuid.uuid4().hex[:8]}" for _ in range(40)]
    await door.open(crowd)
    scans = [scan(door, who, f"arrive-{i}") for i, who in enumerate(crowd)]
    scans += [scan(door, who, f"arrive-again-{i}") for i, who in enumerate(crowd[:10])]  # impatient
    await door.queue(scans)

    door.start()
    replies = [reply.unwrap() for reply in await door.answers(scans)]

    firsts = [r for r in replies if r["first_scan"]]
    assert sorted(r["volunteer_id"] for r in firsts) == sorted(crowd)
    by_person = {r["volunteer_id"]: r["id"] for r in firsts}
    assert all(r["id"] == by_person[r["volunteer_id"]] for r in replies)  # a second scan: the same
    assert [r["method"] for r in replies] == ["STATION"] * 50
    assert await door.recorded() == (40, 40, 40, 1)


async def test_in_a_batch_a_wrong_code_a_stranger_and_a_broken_scan_fail_alone(door: Door) -> None:
    crowd = [f"volunteer-{uuid.uuid4().hex[:8]}" for _ in range(6)]
    stranger = f"volunteer-{uuid.uuid4().hex[:8]}"
    await door.open(crowd)
    elsewhere = door.code(venue="另一个社区的邻里驿家")
    good = [scan(door, who, f"good-{i}") for i, who in enumerate(crowd[:4])]
    bad = [
        scan(door, crowd[4], "wrong-venue", code=elsewhere),
        scan(door, crowd[5], "forged", code="LS" + "A" * 36),
        scan(door, stranger, "not-signed-up"),
        (crowd[5], {"shift_id": "not-a-shift", "code": door.code()}, "broken"),  # no gateway sends it
    ]
    await door.queue(good + bad)

    door.start()
    replies = await door.answers(good + bad)

    assert [r.unwrap()["first_scan"] for r in replies[:4]] == [True] * 4
    refusals = [r.refusal.code if r.refusal else None for r in replies[4:]]
    assert refusals == ["WRONG_VENUE", "INVALID_CODE", "NOT_SIGNED_UP", "COMMAND_FAILED"]
    assert await door.recorded() == (4, 4, 4, 1)
    (dead,) = await dead_commands(door.redis, door.settings, SERVICE)
    assert (dead.command_id.endswith(":broken"), dead.code) == (True, "COMMAND_FAILED")


async def test_a_scan_postgresql_refuses_fails_alone_and_the_rest_of_its_batch_is_checked_in(
    door: Door,
) -> None:
    crowd = [f"volunteer-{uuid.uuid4().hex[:8]}" for _ in range(5)]
    await door.open(crowd)
    scans = [scan(door, who, f"arrive-{i}") for i, who in enumerate(crowd)]
    poison = scan(door, "volunteer-\u0000", "poison")  # text PostgreSQL cannot store
    await door.queue([*scans[:2], poison, *scans[2:]])

    door.start()
    replies = await door.answers([*scans[:2], poison, *scans[2:]])

    refused = replies.pop(2)
    assert refused.refusal is not None and refused.refusal.code == "BAD_USER_INPUT"
    assert [r.unwrap()["first_scan"] for r in replies] == [True] * 5
    check_ins, people, events, _ = await door.recorded()
    assert (check_ins, people, events) == (5, 5, 5)


async def test_the_same_scan_sent_again_gets_the_same_answer_and_run_again_changes_nothing(
    door: Door,
) -> None:
    who = f"volunteer-{uuid.uuid4().hex[:8]}"
    await door.open([who])
    first = scan(door, who, "arrive-once")
    door.start()
    (answer,) = await door.answers([first])

    (again,) = await door.answers([first])  # a retry with the same key: the stored answer
    command_id = door.bus.command_id(SERVICE, contracts.CHECK_IN, actor(who), "arrive-once")
    await door.redis.delete(claim_key(door.settings, SERVICE, command_id))  # its hour passed: run again
    (rerun,) = await door.answers([first])

    assert answer.unwrap()["first_scan"] is True
    assert again == answer
    assert (rerun.unwrap()["id"], rerun.unwrap()["first_scan"]) == (answer.unwrap()["id"], False)
    check_ins, people, events, _ = await door.recorded()
    assert (check_ins, people, events) == (1, 1, 1)
