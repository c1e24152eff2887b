"""The one way the gateway sends a command to a service: its key, its answer, PENDING.

The bus names a command ``service:command:actor:key``; the key is the client's idempotency
key, or, where the client sends none, one derived from the command's arguments and the state
it changes (a version read through the service's ``queries``): a double click or a retry
names the same command and is done once, while the same request after the state moved on is
a new one. Never a random key, which would do the thing again on every retry.

The bus fingerprints the arguments with the key, so a client key sent again with other
arguments is refused (IDEMPOTENCY_KEY_REUSED), not answered with the first reply.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from services.common.actor import Actor
from services.common.commands import Reply
from services.gateway.context import Info
from services.gateway.inputs import check_key, still_processing

T = TypeVar("T")

# A derived key is marked so that it never equals a client's key for another request.
DERIVED_PREFIX = "state-"


def derived_key(*state: Any) -> str:
    """A key named by what the command does: its arguments and the state it changes."""
    canonical = json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return DERIVED_PREFIX + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def command_key(client_key: str | None, *state: Any) -> str:
    """The client's idempotency key (checked), or the key derived from ``state``."""
    return check_key(client_key) if client_key is not None else derived_key(*state)


async def send(
    info: Info, service: str, name: str, actor: Actor, args: dict[str, Any], key: str
) -> Reply | None:
    """Send a command; its reply, or None while it is still in flight (PENDING)."""
    bus = info.context.bus
    reply = await bus.send(service, name, actor, args, key=key)
    if reply is not None and reply.refusal is not None and key.startswith(DERIVED_PREFIX):
        # A refused command changed nothing: asked again (once the state allows it), it runs
        # again, where a client's key would keep answering with the refusal.
        await bus.release(service, name, actor, key)
    return reply


async def answer(
    info: Info,
    service: str,
    name: str,
    actor: Actor,
    args: dict[str, Any],
    key: str,
    reply: Callable[[dict[str, Any]], T],
) -> T:
    """Send a command and return its answer typed by ``reply`` (a contract's dataclass); a
    refusal is raised, and no answer within the reply timeout is STILL_PROCESSING (the same
    request may be sent again safely)."""
    sent = await send(info, service, name, actor, args, key)
    if sent is None:
        raise still_processing()
    return reply(sent.unwrap())


async def perform(info: Info, service: str, name: str, actor: Actor, args: dict[str, Any], key: str) -> None:
    """Send a command whose answer is only that it was done (the caller reads what changed);
    a refusal is raised, no answer in time is STILL_PROCESSING."""
    await answer(info, service, name, actor, args, key, _done)


def _done(_value: dict[str, Any]) -> None:
    return None


def created_id(reply: dict[str, Any]) -> str:
    """The answer of a command that creates something: the id of what it made (or had made)."""
    return str(reply["id"])
