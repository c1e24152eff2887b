"""Commands as request and reply over Redis, built for bursts.

Why not arq here (arq still carries events and deferred jobs): arq offers only polling for
results, and costs about nine Redis round trips, a pickle and two log lines per job. When
registration opens, hundreds of residents sign up in the same second, so the command path
is engineered instead:

- The gateway appends a command to its service's Redis *stream* (one round trip) and waits
  on a future; the worker *pushes* the reply on the gateway's pub/sub channel.
- A worker reads commands in batches through a consumer group, so a batch handler (the
  sign-up) can take many commands for the same session in one transaction.
- A command is acknowledged only after its reply is stored; one left unacknowledged by a
  crashed worker is claimed by another after ``command_claim_idle_s``. Handlers are idempotent
  (ids follow from idempotency keys), so a second run gives the same answer.
- A command's id is derived from the client's idempotency key; a retried submission does
  not enter the stream again but waits for (or reads) the stored reply.
- Every command is answered. One that fails for a reason that will not go away (a *poison*
  command: bad data PostgreSQL refuses, a bug) is tried again at once a bounded number of
  times, then answered with a typed refusal and moved to the service's *dead-letter* stream;
  one that fails because a server is away waits to be claimed again, and after
  ``MAX_DELIVERIES`` goes the same way. Operators list and replay dead commands with
  ``linli commands dead`` / ``linli commands replay``; ``/metrics`` counts them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.common import tracing
from services.common.actor import Actor
from services.common.errors import Refusal
from services.common.observability import DEAD_LETTERED, JOBS, correlation_id
from services.common.pubsub import Follower
from services.common.settings import Settings
from services.common.slots import hash_tag

log = logging.getLogger("linli.commands")

Handler = Callable[[dict[str, Any], Actor, dict[str, Any]], Awaitable[dict[str, Any]]]
# A batch handler answers each command with a Reply, or with the exception that command alone
# failed with (a poison one): that one is tried again on its own, the rest are answered.
BatchHandler = Callable[[dict[str, Any], Sequence["Envelope"]], Awaitable[Sequence["Reply | Exception"]]]

GROUP = "workers"
MAX_DELIVERIES = 5
# A command failing for a lasting reason is tried this many times in a row, then dead-lettered.
POISON_ATTEMPTS = 3
POISON_BACKOFF_S = 0.05
REPLY_TTL_S = 3600
DEAD_LETTER_MAXLEN = 10_000

# Failures that say a server is away or busy, not that the command is bad: retried later.
TRANSIENT_FAILURES: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    RedisConnectionError,
    RedisTimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.QueryCanceledError,
)


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


@dataclass(frozen=True)
class Envelope:
    """One command as it travels: who asked, what, and where the answer goes."""

    command_id: str
    name: str
    actor: Actor
    args: dict[str, Any]
    reply_to: str | None
    correlation_id: str | None
    # W3C trace context: the sender's span; in a handler's hands, the span of its handling.
    traceparent: str | None = None

    def encode(self) -> str:
        data = {
            "id": self.command_id,
            "name": self.name,
            "actor": self.actor.as_payload(),
            "args": self.args,
            "reply_to": self.reply_to,
            "correlation_id": self.correlation_id,
        }
        if self.traceparent is not None:
            data["traceparent"] = self.traceparent
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str | bytes) -> Envelope:
        data = json.loads(text)
        return cls(
            data["id"],
            data["name"],
            Actor.from_payload(data["actor"]),
            data["args"],
            data.get("reply_to"),
            data.get("correlation_id"),
            data.get("traceparent"),
        )

    def traced(self, traceparent: str | None) -> Envelope:
        return dataclasses.replace(self, traceparent=traceparent)


def _handling(
    service: str, envelopes: Sequence[Envelope]
) -> contextlib.AbstractContextManager[Sequence[Envelope]]:
    """A span per command handled (in its sender's trace); the handler gets the envelopes
    rebound to them, so the events it writes continue each command's trace."""
    return tracing.batch_spans(
        envelopes,
        name=lambda env: f"handle {env.name}",
        parent=lambda env: env.traceparent,
        rebind=Envelope.traced,
        service=service,
        attributes=lambda env: {"linli.command": env.name, "linli.command_id": env.command_id},
    )


@dataclass(frozen=True)
class Command:
    """A command a service's worker answers: one at a time, or many in one go."""

    name: str
    handler: Handler | None = None
    batch_handler: BatchHandler | None = None


def command(name: str, handler: Handler) -> Command:
    """A command answered one at a time by ``handler(ctx, actor, args)``.

    A refusal is an answer, not a failure; any other exception leaves the command
    unacknowledged, to be retried.
    """
    return Command(name, handler=handler)


def batch_command(name: str, batch_handler: BatchHandler) -> Command:
    """A command answered in batches: ``batch_handler(ctx, envelopes)`` returns one reply each,
    or the exception one of them failed with on its own (it is then retried alone, as a command
    answered one at a time would be; the others keep their replies)."""
    return Command(name, batch_handler=batch_handler)


def stream_key(settings: Settings, service: str) -> str:
    return f"{settings.namespace}:commands:{service}"


def claim_key(settings: Settings, service: str, command_id: str) -> str:
    """Where a command's id is claimed: in its stream's hash slot, as ``_SEND_ONCE`` needs."""
    return f"{hash_tag(stream_key(settings, service))}:command:{command_id}"


def send_once_keys(settings: Settings, service: str, command_id: str) -> list[str]:
    """``_SEND_ONCE``'s keys: the claim, the stream and the reply, one slot."""
    return [
        claim_key(settings, service, command_id),
        stream_key(settings, service),
        reply_key(settings, service, command_id),
    ]


def reply_key(settings: Settings, service: str, command_id: str) -> str:
    """Where a command's reply is kept: in its stream's hash slot, as ``_SEND_ONCE`` clears it."""
    return f"{hash_tag(stream_key(settings, service))}:reply:{command_id}"


def _attempts_key(settings: Settings, command_id: str) -> str:
    return f"{settings.namespace}:attempts:{command_id}"


def dead_letter_key(settings: Settings, service: str) -> str:
    return f"{settings.namespace}:dead:{service}"


def failed_refusal(name: str, error: BaseException) -> Refusal:
    """The answer to a command given up on: bad data PostgreSQL refused is the sender's input;
    anything else failed repeatedly."""
    if isinstance(error, asyncpg.DataError):
        return Refusal(
            "BAD_USER_INPUT",
            "输入的内容无法保存（含有不允许的字符或超出范围的数值），请修改后重试",
            "The input cannot be stored (a character not allowed, or a number out of range); correct it",
            {"field": None, "command": name},
        )
    return Refusal(
        "COMMAND_FAILED",
        "操作多次失败，请稍后重试或联系社区工作人员",
        "This request failed repeatedly; try later or ask community staff",
        {"command": name},
    )


# The claim holds the fingerprint of the command's arguments: the same key sent again with
# other arguments (another session, say) is refused, not answered with the first one's reply.
# 1: sent now (a reply left from a released claim is not its answer); 0: sent before with these
# arguments; -1: sent before with other arguments.
_SEND_ONCE = """
if redis.call('SET', KEYS[1], ARGV[3], 'NX', 'EX', ARGV[2]) then
  redis.call('DEL', KEYS[3])
  redis.call('XADD', KEYS[2], '*', 'c', ARGV[1])
  return 1
end
local held = redis.call('GET', KEYS[1])
if held == ARGV[3] or held == '1' or not held then
  return 0
end
return -1
"""


def fingerprint(args: dict[str, Any]) -> str:
    """A command's arguments, digested: equal for equal arguments whatever their order."""
    canonical = json.dumps(args, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def key_reused() -> Refusal:
    return Refusal(
        "IDEMPOTENCY_KEY_REUSED",
        "内容和刚才提交的不一样，请再提交一次",
        "This idempotency key was already used for a different request; send it with a new key",
    )


class CommandBus:
    """The sending side (gateway, demo loader): send a command, wait a bounded time for its reply."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._redis = redis
        self._settings = settings
        self._channel = f"{settings.namespace}:replies:{uuid.uuid4().hex}"
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._subscribed = asyncio.Event()
        # Redis went away: it resubscribes; meanwhile waiters fall back to stored replies.
        self._listener = Follower(redis, self._listen, "command-replies", log)
        # Claim the command id and append the command in one round trip.
        self._send_once = redis.register_script(_SEND_ONCE)

    async def start(self) -> None:
        self._listener.start()
        await asyncio.wait_for(self._subscribed.wait(), timeout=10)

    async def stop(self) -> None:
        await self._listener.stop()

    async def _listen(self, pubsub: PubSub) -> None:
        await pubsub.subscribe(self._channel)
        self._subscribed.set()
        async for message in pubsub.listen():
            if message.get("type") != "message":
                continue
            data = json.loads(message["data"])
            waiter = self._waiting.get(data["id"])
            if waiter is not None and not waiter.done():
                waiter.set_result(data["reply"])

    def command_id(self, service: str, name: str, actor: Actor, key: str) -> str:
        """Idempotency keys are the client's: one person's key never answers for another's."""
        return f"{service}:{name}:{actor.user_id}:{key}"

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
        command_id = self.command_id(service, name, actor, key)
        attributes = {"linli.command": name, "messaging.destination.name": service}
        with tracing.span(f"send {name}", "gateway", tracing.SpanKind.PRODUCER, attributes=attributes):
            return await self._send(service, name, actor, args, command_id, timeout)

    async def _send(
        self, service: str, name: str, actor: Actor, args: dict[str, Any], command_id: str, wait_s: float
    ) -> Reply | None:
        envelope = Envelope(
            command_id, name, actor, args, self._channel, correlation_id.get(), tracing.current_traceparent()
        )
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[command_id] = waiter
        try:
            keys = send_once_keys(self._settings, service, command_id)
            sent = await self._send_once(keys=keys, args=[envelope.encode(), REPLY_TTL_S, fingerprint(args)])
            if sent == -1:  # the same key, other arguments: not a retry but a mistake
                return Reply(refusal=key_reused())
            if sent == 0:  # the same key was sent before (a retry): its reply is the answer
                return await self._stored_reply(service, command_id, wait_s)
            try:
                payload = await asyncio.wait_for(asyncio.shield(waiter), wait_s)
            except TimeoutError:
                return await self._stored_reply(service, command_id, 0)
            return Reply.from_payload(payload)
        finally:
            self._waiting.pop(command_id, None)

    async def release(self, service: str, name: str, actor: Actor, key: str) -> None:
        """Forget that the command was sent: the same key sent again is a new command. Its
        stored reply stays, for a retry already waiting on it, until the key is sent again."""
        command_id = self.command_id(service, name, actor, key)
        await self._redis.delete(claim_key(self._settings, service, command_id))

    async def _stored_reply(self, service: str, command_id: str, wait_s: float) -> Reply | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            stored = await self._redis.get(reply_key(self._settings, service, command_id))
            if stored is not None:
                return Reply.from_payload(json.loads(stored))
            if loop.time() >= deadline:
                return None
            await asyncio.sleep(0.05)


class CommandConsumer:
    """The worker's side: read commands in batches, answer them, store and push the replies."""

    def __init__(
        self,
        redis: Redis,
        settings: Settings,
        service: str,
        commands: Sequence[Command],
        ctx: dict[str, Any],
        batch: int = 200,
    ) -> None:
        self._redis = redis
        self._settings = settings
        self._service = service
        self._stream = stream_key(settings, service)
        self._commands = {c.name: c for c in commands}
        self._ctx = ctx
        self._batch = batch
        self._name = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._stopping = asyncio.Event()
        self._busy = asyncio.Lock()
        self._queue = settings.queue(service)
        self._claim_idle_ms = int(settings.command_claim_idle_s * 1000)

    async def _ensure_group(self) -> None:
        with contextlib.suppress(ResponseError):  # BUSYGROUP: another worker made it first
            await self._redis.xgroup_create(self._stream, GROUP, id="0", mkstream=True)

    async def run(self) -> None:
        await self._ensure_group()
        next_claim = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            try:
                if loop.time() >= next_claim:
                    await self._claim_abandoned()
                    await self._forget_departed()
                    next_claim = loop.time() + self._claim_idle_ms / 3000
                found = await self._redis.xreadgroup(
                    GROUP, self._name, {self._stream: ">"}, count=self._batch, block=1000
                )
                for _stream, entries in found or []:
                    async with self._busy:
                        await self._answer(entries)
            except asyncio.CancelledError:
                raise
            except ResponseError as exc:
                # NOGROUP / UNBLOCKED: Redis came back without our stream (a restart without
                # persistence, a failover): make it again, or every command would wait forever.
                log.warning("command stream %s unusable (%s); creating it again", self._stream, exc)
                await self._ensure_group()
                await asyncio.sleep(0.1)
            except Exception:
                log.warning("command consumer of %s failed; retrying", self._stream, exc_info=True)
                await asyncio.sleep(0.5)

    async def stop(self, grace_s: float = 10) -> None:
        """Stop reading, and let the batch in hand finish (its commits must get their replies)."""
        self._stopping.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace_s):
                async with self._busy:
                    pass

    async def _forget_departed(self) -> None:
        """Remove consumers of workers long gone (nothing pending, idle for an hour), so the
        group does not grow with every restart."""
        for consumer in await self._redis.xinfo_consumers(self._stream, GROUP):
            name = consumer["name"].decode() if isinstance(consumer["name"], bytes) else consumer["name"]
            if name != self._name and consumer["pending"] == 0 and consumer["idle"] > 3_600_000:
                await self._redis.xgroup_delconsumer(self._stream, GROUP, name)

    async def _claim_abandoned(self) -> None:
        """Take over commands a dead worker read but never acknowledged."""
        _next, entries, _deleted = await self._redis.xautoclaim(
            self._stream, GROUP, self._name, min_idle_time=self._claim_idle_ms, count=self._batch
        )
        if entries:
            log.warning("claimed %d abandoned commands", len(entries))
            spent = await self._spent([entry_id for entry_id, _ in entries])
            async with self._busy:
                await self._answer(entries, spent)

    async def _spent(self, entry_ids: list[Any]) -> set[str]:
        """The entries delivered more than MAX_DELIVERIES times already: each time a worker took
        one it died before answering (a command that kills its worker), so it is not run again."""
        ids = sorted(_text(entry_id) for entry_id in entry_ids)
        pending = await self._redis.xpending_range(
            self._stream, GROUP, min=ids[0], max=ids[-1], count=len(ids) + 1000
        )
        wanted = set(ids)
        return {
            _text(item["message_id"])
            for item in pending
            if _text(item["message_id"]) in wanted and int(item["times_delivered"]) > MAX_DELIVERIES
        }

    async def _answer(self, entries: list[tuple[Any, dict[Any, Any]]], spent: set[str] | None = None) -> None:
        by_name: dict[str, list[tuple[Any, Envelope]]] = {}
        unreadable = []
        dead: list[tuple[Any, Envelope, Reply]] = []
        for entry_id, fields in entries:
            try:
                envelope = Envelope.decode(fields.get(b"c") or fields.get("c") or b"")
            except (ValueError, KeyError, TypeError):
                unreadable.append(entry_id)  # nobody can answer it; it must not block the rest
                continue
            if spent and _text(entry_id) in spent:
                died = RuntimeError(f"a worker died handling it {MAX_DELIVERIES} times or more")
                dead.append((entry_id, envelope, await self._dead_letter(envelope, died, MAX_DELIVERIES)))
                continue
            by_name.setdefault(envelope.name, []).append((entry_id, envelope))
        if unreadable:
            log.error("dropping %d unreadable commands from %s", len(unreadable), self._stream)
            await self._redis.xack(self._stream, GROUP, *unreadable)
            await self._redis.xdel(self._stream, *unreadable)
        answered = dead
        for name, items in by_name.items():
            answered += await self._run(name, items)
        if not answered:
            return
        pipe = self._redis.pipeline(transaction=False)
        for _entry_id, envelope, reply in answered:
            payload = reply.as_payload()
            stored_at = reply_key(self._settings, self._service, envelope.command_id)
            pipe.set(stored_at, json.dumps(payload), ex=REPLY_TTL_S)
            if envelope.reply_to:
                pipe.publish(envelope.reply_to, json.dumps({"id": envelope.command_id, "reply": payload}))
        done = [entry_id for entry_id, _, _ in answered]
        pipe.xack(self._stream, GROUP, *done)
        pipe.xdel(self._stream, *done)
        await pipe.execute()

    async def _run(self, name: str, items: list[tuple[Any, Envelope]]) -> list[tuple[Any, Envelope, Reply]]:
        known = self._commands.get(name)
        if known is None:
            unknown = Refusal("UNKNOWN_COMMAND", "未知的操作", f"Unknown command {name}")
            return [(entry_id, env, Reply(refusal=unknown)) for entry_id, env in items]
        if known.batch_handler is not None and len(items) > 1:
            try:
                with _handling(self._service, [env for _, env in items]) as envelopes:
                    replies = await known.batch_handler(self._ctx, envelopes)
            except Exception:
                # One bad command must not hold up the rest: answer them one by one.
                log.warning("batch of %d %s failed; retrying one by one", len(items), name, exc_info=True)
                one_by_one: list[tuple[Any, Envelope, Reply]] = []
                for item in items:
                    one_by_one += await self._run(name, [item])
                return one_by_one
            results: Sequence[Reply | Exception] = replies
            done = [(env, r) for (_, env), r in zip(items, results, strict=True) if isinstance(r, Reply)]
            self._count(name, [env for env, _ in done], [reply for _, reply in done])
            for failed in results:
                if isinstance(failed, Exception):
                    log.warning("command %s of a batch failed", name, exc_info=failed)
        else:
            results = await asyncio.gather(*(self._run_one(known, env) for _, env in items))
        answered: list[tuple[Any, Envelope, Reply]] = []
        for (entry_id, env), result in zip(items, results, strict=True):
            if isinstance(result, Reply):
                answered.append((entry_id, env, result))
            else:
                answered += await self._failed(known, entry_id, env, result)
        return answered

    async def _run_one(self, known: Command, envelope: Envelope) -> Reply | Exception:
        """The command's reply, or the exception it failed with."""
        token = correlation_id.set(envelope.correlation_id)
        try:
            with _handling(self._service, [envelope]) as (traced,):
                try:
                    if known.handler is not None:
                        reply = Reply(value=await known.handler(self._ctx, traced.actor, traced.args))
                    else:
                        assert known.batch_handler is not None
                        (answer,) = await known.batch_handler(self._ctx, [traced])
                        if isinstance(answer, Exception):
                            raise answer
                        reply = answer
                except Refusal as refusal:
                    reply = Reply(refusal=refusal)
        except Exception as exc:
            log.warning("command %s failed", known.name, exc_info=True)
            return exc
        finally:
            correlation_id.reset(token)
        self._count(known.name, [envelope], [reply])
        return reply

    def _count(self, name: str, envelopes: Sequence[Envelope], replies: Sequence[Reply]) -> None:
        for envelope, reply in zip(envelopes, replies, strict=True):
            outcome = "refused" if reply.refusal is not None else "ok"
            JOBS.labels(self._queue, name, outcome).inc()
            token = correlation_id.set(envelope.correlation_id)
            if reply.refusal is not None:
                log.info("command %s refused: %s", name, reply.refusal.code)
            else:
                log.info("command %s done", name)
            correlation_id.reset(token)

    async def _failed(
        self, known: Command, entry_id: Any, envelope: Envelope, error: Exception
    ) -> list[tuple[Any, Envelope, Reply]]:
        """A command that failed: tried again at once if the failure is lasting (a poison
        command), left for a later claim if a server is away; dead-lettered and answered
        once it has had its attempts. Empty: not answered yet."""
        JOBS.labels(self._queue, known.name, "error").inc()
        attempts_key = _attempts_key(self._settings, envelope.command_id)
        attempts = int(await self._redis.incr(attempts_key))
        await self._redis.expire(attempts_key, REPLY_TTL_S)
        if isinstance(error, TRANSIENT_FAILURES):
            if attempts < MAX_DELIVERIES:
                return []  # claimed again after command_claim_idle_s
        else:
            while attempts < POISON_ATTEMPTS:
                await asyncio.sleep(POISON_BACKOFF_S * attempts)
                result = await self._run_one(known, envelope)
                if isinstance(result, Reply):
                    return [(entry_id, envelope, result)]
                error = result
                attempts = int(await self._redis.incr(attempts_key))
                if isinstance(error, TRANSIENT_FAILURES):
                    return []
        return [(entry_id, envelope, await self._dead_letter(envelope, error, attempts))]

    async def _dead_letter(self, envelope: Envelope, error: BaseException, attempts: int) -> Reply:
        refusal = failed_refusal(envelope.name, error)
        log.error(
            "command %s (%s) dead-lettered after %d attempts: %s",
            envelope.name,
            envelope.command_id,
            attempts,
            type(error).__name__,
        )
        DEAD_LETTERED.labels(self._service, envelope.name).inc()
        await self._redis.xadd(
            dead_letter_key(self._settings, self._service),
            {
                "c": envelope.encode(),
                "error": f"{type(error).__name__}: {error}"[:500],
                "code": refusal.code,
                "attempts": str(attempts),
                "at": str(int(time.time())),
            },
            maxlen=DEAD_LETTER_MAXLEN,
            approximate=True,
        )
        return Reply(refusal=refusal)


@dataclass(frozen=True)
class DeadCommand:
    """A command given up on, as operators see it."""

    entry_id: str
    service: str
    command_id: str
    name: str
    user_id: str
    error: str
    code: str
    attempts: int
    at: int


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _dead_command(entry_id: Any, raw: dict[Any, Any], service: str) -> tuple[DeadCommand, Envelope]:
    fields = {_text(k): _text(v) for k, v in raw.items()}
    envelope = Envelope.decode(fields["c"])
    found = DeadCommand(
        _text(entry_id),
        service,
        envelope.command_id,
        envelope.name,
        envelope.actor.user_id,
        fields.get("error", ""),
        fields.get("code", ""),
        int(fields.get("attempts", "0")),
        int(fields.get("at", "0")),
    )
    return found, envelope


async def dead_commands(
    redis: Redis, settings: Settings, service: str, count: int = 100
) -> list[DeadCommand]:
    """The service's dead commands, oldest first."""
    entries = await redis.xrange(dead_letter_key(settings, service), count=count)
    return [_dead_command(entry_id, raw, service)[0] for entry_id, raw in entries]


async def replay_dead_command(redis: Redis, settings: Settings, service: str, entry_id: str) -> DeadCommand:
    """Send a dead command to its service again (once its cause is fixed): its stored answer
    and attempts are forgotten, so a retry with the same key waits for the new answer."""
    dead = dead_letter_key(settings, service)
    entries = await redis.xrange(dead, min=entry_id, max=entry_id)
    if not entries:
        raise Refusal("NOT_FOUND", "找不到该失败的操作", f"No dead command {entry_id} in {service}")
    found, envelope = _dead_command(entries[0][0], entries[0][1], service)
    again = Envelope(
        envelope.command_id,
        envelope.name,
        envelope.actor,
        envelope.args,
        None,
        envelope.correlation_id,
        envelope.traceparent,
    )
    pipe = redis.pipeline(transaction=True)
    command_id = envelope.command_id
    pipe.delete(reply_key(settings, service, command_id), _attempts_key(settings, command_id))
    pipe.set(claim_key(settings, service, envelope.command_id), fingerprint(envelope.args), ex=REPLY_TTL_S)
    pipe.xadd(stream_key(settings, service), {"c": again.encode()})
    pipe.xdel(dead, entry_id)
    await pipe.execute()
    return found
