"""Following Redis pub/sub channels for a process's lifetime: a background task that runs a
session on a fresh pub/sub connection, and again after any failure (Redis restarted, the
connection dropped), until it is stopped. Used for command replies, live updates and token
revocations."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

Session = Callable[[PubSub], Awaitable[None]]
RECONNECT_AFTER_S = 0.5


class Follower:
    """Runs ``session`` (subscribe, then read) on its own pub/sub connection, reconnecting."""

    def __init__(self, redis: Redis, session: Session, name: str, log: logging.Logger) -> None:
        self._redis = redis
        self._session = session
        self._name = name
        self._log = log
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            pubsub = self._redis.pubsub()
            try:
                await self._session(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception:
                self._log.warning("%s: pub/sub connection lost; reconnecting", self._name, exc_info=True)
                await asyncio.sleep(RECONNECT_AFTER_S)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
