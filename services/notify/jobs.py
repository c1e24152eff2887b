"""Many arq jobs enqueued in one Redis round trip, by arq's own rule: a job whose id is still
queued (or running) or has a result is not enqueued again.

arq's ``enqueue_job`` costs a WATCH/EXISTS/MULTI exchange per job; a batch of sign-ups needs
hundreds (deliveries, reminders). One Lua script does the same check and the same two writes
(the job key with its expiry, the queue's sorted set) for each job, atomically. The job is
serialised by arq itself, so workers read it as if ``enqueue_job`` had written it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arq.connections import ArqRedis
from arq.constants import job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms, to_unix_ms

from services.common.slots import hash_tag

# KEYS: job key, result key, queue (three per job); ARGV: job id, score, expiry ms, job.
_ENQUEUE = """
local added = {}
for i = 0, #KEYS / 3 - 1 do
  local k, a = i * 3, i * 4
  if redis.call('EXISTS', KEYS[k + 1], KEYS[k + 2]) == 0 then
    redis.call('PSETEX', KEYS[k + 1], ARGV[a + 3], ARGV[a + 4])
    redis.call('ZADD', KEYS[k + 3], ARGV[a + 2], ARGV[a + 1])
    added[#added + 1] = 1
  else
    added[#added + 1] = 0
  end
end
return added
"""
# Jobs per script run: Redis serves no one else while a script runs.
_CHUNK = 500


def job_id_in_queue_slot(queue: str, name: str) -> str:
    """A job id whose arq keys (``arq:job:<id>``, ``arq:result:<id>``) share its queue's hash
    slot, so that ``_ENQUEUE`` could run on Redis Cluster: it starts with the queue's tag."""
    return hash_tag(queue) + name


@dataclass(frozen=True)
class QueuedJob:
    function: str
    args: tuple[Any, ...]
    job_id: str  # from job_id_in_queue_slot
    queue: str
    defer_until: datetime | None = None  # None: at once

    def script_keys(self) -> list[str]:
        """The keys ``_ENQUEUE`` touches for this job, in its order."""
        if not self.job_id.startswith(hash_tag(self.queue)):
            raise ValueError(f"job {self.job_id!r} is not named in its queue's hash slot")
        return [job_key_prefix + self.job_id, result_key_prefix + self.job_id, self.queue]


async def enqueue_jobs(redis: ArqRedis, jobs: Sequence[QueuedJob]) -> list[bool]:
    """Enqueue jobs as ``enqueue_job`` would, one round trip per 500 of a queue; for each, True
    if it was enqueued, False if a job of that id was already there."""
    script = redis.register_script(_ENQUEUE)
    added: dict[int, bool] = {}
    by_queue: dict[str, list[tuple[int, QueuedJob]]] = {}
    for index, job in enumerate(jobs):  # one script run touches one queue's slot only
        by_queue.setdefault(job.queue, []).append((index, job))
    for queued in by_queue.values():
        for start in range(0, len(queued), _CHUNK):
            chunk = queued[start : start + _CHUNK]
            keys: list[str] = []
            args: list[Any] = []
            enqueued_at = timestamp_ms()
            for _, job in chunk:
                score = to_unix_ms(job.defer_until) if job.defer_until is not None else enqueued_at
                expires_ms = score - enqueued_at + redis.expires_extra_ms
                payload = serialize_job(
                    job.function, job.args, {}, None, enqueued_at, serializer=redis.job_serializer
                )
                keys += job.script_keys()
                args += [job.job_id, score, expires_ms, payload]
            flags = await script(keys=keys, args=args)
            added.update((index, bool(flag)) for (index, _), flag in zip(chunk, flags, strict=True))
    return [added[index] for index in range(len(jobs))]
