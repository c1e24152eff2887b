"""Shared fixtures: real PostgreSQL and Redis (configured, or embedded when unset), a fresh
database and Redis namespace per run, the real gateway app and the real arq workers."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis

from services.activities.worker import ACTIVITIES_WORKER
from services.common.actor import ORGANISER, RESIDENT, Actor
from services.common.db import create_pool, drop_database, ensure_database
from services.common.embedded import ensure_servers
from services.common.migrations import migrate
from services.common.paging import MAX_LIMIT
from services.common.queue import create_redis
from services.common.settings import Settings
from services.common.tokens import issue_token
from services.common.worker import build_worker
from services.gateway.app import create_app
from services.notify.worker import NOTIFY_WORKER
from services.volunteers.worker import VOLUNTEERS_WORKER
from tests.dates import FESTIVAL_DAY, at_iso, day_iso

ROOT = Path(__file__).resolve().parent.parent
RUN_ID = uuid.uuid4().hex[:10]
COMMUNITY = "lingwu-shuofang"
OTHER_COMMUNITY = "lingwu-xiyuan"


@pytest.fixture(scope="session")
def servers() -> Iterator[tuple[str, str]]:
    """Server URLs: DATABASE_URL / REDIS_URL when set, else embedded servers under .linli/test."""
    data_dir = ROOT / ".linli" / "test"
    valkey_dir = data_dir / f"run-{RUN_ID}"
    found = ensure_servers(Settings(), data_dir=data_dir, valkey_dir=valkey_dir)
    yield found.database_url, found.redis_url
    found.stop()
    shutil.rmtree(valkey_dir, ignore_errors=True)


@pytest.fixture(scope="session")
async def settings(servers: tuple[str, str]) -> AsyncIterator[Settings]:
    """Settings for this run: its own database and its own Redis namespace, both removed after."""
    server_url, redis_url = servers
    database = f"linli_test_{RUN_ID}"
    database_url = await ensure_database(server_url, database)
    await migrate(database_url)
    yield Settings(
        database_url=database_url,
        redis_url=redis_url,
        secret="test-secret",
        namespace=f"linli-test-{RUN_ID}",
        reply_timeout_s=10,
        outbox_poll_s=0.2,
        # Messages put off in a burst of sign-ups go out soon after it (services/notify/deferral.py).
        notify_defer_settle_s=0.3,
        notify_defer_tick_s=0.2,
        # Small pools: several test runs may share one PostgreSQL's connection limit.
        db_pool_min=1,
        db_pool_max=5,
    )
    await drop_database(server_url, database)


@pytest.fixture(scope="session")
async def redis(settings: Settings) -> AsyncIterator[ArqRedis]:
    assert settings.redis_url
    client = await create_redis(settings.redis_url)
    yield client
    for pattern in (f"{settings.namespace}*", f"{{{settings.namespace}*", f"arq:*{settings.namespace}*"):
        async for key in client.scan_iter(match=pattern, count=500):
            await client.delete(key)
    await client.aclose()


@pytest.fixture(scope="session")
async def pool(settings: Settings) -> AsyncIterator[Any]:
    assert settings.database_url
    db_pool = await create_pool(settings.database_url, 1, 10)
    yield db_pool
    await db_pool.close()


@pytest.fixture(scope="session")
async def workers(settings: Settings, redis: ArqRedis) -> AsyncIterator[None]:
    """The three real arq workers, consuming their real queues, for the whole run."""
    running = [
        build_worker(service, settings) for service in (ACTIVITIES_WORKER, VOLUNTEERS_WORKER, NOTIFY_WORKER)
    ]
    tasks = [asyncio.create_task(worker.async_run()) for worker in running]
    yield
    for worker in running:
        await worker.close()
    await asyncio.gather(*tasks)  # each finishes what it holds, then closes its pool


@pytest.fixture(scope="session")
async def client(settings: Settings, workers: None) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the real gateway app (lifespan included)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://linli.test") as http:
            yield http


def token_for(settings: Settings, user_id: str, roles: set[str], communities: set[str]) -> str:
    return issue_token(Actor(user_id, frozenset(roles), frozenset(communities)), settings.secret, 3600)


@pytest.fixture
def organiser_token(settings: Settings) -> str:
    return token_for(settings, f"organiser-{uuid.uuid4().hex[:6]}", {ORGANISER}, {COMMUNITY})


@pytest.fixture
def new_resident(settings: Settings) -> Any:
    """Make a fresh resident: returns (user id, token)."""

    def make() -> tuple[str, str]:
        user_id = f"resident-{uuid.uuid4().hex[:8]}"
        return user_id, token_for(settings, user_id, {RESIDENT}, {COMMUNITY})

    return make


async def eventually(check: Any, within_s: float = 10.0) -> Any:
    """Poll ``check`` until it returns something truthy: events travel asynchronously."""
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.05)


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def raw(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def ok(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        body = await self.raw(query, variables, token)
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def every(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None, key: str = "id"
    ) -> list[dict[str, Any]]:
        """Every item of the one list ``query`` asks for (taking ``$limit`` and ``$after``), page
        by page: a list comes in pages (README.md, "Pages of a list")."""
        items: list[dict[str, Any]] = []
        after = None
        while True:
            data = await self.ok(query, {**(variables or {}), "limit": MAX_LIMIT, "after": after}, token)
            (page,) = data.values()
            items += page
            if len(page) < MAX_LIMIT:
                return items
            after = page[-1][key]

    async def error_code(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> str:
        body = await self.raw(query, variables, token)
        assert body.get("errors"), f"expected an error, got {body}"
        error = body["errors"][0]
        assert "traceback" not in str(error).lower()
        code: str = error["extensions"]["code"]
        return code


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


CREATE_FESTIVAL = """
mutation($input: CreateFestivalInput!) { createFestival(input: $input) { id name communityIds } }
"""
CREATE_ACTIVITY = """
mutation($input: CreateActivityInput!) { createActivity(input: $input) { id title } }
"""
SCHEDULE_SESSION = """
mutation($input: ScheduleSessionInput!) {
  scheduleSession(input: $input) { id capacity seatsLeft venue }
}
"""
SIGN_UP = """
mutation($input: SignUpInput!) {
  signUp(input: $input) { id status partySize waitlistPosition }
}
"""


async def open_session(
    gql: GraphQLClient,
    organiser_token: str,
    *,
    capacity: int = 10,
    title: str = "义诊",
    community: str = COMMUNITY,
    days_ahead: int = FESTIVAL_DAY,
    starts: str = "09:00",
    ends: str = "11:00",
    venue: str = "朔方社区邻里驿家",
    venue_id: str | None = None,
    category: str | None = None,
    festival_name: str = "第四届幸福邻里节",
) -> str:
    """A session of a fresh published festival and activity, ``days_ahead`` days from today, made
    through the public API as an organiser would: its id. Each is a new request (its own key):
    without one, the same festival asked for again is the first one."""
    festival = await gql.ok(
        CREATE_FESTIVAL,
        {
            "input": {
                "name": festival_name,
                "communityIds": [community],
                "startsOn": day_iso(days_ahead),
                "endsOn": day_iso(days_ahead + 1),
                "idempotencyKey": uuid.uuid4().hex,
            }
        },
        organiser_token,
    )
    activity = {
        "festivalId": festival["createFestival"]["id"],
        "communityId": community,
        "title": title,
        "idempotencyKey": uuid.uuid4().hex,
    }
    made = await gql.ok(
        CREATE_ACTIVITY,
        {"input": {**activity, **({"category": category} if category else {})}},
        organiser_token,
    )
    session = await gql.ok(
        SCHEDULE_SESSION,
        {
            "input": {
                "activityId": made["createActivity"]["id"],
                **({"venueId": venue_id} if venue_id else {"venue": venue}),
                "startsAt": at_iso(days_ahead, starts),
                "endsAt": at_iso(days_ahead, ends),
                "capacity": capacity,
                "idempotencyKey": uuid.uuid4().hex,
            }
        },
        organiser_token,
    )
    session_id: str = session["scheduleSession"]["id"]
    return session_id


@pytest.fixture
def schedule(gql: GraphQLClient, organiser_token: str) -> Any:
    """Schedule a fresh session (with its festival and activity) through the public API."""

    async def make(capacity: int = 10, title: str = "义诊") -> str:
        return await open_session(gql, organiser_token, capacity=capacity, title=title, category="health")

    return make
