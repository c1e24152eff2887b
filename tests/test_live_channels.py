"""Live updates share one Redis connection per gateway and are capped."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.common.errors import Refusal
from services.common.settings import Settings
from services.gateway.live import LiveChannels


async def test_many_listeners_share_one_subscription_and_the_cap_holds(
    redis: Any, settings: Settings
) -> None:
    live = LiveChannels(redis, limit=2)
    await live.start()
    channel = f"{settings.namespace}:live-test"
    try:
        async with live.listen(channel) as first, live.listen(channel) as second:
            with pytest.raises(Refusal) as refused:
                async with live.listen(channel):
                    pass
            assert refused.value.code == "TOO_MANY_SUBSCRIPTIONS"
            subscribers = await redis.pubsub_numsub(channel)
            assert subscribers[0][1] == 1  # one Redis subscription for both listeners

            await redis.publish(channel, b"seats changed")

            got = await asyncio.wait_for(asyncio.gather(first.get(), second.get()), 5)
            assert got == [b"seats changed", b"seats changed"]
        async with live.listen(channel):  # the places are free again
            pass
    finally:
        await live.stop()
