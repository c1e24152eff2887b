"""Commands as request and reply over the queue.

The gateway enqueues a command as an arq job whose id is derived from the client's
idempotency key, so a retried submission is never run twice. arq itself only offers
polling for results (about nine Redis round trips a job), so the worker additionally
*pushes* its answer on a Redis pub/sub channel owned by the waiting gateway, and the
gateway resolves the request the moment it arrives. A gateway that misses the push (or a
duplicate submission that did not enqueue) falls back to arq's stored result.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis
from arq.jobs import Job, JobStatus
from arq.worker import Function, func

from services.common.actor import Actor
from services.common.errors import Refusal
from services.common.observability import JOBS, correlation_id
from services.common.settings import Settings

log = logging.getLogger("linli.commands")

Handler = Callable[[dict[str, Any], Actor, dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Reply:
    """What a command answered: a value, or a refusal with its code."""

    value: dict[str, Any] | None = None
    refusal: Refusal | None = None

    def as_payload(self) -> dict[str, Any]:
        if self.refusal is not None:
            return {"ok": False, "refusal": self.refusal.as_payload()}
        return {"ok": True, "value": self.value}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Reply:
        if payload.get("ok"):
            return cls(value=payload.get("value"))
        return cls(refusal=Refusal.from_payload(payload["refusal"]))

    def unwrap(self) -> dict[str, Any]:
        if self.refusal is not None:
            raise self.refusal
        assert self.value is not None
        return self.value


def command(name: str, handler: Handler, timeout_s: float = 30) -> Function:
    """An arq job function running ``handler`` and pushing its reply to the caller.

    A refusal is an answer, not a failure: it is returned (and stored by arq) so the job is
    not retried. Any other exception propagates and arq retries the job.
    """

    async def run(ctx: dict[str, Any], envelope: dict[str, Any]) -> dict[str, Any]:
        correlation_id.set(envelope.get("correlation_id"))
        actor = Actor.from_payload(envelope["actor"])
        queue = ctx.get("queue_name", "")
        try:
            reply = Reply(value=await handler(ctx, actor, envelope["args"]))
        except Refusal as refusal:
            reply = Reply(refusal=refusal)
            log.info("command %s refused: %s", name, refusal.code)
            JOBS.labels(queue, name, "refused").inc()
        except Exception:
            JOBS.labels(queue, name, "error").inc()
            raise
        else:
            log.info("command %s done", name)
            JOBS.labels(queue, name, "ok").inc()
        payload = reply.as_payload()
        reply_to = envelope.get("reply_to")
        if reply_to:
            message = json.dumps({"job_id": ctx["job_id"], "reply": payload})
            await ctx["redis"].publish(reply_to, message)
        return payload

    run.__qualname__ = run.__name__ = name
    return func(run, name=name, timeout=timeout_s, max_tries=5)


class CommandBus:
    """The gateway's side: send a command to a service and wait a bounded time for its reply."""

    def __init__(self, redis: ArqRedis, settings: Settings) -> None:
        self._redis = redis
        self._settings = settings
        self._channel = f"{settings.namespace}:replies:{uuid.uuid4().hex}"
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="command-replies")
        await asyncio.wait_for(self._subscribed.wait(), timeout=10)

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener

    async def _listen(self) -> None:
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                self._subscribed.set()
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    data = json.loads(message["data"])
                    waiter = self._waiting.get(data["job_id"])
                    if waiter is not None and not waiter.done():
                        waiter.set_result(data["reply"])
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis went away: resubscribe; waiters fall back to polling
                log.warning("reply channel lost; resubscribing", exc_info=True)
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    def job_id(self, service: str, name: str, key: str) -> str:
        return f"{self._settings.namespace}:{service}:{name}:{key}"

    async def send(
        self,
        service: str,
        name: str,
        actor: Actor,
        args: dict[str, Any],
        key: str,
        timeout_s: float | None = None,
    ) -> Reply | None:
        """Send a command; its reply, or None if none came within the timeout (PENDING)."""
        timeout = self._settings.reply_timeout_s if timeout_s is None else timeout_s
        job_id = self.job_id(service, name, key)
        queue = self._settings.queue(service)
        envelope = {
            "actor": actor.as_payload(),
            "args": args,
            "reply_to": self._channel,
            "correlation_id": correlation_id.get(),
        }
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[job_id] = waiter
        try:
            job = await self._redis.enqueue_job(name, envelope, _job_id=job_id, _queue_name=queue)
            if job is None:
                # The same key was sent before (a retry): its stored result is the answer.
                return await self._stored_reply(job_id, queue, timeout)
            try:
                payload = await asyncio.wait_for(asyncio.shield(waiter), timeout)
            except TimeoutError:
                return await self._stored_reply(job_id, queue, 0)
            return Reply.from_payload(payload)
        finally:
            self._waiting.pop(job_id, None)

    async def _stored_reply(self, job_id: str, queue: str, wait_s: float) -> Reply | None:
        job = Job(job_id, self._redis, _queue_name=queue)
        deadline = asyncio.get_running_loop().time() + wait_s
        while True:
            info = await job.result_info()
            if info is not None and info.success:
                return Reply.from_payload(info.result)
            if await job.status() == JobStatus.not_found:
                return None
            if asyncio.get_running_loop().time() >= deadline:
                return None
            await asyncio.sleep(0.05)
