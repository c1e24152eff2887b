"""How busy the activities and volunteers command streams are, as notify's deferral needs it
(services/notify/deferral.py): one pipelined pair of ``XINFO STREAM`` at most every
``notify_backlog_cache_s``, for each stream's length and its count of entries ever added. A
command leaves its stream when it is answered (acknowledged and deleted), so a stream's length
is what waits plus what is in hand; a stream not made yet counts as empty."""

from __future__ import annotations

import logging
from typing import Any

from redis.asyncio import Redis

from services.common.clock import now
from services.common.commands import stream_key
from services.common.settings import Settings
from services.notify.deferral import Backlog, Bounds, observed

log = logging.getLogger("linli.notify")

WATCHED = ("activities", "volunteers")  # the services whose bursts notify stays out of


def bounds(settings: Settings) -> Bounds:
    return Bounds(
        settings.notify_defer_busy_backlog,
        settings.notify_defer_busy_rate_per_s,
        settings.notify_defer_settle_s,
        settings.notify_defer_max_s,
    )


class BacklogWatch:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._redis = redis
        self._keys = [stream_key(settings, service) for service in WATCHED]
        self._cache_s = settings.notify_backlog_cache_s
        self.bounds = bounds(settings)
        self._last: Backlog | None = None

    async def current(self) -> Backlog:
        at = now()
        if self._last is not None and (at - self._last.seen_at).total_seconds() < self._cache_s:
            return self._last
        pipe = self._redis.pipeline(transaction=False)
        for key in self._keys:
            pipe.xinfo_stream(key)
        found = [info for info in await pipe.execute(raise_on_error=False) if isinstance(info, dict)]
        waiting = sum(int(info["length"]) for info in found)
        added = sum(int(info.get("entries-added", 0)) for info in found)
        seen = observed(self._last, waiting, added, now(), self.bounds)
        if self._last is not None and seen.busy(self.bounds) != self._last.busy(self.bounds):
            log.info(
                "command streams %s: %d commands waiting, %.0f a second",
                "busy, non-urgent messages wait" if seen.busy(self.bounds) else "calm",
                seen.commands,
                seen.rate_per_s,
            )
        self._last = seen
        return seen


def backlog_watch(ctx: dict[str, Any]) -> BacklogWatch:
    """The worker's one watch, made on first use from its Redis and settings."""
    watch = ctx.get("backlog_watch")
    if watch is None:
        watch = ctx["backlog_watch"] = BacklogWatch(ctx["redis"], ctx["settings"])
    assert isinstance(watch, BacklogWatch)
    return watch
