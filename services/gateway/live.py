"""Live updates for subscriptions: one Redis pub/sub connection per gateway, fanned out in
memory to every subscriber, and a cap on how many may listen at once.

A connection per subscriber would let anyone holding a few hundred websockets open use up
Redis's client limit, and with it the workers' and the command bus's connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from services.common.errors import Refusal
from services.common.pubsub import Follower

log = logging.getLogger("linli.live")


def too_many_listeners() -> Refusal:
    return Refusal(
        "TOO_MANY_SUBSCRIPTIONS",
        "当前实时连接过多，请稍后再试",
        "Too many live updates are open right now; try again later",
    )


@dataclass
class _Channel:
    queues: set[asyncio.Queue[bytes]] = field(default_factory=set)
    ready: asyncio.Event = field(default_factory=asyncio.Event)


class LiveChannels:
    """Subscribe to a Redis channel through the gateway's single pub/sub connection."""

    def __init__(self, redis: Redis, limit: int, queue_size: int = 32) -> None:
        self._redis = redis
        self._limit = limit
        self._queue_size = queue_size
        self._channels: dict[str, _Channel] = {}
        self._listeners = 0
        self._changes: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._follower = Follower(redis, self._follow, "live-channels", log)

    async def start(self) -> None:
        self._follower.start()

    async def stop(self) -> None:
        await self._follower.stop()

    @contextlib.asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[asyncio.Queue[bytes]]:
        """A queue of the channel's messages, receiving from the moment this returns."""
        if self._listeners >= self._limit:
            raise too_many_listeners()
        self._listeners += 1
        queue: asyncio.Queue[bytes] = asyncio.Queue(self._queue_size)
        entry = self._channels.setdefault(channel, _Channel())
        entry.queues.add(queue)
        try:
            if len(entry.queues) == 1:
                await self._changes.put(("subscribe", channel))
            await asyncio.wait_for(entry.ready.wait(), timeout=10)
            yield queue
        finally:
            self._listeners -= 1
            entry.queues.discard(queue)
            if not entry.queues and self._channels.get(channel) is entry:
                del self._channels[channel]
                await self._changes.put(("unsubscribe", channel))

    async def _follow(self, pubsub: PubSub) -> None:
        # The connection is made by the first subscription; resubscribe after a loss.
        await pubsub.subscribe("linli:live:keepalive")
        if self._channels:
            await pubsub.subscribe(*self._channels)
            for entry in self._channels.values():
                entry.ready.set()
        while True:
            while not self._changes.empty():
                action, channel = self._changes.get_nowait()
                if action == "subscribe" and channel in self._channels:
                    await pubsub.subscribe(channel)
                    self._channels[channel].ready.set()
                elif action == "unsubscribe" and channel not in self._channels:
                    await pubsub.unsubscribe(channel)
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.05)
            if message is None or message.get("type") != "message":
                continue
            channel_name = message["channel"]
            if isinstance(channel_name, bytes):
                channel_name = channel_name.decode()
            for queue in list(self._channels.get(channel_name, _Channel()).queues):
                with contextlib.suppress(asyncio.QueueFull):  # a slow reader skips a beat
                    queue.put_nowait(message["data"])
