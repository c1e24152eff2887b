"""Every command is answered: one that fails the same way on every attempt (a poison command) is
answered with a typed refusal and dead-lettered; the stream goes on serving the next command."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.cli import main as linli
from services.common.actor import ORGANISER, Actor
from services.common.commands import (
    GROUP,
    MAX_DELIVERIES,
    CommandBus,
    CommandConsumer,
    command,
    dead_commands,
    dead_letter_key,
    replay_dead_command,
    stream_key,
)
from services.common.observability import DEAD_LETTERED
from services.common.settings import Settings

SERVICE = "echo"
ACTOR = Actor("organiser-echo", frozenset({ORGANISER}), frozenset())
broken = {"now": False}


async def echo(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """Stores nothing, but has PostgreSQL read the text, as every handler's SQL does."""
    if broken["now"]:
        raise RuntimeError("a bug in this release")
    async with ctx["pool"].acquire() as conn:
        text: str = await conn.fetchval("SELECT $1::text", args["text"])
    return {"text": text}


@pytest.fixture
async def echo_bus(settings: Settings, redis: Any, pool: Any) -> AsyncIterator[tuple[CommandBus, Settings]]:
    """A bus and a worker of their own, claiming abandoned commands only after a minute (so
    whatever answers a poison command, it is not the claim of idle entries)."""
    own = settings.model_copy(
        update={"namespace": f"{settings.namespace}-echo-{uuid.uuid4().hex[:6]}", "command_claim_idle_s": 60}
    )
    bus = CommandBus(redis, own)
    await bus.start()
    consumer = CommandConsumer(redis, own, SERVICE, [command("echo", echo)], {"pool": pool})
    task = asyncio.create_task(consumer.run())
    try:
        yield bus, own
    finally:
        broken["now"] = False
        await consumer.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await bus.stop()


async def test_a_poison_command_is_answered_dead_lettered_and_does_not_block_the_stream(
    echo_bus: tuple[CommandBus, Settings], redis: Any
) -> None:
    bus, settings = echo_bus
    before = DEAD_LETTERED.labels(SERVICE, "echo")._value.get()

    poison = await bus.send(SERVICE, "echo", ACTOR, {"text": "节\u0000"}, key="poison-key-1", timeout_s=5)

    assert poison is not None and poison.refusal is not None  # answered, not STILL_PROCESSING
    assert poison.refusal.code == "BAD_USER_INPUT"
    assert poison.refusal.zh and poison.refusal.en
    good = await bus.send(SERVICE, "echo", ACTOR, {"text": "剪纸"}, key="good-key-01", timeout_s=2)
    assert good is not None and good.value == {"text": "剪纸"}
    again = await bus.send(SERVICE, "echo", ACTOR, {"text": "节\u0000"}, key="poison-key-1", timeout_s=2)
    assert again is not None and again.refusal is not None and again.refusal.code == "BAD_USER_INPUT"
    assert await redis.xlen(stream_key(settings, SERVICE)) == 0
    (dead,) = await dead_commands(redis, settings, SERVICE)
    assert (dead.name, dead.user_id, dead.code, dead.attempts) == ("echo", ACTOR.user_id, "BAD_USER_INPUT", 3)
    assert "CharacterNotInRepertoire" in dead.error or "encoding" in dead.error
    assert DEAD_LETTERED.labels(SERVICE, "echo")._value.get() == before + 1


async def test_a_dead_command_can_be_replayed_once_its_cause_is_fixed(
    echo_bus: tuple[CommandBus, Settings], redis: Any
) -> None:
    bus, settings = echo_bus
    broken["now"] = True
    failed = await bus.send(SERVICE, "echo", ACTOR, {"text": "书法"}, key="replay-key-1", timeout_s=5)
    assert failed is not None and failed.refusal is not None and failed.refusal.code == "COMMAND_FAILED"
    (dead,) = await dead_commands(redis, settings, SERVICE)

    broken["now"] = False  # the fix is deployed
    await replay_dead_command(redis, settings, SERVICE, dead.entry_id)

    answered = await bus.send(SERVICE, "echo", ACTOR, {"text": "书法"}, key="replay-key-1", timeout_s=5)
    assert answered is not None and answered.value == {"text": "书法"}
    assert await redis.xlen(dead_letter_key(settings, SERVICE)) == 0


async def test_operators_list_dead_commands_with_the_linli_command(
    settings: Settings, redis: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer_settings = settings.model_copy(update={"namespace": f"{settings.namespace}-cli"})
    monkeypatch.setenv("LINLI_NAMESPACE", consumer_settings.namespace)
    monkeypatch.setenv("DATABASE_URL", settings.database_url or "")
    monkeypatch.setenv("REDIS_URL", settings.redis_url or "")
    envelope_actor = Actor("resident-cli", frozenset(), frozenset())
    await redis.xadd(
        dead_letter_key(consumer_settings, "activities"),
        {
            "c": (
                '{"id":"activities:createFestival:resident-cli:k1","name":"createFestival",'
                f'"actor":{json.dumps(envelope_actor.as_payload())},"args":{{}}}}'
            ),
            "error": "ValueError: boom",
            "code": "COMMAND_FAILED",
            "attempts": "3",
            "at": "0",
        },
    )

    assert await asyncio.to_thread(linli, ["commands", "dead", "--service", "activities"]) == 0

    printed = capsys.readouterr().out
    assert '"name": "createFestival"' in printed and '"user_id": "resident-cli"' in printed


async def test_dead_commands_are_counted_on_the_metrics_page(
    client: Any, redis: Any, settings: Settings
) -> None:
    dead = dead_letter_key(settings, "volunteers")
    await redis.xadd(dead, {"c": "{}", "error": "ValueError: boom", "code": "COMMAND_FAILED"})
    try:
        page = (await client.get("/metrics")).text
    finally:
        await redis.delete(dead)

    counted = [
        line for line in page.splitlines() if line.startswith('linli_dead_commands{service="volunteers"}')
    ]
    assert counted and float(counted[0].split()[-1]) >= 1


async def test_a_command_that_kills_its_worker_every_time_is_dead_lettered_not_run_again(
    settings: Settings, redis: Any, pool: Any
) -> None:
    own = settings.model_copy(
        update={
            "namespace": f"{settings.namespace}-killer-{uuid.uuid4().hex[:6]}",
            "command_claim_idle_s": 0.2,
        }
    )
    stream = stream_key(own, SERVICE)
    await redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
    bus = CommandBus(redis, own)
    await bus.start()
    ran: list[dict[str, Any]] = []

    async def counting(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
        ran.append(args)
        return {}

    try:
        assert (
            await bus.send(SERVICE, "echo", ACTOR, {"text": "x"}, key="killer-key-1", timeout_s=0.1) is None
        )
        # Worker after worker took it and died before answering.
        taken = await redis.xreadgroup(GROUP, "doomed", {stream: ">"}, count=1)
        entry_id = taken[0][1][0][0]
        await redis.xclaim(stream, GROUP, "doomed", 0, [entry_id], retrycount=MAX_DELIVERIES + 1)
        consumer = CommandConsumer(redis, own, SERVICE, [command("echo", counting)], {"pool": pool})
        task = asyncio.create_task(consumer.run())
        try:
            reply = await bus.send(SERVICE, "echo", ACTOR, {"text": "x"}, key="killer-key-1", timeout_s=5)
        finally:
            await consumer.stop()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    finally:
        await bus.stop()

    assert reply is not None and reply.refusal is not None and reply.refusal.code == "COMMAND_FAILED"
    assert ran == []
    (dead,) = await dead_commands(redis, own, SERVICE)
    assert dead.attempts == MAX_DELIVERIES and await redis.xlen(stream) == 0
