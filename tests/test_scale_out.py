"""Scale-out: two gateways and two activities workers, separate OS processes on one PostgreSQL
and one Redis, take a sign-up burst; the invariants hold exactly as with one of each."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.common.settings import Settings
from tests.conftest import (
    COMMUNITY,
    CREATE_ACTIVITY,
    CREATE_FESTIVAL,
    SCHEDULE_SESSION,
    SIGN_UP,
    token_for,
)
from tests.dates import FESTIVAL_DAY, at_iso, day_iso
from tests.test_launcher import free_port

ROOT = Path(__file__).resolve().parent.parent
SEATS = 40
RESIDENTS = 240
FINAL = {"CONFIRMED", "WAITLISTED"}


@pytest.fixture
def cluster(settings: Settings) -> Iterator[list[str]]:
    """gateway ×2, activities worker ×2, notify worker ×1, each its own process."""
    assert settings.database_url and settings.redis_url
    mine = settings.model_copy(update={"namespace": f"{settings.namespace}-scale"})
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "LINLI_SECRET": settings.secret,
        "LINLI_NAMESPACE": mine.namespace,
        "LINLI_DB_POOL_MAX": "4",
        "LINLI_OUTBOX_POLL_S": "0.2",
    }
    ports = [free_port(), free_port()]
    argvs: list[tuple[list[str], dict[str, str]]] = [
        (["gateway"], {"LINLI_PORT": str(port)}) for port in ports
    ]
    argvs += [(["worker", "activities"], {}), (["worker", "activities"], {}), (["worker", "notify"], {})]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "services.cli", *argv],
            cwd=ROOT,
            env={**env, **extra},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for argv, extra in argvs
    ]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 60
        for base in bases:
            while True:
                assert all(p.poll() is None for p in processes), "a process died during start-up"
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "the gateways never became ready"
                time.sleep(0.2)
        yield bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


async def post(http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str) -> Any:
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


async def test_two_gateways_and_two_workers_never_oversell_or_double(
    cluster: list[str], settings: Settings, pool: Any
) -> None:
    bases = cluster
    organiser = token_for(settings, "organiser-scale", {"organiser"}, {COMMUNITY})
    async with httpx.AsyncClient(base_url=bases[0], timeout=30) as first:
        festival = await post(
            first,
            CREATE_FESTIVAL,
            {
                "input": {
                    "name": "扩容演练",
                    "communityIds": [COMMUNITY],
                    "startsOn": day_iso(FESTIVAL_DAY),
                    "endsOn": day_iso(FESTIVAL_DAY),
                }
            },
            organiser,
        )
        activity = await post(
            first,
            CREATE_ACTIVITY,
            {
                "input": {
                    "festivalId": festival["createFestival"]["id"],
                    "communityId": COMMUNITY,
                    "title": "义剪",
                }
            },
            organiser,
        )
        session = await post(
            first,
            SCHEDULE_SESSION,
            {
                "input": {
                    "activityId": activity["createActivity"]["id"],
                    "venue": "西苑社区邻里驿家",
                    "startsAt": at_iso(FESTIVAL_DAY, "09:00"),
                    "endsAt": at_iso(FESTIVAL_DAY, "11:00"),
                    "capacity": SEATS,
                }
            },
            organiser,
        )
    session_id = session["scheduleSession"]["id"]

    residents = [f"resident-scale-{i}-{uuid.uuid4().hex[:4]}" for i in range(RESIDENTS)]
    clients = [httpx.AsyncClient(base_url=base, timeout=60) for base in bases]
    try:

        async def sign_up(i: int) -> tuple[str, str]:
            token = token_for(settings, residents[i], {"resident"}, {COMMUNITY})
            http = clients[i % 2]  # half the residents reach each gateway
            variables = {"input": {"sessionId": session_id, "idempotencyKey": f"scale-{i:05d}"}}
            answer = (await post(http, SIGN_UP, variables, token))["signUp"]
            while answer["status"] not in FINAL:  # PENDING: ask again, same key
                await asyncio.sleep(0.2)
                answer = (await post(http, SIGN_UP, variables, token))["signUp"]
            return residents[i], answer["status"]

        answers = await asyncio.gather(*(sign_up(i) for i in range(RESIDENTS)))
    finally:
        for client in clients:
            await client.aclose()

    confirmed = [resident for resident, status in answers if status == "CONFIRMED"]
    assert len(confirmed) == SEATS
    assert len(answers) - len(confirmed) == RESIDENTS - SEATS
    async with pool.acquire() as conn:
        taken = await conn.fetchval(
            "SELECT taken FROM activities.sessions WHERE id = $1", uuid.UUID(session_id)
        )
        rows = await conn.fetch(
            "SELECT resident_id, status FROM activities.signups WHERE session_id = $1", uuid.UUID(session_id)
        )
        assert taken == SEATS
        assert sorted(r["resident_id"] for r in rows) == sorted(residents)  # one each, no doubles
        assert {r["resident_id"] for r in rows if r["status"] == "CONFIRMED"} == set(confirmed)

        async def every_confirmation_delivered_once() -> bool:
            counts = await conn.fetch(
                "SELECT recipient_id, count(*) AS n FROM notify.inbox "
                "WHERE kind = 'signup.confirmed' AND recipient_id = ANY($1::text[]) GROUP BY recipient_id",
                confirmed,
            )
            return len(counts) == SEATS and all(c["n"] == 1 for c in counts)

        deadline = time.monotonic() + 30
        while not await every_confirmation_delivered_once():
            assert time.monotonic() < deadline, "confirmations were not each delivered once"
            await asyncio.sleep(0.2)
