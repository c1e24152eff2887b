"""Revoked token ids, kept in Redis until the token would have expired anyway."""

from __future__ import annotations

import math
import time

from arq.connections import ArqRedis

from services.common.settings import Settings
from services.common.tokens import TokenClaims


def _key(settings: Settings, token_id: str) -> str:
    return f"{settings.namespace}:identity:revoked:{token_id}"


async def revoke(redis: ArqRedis, settings: Settings, claims: TokenClaims, now: float | None = None) -> None:
    left = math.ceil(claims.expires_at - (now if now is not None else time.time()))
    if claims.token_id and left > 0:
        await redis.set(_key(settings, claims.token_id), 1, ex=left)


async def spend(redis: ArqRedis, settings: Settings, claims: TokenClaims, now: float | None = None) -> bool:
    """Revoke a single-use token; False if it was already spent or revoked (so of two racing
    uses, exactly one wins)."""
    left = max(1, math.ceil(claims.expires_at - (now if now is not None else time.time())))
    if not claims.token_id:
        return False
    return bool(await redis.set(_key(settings, claims.token_id), 1, ex=left, nx=True))


async def is_revoked(redis: ArqRedis, settings: Settings, claims: TokenClaims) -> bool:
    if not claims.token_id:
        return False  # issued before tokens had ids: cannot have been revoked
    return bool(await redis.exists(_key(settings, claims.token_id)))
