"""Rate limits kept in Redis: fixed windows and cool-downs, each answering how long to wait."""

from __future__ import annotations

import math
from dataclasses import dataclass

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


# One staff log-in attempt through the account's gate (see ``password_gate``). KEYS: the
# account's count and next-allowed time, this address's count and next-allowed time for the
# account, and the mark of an address the account logged in from. ARGV: now, failures allowed
# before delays begin, first delay, longest delay, how long failures are remembered.
_GATE = """
local now, free, base, cap, window =
  tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local function delay(n)
  if n < free then return 0 end
  return math.min(cap, base * 2 ^ (n - free))
end
local trusted = redis.call('EXISTS', KEYS[5]) == 1
local own_until = tonumber(redis.call('GET', KEYS[4]) or '0')
if now < own_until then return math.ceil(own_until - now) end
local account_until = tonumber(redis.call('GET', KEYS[2]) or '0')
if not trusted and now < account_until then return math.ceil(account_until - now) end
local own = redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], window)
if delay(own) > 0 then redis.call('SET', KEYS[4], string.format('%.3f', now + delay(own)), 'EX', window) end
local all = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], window)
if delay(all) > 0 then redis.call('SET', KEYS[2], string.format('%.3f', now + delay(all)), 'EX', window) end
if all >= free then return -1 end
return 0
"""


@dataclass(frozen=True)
class GateKeys:
    """The Redis keys of one account's gate, as seen from one address (the first five, which
    ``_GATE`` touches, share the account's hash slot: see ``services.common.slots``)."""

    account_count: str
    account_until: str
    address_count: str
    address_until: str
    trusted: str
    told: str

    def gate_keys(self) -> list[str]:
        """``_GATE``'s keys, in its order."""
        return [self.account_count, self.account_until, self.address_count, self.address_until, self.trusted]


async def password_gate(
    redis: ArqRedis, keys: GateKeys, now: float, free: int, base_s: int, cap_s: int, window_s: int
) -> tuple[int | None, bool]:
    """Count one password attempt before it is checked: (seconds to wait if refused, whether
    the account has seen ``free`` or more attempts in a row: a burst, if this one fails too).

    Why a stranger cannot keep a real staff member out:

    - There is no lock, only delays. After ``free`` failures an attempt must wait
      ``base_s * 2**(failures - free)`` seconds after the previous one, never more than
      ``cap_s``; failures are forgotten ``window_s`` after the last one.
    - Each address has its own count and delay for the account, and the account has one for
      all of them. An address the account logged in from before (``trusted``, marked on every
      right password) waits only for its own failures: guesses from elsewhere never hold it up.
    - Any other address waits for the account's delay as well, at most ``cap_s``: the attacker
      gets one guess per ``cap_s`` at most, and the real user on a new address is told to try
      again in at most ``cap_s`` (an attacker racing for every slot can only make that wait
      again; the user's usual address stays open).
    - A refused attempt counts nothing and grows no delay; every attempt is counted before its
      password is checked, atomically, so parallel guesses cannot pass a check together.
    """
    args = [str(value) for value in (now, free, base_s, cap_s, window_s)]
    answer = int(
        await redis.eval(  # type: ignore[misc]
            _GATE,
            5,
            *keys.gate_keys(),
            *args,
        )
    )
    if answer > 0:
        return answer, False
    return None, answer == -1


async def first_of_burst(redis: ArqRedis, keys: GateKeys, window_s: int) -> bool:
    """Whether nobody was told of this account's burst yet (and now somebody will be): one
    alert per burst, however long it goes on within the window."""
    return bool(await redis.set(keys.told, 1, ex=window_s, nx=True))


async def password_passed(redis: ArqRedis, keys: GateKeys, trusted_ttl_s: int) -> None:
    """A right password: its address's failures are forgotten and the address is trusted; the
    account's count is given this attempt back (other addresses' failures still stand)."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(keys.address_count, keys.address_until)
        pipe.set(keys.trusted, 1, ex=trusted_ttl_s)
        await pipe.execute()
    await refund(redis, keys.account_count)
