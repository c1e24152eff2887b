"""The gateway's share of observability: correlation ids and trace spans on requests, metrics
and spans per operation, and the /metrics endpoint (which also samples queue depths)."""

from __future__ import annotations

import re
import time

from arq.connections import ArqRedis
from graphql import DocumentNode, FieldNode, GraphQLError, GraphQLSchema, get_operation_ast
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common import tracing
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
# Probes and scrapes come every few seconds from every pod: traced, they would bury the residents'.
_UNTRACED = frozenset({"/healthz", "/readyz", "/metrics"})


class CorrelationMiddleware:
    """Give every request a correlation id (the client's ``X-Request-ID`` when sane) and echo it;
    when tracing is on, an HTTP request is a server span too (under the client's ``traceparent``
    if it sent one), with the correlation id among its attributes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        offered = headers.get(b"x-request-id", b"").decode("latin-1")
        cid = offered if _ACCEPTABLE_ID.match(offered) else new_correlation_id()
        token = correlation_id.set(cid)
        span: tracing.Span | None = None

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("X-Request-ID", cid)
                if span is not None:
                    span.set_attribute("http.response.status_code", message["status"])
            await send(message)

        try:
            if scope["type"] != "http" or not tracing.enabled() or scope["path"] in _UNTRACED:
                await self.app(scope, receive, send_with_id)
                return
            method = scope["method"]
            parent = headers.get(b"traceparent", b"").decode("latin-1") or None
            attributes = {
                "http.request.method": method,
                "url.path": scope["path"],
                "linli.correlation_id": cid,
            }
            with tracing.span(method, "gateway", tracing.SpanKind.SERVER, parent, attributes) as span:
                await self.app(scope, receive, send_with_id)
                if span is not None and "endpoint" in scope:  # a route took it (else: the method alone)
                    route = http_route(scope)
                    span.set_attribute("http.route", route)
                    span.update_name(f"{method} {route}")
        finally:
            correlation_id.reset(token)


def http_route(scope: Scope) -> str:
    """The request's path with the router's path parameters put back as ``{name}``: a span name
    that does not grow with every ticket or session id (nor, unrouted, with every path a client
    makes up)."""
    path: str = scope["path"]
    for name, value in reversed((scope.get("path_params") or {}).items()):  # from the right
        head, found, tail = path.rpartition(str(value))
        if found:
            path = head + "{" + name + "}" + tail
    return path


OTHER = "other"


def observed_operation(
    span: tracing.Span | None,
    schema: GraphQLSchema,
    document: DocumentNode | None,
    operation_name: str | None,
    failed: bool,
) -> str:
    """The operation's label for the metrics, by its first root field's schema name, and (when
    tracing is on) its span named the same way: ``mutation signUp``.

    Labels come from a closed set, the schema's root field names plus ``other``: the client's
    ``operationName``, aliases and unknown fields never become a label, so nobody (logged in or
    not) can grow the number of series by inventing names."""
    operation = operation_label(schema, document, operation_name)
    if span is not None:
        kind = operation_kind(document, operation_name)
        span.update_name(f"{kind} {operation}")
        span.set_attributes(
            {
                "graphql.operation.type": kind,
                "graphql.operation.name": operation,
                "linli.outcome": "error" if failed else "ok",
            }
        )
    return operation


def count_operation(operation: str, failed: bool, started: float) -> None:
    """Count and time an operation that ``observed_operation`` labelled (``started``: its
    ``time.perf_counter()`` at the start)."""
    series = _SERIES.get((operation, failed))
    if series is None:  # labels() takes a lock and builds a key: once per label, not per request
        outcome = "error" if failed else "ok"
        series = _SERIES[operation, failed] = (
            GRAPHQL_REQUESTS.labels(operation, outcome),
            GRAPHQL_LATENCY.labels(operation),
        )
    requests, latency = series
    requests.inc()
    latency.observe(time.perf_counter() - started)


# At most two per label, and labels are a closed set (operation_label).
_SERIES: dict[tuple[str, bool], tuple[Counter, Histogram]] = {}


_ROOT_FIELDS: dict[int, frozenset[str]] = {}


def root_field_names(schema: GraphQLSchema) -> frozenset[str]:
    """Every field of the schema's query, mutation and subscription types."""
    names = _ROOT_FIELDS.get(id(schema))
    if names is None:
        roots = (schema.query_type, schema.mutation_type, schema.subscription_type)
        names = frozenset(name for root in roots if root is not None for name in root.fields)
        _ROOT_FIELDS[id(schema)] = names
    return names


def operation_label(schema: GraphQLSchema, document: DocumentNode | None, name: str | None) -> str:
    """The schema name of the operation's first root field when it is one, else ``other``."""
    if document is None:
        return OTHER
    try:
        operation = get_operation_ast(document, name)
    except GraphQLError:
        return OTHER
    if operation is None or not operation.selection_set.selections:
        return OTHER
    first = operation.selection_set.selections[0]
    if not isinstance(first, FieldNode):
        return OTHER
    field = first.name.value
    return field if field in root_field_names(schema) else OTHER


def operation_kind(document: DocumentNode | None, name: str | None) -> str:
    """``query``, ``mutation`` or ``subscription``; ``graphql`` when the document names none."""
    if document is None:
        return "graphql"
    try:
        operation = get_operation_ast(document, name)
    except GraphQLError:
        return "graphql"
    return operation.operation.value if operation is not None else "graphql"


async def sample_queue_depths(redis: ArqRedis, settings: Settings) -> None:
    """Each service's queue depth and dead commands, as the next scrape should see them."""
    for service in QUEUED_SERVICES:
        queue = settings.queue(service)
        QUEUE_DEPTH.labels(service).set(await redis.zcard(queue))
        DEAD_COMMANDS.labels(service).set(await redis.xlen(dead_letter_key(settings, service)))


async def render_metrics(redis: ArqRedis, settings: Settings) -> tuple[bytes, str]:
    """Prometheus text of this process, after sampling every service queue's depth."""
    await sample_queue_depths(redis, settings)
    return generate_latest(), CONTENT_TYPE_LATEST
