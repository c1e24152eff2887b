"""The volunteers worker. Shifts and check-ins come with their own issue; until then it runs
its outbox relay and a liveness command so the process and its queue are real from day one."""

from __future__ import annotations

from typing import Any

from services.common.actor import Actor
from services.common.commands import command
from services.common.worker import ServiceWorker
from services.notify.contracts import CONSUMES
from services.volunteers.contracts import SERVICE


async def ping(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    async with ctx["pool"].acquire() as conn:
        await conn.fetchval("SELECT 1")
    return {"service": SERVICE}


VOLUNTEERS_WORKER = ServiceWorker(
    name=SERVICE, functions=[command("ping", ping)], routes={"notify": CONSUMES}
)
