"""Revoked token ids, kept in Redis until the token would have expired anyway.

Every authenticated request asks whether its access token was revoked (logged out). Asking
Redis each time was a round trip per request — in a sign-up burst about a sixth of the
gateway's CPU — so each gateway keeps a mirror of the revoked ids (:class:`RevokedTokens`):
loaded when it subscribes to the revocation channel, then kept current from it. A gateway
knows its own revocations at once and another gateway's within one pub/sub delivery; until
its mirror is loaded, and whenever its subscription is lost, it asks Redis as before.

A whole session (every token a log-in and its refreshes issued) is revoked the same way, under
the id ``session:<sid>``, for as long as a token of it may live (:func:`revoke_session`).
"""

from __future__ import annotations

import logging
import math
import time

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from services.common.pubsub import Follower
from services.common.settings import Settings
from services.common.tokens import ACCESS, TokenClaims

log = logging.getLogger("linli.identity")


def _prefix(settings: Settings) -> str:
    return f"{settings.namespace}:identity:revoked:"


def _key(settings: Settings, token_id: str) -> str:
    return _prefix(settings) + token_id


def channel(settings: Settings) -> str:
    """Where access-token revocations are announced to every gateway's mirror."""
    return f"{settings.namespace}:identity:revocations"


def _index(settings: Settings) -> str:
    """The revoked access tokens still alive, scored by expiry: what a mirror loads."""
    return f"{settings.namespace}:identity:revoked-access"


def session_key(session_id: str) -> str:
    """The id a revoked session is kept under, beside revoked token ids."""
    return f"session:{session_id}"


async def revoke(redis: Redis, settings: Settings, claims: TokenClaims, now: float | None = None) -> None:
    await _revoke_id(redis, settings, claims.token_id, claims.expires_at, claims.kind == ACCESS, now)


async def revoke_session(
    redis: Redis, settings: Settings, session_id: str, until: float, now: float | None = None
) -> None:
    """Revoke every token of a session until ``until``, when the last of them has expired."""
    if session_id:
        await _revoke_id(redis, settings, session_key(session_id), until, True, now)


async def _revoke_id(
    redis: Redis, settings: Settings, revoked_id: str, expires_at: float, mirrored: bool, now: float | None
) -> None:
    left = math.ceil(expires_at - (now if now is not None else time.time()))
    if not revoked_id or left <= 0:
        return
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(_key(settings, revoked_id), 1, ex=left)
        if mirrored:
            expires = math.ceil(expires_at)
            pipe.zadd(_index(settings), {revoked_id: expires})
            pipe.zremrangebyscore(_index(settings), "-inf", f"({expires - left}")  # expired ones
            pipe.publish(channel(settings), f"{revoked_id} {expires}")
        await pipe.execute()


async def spend(redis: Redis, settings: Settings, claims: TokenClaims, now: float | None = None) -> bool:
    """Revoke a single-use token; False if it was already spent or revoked (so of two racing
    uses, exactly one wins). Refresh tokens are checked here, in Redis, never in a mirror."""
    at = now if now is not None else time.time()
    left = max(1, math.ceil(claims.expires_at - at))
    if not claims.token_id:
        return False
    return bool(await redis.set(_key(settings, claims.token_id), f"{at:.3f}", ex=left, nx=True))


async def spent_at(redis: Redis, settings: Settings, claims: TokenClaims) -> float | None:
    """When a single-use token was spent (None if it was not, or was revoked some other way)."""
    if not claims.token_id:
        return None
    value = await redis.get(_key(settings, claims.token_id))
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _sessions(settings: Settings, user_id: str) -> str:
    return f"{settings.namespace}:identity:sessions:{user_id}"


async def remember_session(
    redis: Redis, settings: Settings, user_id: str, session_id: str, ttl_s: int
) -> None:
    """Note a person's new session, so that "log out everywhere" finds it; the note lasts as
    long as the newest session's tokens may."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.sadd(_sessions(settings, user_id), session_id)
        pipe.expire(_sessions(settings, user_id), ttl_s)
        await pipe.execute()


async def forget_sessions(redis: Redis, settings: Settings, user_id: str) -> list[str]:
    """Every session noted for a person (their ids), no longer noted."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.smembers(_sessions(settings, user_id))
        pipe.delete(_sessions(settings, user_id))
        members, _ = await pipe.execute()
    return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)


async def session_ended(redis: Redis, settings: Settings, claims: TokenClaims) -> bool:
    """Whether the token's session was revoked (logged out, or a refresh token reused)."""
    if not claims.session_id:
        return False
    return bool(await redis.exists(_key(settings, session_key(claims.session_id))))


async def is_revoked(redis: Redis, settings: Settings, claims: TokenClaims) -> bool:
    """Whether the token, or its whole session, was revoked."""
    keys = [_key(settings, claims.token_id)] if claims.token_id else []
    if claims.session_id:
        keys.append(_key(settings, session_key(claims.session_id)))
    if not keys:
        return False  # issued before tokens had ids: cannot have been revoked
    return bool(await redis.exists(*keys))


class RevokedTokens:
    """A gateway's mirror of the revoked token ids (see the module's docstring)."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._redis = redis
        self._settings = settings
        # Revoked id -> when it may be forgotten (its token has expired by then).
        self._ids: dict[str, float] = {}
        self._pruned_at = time.time()
        self._loaded = False
        self._follower = Follower(redis, self._follow, "revoked-tokens", log)

    @property
    def loaded(self) -> bool:
        """True while the mirror is complete (answers come from memory)."""
        return self._loaded

    async def start(self) -> None:
        self._follower.start()

    async def stop(self) -> None:
        await self._follower.stop()

    async def is_revoked(self, claims: TokenClaims) -> bool:
        if self._loaded:
            return claims.token_id in self._ids or (
                bool(claims.session_id) and session_key(claims.session_id) in self._ids
            )
        return await is_revoked(self._redis, self._settings, claims)

    async def revoke(self, claims: TokenClaims, now: float | None = None) -> None:
        """Revoke everywhere, and in this gateway before the caller goes on."""
        await revoke(self._redis, self._settings, claims, now)
        if claims.token_id:
            self._ids[claims.token_id] = claims.expires_at

    async def revoke_session(self, session_id: str, until: float, now: float | None = None) -> None:
        """Revoke a session everywhere, and in this gateway before the caller goes on."""
        await revoke_session(self._redis, self._settings, session_id, until, now)
        if session_id:
            self._ids[session_key(session_id)] = until

    async def _follow(self, pubsub: PubSub) -> None:
        try:
            # Subscribe first, then read what is already revoked: nothing falls in between.
            await pubsub.subscribe(channel(self._settings))
            await self._load()
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    self._note(message["data"])
        finally:  # until loaded again, ask Redis
            self._loaded = False

    def _note(self, data: bytes | str) -> None:
        token_id, _, expires = (data.decode() if isinstance(data, bytes) else data).partition(" ")
        at = time.time()
        try:
            self._ids[token_id] = float(expires)
        except ValueError:  # announced without an expiry: keep it as long as any access token
            self._ids[token_id] = at + self._settings.access_token_ttl_s
        if at - self._pruned_at > 60:
            self._ids = {i: until for i, until in self._ids.items() if until >= at}
            self._pruned_at = at

    async def _load(self) -> None:
        alive = await self._redis.zrangebyscore(_index(self._settings), time.time(), "+inf", withscores=True)
        self._ids = {(i.decode() if isinstance(i, bytes) else str(i)): float(until) for i, until in alive}
        self._loaded = True
