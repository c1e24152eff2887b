"""Redis through Sentinel: the gateway and the workers given a ``redis+sentinel://`` URL reach
the master the sentinel names, answer sign-ups and deliver their notifications, and keep doing
so after the sentinel fails the master over to the replica. The test starts its own master,
replica and sentinel (``bench/replicated_redis.py``) and uses a database of its own."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as sync_redis
from redis.asyncio.client import PubSub

from bench.replicated_redis import ReplicatedRedis
from services.activities.worker import ACTIVITIES_WORKER
from services.common import queue
from services.common.actor import ORGANISER, RESIDENT
from services.common.db import drop_database, ensure_database
from services.common.migrations import migrate
from services.common.pubsub import Follower
from services.common.queue import SentinelMasterRedis, create_redis
from services.common.redis_url import SentinelTarget, parse_sentinel_url
from services.common.settings import Settings
from services.common.worker import build_worker
from services.gateway.app import create_app
from services.notify.worker import NOTIFY_WORKER
from tests.conftest import COMMUNITY, SIGN_UP, GraphQLClient, eventually, open_session, token_for

INBOX = "{ myInbox { kind title } }"


@dataclass
class Platform:
    settings: Settings
    gql: GraphQLClient
    redis: ReplicatedRedis
    organiser: str


@pytest.fixture
async def platform(settings: Settings, servers: tuple[str, str], tmp_path: Path) -> AsyncIterator[Platform]:
    group = await asyncio.to_thread(ReplicatedRedis(tmp_path / "redis").start)
    name = f"{settings.namespace.replace('-', '_')}_sentinel"
    database_url = await ensure_database(servers[0], name)
    await migrate(database_url)
    ours = settings.model_copy(
        update={"database_url": database_url, "redis_url": group.url, "db_pool_min": 1, "db_pool_max": 3}
    )
    workers = [build_worker(service, ours) for service in (ACTIVITIES_WORKER, NOTIFY_WORKER)]
    tasks = [asyncio.create_task(worker.async_run()) for worker in workers]
    app = create_app(ours)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://linli.test") as http:
                organiser = token_for(ours, "organiser-sentinel", {ORGANISER}, {COMMUNITY})
                yield Platform(ours, GraphQLClient(http), group, organiser)
    finally:
        for worker in workers:
            await worker.close()
        await asyncio.gather(*tasks, return_exceptions=True)
        group.stop()
        await drop_database(servers[0], name)


async def sign_up_and_hear(platform: Platform, session_id: str) -> None:
    """A resident signs up through the gateway (a command on the stream, its reply on pub/sub)
    and finds the confirmation in her inbox (the event relayed through arq to notify)."""
    resident = f"resident-{uuid.uuid4().hex[:8]}"
    token = token_for(platform.settings, resident, {RESIDENT}, {COMMUNITY})
    signed = await platform.gql.ok(
        SIGN_UP, {"input": {"sessionId": session_id, "idempotencyKey": resident}}, token
    )
    assert signed["signUp"]["status"] == "CONFIRMED"

    async def inbox() -> list[str]:
        return [m["kind"] for m in (await platform.gql.ok(INBOX, None, token))["myInbox"]]

    assert await eventually(inbox, within_s=20) == ["signup.confirmed"]


async def test_the_platform_works_through_a_sentinel_and_after_it_fails_the_master_over(
    platform: Platform,
) -> None:
    session_id = await open_session(platform.gql, platform.organiser, capacity=5)
    await sign_up_and_hear(platform, session_id)
    assert (await platform.gql.http.get("/readyz")).status_code == 200

    old = platform.redis.master()
    new = await asyncio.to_thread(platform.redis.fail_over)
    assert new is not old and new.role() == "master"

    await sign_up_and_hear(platform, session_id)
    assert (await platform.gql.http.get("/readyz")).status_code == 200

    # The gateway's reply channel is followed on the new master, not left on the old one.
    def reply_channels() -> list[str]:
        with new.client() as client:
            channels: list[str] = client.pubsub_channels(f"{platform.settings.namespace}:replies:*")
            return channels

    async def listening() -> list[str]:
        return await asyncio.to_thread(reply_channels)

    assert len(await eventually(listening, within_s=10)) == 1


async def test_a_client_follows_the_master_when_it_moves_subscriptions_and_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Asked less often than in production, so that redis-py itself hears of the move first (as
    # in a busy gateway opening connections all the time) and the subscription must still move.
    monkeypatch.setattr(queue, "MASTER_CHECK_S", 2.5)
    group = await asyncio.to_thread(ReplicatedRedis(tmp_path / "redis").start)
    redis = await create_redis(group.url)
    subscribed = asyncio.Event()

    async def session(pubsub: PubSub) -> None:
        await pubsub.subscribe("followed")
        subscribed.set()
        async for _ in pubsub.listen():
            pass

    follower = Follower(redis, session, "followed", logging.getLogger("test"))
    follower.start()
    try:
        assert isinstance(redis, SentinelMasterRedis)
        await asyncio.wait_for(subscribed.wait(), 10)
        new = await asyncio.to_thread(group.fail_over)
        # Connections opened now ask the sentinels and go to the new master; redis-py then drops
        # the idle ones but leaves the subscription where it was.
        await asyncio.gather(*(redis.ping() for _ in range(5)))

        async def written_to_the_new_master() -> bool:
            try:
                await redis.set("written-after", 2)
            except (sync_redis.ConnectionError, ConnectionError):
                return False  # the connection to the old master is dropped: the next one is new
            with new.client() as client:
                return client.get("written-after") == "2"

        def subscribers() -> int:
            with new.client() as client:
                return int(client.pubsub_numsub("followed")[0][1])

        async def subscribed_on_the_new_master() -> bool:
            return await asyncio.to_thread(subscribers) == 1

        async def all_on_the_new_master() -> bool:
            return await written_to_the_new_master() and await subscribed_on_the_new_master()

        # Within seconds, not once the sentinel demotes the old master (about 10 s later).
        assert await eventually(all_on_the_new_master, within_s=5)
    finally:
        await follower.stop()
        await redis.aclose()
        group.stop()


@pytest.mark.parametrize(
    ("url", "target"),
    [
        (
            "redis+sentinel://10.0.0.1:26379,10.0.0.2,[::1]:26380/linli/2",
            SentinelTarget((("10.0.0.1", 26379), ("10.0.0.2", 26379), ("::1", 26380)), "linli", 2),
        ),
        (
            "redis+sentinel://:p%40ss@s1:5000/?sentinel_password=s3cret",
            SentinelTarget((("s1", 5000),), "mymaster", 0, None, "p@ss", None, "s3cret"),
        ),
        ("redis+sentinel://app:pw@s1/cache", SentinelTarget((("s1", 26379),), "cache", 0, "app", "pw")),
    ],
)
def test_a_sentinel_url_names_the_sentinels_the_master_and_its_database(url: str, target: Any) -> None:
    assert parse_sentinel_url(url) == target
    assert Settings(redis_url=url).redis_url == url


@pytest.mark.parametrize(
    "url",
    [
        "sentinel://s1:26379/linli",
        "redis+sentinel:///linli",
        "redis+sentinel://s1:port/linli",
        "redis+sentinel://s1/linli/zero",
        "redis+sentinel://s1/linli?password=x",
    ],
)
def test_a_malformed_redis_url_is_refused_at_start_saying_why(url: str) -> None:
    with pytest.raises(ValueError, match=r"REDIS_URL|redis\+sentinel|sentinel is host:port"):
        Settings(redis_url=url)


def test_a_single_servers_url_is_left_to_arq() -> None:
    for url in ("redis://127.0.0.1:6379/0", "rediss://:pw@cache:6380/1", "unix:///run/redis.sock"):
        assert parse_sentinel_url(url) is None
