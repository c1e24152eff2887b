"""The one way to reach Redis: an arq pool built from the settings' URL."""

from __future__ import annotations

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings


def redis_settings(redis_url: str) -> RedisSettings:
    return RedisSettings.from_dsn(redis_url)


async def create_redis(redis_url: str) -> ArqRedis:
    redis: ArqRedis = await create_pool(redis_settings(redis_url))
    return redis
