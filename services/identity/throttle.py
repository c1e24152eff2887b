"""Rate limits kept in Redis: fixed windows and cool-downs, each answering how long to wait."""

from __future__ import annotations

import math

from arq.connections import ArqRedis


async def count(redis: ArqRedis, key: str, limit: int, window_s: int) -> int | None:
    """Count one attempt in the key's window; the seconds to wait if it went over ``limit``."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(key, 0, ex=window_s, nx=True)
        pipe.incr(key)
        pipe.ttl(key)
        _, used, ttl = await pipe.execute()
    if int(used) > limit:
        return max(1, int(ttl))
    return None


# Takes one back only while the window lives: a DECR on an expired key would make a key with
# no expiry, which every later INCR would then keep for good.
_REFUND = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""


async def refund(redis: ArqRedis, key: str) -> None:
    """Give back one attempt counted in the key's window (one that turned out to be allowed)."""
    await redis.eval(_REFUND, 1, key)  # type: ignore[misc]


async def cool_down(redis: ArqRedis, key: str, interval_s: int, now: float) -> int | None:
    """Start a cool-down at ``now``; if one is still running, the seconds left in it.

    The end time is stored (Redis's expiry only clears the key), so a service running on an
    injected clock sees its own time pass.
    """
    until = now + interval_s
    if await redis.set(key, until, ex=interval_s, nx=True):
        return None
    held = float(await redis.get(key) or 0)
    if held <= now:
        await redis.set(key, until, ex=interval_s)
        return None
    return max(1, math.ceil(held - now))
