"""Revoked token ids, kept in Redis until the token would have expired anyway.

Every authenticated request asks whether its access token was revoked (logged out). Asking
Redis each time was a round trip per request — in a sign-up burst about a sixth of the
gateway's CPU — so each gateway keeps a mirror of the revoked ids (:class:`RevokedTokens`):
loaded when it subscribes to the revocation channel, then kept current from it. A gateway
knows its own revocations at once and another gateway's within one pub/sub delivery; until
its mirror is loaded, and whenever its subscription is lost, it asks Redis as before.
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


async def revoke(redis: Redis, settings: Settings, claims: TokenClaims, now: float | None = None) -> None:
    left = math.ceil(claims.expires_at - (now if now is not None else time.time()))
    if not claims.token_id or left <= 0:
        return
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(_key(settings, claims.token_id), 1, ex=left)
        if claims.kind == ACCESS:
            expires = math.ceil(claims.expires_at)
            pipe.zadd(_index(settings), {claims.token_id: expires})
            pipe.zremrangebyscore(_index(settings), "-inf", f"({expires - left}")  # expired ones
            pipe.publish(channel(settings), f"{claims.token_id} {expires}")
        await pipe.execute()


async def spend(redis: Redis, settings: Settings, claims: TokenClaims, now: float | None = None) -> bool:
    """Revoke a single-use token; False if it was already spent or revoked (so of two racing
    uses, exactly one wins). Refresh tokens are checked here, in Redis, never in a mirror."""
    left = max(1, math.ceil(claims.expires_at - (now if now is not None else time.time())))
    if not claims.token_id:
        return False
    return bool(await redis.set(_key(settings, claims.token_id), 1, ex=left, nx=True))


async def is_revoked(redis: Redis, settings: Settings, claims: TokenClaims) -> bool:
    if not claims.token_id:
        return False  # issued before tokens had ids: cannot have been revoked
    return bool(await redis.exists(_key(settings, claims.token_id)))


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
        if not claims.token_id:
            return False
        if self._loaded:
            return claims.token_id in self._ids
        return await is_revoked(self._redis, self._settings, claims)

    async def revoke(self, claims: TokenClaims, now: float | None = None) -> None:
        """Revoke everywhere, and in this gateway before the caller goes on."""
        await revoke(self._redis, self._settings, claims, now)
        if claims.token_id:
            self._ids[claims.token_id] = claims.expires_at

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
