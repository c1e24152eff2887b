"""Sign-up burst: the full public path (HTTP GraphQL -> gateway -> queue -> activities worker)
against the raw-SQL rate of the same reservations, measured in one run on one machine; then
the check-in burst and the fan-out of ``bench.more_bursts``.

Run it with ``make bench`` (or ``python -m bench.signup_burst --help``); bench/README.md says
what is measured and why. Exits 1 when an invariant breaks; missing the speed target is only
reported.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvloop

from bench.http_client import GraphQLConnection, HTTPStatusError, HTTPTransportError
from bench.notify_bound import (
    NOTIFY_ROLE,
    TARGET_NOTIFY_BOUND_S,
    NotifyBound,
    last_answer_at,
    print_bounds,
    process_cpu_s,
    wait_notified,
)
from services.common.actor import ORGANISER, RESIDENT, Actor
from services.common.clock import LOCAL_TZ, now
from services.common.db import drop_database, ensure_database
from services.common.embedded import Servers, ensure_servers
from services.common.queue import create_redis
from services.common.settings import Settings
from services.common.tokens import issue_token

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
COMMUNITY = "lingwu-shuofang"
FINAL = ("CONFIRMED", "WAITLISTED")
TARGET_THROUGHPUT = 0.40  # Linli's attempts/s at least this share of the raw-SQL rate
TARGET_P99 = 10.0  # Linli's p99 at most this multiple of the raw-SQL p99
TARGET_FAIR = 1.0  # Linli's attempts/s at least this share of the fair baseline's (bench/fair_baseline.py)

SIGN_UP = """
mutation($input: SignUpInput!) { signUp(input: $input) { id status partySize waitlistPosition } }
"""
SIGNUP = "query($id: ID!) { signup(id: $id) { id status } }"
CREATE_FESTIVAL = "mutation($input: CreateFestivalInput!) { createFestival(input: $input) { id } }"
CREATE_ACTIVITY = "mutation($input: CreateActivityInput!) { createActivity(input: $input) { id } }"
SCHEDULE_SESSION = "mutation($input: ScheduleSessionInput!) { scheduleSession(input: $input) { id } }"


# ---------------------------------------------------------------------------------------------
# What one burst measured


@dataclass
class Attempt:
    """One resident's sign-up, from first byte sent to final answer."""

    session: int
    status: str = "NO_ANSWER"  # CONFIRMED / WAITLISTED, or what went wrong
    latency_s: float = 0.0
    pending: bool = False  # the mutation answered PENDING and the answer came by polling
    retries: int = 0  # transport errors retried with the same idempotency key
    error: str | None = None


@dataclass
class Burst:
    name: str
    path: str  # "linli" or "raw-sql"
    residents: int
    sessions: int
    seats: int
    concurrency: int
    wall_s: float = 0.0
    throughput: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    confirmed: int = 0
    waitlisted: int = 0
    pending_resolved: int = 0
    retries: int = 0
    unanswered: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)
    # CPU of the server side (not this driver, not strangers) per resident, and the rate it
    # would allow if the server side had every core of the machine to itself
    server_cpu_ms_per_signup: float = 0.0
    server_cpu_ceiling_per_s: float = 0.0
    # Linli only: time inside the gateway per GraphQL request, from its /metrics histogram
    gateway_ms: dict[str, float] = field(default_factory=dict)
    # PostgreSQL transactions (explicit, or one per statement outside one) per resident
    pg_xacts_per_signup: float = 0.0
    violations: list[str] = field(default_factory=list)
    # the machine's load average (1, 5, 15 min) when the burst ended: other people's work shows here
    load_avg: tuple[float, ...] = ()


# An idle PostgreSQL backend flushes its statistics within 10 s (PGSTAT_IDLE_INTERVAL).
STATS_SETTLE_S = 11.0


async def pg_xacts(database_url: str, settle_s: float) -> int:
    """Committed + rolled-back transactions of this database so far, once backends have
    flushed their statistics (at exit, or within ``STATS_SETTLE_S`` when idle)."""
    await asyncio.sleep(settle_s)
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        count: int = await conn.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
        )
        return count
    finally:
        await conn.close()


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), round(p / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def tail_ms(sorted_ms: list[float]) -> tuple[float, float, float]:
    """p50, p95 and p99 of ascending latencies in ms, to a tenth."""
    p50, p95, p99 = (round(percentile(sorted_ms, p), 1) for p in (50, 95, 99))
    return p50, p95, p99


SERVER_ROLES = (
    "gateway",
    "activities-worker",
    "notify-worker",
    "volunteers-worker",
    "launcher",
    "postgresql",
    "redis",
    "fair-baseline",
)


def summarise(burst: Burst, attempts: list[Attempt], wall_s: float) -> Burst:
    server_s = sum(s for role, s in burst.cpu_s.items() if role in SERVER_ROLES)
    if server_s and attempts:
        burst.server_cpu_ms_per_signup = round(1000 * server_s / len(attempts), 2)
        burst.server_cpu_ceiling_per_s = round((os.cpu_count() or 1) * len(attempts) / server_s)
    latencies = sorted(a.latency_s * 1000 for a in attempts if a.status in FINAL)
    statuses = Counter(a.status for a in attempts)
    burst.wall_s = round(wall_s, 3)
    burst.load_avg = tuple(round(x, 2) for x in os.getloadavg())
    burst.throughput = round(len(attempts) / wall_s, 1) if wall_s else 0.0
    burst.p50_ms, burst.p95_ms, burst.p99_ms = tail_ms(latencies)
    burst.max_ms = round(latencies[-1], 1) if latencies else 0.0
    burst.confirmed = statuses["CONFIRMED"]
    burst.waitlisted = statuses["WAITLISTED"]
    burst.pending_resolved = sum(1 for a in attempts if a.pending and a.status in FINAL)
    burst.retries = sum(a.retries for a in attempts)
    burst.unanswered = sum(1 for a in attempts if a.status not in FINAL)
    burst.errors = dict(Counter(a.error for a in attempts if a.error))
    if burst.unanswered:
        burst.violations.append(f"{burst.unanswered} residents without a final answer")
    if burst.confirmed > burst.seats:
        burst.violations.append(f"{burst.confirmed} confirmed for {burst.seats} seats")
    return burst


async def drive(
    count: int, concurrency: int, attempt: Callable[[int, int], Awaitable[Attempt]]
) -> tuple[list[Attempt], float]:
    """Run ``attempt(client, i)`` for i in range(count) from ``concurrency`` closed-loop clients."""
    results: list[Attempt | None] = [None] * count
    indexes: Iterator[int] = iter(range(count))

    async def client(slot: int) -> None:
        for i in indexes:  # shared iterator: each client takes the next resident when free
            results[i] = await attempt(slot, i)

    started = time.perf_counter()
    await asyncio.gather(*(client(slot) for slot in range(concurrency)))
    wall = time.perf_counter() - started
    return [r for r in results if r is not None], wall


# ---------------------------------------------------------------------------------------------
# CPU used per process during a burst (from /proc, so nothing to install)

_TICK = os.sysconf("SC_CLK_TCK")


def _role(pid: int, cmdline: str, comm: str) -> str:
    if pid == os.getpid():
        return "driver (this process)"
    if "services.cli gateway" in cmdline:
        return "gateway"
    if "services.cli worker" in cmdline:
        return cmdline.split("services.cli worker", 1)[1].strip().split()[0] + "-worker"
    if "services.cli up" in cmdline:
        return "launcher"
    if comm.startswith("postgres") or "postgres:" in cmdline:
        return "postgresql"
    if comm.startswith(("valkey", "redis")):
        return "redis"
    if comm.startswith("py-spy"):
        return "py-spy"
    if not cmdline:
        return "kernel threads"
    return f"other ({comm})"


def cpu_ticks() -> dict[int, tuple[str, int]]:
    found: dict[int, tuple[str, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks = int(fields[11]) + int(fields[12])  # utime + stime
        found[int(entry.name)] = (_role(int(entry.name), cmdline, comm), ticks)
    return found


def cpu_used(before: dict[int, tuple[str, int]], after: dict[int, tuple[str, int]]) -> dict[str, float]:
    """CPU seconds per role; processes that started and ended in between are not seen."""
    used: dict[str, float] = defaultdict(float)
    for pid, (role, ticks) in after.items():
        used[role] += (ticks - before.get(pid, (role, 0))[1]) / _TICK
    return {role: round(s, 2) for role, s in sorted(used.items(), key=lambda kv: -kv[1]) if s >= 0.05}


# ---------------------------------------------------------------------------------------------
# Baseline: the same reservations straight on PostgreSQL

BASELINE_SCHEMA = """
CREATE TABLE sessions (
    id uuid PRIMARY KEY,
    capacity integer NOT NULL,
    taken integer NOT NULL DEFAULT 0 CHECK (taken <= capacity)
);
CREATE TABLE signups (
    id uuid PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions (id),
    resident_id text NOT NULL,
    party_size integer NOT NULL,
    status text NOT NULL,
    arrival bigserial NOT NULL,
    UNIQUE (session_id, resident_id)
);
"""


async def baseline_burst(
    database_url: str, name: str, residents: int, sessions: int, seats: int, concurrency: int, pool_size: int
) -> Burst:
    """N reservations as one transaction each: conditional UPDATE of the seat count + INSERT."""
    xacts = await pg_xacts(database_url, 0.5)  # the previous burst's pool has exited
    pool = await asyncpg.create_pool(database_url, min_size=pool_size, max_size=pool_size)
    assert pool is not None
    try:
        session_ids = [uuid.uuid4() for _ in range(sessions)]
        capacity = seats // sessions
        await pool.executemany(
            "INSERT INTO sessions (id, capacity) VALUES ($1, $2)", [(s, capacity) for s in session_ids]
        )

        async def attempt(_slot: int, i: int) -> Attempt:
            session = i % sessions
            started = time.perf_counter()
            async with pool.acquire() as conn, conn.transaction():
                taken = await conn.fetchval(
                    "UPDATE sessions SET taken = taken + $2 WHERE id = $1 AND taken + $2 <= capacity "
                    "RETURNING taken",
                    session_ids[session],
                    1,
                )
                status = "CONFIRMED" if taken is not None else "WAITLISTED"
                await conn.execute(
                    "INSERT INTO signups (id, session_id, resident_id, party_size, status) "
                    "VALUES ($1, $2, $3, $4, $5)",
                    uuid.uuid4(),
                    session_ids[session],
                    f"{name}-resident-{i}",
                    1,
                    status,
                )
            return Attempt(session, status, time.perf_counter() - started)

        before = cpu_ticks()
        attempts, wall = await drive(residents, concurrency, attempt)
        burst = Burst(name, "raw-sql", residents, sessions, capacity * sessions, concurrency)
        burst.cpu_s = cpu_used(before, cpu_ticks())
        summarise(burst, attempts, wall)
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT s.id, s.capacity, s.taken, "
                "coalesce(sum(g.party_size) FILTER (WHERE g.status = 'CONFIRMED'), 0) AS confirmed "
                "FROM sessions s LEFT JOIN signups g ON g.session_id = s.id "
                "WHERE s.id = ANY($1::uuid[]) GROUP BY s.id",
                session_ids,
            )
        check_seats(burst, attempts, rows, session_ids)
    finally:
        await pool.close()
    burst.pg_xacts_per_signup = round((await pg_xacts(database_url, 0.5) - xacts) / residents, 2)
    return burst


def check_seats(
    burst: Burst, attempts: list[Attempt], rows: list[asyncpg.Record], session_ids: list[Any]
) -> None:
    """Per session: taken <= capacity, taken == confirmed seats in the DB == confirmed answers."""
    answered = Counter(a.session for a in attempts if a.status == "CONFIRMED")
    by_id = {str(row["id"]): row for row in rows}
    for index, session_id in enumerate(session_ids):
        row = by_id.get(str(session_id))
        if row is None:
            burst.violations.append(f"session {session_id} missing")
            continue
        if row["taken"] > row["capacity"]:
            burst.violations.append(f"session {session_id}: taken {row['taken']} > {row['capacity']}")
        if row["taken"] != row["confirmed"]:
            burst.violations.append(
                f"session {session_id}: taken {row['taken']} != {row['confirmed']} confirmed seats in the DB"
            )
        if row["confirmed"] != answered[index]:
            burst.violations.append(
                f"session {session_id}: {answered[index]} CONFIRMED answers but {row['confirmed']} in the DB"
            )


# ---------------------------------------------------------------------------------------------
# The platform, as `linli up` runs it


def free_port(block: int = 4) -> int:
    """A port with the next ``block - 1`` free too: `linli up` gives each worker's metrics
    endpoint the ports after the gateway's."""
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port + block > 65535:
            continue
        with contextlib.ExitStack() as stack:
            try:
                for offset in range(block):
                    probe = stack.enter_context(socket.socket())
                    probe.bind(("127.0.0.1", port + offset))
            except OSError:
                continue
            return port
    raise RuntimeError("no block of free ports found")


def _die_with_parent() -> None:
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Platform:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def pids(self) -> dict[str, int]:
        """The launcher's children by role (gateway, activities-worker, ...)."""
        found: dict[str, int] = {}
        for pid, (role, _) in cpu_ticks().items():
            if role in ("gateway", "activities-worker", "notify-worker", "volunteers-worker"):
                with contextlib.suppress(OSError):
                    parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
                    if parent == self.process.pid:
                        found[role] = pid
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_platform(env: dict[str, str], port: int, log_path: Path) -> Platform:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "up"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    return Platform(process, f"http://127.0.0.1:{port}", log_path)


async def wait_ready(platform_: Platform, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(base_url=platform_.base_url, timeout=5) as http:
        while time.monotonic() < deadline:
            if platform_.process.poll() is not None:
                raise RuntimeError(
                    f"linli up exited with {platform_.process.returncode}; see {platform_.log_path}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"the gateway was not ready in {timeout_s:.0f}s; see {platform_.log_path}")


async def gql(http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def resident_clients(
    stack: contextlib.ExitStack | contextlib.AsyncExitStack, base_url: str, count: int, timeout_s: float
) -> list[GraphQLConnection]:
    """One keep-alive connection per concurrent resident, like phones. Not httpx or aiohttp:
    the driver shares the machine's two cores with everything it measures, and this bare
    client costs it the least CPU per request (bench/README.md, "Driver")."""
    clients = [GraphQLConnection(base_url, timeout_s) for _ in range(count)]
    for client in clients:
        stack.callback(client.close)
    return clients


async def organise(
    http: httpx.AsyncClient, token: str, capacities: list[int], first_index: int = 0
) -> list[str]:
    """Schedule sessions through the public API; waits for the workers to come up. Sessions are
    keyed by their index from ``first_index``, so a second call can add others."""

    async def ok(query: str, input_: dict[str, Any], field_: str) -> str:
        deadline = time.monotonic() + 90
        while True:  # the same idempotency key each time, so a retry never creates twice
            try:
                body = await gql(http, query, {"input": input_}, token)
            except httpx.TransportError as exc:
                body = {"errors": [f"gateway unreachable: {exc!r}"]}
            if not body.get("errors"):
                return str(body["data"][field_]["id"])
            if time.monotonic() > deadline:
                raise RuntimeError(f"{field_} failed: {body['errors']}")
            await asyncio.sleep(0.5)

    # The burst's festival is a week ahead of today, so it is never a festival of the past.
    first_day = now().astimezone(LOCAL_TZ).date() + timedelta(days=7)
    morning = datetime.combine(first_day, clock_time(9), tzinfo=LOCAL_TZ)
    festival = await ok(
        CREATE_FESTIVAL,
        {
            "name": "第四届幸福邻里节 (bench)",
            "communityIds": [COMMUNITY],
            "startsOn": first_day.isoformat(),
            "endsOn": (first_day + timedelta(days=1)).isoformat(),
            "idempotencyKey": "bench-festival",
        },
        "createFestival",
    )
    activity = await ok(
        CREATE_ACTIVITY,
        {
            "festivalId": festival,
            "communityId": COMMUNITY,
            "title": "义诊",
            "category": "health",
            "idempotencyKey": "bench-activity",
        },
        "createActivity",
    )
    sessions = []
    for index, capacity in enumerate(capacities):
        sessions.append(
            await ok(
                SCHEDULE_SESSION,
                {
                    "activityId": activity,
                    "venue": "西苑社区文化广场",
                    "startsAt": morning.isoformat(),
                    "endsAt": (morning + timedelta(hours=3)).isoformat(),
                    "capacity": capacity,
                    "idempotencyKey": f"bench-session-{first_index + index:04d}",
                },
                "scheduleSession",
            )
        )
    return sessions


def tokens_for(settings: Settings, prefix: str, role: str, count: int) -> list[str]:
    """Access tokens of ``count`` people of the community (``<prefix>-<i>``), minted before the
    clock starts."""
    return [
        issue_token(Actor(f"{prefix}-{i}", frozenset({role}), frozenset({COMMUNITY})), settings.secret, 3600)
        for i in range(count)
    ]


async def linli_burst(
    clients: list[GraphQLConnection],
    settings: Settings,
    name: str,
    session_ids: list[str],
    seats: int,
    residents: int,
    poll_s: float,
    answer_timeout_s: float,
) -> tuple[Burst, list[Attempt]]:
    """Each resident signs up once through GraphQL; PENDING answers are polled to the end."""
    tokens = tokens_for(settings, f"{name}-resident", RESIDENT, residents)

    async def attempt(slot: int, i: int) -> Attempt:
        http = clients[slot]
        session = i % len(session_ids)
        result = Attempt(session)
        variables = {"input": {"sessionId": session_ids[session], "idempotencyKey": f"{name}-{i:06d}"}}
        started = time.perf_counter()
        deadline = started + answer_timeout_s
        body: dict[str, Any] | None = None
        while body is None:
            try:
                body = await http.execute(SIGN_UP, variables, tokens[i])
            except HTTPStatusError as exc:
                result.error = f"HTTP {exc.status}"
                return result
            except HTTPTransportError as exc:  # safe to resend: same idempotency key
                if result.retries >= 3:
                    result.error = f"transport: {exc.reason}"
                    return result
                result.retries += 1
        if body.get("errors"):
            result.error = str(body["errors"][0].get("extensions", {}).get("code", "GRAPHQL_ERROR"))
            return result
        answer = body["data"]["signUp"]
        status = answer["status"]
        if status == "PENDING":
            result.pending = True
            while status not in FINAL and time.perf_counter() < deadline:
                await asyncio.sleep(poll_s)
                with contextlib.suppress(HTTPStatusError, HTTPTransportError):
                    polled = await http.execute(SIGNUP, {"id": answer["id"]}, tokens[i])
                    found = (polled.get("data") or {}).get("signup")
                    status = found["status"] if found else "PENDING"
        result.latency_s = time.perf_counter() - started
        result.status = status if status in FINAL else "NO_ANSWER"
        if result.status == "NO_ANSWER":
            result.error = f"still {status} after {answer_timeout_s:.0f}s"
        return result

    before = cpu_ticks()
    attempts, wall = await drive(residents, len(clients), attempt)
    burst = Burst(name, "linli", residents, len(session_ids), seats, len(clients))
    burst.cpu_s = cpu_used(before, cpu_ticks())
    return summarise(burst, attempts, wall), attempts


async def gateway_metrics(http: httpx.AsyncClient) -> dict[str, float]:
    """The gateway's GraphQL latency histogram (Prometheus text), summed over operations:
    ``count``, ``sum`` and cumulative ``le=<bound>`` counts. Empty if it has none."""
    totals: dict[str, float] = defaultdict(float)
    with contextlib.suppress(httpx.HTTPError):
        response = await http.get("/metrics")
        if response.status_code != 200:
            return {}
        for line in response.text.splitlines():
            if not line.startswith("linli_graphql_latency_seconds"):
                continue
            name_labels, _, value = line.rpartition(" ")
            name = name_labels.split("{", 1)[0]
            if name.endswith("_count"):
                totals["count"] += float(value)
            elif name.endswith("_sum"):
                totals["sum"] += float(value)
            elif name.endswith("_bucket") and (found := re.search(r'le="([^"]+)"', name_labels)):
                totals[f"le={found.group(1)}"] += float(value)
    return dict(totals)


def server_side(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Time inside the gateway per GraphQL request during a burst (from its histogram): the mean,
    and for each percentile the upper bound of the histogram bucket it falls in."""
    count = after.get("count", 0) - before.get("count", 0)
    if count <= 0:
        return {}
    out = {"requests": count, "mean_ms": round(1000 * (after["sum"] - before.get("sum", 0)) / count, 1)}
    bounds = sorted(
        (float(key[3:]), after[key] - before.get(key, 0)) for key in after if key.startswith("le=")
    )
    for p in (50, 95, 99):
        bound = next((b for b, n in bounds if n >= count * p / 100), float("inf"))
        out[f"p{p}_at_most_ms"] = round(1000 * bound, 1)
    return out


async def check_platform_db(
    database_url: str, burst: Burst, attempts: list[Attempt], session_ids: list[str], prefix: str
) -> None:
    """The database agrees with the answers: no oversell, taken == confirmed, one row each."""
    conn = await asyncpg.connect(database_url)
    try:
        ids = [uuid.UUID(s) for s in session_ids]
        rows = await conn.fetch(
            "SELECT s.id, s.capacity, s.taken, "
            "coalesce(sum(g.party_size) FILTER (WHERE g.status = 'CONFIRMED'), 0) AS confirmed "
            "FROM activities.sessions s LEFT JOIN activities.signups g ON g.session_id = s.id "
            "WHERE s.id = ANY($1::uuid[]) GROUP BY s.id",
            ids,
        )
        check_seats(burst, attempts, rows, ids)
        signups = await conn.fetchval(
            "SELECT count(*) FROM activities.signups WHERE resident_id LIKE $1 || '-resident-%'", prefix
        )
        if signups != burst.residents:
            burst.violations.append(f"{signups} sign-up rows for {burst.residents} residents")
    finally:
        await conn.close()


async def wait_drained(database_url: str, settings: Settings, timeout_s: float = 120) -> float:
    """Wait until the outbox is relayed and the notify queue is empty, so the next burst does not
    pay for this one's notifications; returns how long it took."""
    assert settings.redis_url
    started = time.perf_counter()
    redis = await create_redis(settings.redis_url)
    conn = await asyncpg.connect(database_url)
    try:
        while time.perf_counter() - started < timeout_s:
            unsent = await conn.fetchval("SELECT count(*) FROM activities.outbox WHERE sent_at IS NULL")
            # and what notify put off in the burst (services/notify/deferral.py)
            unsent += await conn.fetchval("SELECT count(*) FROM notify.deferred_events")
            queued = 0
            for service in ("activities", "notify", "volunteers"):
                # events ride arq queues (sorted sets); commands may ride streams
                for key in (settings.queue(service), f"{settings.namespace}:commands:{service}"):
                    kind = await redis.type(key)
                    kind = kind.decode() if isinstance(kind, bytes) else kind
                    if kind == "zset":  # only jobs due now: reminders wait for their day
                        queued += await redis.zcount(key, "-inf", int(time.time() * 1000))
                    elif kind == "stream":
                        queued += await redis.xlen(key)
            if unsent == 0 and queued == 0:
                break
            await asyncio.sleep(0.25)
    finally:
        await conn.close()
        await redis.aclose()
    return round(time.perf_counter() - started, 2)


# ---------------------------------------------------------------------------------------------
# Profiling (optional): py-spy on the gateway, the activities and notify workers and this driver
# during a burst


PROFILED = ("gateway", "activities-worker", "notify-worker", "driver")


def start_profilers(pids: dict[str, int], directory: Path, rate: int) -> list[subprocess.Popen[bytes]]:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    directory.mkdir(parents=True, exist_ok=True)
    profilers = []
    for role in PROFILED:
        if role not in pids:
            continue
        profilers.append(
            subprocess.Popen(
                [py_spy, "record", "--pid", str(pids[role]), "--format", "raw", "--rate", str(rate),
                 "--nonblocking", "--output", str(directory / f"{role}.txt")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )  # fmt: skip
    time.sleep(1.0)  # let py-spy attach before the burst starts
    return profilers


def stop_profilers(profilers: list[subprocess.Popen[bytes]]) -> None:
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
    for profiler in profilers:
        try:
            profiler.wait(timeout=30)
        except subprocess.TimeoutExpired:
            profiler.kill()


# On a busy 2-core machine a process is often runnable but not running: just woken from epoll,
# or preempted inside send() by the peer it woke. py-spy counts those samples as active; they
# say "waiting for a CPU", not what the CPU is spent on, so they are reported apart.
_WAITING_LEAVES = (
    "EpollSelector.select (selectors.py",
    "_SelectorSocketTransport.write (asyncio/",
    "run (uvloop/",  # uvloop's own loop, in C: polling
)


def top_costs(raw_path: Path, limit: int = 25) -> dict[str, Any]:
    """Summarise py-spy's collapsed stacks: of the samples not waiting for a CPU, the share in
    each function with what it calls (inclusive, below the event loop) and on its own (self)."""
    total = waiting = 0
    inclusive: Counter[str] = Counter()
    self_: Counter[str] = Counter()
    for line in raw_path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]  # per function
        total += count
        if frames[-1].startswith(_WAITING_LEAVES):
            waiting += count
            continue
        for frame in set(frames):
            inclusive[frame] += count
        self_[frames[-1]] += count
    working = max(1, total - waiting)
    # skip the frames every sample shares (runpy, the event loop, the server's main)
    below_loop = Counter({f: n for f, n in inclusive.items() if n < 0.5 * working})

    def share(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(frame, round(100 * n / working, 1)) for frame, n in counter.most_common(limit)]

    return {
        "samples": total,
        "waiting_for_cpu_pct": round(100 * waiting / max(1, total), 1),
        "self_pct": share(self_),
        "inclusive_pct": share(below_loop),
    }


async def baseline_bursts(
    raw_url: str,
    options: argparse.Namespace,
    shapes: list[tuple[str, int]],
    pool_size: int,
    bursts: list[Burst],
) -> None:
    conn = await asyncpg.connect(raw_url)
    try:
        await conn.execute(BASELINE_SCHEMA)
    finally:
        await conn.close()
    c = options.concurrency
    await baseline_burst(raw_url, "warm-up", options.warmup, 1, options.warmup, c, pool_size)
    for name, sessions in shapes:
        print(f"raw SQL: {name} burst of {options.residents} ...", flush=True)
        bursts.append(
            await baseline_burst(raw_url, name, options.residents, sessions, options.seats, c, pool_size)
        )


async def linli_bursts(
    platform_: Platform,
    settings: Settings,
    options: argparse.Namespace,
    shapes: list[tuple[str, int]],
    report: dict[str, Any],
    bursts: list[Burst],
) -> None:
    """Organise the sessions, warm up, then run each burst through the public API."""
    assert settings.database_url
    await wait_ready(platform_)
    # One client (one keep-alive connection) per concurrent resident, like phones.
    profilers: list[subprocess.Popen[bytes]] = []
    async with contextlib.AsyncExitStack() as stack:
        admin = await stack.enter_async_context(httpx.AsyncClient(base_url=platform_.base_url, timeout=60))
        clients = resident_clients(stack, platform_.base_url, options.concurrency, 60)
        organiser = issue_token(
            Actor("bench-organiser", frozenset({ORGANISER}), frozenset({COMMUNITY})), settings.secret, 3600
        )
        per_session = options.seats // options.sessions
        capacities = [options.warmup, options.seats] + [per_session] * options.sessions
        all_sessions = await organise(admin, organiser, capacities)
        plan = {"warm-up": all_sessions[:1], shapes[0][0]: all_sessions[1:2], shapes[1][0]: all_sessions[2:]}
        warm, _ = await linli_burst(
            clients, settings, "warm-up", plan["warm-up"], options.warmup, options.warmup, options.poll_s, 120
        )
        report["warm_up"] = asdict(warm)
        report["drain_s"] = {"warm-up": await wait_drained(settings.database_url, settings)}
        xacts = await pg_xacts(settings.database_url, STATS_SETTLE_S)
        pids = platform_.pids()
        report["pids"] = pids
        for name, sessions in shapes:
            seats = per_session * sessions if sessions > 1 else options.seats
            print(f"Linli: {name} burst of {options.residents} ...", flush=True)
            if options.profile and name == shapes[0][0]:
                targets = {**pids, "driver": os.getpid()}
                profilers = start_profilers(targets, Path(options.profile), options.profile_rate)
            metrics = await gateway_metrics(admin)
            notify_at_start = process_cpu_s(pids.get(NOTIFY_ROLE))
            try:
                burst, attempts = await linli_burst(
                    clients, settings, name, plan[name], seats, options.residents, options.poll_s,
                    options.answer_timeout,
                )  # fmt: skip
            finally:
                stop_profilers(profilers)
                profilers = []
            ended_at, notify_at_end = last_answer_at(), process_cpu_s(pids.get(NOTIFY_ROLE))
            told = NotifyBound(burst.confirmed + burst.waitlisted)
            told.notify_cpu_in_burst_s = round(notify_at_end - notify_at_start, 2)
            told.told, told.bound_s, told.waited_s = await wait_notified(
                settings.database_url, name, told.expected, ended_at
            )
            told.notify_cpu_after_s = round(process_cpu_s(pids.get(NOTIFY_ROLE)) - notify_at_end, 2)
            report.setdefault("notify_bound", {})[name] = asdict(told)
            await check_platform_db(settings.database_url, burst, attempts, plan[name], name)
            burst.gateway_ms = server_side(metrics, await gateway_metrics(admin))
            bursts.append(burst)
            report["drain_s"][name] = await wait_drained(settings.database_url, settings)
            # the burst and the notifications it caused (plus ~3 idle relay polls a second)
            after = await pg_xacts(settings.database_url, STATS_SETTLE_S)
            burst.pg_xacts_per_signup = round((after - xacts) / options.residents, 2)
            xacts = after
        # Imported here: it builds on this module's pieces.
        from bench.more_bursts import check_in_burst, fan_out

        if options.volunteers:
            print(f"Linli: check-in burst of {options.volunteers} volunteers ...", flush=True)
            checked = await check_in_burst(clients, admin, settings, organiser, options.volunteers)
            report["check_in_burst"] = asdict(checked)
        if options.fan_out:
            print(f"Linli: fan-out of a session with {options.fan_out} sign-ups ...", flush=True)
            fanned = await fan_out(clients, admin, settings, organiser, options.fan_out, options.poll_s)
            report["fan_out"] = asdict(fanned)


# ---------------------------------------------------------------------------------------------
# The run


def machine() -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": os.cpu_count(), "cpu_model": model, "python": platform.python_version()}


def print_table(bursts: list[Burst], ratios: dict[str, dict[str, Any]]) -> None:
    header = (
        f"{'burst':<14}{'path':<9}{'att/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'confirmed':>11}{'waitlist':>10}{'pending':>9}{'unanswered':>12}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for b in bursts:
        print(
            f"{b.name:<14}{b.path:<9}{b.throughput:>8.0f}{b.p50_ms:>9.1f}{b.p95_ms:>9.1f}{b.p99_ms:>9.1f}"
            f"{b.confirmed:>11}{b.waitlisted:>10}{b.pending_resolved:>9}{b.unanswered:>12}"
        )
    print()
    for name, r in ratios.items():
        verdict = "MET" if r["targets_met"] else "NOT MET"
        print(
            f"{name}: Linli throughput = {100 * r['throughput_ratio']:.0f}% of raw SQL (target >= "
            f"{100 * TARGET_THROUGHPUT:.0f}%), p99 = {r['p99_ratio']:.1f}x raw SQL (target <= "
            f"{TARGET_P99:.0f}x) -> targets {verdict}"
        )
    for name, r in ratios.items():
        if "fair_ratio" in r:
            verdict = "MET" if r["fair_ratio"] >= TARGET_FAIR else "NOT MET"
            print(
                f"{name}: Linli throughput = {100 * r['fair_ratio']:.0f}% of the fair baseline (the same "
                f"work per sign-up over HTTP; target >= {100 * TARGET_FAIR:.0f}%) -> {verdict}"
            )
    print("\nInside the gateway per GraphQL request (its /metrics; the rest is HTTP and the client):")
    for b in bursts:
        if b.gateway_ms:
            g = b.gateway_ms
            print(
                f"  {b.name:<12} mean {g['mean_ms']:.1f} ms; p50 <= {g['p50_at_most_ms']:.0f}, "
                f"p95 <= {g['p95_at_most_ms']:.0f}, p99 <= {g['p99_at_most_ms']:.0f} ms"
            )
    print("\nPostgreSQL transactions per sign-up: " + ", ".join(
        f"{b.name} {b.path} {b.pg_xacts_per_signup}" for b in bursts if b.path != "fair"))  # fmt: skip
    print("\nCPU seconds per process during each burst:")
    for b in bursts:
        print(f"  {b.name} {b.path}: " + ", ".join(f"{k} {v:.1f}" for k, v in b.cpu_s.items()))
    print("\nCPU ms per sign-up per process (the whole path; the driver apart):")
    for b in bursts:
        print(
            f"  {b.name} {b.path}: "
            + ", ".join(f"{k} {1000 * v / b.residents:.2f}" for k, v in b.cpu_s.items() if k in SERVER_ROLES)
            + f" | driver {1000 * b.cpu_s.get('driver (this process)', 0.0) / b.residents:.2f}"
            + f" | load average {'/'.join(f'{x:.1f}' for x in b.load_avg)} on {os.cpu_count()} cores"
        )
    print("\nServer-side CPU per sign-up (all but the driver), and the rate it allows on all cores:")
    for b in bursts:
        print(
            f"  {b.name:<12} {b.path:<8} {b.server_cpu_ms_per_signup:.2f} ms -> at most "
            f"~{b.server_cpu_ceiling_per_s:.0f}/s"
        )


async def delete_redis_keys(redis_url: str, namespace: str) -> int:
    redis = await create_redis(redis_url)
    deleted = 0
    try:
        for pattern in (f"{namespace}*", f"{{{namespace}*", f"arq:*{namespace}*"):
            async for key in redis.scan_iter(match=pattern, count=1000):
                deleted += await redis.delete(key)
    finally:
        await redis.aclose()
    return deleted


def run(options: argparse.Namespace) -> int:
    run_id = uuid.uuid4().hex[:8]
    base = Settings()  # DATABASE_URL / REDIS_URL / LINLI_SECRET from the environment, if set
    data_dir = ROOT / ".linli" / "bench"
    valkey_dir = data_dir / f"run-{run_id}"
    postgres = "configured" if base.database_url else "embedded"
    redis = "configured" if base.redis_url else "embedded"
    print(f"bench {run_id}: starting servers ({postgres} PostgreSQL, {redis} Redis)", flush=True)
    servers: Servers = ensure_servers(base, data_dir=data_dir, valkey_dir=valkey_dir)
    namespace = f"linli-bench-{run_id}"
    platform_db, raw_db = f"linli_bench_{run_id}", f"linli_bench_{run_id}_raw"
    platform_: Platform | None = None
    report: dict[str, Any] = {
        "run_id": run_id,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "options": vars(options),
    }
    bursts: list[Burst] = []
    try:
        platform_url = asyncio.run(ensure_database(servers.database_url, platform_db))
        raw_url = asyncio.run(ensure_database(servers.database_url, raw_db))
        settings = base.model_copy(
            update={
                "database_url": platform_url,
                "redis_url": servers.redis_url,
                "namespace": namespace,
                "port": free_port(),
                "host": "127.0.0.1",
            }
        )
        pool_size = settings.db_pool_max
        report["settings"] = {
            "reply_timeout_s": settings.reply_timeout_s,
            "db_pool_max": pool_size,
            "worker_max_jobs": settings.worker_max_jobs,
            "postgres": postgres,
            "redis": redis,
        }
        shapes = [("1-session", 1), (f"{options.sessions}-sessions", options.sessions)]

        # 1. The baseline first, on a quiet machine: the platform is not started yet.
        # Both drivers on uvloop, as the services run: the driver's own loop shares the cores.
        uvloop.run(baseline_bursts(raw_url, options, shapes, pool_size, bursts))
        if options.fair:
            # The same work per sign-up as Linli over HTTP, and nothing else (bench/fair_baseline.py).
            from bench.fair_baseline import fair_bursts

            uvloop.run(
                fair_bursts(raw_url, settings.secret, free_port(1), options, shapes, pool_size, bursts)
            )

        # 2. The platform as `linli up` runs it: gateway + 3 workers as separate processes.
        env = {
            **os.environ,
            "DATABASE_URL": platform_url,
            "REDIS_URL": servers.redis_url,
            "LINLI_NAMESPACE": namespace,
            "LINLI_PORT": str(settings.port),
            "LINLI_HOST": "127.0.0.1",
            "LINLI_SECRET": settings.secret,
        }
        if options.no_defer:  # notify as before issue 17: every event handled in the burst
            env["LINLI_NOTIFY_DEFER_BUSY_BACKLOG"] = env["LINLI_NOTIFY_DEFER_BUSY_RATE_PER_S"] = "0"
        log_path = valkey_dir.parent / f"linli-up-{run_id}.log"
        print(f"linli up on port {settings.port} (log: {log_path}) ...", flush=True)
        platform_ = start_platform(env, settings.port, log_path)

        uvloop.run(linli_bursts(platform_, settings, options, shapes, report, bursts))
    finally:
        if platform_ is not None:
            platform_.stop()
            report["platform_exit_code"] = platform_.process.returncode
        with contextlib.suppress(Exception):
            report["redis_keys_deleted"] = asyncio.run(delete_redis_keys(servers.redis_url, namespace))
        for database in (platform_db, raw_db):
            with contextlib.suppress(Exception):
                asyncio.run(drop_database(servers.database_url, database))
        servers.stop()
        shutil.rmtree(valkey_dir, ignore_errors=True)

    raw = {b.name: b for b in bursts if b.path == "raw-sql"}
    fair = {b.name: b for b in bursts if b.path == "fair"}
    ratios: dict[str, dict[str, Any]] = {}
    for b in bursts:
        if b.path != "linli" or b.name not in raw:
            continue
        base_burst = raw[b.name]
        throughput_ratio = b.throughput / base_burst.throughput if base_burst.throughput else 0.0
        p99_ratio = b.p99_ms / base_burst.p99_ms if base_burst.p99_ms else float("inf")
        ratios[b.name] = {
            "throughput_ratio": round(throughput_ratio, 3),
            "p99_ratio": round(p99_ratio, 2),
            "targets_met": throughput_ratio >= TARGET_THROUGHPUT and p99_ratio <= TARGET_P99,
        }
        if b.name in fair and fair[b.name].throughput:
            ratios[b.name]["fair_ratio"] = round(b.throughput / fair[b.name].throughput, 3)
    print_table(bursts, ratios)
    print_bounds({name: NotifyBound(**found) for name, found in report.get("notify_bound", {}).items()})
    from bench.more_bursts import print_more  # builds on this module

    more = {name: report[name] for name in ("check_in_burst", "fan_out") if name in report}
    print_more(more.get("check_in_burst"), more.get("fan_out"))
    violations = [f"{b.name} {b.path}: {v}" for b in bursts for v in b.violations]
    violations += [f"{name}: {v}" for name, found in more.items() for v in found["violations"]]
    report.update(
        {
            "bursts": [asdict(b) for b in bursts],
            "ratios": ratios,
            "targets": {
                "throughput_ratio_min": TARGET_THROUGHPUT,
                "p99_ratio_max": TARGET_P99,
                "fair_ratio_min": TARGET_FAIR,
                "notify_bound_s_max": TARGET_NOTIFY_BOUND_S,
            },
            "violations": violations,
        }
    )
    if options.profile:
        report["profile"] = {
            role: top_costs(path)
            for role in PROFILED
            if (path := Path(options.profile) / f"{role}.txt").exists()
        }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"signup-burst-{stamp}-n{options.residents}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"\nresults: {out.relative_to(ROOT)}")
    if violations:
        print("\nINVARIANTS BROKEN:\n  " + "\n  ".join(violations))
        return 1
    expected = (3 if options.fair else 2) * len(raw)
    if len(bursts) != expected:
        print(f"\nonly {len(bursts)} of {expected} bursts ran")
        return 1
    print("invariants held: no oversell, every resident answered, taken == confirmed seats")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.signup_burst", description=__doc__)
    parser.add_argument("--residents", "-n", type=int, default=5000, help="residents per burst (5000)")
    parser.add_argument("--seats", type=int, default=1000, help="seats in all (1000)")
    parser.add_argument("--sessions", type=int, default=20, help="sessions of the spread burst (20)")
    parser.add_argument("--concurrency", "-c", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument("--warmup", type=int, default=200, help="sign-ups before measuring (200)")
    parser.add_argument(
        "--volunteers", type=int, default=500, help="volunteers of the check-in burst (500; 0: skip it)"
    )
    parser.add_argument(
        "--fan-out", type=int, default=500, help="sign-ups of the session called off (500; 0: skip it)"
    )
    parser.add_argument(
        "--no-fair", dest="fair", action="store_false", help="skip the fair baseline (bench/fair_baseline.py)"
    )
    parser.add_argument(
        "--no-defer", action="store_true", help="notify handles every event in the burst (for comparison)"
    )
    parser.add_argument("--poll-s", type=float, default=0.1, help="PENDING poll interval (0.1)")
    parser.add_argument("--answer-timeout", type=float, default=120, help="max wait for a final answer")
    parser.add_argument(
        "--profile", metavar="DIR", help="py-spy the gateway, the activities and notify workers"
    )
    parser.add_argument("--profile-rate", type=int, default=100, help="py-spy samples per second")
    options = parser.parse_args(argv)
    if options.residents < 1 or options.sessions < 1 or options.seats < options.sessions:
        parser.error("need residents >= 1 and seats >= sessions >= 1")
    return run(options)


if __name__ == "__main__":
    sys.exit(main())
