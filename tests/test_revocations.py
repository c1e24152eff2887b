"""Log-outs reach every gateway: each keeps a mirror of the revoked access tokens, loaded from
Redis and kept current over pub/sub, and asks Redis itself whenever the mirror is not loaded."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import pytest
from arq.connections import ArqRedis

from services.common.actor import RESIDENT, Actor
from services.common.settings import Settings
from services.common.tokens import ACCESS, REFRESH, TokenClaims, issue_token, read_claims
from services.identity.revocations import RevokedTokens, revoke
from tests.conftest import eventually


def access_claims(settings: Settings, kind: str = ACCESS, ttl_s: int = 600) -> TokenClaims:
    actor = Actor(f"resident-{uuid.uuid4().hex[:8]}", frozenset({RESIDENT}), frozenset({"c"}))
    return read_claims(issue_token(actor, settings.secret, ttl_s, kind=kind), settings.secret, kind=kind)


@pytest.fixture
async def mirrors(redis: ArqRedis, settings: Settings) -> AsyncIterator[list[RevokedTokens]]:
    """Two gateways' mirrors, started and loaded."""
    started = [RevokedTokens(redis, settings), RevokedTokens(redis, settings)]
    for mirror in started:
        await mirror.start()
    for mirror in started:
        assert await eventually(lambda m=mirror: _loaded(m), within_s=5)
    yield started
    for mirror in started:
        await mirror.stop()


async def _loaded(mirror: RevokedTokens) -> bool:
    return mirror.loaded


async def test_a_log_out_holds_at_once_here_and_soon_at_every_other_gateway(
    mirrors: list[RevokedTokens], settings: Settings
) -> None:
    here, there = mirrors
    claims, other = access_claims(settings), access_claims(settings)

    await here.revoke(claims)

    assert await here.is_revoked(claims)  # no waiting on the channel for one's own log-out
    assert await eventually(lambda: there.is_revoked(claims), within_s=5)
    assert not await here.is_revoked(other) and not await there.is_revoked(other)


async def test_a_gateway_started_later_loads_the_revocations_still_alive(
    redis: ArqRedis, settings: Settings
) -> None:
    claims = access_claims(settings)
    await revoke(redis, settings, claims)
    late = RevokedTokens(redis, settings)
    await late.start()
    try:
        assert await eventually(lambda: _loaded(late), within_s=5)
        assert await late.is_revoked(claims)
        assert not await late.is_revoked(access_claims(settings))
    finally:
        await late.stop()


async def test_until_its_mirror_is_loaded_a_gateway_asks_redis(redis: ArqRedis, settings: Settings) -> None:
    claims = access_claims(settings)
    await revoke(redis, settings, claims)
    not_started = RevokedTokens(redis, settings)

    assert not not_started.loaded
    assert await not_started.is_revoked(claims)
    assert not await not_started.is_revoked(access_claims(settings))


async def test_expired_revocations_leave_the_index_and_refresh_tokens_never_enter_it(
    redis: ArqRedis, settings: Settings
) -> None:
    index = f"{settings.namespace}:identity:revoked-access"
    soon_gone = access_claims(settings)
    await revoke(redis, settings, soon_gone, now=soon_gone.expires_at - 1)  # 1 s left
    refresh = access_claims(settings, kind=REFRESH)
    await revoke(redis, settings, refresh)
    assert await redis.zscore(index, soon_gone.token_id) is not None
    assert await redis.zscore(index, refresh.token_id) is None

    fresh = access_claims(settings, ttl_s=1200)
    await revoke(redis, settings, fresh, now=soon_gone.expires_at + 1)  # after the first expired

    assert await redis.zscore(index, soon_gone.token_id) is None
    assert await redis.zscore(index, fresh.token_id) is not None
    assert time.time() < fresh.expires_at
