"""The one way to reach Redis: an arq pool built from the settings' URL, to one server or to the
master a set of Redis Sentinels names (``services.common.redis_url`` reads the URL).

Through Sentinel every connection is made to whichever server the sentinels call master at
that moment: after a failover, a connection to the old master fails (or is told it is a
replica now) and the next one goes to the new master. Every user of this pool already treats a
failed connection as "Redis was away" and tries again: commands, arq, pub/sub, revocations.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from redis.asyncio.sentinel import Sentinel
from redis.exceptions import RedisError

from services.common.redis_url import SentinelTarget, parse_sentinel_url

log = logging.getLogger("linli.redis")

_CONNECT_TIMEOUT_S = 1.0  # as arq's RedisSettings.conn_timeout
_START_TRIES, _START_RETRY_S = 6, 1.0  # as arq's create_pool: Redis may start after us
MASTER_CHECK_S = 1.0  # how often a process asks the sentinels where the master is


class SentinelMasterRedis(ArqRedis):
    """An arq pool on the sentinels' master, which follows the master when it moves and closes
    its sentinel connections too."""

    sentinels: Sentinel | None = None
    _watch: asyncio.Task[None] | None = None

    def follow_master(self, master: str, address: object) -> None:
        """Watch the sentinels for ``master`` moving away from ``address`` (where it is now)."""
        self._watch = asyncio.create_task(self._follow(master, address), name=f"redis master {master}")

    async def _follow(self, master: str, address: object) -> None:
        """After a failover the old master takes writes until the sentinels turn it into a
        replica, seconds later, and they are lost then. redis-py asks the sentinels only when it
        opens a connection, and then drops only the idle ones: a blocked stream read, a pub/sub
        subscription or a command in flight stays on the old master, and goes back to the pool
        still connected there. So ask the sentinels every second and, once the master moved,
        drop every connection: each user meets a connection error, which it already treats as
        Redis being away, and its next connection goes to the new master."""
        assert self.sentinels is not None
        while True:
            await asyncio.sleep(MASTER_CHECK_S)
            try:
                now_at = await self.sentinels.discover_master(master)
            except Exception:  # no sentinel answers, no master now: connections fail on their own
                continue
            if address is not None and now_at != address:
                log.warning("Redis master %r moved from %s to %s: reconnecting", master, address, now_at)
                with contextlib.suppress(Exception):
                    await self.connection_pool.disconnect(inuse_connections=True)
            address = now_at

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        await super().aclose(close_connection_pool)
        if self.sentinels is not None:
            for client in self.sentinels.sentinels:
                await client.aclose()


async def create_redis(redis_url: str) -> ArqRedis:
    target = parse_sentinel_url(redis_url)
    if target is None:
        redis: ArqRedis = await create_pool(RedisSettings.from_dsn(redis_url))
        return redis
    return await _master_of(target)


def sentinel_of(target: SentinelTarget) -> Sentinel:
    """The sentinels of ``target``, with the master's credentials for the connections they hand out."""
    sentinel_kwargs: dict[str, Any] = {"socket_connect_timeout": _CONNECT_TIMEOUT_S}
    if target.sentinel_password is not None:
        sentinel_kwargs.update(username=target.sentinel_username, password=target.sentinel_password)
    return Sentinel(  # type: ignore[no-untyped-call]
        list(target.sentinels),
        sentinel_kwargs=sentinel_kwargs,
        socket_connect_timeout=_CONNECT_TIMEOUT_S,
        db=target.db,
        username=target.username,
        password=target.password,
        encoding="utf8",
    )


async def _master_of(target: SentinelTarget) -> ArqRedis:
    for attempt in range(1, _START_TRIES + 1):
        sentinel = sentinel_of(target)
        redis: SentinelMasterRedis = sentinel.master_for(target.master, redis_class=SentinelMasterRedis)
        redis.sentinels = sentinel
        try:
            await redis.ping()
        except (TimeoutError, OSError, RedisError) as exc:
            await redis.aclose()
            if attempt == _START_TRIES:
                raise
            log.warning("no Redis master %r from the sentinels yet (%s); trying again", target.master, exc)
            await asyncio.sleep(_START_RETRY_S)
        else:
            redis.follow_master(target.master, getattr(redis.connection_pool, "master_address", None))
            return redis
    raise AssertionError("unreachable")
