"""The check-in burst of ``bench.more_bursts`` on its own: ``linli up`` on the configured (or
embedded) servers, a small warm-up crowd, then ``--rounds`` crowds of ``--volunteers`` scanning
their shift's station code ``--concurrency`` at a time. Prints throughput, latency and the CPU
milliseconds per check-in of each process (bench/README.md, "Check-in burst").

PostgreSQL's CPU counts only the backends of this run's database, so other work on a shared
server does not show as ours; Redis is one process for everyone, so its figure is only
ours on a server nobody else uses.

    .venv/bin/python -m bench.check_in_burst --volunteers 500 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sys
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvloop

from bench.more_bursts import CheckInBurst, check_in_burst
from bench.signup_burst import (
    COMMUNITY,
    RESULTS,
    ROOT,
    SERVER_ROLES,
    Platform,
    cpu_ticks,
    delete_redis_keys,
    free_port,
    machine,
    resident_clients,
    start_platform,
    wait_ready,
)
from services.common.actor import ORGANISER, Actor
from services.common.db import drop_database, ensure_database
from services.common.embedded import ensure_servers
from services.common.queue import create_redis
from services.common.settings import Settings
from services.common.tokens import issue_token


def ticks_of(database: str) -> Any:
    """``cpu_ticks`` with PostgreSQL backends of other databases set apart."""

    def ticks() -> dict[int, tuple[str, int]]:
        found = cpu_ticks()
        for pid, (role, used) in found.items():
            if role == "postgresql":
                with contextlib.suppress(OSError):
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
                    if database not in cmdline:
                        found[pid] = ("postgresql (other databases)", used)
        return found

    return ticks


async def wait_settled(database_url: str, settings: Settings, timeout_s: float = 60) -> float:
    """Until the volunteers' outbox is relayed and notify's queue holds nothing due."""
    assert settings.redis_url
    started = time.perf_counter()
    redis = await create_redis(settings.redis_url)
    conn = await asyncpg.connect(database_url)
    try:
        while time.perf_counter() - started < timeout_s:
            unsent = await conn.fetchval("SELECT count(*) FROM volunteers.outbox WHERE sent_at IS NULL")
            due = await redis.zcount(settings.queue("notify"), "-inf", int(time.time() * 1000))
            if unsent == 0 and due == 0:
                break
            await asyncio.sleep(0.25)
    finally:
        await conn.close()
        await redis.aclose()
    return round(time.perf_counter() - started, 2)


def per_check_in(burst: CheckInBurst) -> dict[str, float]:
    """CPU ms per check-in of each server process, and their sum."""
    ms = {
        role: round(1000 * s / burst.volunteers, 3) for role, s in burst.cpu_s.items() if role in SERVER_ROLES
    }
    ms["server (sum)"] = round(sum(ms.values()), 3)
    return ms


async def bursts(
    platform_: Platform, settings: Settings, options: argparse.Namespace, database: str
) -> list[CheckInBurst]:
    assert settings.database_url
    await wait_ready(platform_)
    organiser = issue_token(
        Actor("bench-organiser", frozenset({ORGANISER}), frozenset({COMMUNITY})), settings.secret, 3600
    )
    ticks = ticks_of(database)
    done: list[CheckInBurst] = []
    async with contextlib.AsyncExitStack() as stack:
        admin = await stack.enter_async_context(httpx.AsyncClient(base_url=platform_.base_url, timeout=60))
        clients = resident_clients(stack, platform_.base_url, options.concurrency, 60)
        print(f"warm-up: {options.warmup} volunteers ...", flush=True)
        await check_in_burst(clients, admin, settings, organiser, options.warmup, "warm-up", ticks)
        await wait_settled(settings.database_url, settings)
        for round_ in range(options.rounds):
            print(f"round {round_ + 1}: {options.volunteers} volunteers ...", flush=True)
            burst = await check_in_burst(
                clients, admin, settings, organiser, options.volunteers, f"round-{round_ + 1}", ticks
            )
            done.append(burst)
            await wait_settled(settings.database_url, settings)
    return done


def report(done: list[CheckInBurst]) -> None:
    for i, b in enumerate(done, 1):
        ms = per_check_in(b)
        load = "/".join(f"{x:.1f}" for x in b.load_avg)
        print(
            f"\nround {i}: {b.volunteers} volunteers, {b.concurrency} at a time: "
            f"{b.throughput:.0f} check-ins/s, "
            f"p50 {b.p50_ms:.1f} / p95 {b.p95_ms:.1f} / p99 {b.p99_ms:.1f} ms, all in {b.wall_s:.1f} s; "
            f"first scans {b.first_scans}, recorded {b.recorded} in {b.transactions} transactions, "
            f"events {b.events}; "
            f"load average {load} on {os.cpu_count()} cores"
        )
        print("  CPU ms per check-in: " + ", ".join(f"{role} {v:.2f}" for role, v in ms.items()))
        others = {role: s for role, s in b.cpu_s.items() if role not in SERVER_ROLES}
        if others:
            print("  (not ours, CPU s: " + ", ".join(f"{role} {s:.1f}" for role, s in others.items()) + ")")


def run(options: argparse.Namespace) -> int:
    run_id = uuid.uuid4().hex[:8]
    base = Settings()
    data_dir = ROOT / ".linli" / "bench"
    valkey_dir = data_dir / f"run-{run_id}"
    servers = ensure_servers(base, data_dir=data_dir, valkey_dir=valkey_dir)
    namespace = f"linli-bench-{run_id}"
    database = f"linli_bench_{run_id}"
    platform_: Platform | None = None
    done: list[CheckInBurst] = []
    try:
        url = asyncio.run(ensure_database(servers.database_url, database))
        settings = base.model_copy(
            update={
                "database_url": url,
                "redis_url": servers.redis_url,
                "namespace": namespace,
                "port": free_port(),
                "host": "127.0.0.1",
            }
        )
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "REDIS_URL": servers.redis_url,
            "LINLI_NAMESPACE": namespace,
            "LINLI_PORT": str(settings.port),
            "LINLI_HOST": "127.0.0.1",
            "LINLI_SECRET": settings.secret,
        }
        log_path = valkey_dir.parent / f"linli-up-{run_id}.log"
        print(f"check-in bench {run_id}: linli up on port {settings.port} (log: {log_path}) ...", flush=True)
        platform_ = start_platform(env, settings.port, log_path)
        done = uvloop.run(bursts(platform_, settings, options, database))
    finally:
        if platform_ is not None:
            platform_.stop()
        with contextlib.suppress(Exception):
            asyncio.run(delete_redis_keys(servers.redis_url, namespace))
        with contextlib.suppress(Exception):
            asyncio.run(drop_database(servers.database_url, database))
        servers.stop()
        shutil.rmtree(valkey_dir, ignore_errors=True)
    report(done)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"check-in-burst-{stamp}-n{options.volunteers}.json"
    results = {
        "run_id": run_id,
        "machine": machine(),
        "options": vars(options),
        "bursts": [{**asdict(b), "cpu_ms_per_check_in": per_check_in(b)} for b in done],
    }
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"\nresults: {out.relative_to(ROOT)}")
    violations = [v for b in done for v in b.violations]
    if violations:
        print("\nINVARIANTS BROKEN:\n  " + "\n  ".join(violations))
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.check_in_burst", description=__doc__)
    parser.add_argument("--volunteers", "-n", type=int, default=500, help="volunteers per crowd (500)")
    parser.add_argument("--concurrency", "-c", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument("--rounds", type=int, default=3, help="crowds measured, each its own shift (3)")
    parser.add_argument("--warmup", type=int, default=100, help="volunteers of the warm-up crowd (100)")
    options = parser.parse_args(argv)
    if options.volunteers < 1 or options.rounds < 1 or options.warmup < 1:
        parser.error("need volunteers, rounds and warmup >= 1")
    return run(options)


if __name__ == "__main__":
    sys.exit(main())
