"""The other two bursts of ``make bench`` (bench/README.md), run after the sign-up bursts on the
same platform and clients:

- **check-in burst**: volunteers of one shift all scan the station's code at once (08:30 at the
  festival gate), each answered once and recorded once, and all of them within a minute;
- **fan-out**: an organiser calls off a session with hundreds of sign-ups; how long until every
  resident has the message in their inbox, each exactly once.

Neither has a raw-SQL baseline (the issue sets none); both fail the run when an invariant breaks.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench.http_client import GraphQLConnection, HTTPStatusError, HTTPTransportError
from bench.signup_burst import (
    COMMUNITY,
    Attempt,
    cpu_ticks,
    cpu_used,
    drive,
    gql,
    linli_burst,
    organise,
    tail_ms,
    tokens_for,
    wait_drained,
)
from services.common.actor import VOLUNTEER
from services.common.settings import Settings

CHECK_IN_WITHIN_S = 60.0  # "volunteers all arrive at 08:30": the whole crowd in a minute
FAN_OUT_WAIT_S = 120.0

CREATE_SHIFT = "mutation($input: CreateShiftInput!) { createShift(input: $input) { id venue } }"
SHIFT_SIGN_UP = "mutation($input: SignUpForShiftInput!) { signUpForShift(input: $input) { id } }"
STATION_CODE = "query($venue: String!) { stationCode(venue: $venue) { code validUntil } }"
CHECK_IN = "mutation($input: CheckInInput!) { checkIn(input: $input) { id firstScan } }"
CANCEL_SESSION = "mutation($input: CancelSessionInput!) { cancelSession(input: $input) { id status } }"


@dataclass
class CheckInBurst:
    volunteers: int
    concurrency: int
    wall_s: float = 0.0
    throughput: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    first_scans: int = 0
    retries: int = 0
    recorded: int = 0  # check-in rows of the shift in the database
    events: int = 0  # volunteer.checked_in events in the outbox
    transactions: int = 0  # that wrote the check-ins (one per batch the worker decided together)
    # CPU seconds per process while the crowd scanned, and the machine's load average after
    cpu_s: dict[str, float] = field(default_factory=dict)
    load_avg: tuple[float, ...] = ()
    violations: list[str] = field(default_factory=list)


@dataclass
class FanOut:
    sign_ups: int
    confirmed: int = 0
    cancel_ms: float = 0.0  # the organiser's cancelSession, sent to answered
    all_messages_s: float = 0.0  # sent to the last resident's inbox message written
    messages_per_s: float = 0.0
    messages: int = 0
    recipients: int = 0
    violations: list[str] = field(default_factory=list)


class StationCode:
    """The code the station's screen shows: it rotates, so it is read again before it expires."""

    def __init__(self, admin: httpx.AsyncClient, token: str, venue: str) -> None:
        self._admin, self._token, self._venue = admin, token, venue
        self.code = ""
        self._valid_until = 0.0

    async def current(self) -> str:
        if time.time() > self._valid_until - 5:
            body = await gql(self._admin, STATION_CODE, {"venue": self._venue}, self._token)
            shown = body["data"]["stationCode"]
            self.code = shown["code"]
            self._valid_until = datetime.fromisoformat(shown["validUntil"]).timestamp()
        return self.code


async def ok(http: GraphQLConnection, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    """Send; transport errors are sent again (every mutation here carries its idempotency key)."""
    for _ in range(3):
        try:
            body = await http.execute(query, variables, token)
        except HTTPTransportError:
            continue
        if body.get("errors"):
            raise RuntimeError(f"{query.split('(')[0]} refused: {body['errors'][0]}")
        data: dict[str, Any] = body["data"]
        return data
    raise RuntimeError(f"{query.split('(')[0]}: no answer after 3 tries")


async def check_in_burst(
    clients: list[GraphQLConnection],
    admin: httpx.AsyncClient,
    settings: Settings,
    organiser: str,
    volunteers: int,
    label: str = "bench",
    ticks: Callable[[], dict[int, tuple[str, int]]] = cpu_ticks,
) -> CheckInBurst:
    """Volunteers signed up for one shift all check in by its station code; measured from the
    first scan sent to the last answer. ``label`` names the shift, its venue and its volunteers,
    so one run can hold several bursts (bench/check_in_burst.py)."""
    assert settings.database_url
    venue = f"西苑社区邻里驿家 ({label})"
    starts_at = datetime.now(UTC) - timedelta(minutes=5)  # the shift has just begun
    shift_input = {
        "communityId": COMMUNITY,
        "venue": venue,
        "role": "入口引导",
        "startsAt": starts_at.isoformat(),
        "endsAt": (starts_at + timedelta(hours=4)).isoformat(),
        "headcount": volunteers,
        "idempotencyKey": f"{label}-shift-0001",
    }
    created = await gql(admin, CREATE_SHIFT, {"input": shift_input}, organiser)
    shift_id = created["data"]["createShift"]["id"]
    tokens = tokens_for(settings, f"{label}-volunteer", VOLUNTEER, volunteers)

    async def sign_up(slot: int, i: int) -> Attempt:
        variables = {"input": {"shiftId": shift_id, "idempotencyKey": f"{label}-shift-signup-{i:05d}"}}
        await ok(clients[slot], SHIFT_SIGN_UP, variables, tokens[i])
        return Attempt(0, status="SIGNED_UP")

    await drive(volunteers, len(clients), sign_up)
    station = StationCode(admin, organiser, venue)
    await station.current()
    result = CheckInBurst(volunteers, len(clients))
    latencies: list[float] = []

    async def arrive(slot: int, i: int) -> Attempt:
        attempt = Attempt(0)
        variables = {
            "input": {
                "shiftId": shift_id,
                "code": await station.current(),
                "idempotencyKey": f"{label}-arrive-{i:05d}",
            }
        }
        started = time.perf_counter()
        for _ in range(4):
            try:
                body = await clients[slot].execute(CHECK_IN, variables, tokens[i])
            except HTTPTransportError:
                attempt.retries += 1
                continue
            except HTTPStatusError as exc:
                attempt.error = f"HTTP {exc.status}"
                return attempt
            if body.get("errors"):
                attempt.error = str(body["errors"][0].get("extensions", {}).get("code", "GRAPHQL_ERROR"))
                return attempt
            attempt.status = "FIRST_SCAN" if body["data"]["checkIn"]["firstScan"] else "AGAIN"
            break
        attempt.latency_s = time.perf_counter() - started
        latencies.append(attempt.latency_s * 1000)
        return attempt

    before = ticks()
    attempts, wall = await drive(volunteers, len(clients), arrive)
    result.cpu_s = cpu_used(before, ticks())
    result.load_avg = tuple(round(x, 2) for x in os.getloadavg())
    latencies.sort()
    result.wall_s = round(wall, 3)
    result.throughput = round(volunteers / wall, 1) if wall else 0.0
    result.p50_ms, result.p95_ms, result.p99_ms = tail_ms(latencies)
    result.first_scans = sum(1 for a in attempts if a.status == "FIRST_SCAN")
    result.retries = sum(a.retries for a in attempts)
    conn = await asyncpg.connect(settings.database_url)
    try:
        result.recorded = await conn.fetchval(
            "SELECT count(DISTINCT volunteer_id) FROM volunteers.check_ins WHERE shift_id = $1",
            uuid.UUID(shift_id),
        )
        rows = await conn.fetchval(
            "SELECT count(*) FROM volunteers.check_ins WHERE shift_id = $1", uuid.UUID(shift_id)
        )
        result.transactions = await conn.fetchval(
            "SELECT count(DISTINCT xmin::text) FROM volunteers.check_ins WHERE shift_id = $1",
            uuid.UUID(shift_id),
        )
        result.events = await conn.fetchval(
            "SELECT count(*) FROM volunteers.outbox "
            "WHERE type = 'volunteer.checked_in' AND payload->>'shift_id' = $1",
            shift_id,
        )
    finally:
        await conn.close()
    failed = [a.error for a in attempts if a.status not in ("FIRST_SCAN", "AGAIN")]
    if failed:
        result.violations.append(f"{len(failed)} volunteers not checked in ({failed[:3]})")
    if result.first_scans != volunteers:
        result.violations.append(f"{result.first_scans} first scans for {volunteers} volunteers")
    if (result.recorded, rows, result.events) != (volunteers, volunteers, volunteers):
        result.violations.append(
            f"recorded {rows} check-ins of {result.recorded} volunteers and {result.events} events "
            f"for {volunteers} volunteers"
        )
    if wall > CHECK_IN_WITHIN_S:
        result.violations.append(f"the crowd took {wall:.0f} s, more than a minute")
    return result


async def fan_out(
    clients: list[GraphQLConnection],
    admin: httpx.AsyncClient,
    settings: Settings,
    organiser: str,
    sign_ups: int,
    poll_s: float,
) -> FanOut:
    """A session with ``sign_ups`` confirmed residents is called off; measured from the
    organiser's request to the last resident's inbox message."""
    assert settings.database_url
    [session_id] = await organise(admin, organiser, [sign_ups], first_index=9000)
    burst, attempts = await linli_burst(
        clients, settings, "fan-out", [session_id], sign_ups, sign_ups, poll_s, 120
    )
    result = FanOut(sign_ups, confirmed=burst.confirmed)
    residents = [f"fan-out-resident-{i}" for i in range(sign_ups)]
    await wait_drained(settings.database_url, settings)  # their confirmations are out of the way
    conn = await asyncpg.connect(settings.database_url)
    try:

        async def inboxed() -> tuple[int, int]:
            """Cancellation messages for these residents, and how many residents have one."""
            row = await conn.fetchrow(
                "SELECT count(*) AS messages, count(DISTINCT recipient_id) AS recipients "
                "FROM notify.inbox WHERE kind = 'session.cancelled' AND recipient_id = ANY($1::text[])",
                residents,
            )
            assert row is not None
            return int(row["messages"]), int(row["recipients"])

        started = time.perf_counter()
        cancel = {
            "sessionId": session_id,
            "reason": "大风预警，活动取消 (bench)",
            "idempotencyKey": "bench-cancel-0001",
        }
        body = await gql(admin, CANCEL_SESSION, {"input": cancel}, organiser)
        result.cancel_ms = round(1000 * (time.perf_counter() - started), 1)
        if body.get("errors"):
            result.violations.append(f"cancelSession refused: {body['errors'][0]}")
            return result
        while time.perf_counter() - started < FAN_OUT_WAIT_S:  # written by another process: poll
            if (await inboxed())[0] >= burst.confirmed:
                break
            await asyncio.sleep(poll_s / 4)
        result.all_messages_s = round(time.perf_counter() - started, 3)
        await asyncio.sleep(1.0)  # anything doubled would show by now
        result.messages, result.recipients = await inboxed()
        stray = await conn.fetchval(
            "SELECT count(*) FROM notify.inbox "
            "WHERE kind = 'session.cancelled' AND NOT recipient_id = ANY($1::text[])",
            residents,
        )
    finally:
        await conn.close()
    result.messages_per_s = (
        round(result.messages / result.all_messages_s, 1) if result.all_messages_s else 0.0
    )
    if burst.confirmed != sign_ups or any(a.status != "CONFIRMED" for a in attempts):
        result.violations.append(
            f"{burst.confirmed} of {sign_ups} sign-ups confirmed before the cancellation"
        )
    if (result.messages, result.recipients) != (burst.confirmed, burst.confirmed):
        result.violations.append(
            f"{result.messages} messages for {result.recipients} of {burst.confirmed} residents "
            f"after {result.all_messages_s:.0f} s"
        )
    if stray:
        result.violations.append(f"{stray} cancellation messages for residents not signed up")
    return result


def print_more(check_ins: dict[str, Any] | None, fan: dict[str, Any] | None) -> None:
    """The two bursts' lines under the sign-up table (from the report's JSON of each)."""
    if check_ins is not None:
        c = check_ins
        print(
            f"\nCheck-in burst: {c['volunteers']} volunteers of one shift scan its station code, "
            f"{c['concurrency']} at a time: {c['throughput']:.0f} check-ins/s, p50 {c['p50_ms']:.1f} / p95 "
            f"{c['p95_ms']:.1f} / p99 {c['p99_ms']:.1f} ms; all in {c['wall_s']:.1f} s (target: within a "
            f"minute); first scans {c['first_scans']}, recorded {c['recorded']} in "
            f"{c.get('transactions', 0)} transactions, events {c['events']}, "
            f"retries {c['retries']}"
        )
    if fan is not None:
        f = fan
        print(
            f"Fan-out: calling off a session with {f['confirmed']} confirmed sign-ups: answered in "
            f"{f['cancel_ms']:.0f} ms; {f['messages']} inbox messages for {f['recipients']} residents, the "
            f"last {f['all_messages_s']:.2f} s after the request ({f['messages_per_s']:.0f} messages/s)"
        )
