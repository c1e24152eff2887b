"""The gateway's share of observability: correlation ids on requests, metrics per operation,
and the /metrics endpoint (which also samples queue depths)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

from arq.connections import ArqRedis
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from services.common.commands import dead_letter_key
from services.common.observability import (
    DEAD_COMMANDS,
    GRAPHQL_LATENCY,
    GRAPHQL_REQUESTS,
    QUEUE_DEPTH,
    correlation_id,
    new_correlation_id,
)
from services.common.settings import QUEUED_SERVICES, Settings

_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


class CorrelationMiddleware:
    """Give every request a correlation id (the client's ``X-Request-ID`` when sane) and echo it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        offered = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        cid = offered if _ACCEPTABLE_ID.match(offered) else new_correlation_id()
        token = correlation_id.set(cid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("X-Request-ID", cid)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            correlation_id.reset(token)


class OperationMetrics(SchemaExtension):
    """Count and time each GraphQL operation by its (first) root field name."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        operation = context.operation_name or _root_field(context.query) or "unknown"
        result = context.result
        outcome = "error" if result is not None and result.errors else "ok"
        GRAPHQL_REQUESTS.labels(operation, outcome).inc()
        GRAPHQL_LATENCY.labels(operation).observe(time.perf_counter() - started)


_FIRST_FIELD = re.compile(r"\{\s*(?:\w+\s*:\s*)?(\w+)")


def _root_field(query: str | None) -> str | None:
    found = _FIRST_FIELD.search(query or "")
    return found.group(1) if found else None


async def render_metrics(redis: ArqRedis, settings: Settings) -> tuple[bytes, str]:
    """Prometheus text of this process, after sampling every service queue's depth."""
    for service in QUEUED_SERVICES:
        queue = settings.queue(service)
        QUEUE_DEPTH.labels(service).set(await redis.zcard(queue))
        DEAD_COMMANDS.labels(service).set(await redis.xlen(dead_letter_key(settings, service)))
    return generate_latest(), CONTENT_TYPE_LATEST
