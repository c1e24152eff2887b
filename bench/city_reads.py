"""The main reads and a sign-up on a city's worth of data (``bench.city_data``) against the same
on an empty database, through the real gateway over HTTP, with the machine's load beside them.

Run it with ``make bench-data`` (or ``python -m bench.city_reads --help``); bench/README.md,
"City-sized data", says what is measured. Missing a target is reported, not failed; a read
that errs fails the run.
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
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from datetime import time as clock_time
from typing import Any

import uvloop

from bench.city_data import Counts, Probe, database_name, seed, seeded
from bench.http_client import GraphQLConnection
from bench.signup_burst import (
    RESULTS,
    ROOT,
    SERVER_ROLES,
    SIGN_UP,
    SIGNUP,
    cpu_ticks,
    cpu_used,
    delete_redis_keys,
    free_port,
    machine,
    percentile,
    start_platform,
    wait_ready,
)
from services.common.actor import COMMUNITY_ADMIN, ORGANISER, RESIDENT, Actor
from services.common.clock import LOCAL_TZ
from services.common.db import drop_database, ensure_database
from services.common.embedded import ensure_servers
from services.common.settings import Settings
from services.common.tokens import issue_token

TARGET_MULTIPLE = 2.0  # a read's p99 on the city at most this multiple of the empty one's
TARGET_P99_MS = 100.0  # and never above this
RESEED_AFTER_DAYS = 5  # the probe's festival is a week ahead of its seed day: seed again before

# What the pages send (services/gateway/static/resident.js, console.js, wishes.js), trimmed to
# the fields that cost a query: each list's first page (README.md, "Pages of a list").
SESSION_FIELDS = """id activityId venue startsAt endsAt capacity seatsLeft waitlistLength status cancelReason
  registrationOpensAt registrationClosesAt maxPartySize"""
READS: dict[str, tuple[str, str]] = {
    # name: (who asks, document)
    "festivals": (
        "resident",
        "{ festivals(limit: 200) { id name startsOn endsOn activities(limit: 200) { id title } } }",
    ),
    "festival": (
        "resident",
        "query($festival: ID!) { festival(id: $festival) { id name activities(limit: 200) { id title "
        f"category description sessions(limit: 200) {{ {SESSION_FIELDS} }} }} }} }}",
    ),
    "mySignups": (
        "resident",
        "{ mySignups { id sessionId status partySize waitlistPosition attendees { id name } "
        f"session {{ {SESSION_FIELDS} }} }} }}",
    ),
    "myInbox": ("resident", "{ myInbox(limit: 50) { id kind title body titleEn bodyEn createdAt read } }"),
    "sessionRoster": (
        "organiser",
        "query($session: ID!) { sessionRoster(sessionId: $session) { signupId resident phone status "
        "partySize checkedIn checkedInAt partyNames admitted } }",
    ),
    "partyMemberReport": (
        "organiser",
        "query($community: String!, $unit: String!, $from: Date!, $to: Date!) { partyMemberReport("
        "communityId: $community, workUnit: $unit, startsOn: $from, endsOn: $to) { communityName workUnit "
        "totalMinutes hours members { volunteerId name partyBranch totalMinutes activities wishesMet "
        "shifts { shiftId role venue startsAt endsAt attended minutes communityName } } } }",
    ),
    "wishWall": (
        "resident",
        "query($community: String!) { wishWall(communityId: $community) { id category description "
        "building status metAt communityName } }",
    ),
    "auditLog": (
        "organiser",
        "query($community: String!) { auditLog(communityId: $community, limit: 100) { at action actorId "
        "subject details } }",
    ),
}


@dataclass
class Timing:
    read: str
    samples: int
    rows: int  # items in the answer's first list (the same on both databases, or a bug)
    p50_ms: float
    p99_ms: float
    max_ms: float


@dataclass
class Run:
    database: str  # "empty" or "city"
    timings: list[Timing] = field(default_factory=list)
    wall_s: float = 0.0
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    cpu_s: dict[str, float] = field(default_factory=dict)  # per process role, during the reads
    others_cores: float = 0.0  # CPU of processes that are neither Linli, its servers nor the driver


def _rows(answer: Any) -> int:
    """The length of the first list in an answer (depth first), or 1 for a lone object."""
    if isinstance(answer, list):
        return len(answer)
    if isinstance(answer, dict):
        for value in answer.values():
            if isinstance(value, list):
                return len(value)
        for value in answer.values():
            if isinstance(value, dict):
                return _rows(value)
    return 1


def variables_of(probe: Probe) -> dict[str, Any]:
    return {
        "festival": probe.festival_id,
        "session": probe.roster_session_id,
        "community": probe.community_id,
        "unit": probe.work_unit,
        "from": probe.report_starts_on,
        "to": probe.report_ends_on,
    }


def _used(document: str, variables: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in variables.items() if f"${name}" in document}


async def time_reads(base_url: str, secret: str, probe: Probe, samples: int, warmup: int) -> list[Timing]:
    resident = issue_token(
        Actor(probe.resident_id, frozenset({RESIDENT}), frozenset({probe.community_id})), secret, 3600
    )
    organiser = issue_token(
        Actor("city-organiser", frozenset({ORGANISER, COMMUNITY_ADMIN}), frozenset({probe.community_id})),
        secret,
        3600,
    )
    tokens = {"resident": resident, "organiser": organiser}
    variables = variables_of(probe)
    client = GraphQLConnection(base_url, 30)
    timings = []
    try:
        for name, (who, document) in READS.items():
            used = _used(document, variables)
            latencies = []
            rows = 0
            for i in range(warmup + samples):
                started = time.perf_counter()
                body = await client.execute(document, used, tokens[who])
                elapsed = time.perf_counter() - started
                if body.get("errors"):
                    raise RuntimeError(f"{name}: {body['errors'][0]}")
                if i >= warmup:
                    latencies.append(1000 * elapsed)
                rows = _rows(body["data"])
            timings.append(_timing(name, latencies, rows))
        timings.append(await time_sign_ups(client, secret, probe, samples, warmup))
    finally:
        client.close()
    return timings


async def time_sign_ups(
    client: GraphQLConnection, secret: str, probe: Probe, samples: int, warmup: int
) -> Timing:
    """One resident after another signs up for the probe's open session, each with a token of
    their own minted before the clock starts; a PENDING answer is polled to the end."""
    run = uuid.uuid4().hex[:8]
    people = [
        (str(uuid.uuid4()), f"city-{run}-{i}") for i in range(warmup + samples)
    ]  # ids and idempotency keys
    tokens = [
        issue_token(Actor(person, frozenset({RESIDENT}), frozenset({probe.community_id})), secret, 3600)
        for person, _ in people
    ]
    latencies = []
    for i, ((_, key), token) in enumerate(zip(people, tokens, strict=True)):
        variables = {"input": {"sessionId": probe.open_session_id, "idempotencyKey": key}}
        started = time.perf_counter()
        body = await client.execute(SIGN_UP, variables, token)
        if body.get("errors"):
            raise RuntimeError(f"signUp: {body['errors'][0]}")
        answer = body["data"]["signUp"]
        while answer["status"] == "PENDING":
            await asyncio.sleep(0.02)
            polled = await client.execute(SIGNUP, {"id": answer["id"]}, token)
            answer = (polled.get("data") or {}).get("signup") or answer
        if answer["status"] != "CONFIRMED":
            raise RuntimeError(f"signUp answered {answer['status']}")
        if i >= warmup:
            latencies.append(1000 * (time.perf_counter() - started))
    return _timing("signUp", latencies, 1)


def _timing(name: str, latencies: list[float], rows: int) -> Timing:
    ordered = sorted(latencies)
    return Timing(
        name,
        len(ordered),
        rows,
        round(percentile(ordered, 50), 1),
        round(percentile(ordered, 99), 1),
        round(ordered[-1], 1),
    )


def measure(label: str, database_url: str, redis_url: str, probe: Probe, options: argparse.Namespace) -> Run:
    """Start the platform on ``database_url`` as `linli up` runs it, time the reads, stop it."""
    run_id = uuid.uuid4().hex[:8]
    namespace = f"linli-city-{run_id}"
    port = free_port()
    secret = Settings().secret
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LINLI_NAMESPACE": namespace,
        "LINLI_PORT": str(port),
        "LINLI_HOST": "127.0.0.1",
        "LINLI_SECRET": secret,
    }
    log_path = ROOT / ".linli" / "bench" / f"city-{label}-{run_id}.log"
    print(f"{label}: linli up on port {port} (log: {log_path.relative_to(ROOT)}) ...", flush=True)
    platform_ = start_platform(env, port, log_path)
    result = Run(label)
    try:
        uvloop.run(wait_ready(platform_, timeout_s=300))
        time.sleep(options.settle)  # the workers' start-up sweeps are over
        result.load_before = os.getloadavg()
        before = cpu_ticks()
        started = time.perf_counter()
        result.timings = uvloop.run(
            time_reads(platform_.base_url, secret, probe, options.samples, options.warmup)
        )
        result.wall_s = round(time.perf_counter() - started, 1)
        result.cpu_s = cpu_used(before, cpu_ticks())
        result.load_after = os.getloadavg()
        others = sum(
            s
            for role, s in result.cpu_s.items()
            if role not in SERVER_ROLES and not role.startswith("driver")
        )
        result.others_cores = round(others / result.wall_s, 2) if result.wall_s else 0.0
    finally:
        platform_.stop()
        with contextlib.suppress(Exception):
            asyncio.run(delete_redis_keys(redis_url, namespace))
    return result


def ensure_city(server_url: str, scale: float, reseed: bool) -> tuple[str, dict[str, Any]]:
    """The city's database at ``scale``, seeded now unless a finished seed of it is recent."""
    name = database_name(scale)
    url = asyncio.run(ensure_database(server_url, name))
    marker = asyncio.run(seeded(url))
    if marker is not None and not reseed:
        age = (date.today() - date.fromisoformat(marker["probe"]["seed_day"])).days
        if age <= RESEED_AFTER_DAYS:
            took = marker["seconds"]
            print(f"city: reusing {name}, seeded {marker['seeded_at']:%Y-%m-%d %H:%M} in {took:.0f} s")
            return url, marker
        print(f"city: {name} was seeded {age} days ago; its festival is past: seeding again")
    elif marker is None:
        print(f"city: {name} holds no finished seed", end="; ")
    asyncio.run(drop_database(server_url, name))
    url = asyncio.run(ensure_database(server_url, name))
    counts = Counts.at(scale)
    print(f"seeding {name} at scale {scale:g}: " + ", ".join(f"{k} {v:,}" for k, v in asdict(counts).items()))
    marker = asyncio.run(seed(url, today(), counts, scale, log=lambda line: print(line, flush=True)))
    print(f"city: seeded in {marker['seconds']:.0f} s (+ VACUUM ANALYZE)")
    return url, marker


def today() -> datetime:
    return datetime.combine(datetime.now(UTC).astimezone(LOCAL_TZ).date(), clock_time(), LOCAL_TZ)


def print_report(empty: Run, city: Run, scale: float) -> list[str]:
    """The table; returns the reads that miss a target."""
    header = (
        f"{'read':<20}{'rows':>6}{'empty p50':>11}{'p99 ms':>8}{'city p50':>10}{'p99 ms':>8}"
        f"{'city/empty':>12}  verdict"
    )
    print(f"\nCity (scale {scale:g}) against an empty database, {empty.timings[0].samples} samples each:")
    print(header + "\n" + "-" * len(header))
    missed = []
    for e, c in zip(empty.timings, city.timings, strict=True):
        multiple = c.p99_ms / e.p99_ms if e.p99_ms else float("inf")
        ok = multiple <= TARGET_MULTIPLE and c.p99_ms <= TARGET_P99_MS
        rows = str(c.rows) if c.rows == e.rows else f"{e.rows}/{c.rows}"
        print(
            f"{c.read:<20}{rows:>6}{e.p50_ms:>11.1f}{e.p99_ms:>8.1f}{c.p50_ms:>10.1f}{c.p99_ms:>8.1f}"
            f"{multiple:>11.1f}x  {'ok' if ok else 'MISSED'}"
        )
        if not ok:
            missed.append(c.read)
    print(
        f"\ntargets: city p99 within {TARGET_MULTIPLE:g}x the empty one's and at most {TARGET_P99_MS:.0f} ms"
        f" -> {'met' if not missed else 'missed by ' + ', '.join(missed)}"
    )
    for run in (empty, city):
        top = ", ".join(f"{role} {s:.1f}" for role, s in list(run.cpu_s.items())[:8])
        print(
            f"load during {run.database:<5}: loadavg {'/'.join(f'{x:.2f}' for x in run.load_before)} before, "
            f"{'/'.join(f'{x:.2f}' for x in run.load_after)} after ({os.cpu_count()} cores); other processes "
            f"{run.others_cores:.2f} cores over {run.wall_s:.0f} s; CPU s: {top}"
        )
    return missed


def run(options: argparse.Namespace) -> int:
    base = Settings()
    data_dir = ROOT / ".linli" / "bench"
    valkey_dir = data_dir / f"city-{uuid.uuid4().hex[:8]}"
    servers = ensure_servers(base, data_dir=data_dir, valkey_dir=valkey_dir)
    empty_name = f"linli_city_empty_{uuid.uuid4().hex[:8]}"
    try:
        city_url, marker = ensure_city(servers.database_url, options.scale, options.reseed)
        probe = Probe(**marker["probe"])
        empty_url = asyncio.run(ensure_database(servers.database_url, empty_name))
        seed_day = datetime.combine(date.fromisoformat(probe.seed_day), clock_time(), LOCAL_TZ)
        asyncio.run(seed(empty_url, seed_day))
        empty = measure("empty", empty_url, servers.redis_url, probe, options)
        city = measure("city", city_url, servers.redis_url, probe, options)
    finally:
        with contextlib.suppress(Exception):
            asyncio.run(drop_database(servers.database_url, empty_name))
        servers.stop()
        shutil.rmtree(valkey_dir, ignore_errors=True)
    missed = print_report(empty, city, options.scale)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"city-reads-{stamp}-s{options.scale:g}.json"
    report = {
        "machine": machine(),
        "options": vars(options),
        "seed": {k: (str(v) if k == "seeded_at" else v) for k, v in marker.items()},
        "runs": [asdict(empty), asdict(city)],
        "missed": missed,
    }
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"results: {out.relative_to(ROOT)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.city_reads", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="share of the city to seed (1.0; e.g. 0.01)")
    parser.add_argument("--samples", type=int, default=200, help="timed requests per read (200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests before them (20)")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds between ready and timing (5)")
    parser.add_argument("--reseed", action="store_true", help="seed again even if a seed is there")
    options = parser.parse_args(argv)
    if not 0 < options.scale <= 1 or options.samples < 1:
        parser.error("need 0 < scale <= 1 and samples >= 1")
    return run(options)


if __name__ == "__main__":
    sys.exit(main())
