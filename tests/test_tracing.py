"""Tracing: a resident's sign-up is one trace, from the gateway's HTTP request through the
activities worker's handling and the relayed event to notify's e-mail; with tracing off, nothing
is traced and the envelopes carry no trace context.

The gateway and the workers run in this process on the real servers (tests/conftest.py); spans
go to an in-memory exporter installed for the test.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import signal
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_trace_id

from services.activities.contracts import SIGN_UP as SIGN_UP_COMMAND
from services.activities.contracts import id_for
from services.activities.worker import ACTIVITIES_WORKER
from services.common import tracing
from services.common.actor import RESIDENT, Actor
from services.common.clock import now
from services.common.commands import Envelope, stream_key
from services.common.observability import JsonFormatter
from services.common.redelivery import resend_unconsumed
from services.common.settings import Settings
from tests.conftest import COMMUNITY, ROOT, SIGN_UP, GraphQLClient, eventually
from tests.dates import FESTIVAL_DAY, at_iso
from tests.identity_steps import REQUEST_CODE, new_phone, texted_code
from tests.test_launcher import free_port
from tests.test_wheel import started, wait_for

SET_PREFERENCES = """
mutation($input: NotificationPreferencesInput!) {
  setNotificationPreferences(input: $input) { channels }
}
"""
ANY_HOUR = {"quietStart": "00:00", "quietEnd": "00:00"}


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    """Tracing on, into memory, for one test; off again after it."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use(provider)
    yield exporter
    tracing.use(None)
    provider.shutdown()


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def span_id(span: ReadableSpan | tracing.Span) -> int:
    return span.get_span_context().span_id


def trace_id(span: ReadableSpan | tracing.Span) -> int:
    return span.get_span_context().trace_id


def the_one(spans: list[ReadableSpan], name: str, service: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name and s.attributes and s.attributes["linli.service"] == service]
    assert len(found) == 1, f"{name} in {service}: {[(s.name, dict(s.attributes or {})) for s in spans]}"
    return found[0]


async def test_a_sign_up_is_one_trace_from_the_gateway_through_activities_to_notify(
    exported: InMemorySpanExporter,
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    schedule: Any,
    new_resident: Any,
) -> None:
    session_id = await schedule(capacity=5)
    resident, token = new_resident()
    email = f"{resident}@example.cn"
    await gql.ok(SET_PREFERENCES, {"input": {"channels": ["EMAIL"], "email": email, **ANY_HOUR}}, token)
    request_id = f"trace-story-{uuid.uuid4().hex[:12]}"

    response = await client.post(
        "/graphql",
        json={
            "query": SIGN_UP,
            "variables": {"input": {"sessionId": session_id, "idempotencyKey": request_id}},
        },
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": request_id},
    )
    assert response.status_code == 200 and response.json()["data"]["signUp"]["status"] == "CONFIRMED"

    def request_span() -> ReadableSpan:
        (found,) = [
            s
            for s in exported.get_finished_spans()
            if s.kind == SpanKind.SERVER
            and s.attributes
            and s.attributes["linli.correlation_id"] == request_id
        ]
        return found

    async def the_trace_reached_the_email() -> list[ReadableSpan]:
        trace = [s for s in exported.get_finished_spans() if trace_id(s) == trace_id(request_span())]
        return trace if any(s.name == "send email" for s in trace) else []

    trace = await eventually(the_trace_reached_the_email)
    assert trace, [s.name for s in exported.get_finished_spans()]

    http = request_span()
    assert http.name == "POST /graphql" and http.parent is None  # the trace starts at the gateway
    assert http.attributes is not None and http.attributes["http.response.status_code"] == 200
    operation = the_one(trace, "mutation signUp", "gateway")
    sent = the_one(trace, "send sign_up", "gateway")
    handled = the_one(trace, "handle sign_up", "activities")
    relayed = the_one(trace, "relay signup.confirmed", "activities")
    heard = the_one(trace, "handle signup.confirmed", "notify")
    emailed = the_one(trace, "send email", "notify")
    # Each step is the child of the one before it, across the command stream, the outbox and
    # the arq queues: gateway -> activities worker -> notify worker.
    chain = [http, operation, sent, handled, relayed, heard, emailed]
    for parent, child in itertools.pairwise(chain):
        assert parent_id(child) == span_id(parent), f"{child.name} is not under {parent.name}"
    assert [s.kind for s in chain] == [
        SpanKind.SERVER,
        SpanKind.INTERNAL,
        SpanKind.PRODUCER,
        SpanKind.CONSUMER,
        SpanKind.PRODUCER,
        SpanKind.CONSUMER,
        SpanKind.CLIENT,
    ]
    assert sent.parent is not None and handled.parent is not None and heard.parent is not None
    assert handled.parent.is_remote and heard.parent.is_remote  # carried in envelopes, not in-process
    assert emailed.attributes is not None and emailed.attributes["linli.kind"] == "signup.confirmed"
    assert all(s.status.is_ok for s in chain)


async def test_a_burst_handled_in_one_batch_keeps_each_sign_up_in_its_own_trace(
    exported: InMemorySpanExporter,
    settings: Settings,
    redis: ArqRedis,
    gql: GraphQLClient,
    schedule: Any,
) -> None:
    session_id = await schedule(capacity=5)
    residents = [f"resident-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    clients: list[tracing.Span] = []
    for resident in residents:  # whoever sent each command, in a trace of its own
        with tracing.span(f"client of {resident}", "client") as span:
            assert span is not None
            clients.append(span)
    envelopes = [
        Envelope(
            f"activities:sign_up:{resident}:burst",
            SIGN_UP_COMMAND,
            Actor(resident, frozenset({RESIDENT}), frozenset({COMMUNITY})),
            {
                "id": str(id_for("signup", resident, "burst")),
                "session_id": session_id,
                "party_size": 1,
                "attendees": [],
                "include_me": True,
                "key": "burst",
            },
            None,
            None,
            tracing.traceparent_of(span),
        )
        for resident, span in zip(residents, clients, strict=True)
    ]
    # In one MULTI: the worker's read takes all three at once, and its batch handler commits them
    # in one transaction.
    async with redis.pipeline(transaction=True) as pipe:
        for envelope in envelopes:
            pipe.xadd(stream_key(settings, "activities"), {"c": envelope.encode()})
        await pipe.execute()

    async def heard_by_notify() -> list[ReadableSpan]:
        done = exported.get_finished_spans()
        heard = {  # the traces notify has handled an event of (other tests' events included)
            trace_id(s)
            for s in done
            if s.name == "handle signup.confirmed" and s.attributes["linli.service"] == "notify"
        }
        return done if {trace_id(client) for client in clients} <= heard else []

    done = await eventually(heard_by_notify)
    assert done, [s.name for s in exported.get_finished_spans()]
    for client in clients:
        ours = [s for s in done if trace_id(s) == trace_id(client)]
        handled = the_one(ours, "handle sign_up", "activities")
        relayed = the_one(ours, "relay signup.confirmed", "activities")
        heard = the_one(ours, "handle signup.confirmed", "notify")
        assert parent_id(handled) == span_id(client)
        assert parent_id(relayed) == span_id(handled) and parent_id(heard) == span_id(relayed)
        assert handled.attributes is not None and handled.attributes["linli.batch_size"] == len(clients)


async def test_a_log_in_code_s_text_is_in_the_trace_of_the_request_that_asked_for_it(
    exported: InMemorySpanExporter, client: httpx.AsyncClient, pool: Any
) -> None:
    phone, request_id = new_phone(), f"trace-code-{uuid.uuid4().hex[:12]}"
    response = await client.post(
        "/graphql",
        json={"query": REQUEST_CODE, "variables": {"phone": phone}},
        headers={"X-Request-ID": request_id},
    )
    assert response.status_code == 200 and not response.json().get("errors")
    await texted_code(pool, phone)  # the notify worker has recorded it (development provider)

    (http,) = [s for s in exported.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert http.attributes is not None and http.attributes["linli.correlation_id"] == request_id

    async def texted() -> list[ReadableSpan]:
        done = exported.get_finished_spans()
        return [s for s in done if s.name == "send sms" and trace_id(s) == trace_id(http)]

    (sent,) = await eventually(texted)
    operation = the_one(exported.get_finished_spans(), "mutation requestLoginCode", "gateway")
    assert parent_id(operation) == span_id(http) and parent_id(sent) == span_id(operation)
    assert sent.attributes is not None and sent.attributes["linli.service"] == "notify"
    # Neither the number nor the code leaves the platform with the trace.
    code = await texted_code(pool, phone)
    assert all(phone not in str(v) and code not in str(v) for v in (sent.attributes or {}).values())


class Rollback(Exception):
    pass


async def test_an_event_sent_again_after_redis_lost_it_stays_in_its_sign_up_s_trace(
    exported: InMemorySpanExporter, pool: Any, redis: ArqRedis, settings: Settings, workers: None
) -> None:
    with tracing.span("handle sign_up", "activities") as origin:  # the work that wrote the event
        assert origin is not None
    resident = f"resident-{uuid.uuid4().hex[:8]}"
    payload = {
        "signup_id": str(uuid.uuid4()),
        "session_id": str(uuid.uuid4()),
        "resident_id": resident,
        "party_size": 1,
        "activity_title": "义诊",
        "venue": "朔方社区邻里驿家",
        "starts_at": at_iso(FESTIVAL_DAY, "09:00"),
    }
    async with pool.acquire() as conn:
        with contextlib.suppress(Rollback):
            async with conn.transaction():  # relayed ten minutes ago; its job lost with Redis
                await conn.execute(
                    "INSERT INTO activities.outbox (id, type, payload, created_at, sent_at, traceparent) "
                    "VALUES ($1, 'signup.confirmed', $2, $3, $3, $4)",
                    uuid.uuid4(),
                    payload,
                    now() - timedelta(minutes=10),
                    tracing.traceparent_of(origin),
                )
                routes = ACTIVITIES_WORKER.routes
                checked = await resend_unconsumed(conn, redis, settings, "activities", routes, ["notify"])
                assert checked.resent == 1
                raise Rollback

    async def heard() -> list[ReadableSpan]:
        done = [s for s in exported.get_finished_spans() if trace_id(s) == trace_id(origin)]
        return done if any(s.name == "handle signup.confirmed" for s in done) else []

    ours = await eventually(heard, within_s=20)
    assert ours, [s.name for s in exported.get_finished_spans()]
    relayed = the_one(ours, "relay signup.confirmed", "activities")
    handled = the_one(ours, "handle signup.confirmed", "notify")
    assert parent_id(relayed) == span_id(origin) and parent_id(handled) == span_id(relayed)


async def test_a_client_s_traceparent_is_the_parent_of_the_gateway_s_span(
    exported: InMemorySpanExporter, client: httpx.AsyncClient
) -> None:
    client_trace, client_span = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    response = await client.get("/", headers={"traceparent": f"00-{client_trace}-{client_span}-01"})
    assert response.status_code == 200
    for probe in ("/healthz", "/readyz", "/metrics"):  # every few seconds from every pod: not traced
        assert (await client.get(probe)).status_code == 200
    (span,) = [s for s in exported.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert span.name == "GET /"
    assert format_trace_id(trace_id(span)) == client_trace
    assert span.parent is not None and f"{span.parent.span_id:016x}" == client_span


async def test_a_request_s_span_is_named_by_its_route_not_by_the_ids_in_its_path(
    exported: InMemorySpanExporter, client: httpx.AsyncClient
) -> None:
    session_id = str(uuid.uuid4())
    await client.get(f"/exports/sessions/{session_id}.ics")
    await client.get(f"/made-up/{session_id}")
    span, unrouted = [s for s in exported.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert unrouted.name == "GET"  # a path no route took names nothing
    assert span.name == "GET /exports/sessions/{session_id}.ics"
    assert (
        span.attributes is not None and span.attributes["url.path"] == f"/exports/sessions/{session_id}.ics"
    )


def test_log_lines_carry_the_trace_id_beside_the_correlation_id(exported: InMemorySpanExporter) -> None:
    with tracing.span("a unit of work", "gateway") as span:
        assert span is not None
        record = logging.getLogger("linli.test").makeRecord(
            "linli.test", logging.INFO, __file__, 1, "hi", (), None
        )
    line = json.loads(JsonFormatter("gateway").format(record))
    assert line["trace_id"] == format_trace_id(span.get_span_context().trace_id)


def test_with_no_endpoint_tracing_stays_off_and_envelopes_carry_no_trace_context() -> None:
    tracing.configure_tracing(Settings(otel_exporter_otlp_endpoint=None), "gateway")
    assert not tracing.enabled()
    with tracing.span("nothing", "gateway") as span:
        assert span is None
        assert tracing.current_traceparent() is None and tracing.current_trace_id() is None
    envelope = Envelope(
        "c1", "sign_up", Actor("r1", frozenset({RESIDENT}), frozenset()), {}, None, "cid", None
    )
    assert "traceparent" not in json.loads(envelope.encode())
    items = [{"type": "signup.confirmed"}]
    with tracing.batch_spans(items, str, lambda _: None, lambda item, _: item, "notify") as handed_on:
        assert handed_on is items  # nothing copied, nothing rebound


def test_the_standard_endpoint_variable_is_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector.example:4318/")
    settings = Settings()
    assert settings.otel_exporter_otlp_endpoint == "http://collector.example:4318/"
    assert (
        tracing.traces_url(settings.otel_exporter_otlp_endpoint) == "http://collector.example:4318/v1/traces"
    )


@dataclass
class Collector:
    """A stand-in OpenTelemetry collector on a free local port: what each POST brought."""

    endpoint: str
    received: list[tuple[str, str, bytes]]

    def resource_spans(self) -> list[tuple[dict[str, str], list[str]]]:
        """Per export: the resource's attributes and the names of its spans."""
        found = []
        for _path, _type, body in self.received:
            for exported in ExportTraceServiceRequest.FromString(body).resource_spans:
                resource = {a.key: a.value.string_value for a in exported.resource.attributes}
                found.append((resource, [s.name for scope in exported.scope_spans for s in scope.spans]))
        return found


@pytest.fixture
def collector() -> Iterator[Collector]:
    received: list[tuple[str, str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Collector(f"http://127.0.0.1:{server.server_address[1]}", received)
    server.shutdown()
    server.server_close()


def test_with_an_endpoint_spans_go_to_that_collector_over_otlp_http(collector: Collector) -> None:
    provider = tracing.configure_tracing(Settings(otel_exporter_otlp_endpoint=collector.endpoint), "notify")
    assert provider is not None and tracing.enabled()
    try:
        with tracing.span("send sms", "notify", tracing.SpanKind.CLIENT):
            pass
        assert provider.force_flush(10_000)
    finally:
        tracing.use(None)
        provider.shutdown()
    ((path, content_type, _body),) = collector.received
    assert path == "/v1/traces" and content_type == "application/x-protobuf"
    ((resource, names),) = collector.resource_spans()
    assert resource["service.name"] == "linli-notify" and names == ["send sms"]


def test_a_gateway_started_with_an_endpoint_exports_its_spans_by_the_time_it_stops(
    collector: Collector, settings: Settings
) -> None:
    assert settings.database_url and settings.redis_url
    port, client_trace = free_port(), uuid.uuid4().hex
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "LINLI_SECRET": settings.secret,
        "LINLI_NAMESPACE": f"{settings.namespace}-traced",
        "LINLI_PORT": str(port),
        "LINLI_LOG_FORMAT": "text",
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
    }
    gateway = started([sys.executable, "-m", "services.cli", "gateway"], env, ROOT)
    try:
        wait_for(f"http://127.0.0.1:{port}/readyz", gateway)
        headers = {"traceparent": f"00-{client_trace}-{uuid.uuid4().hex[:16]}-01"}
        assert httpx.get(f"http://127.0.0.1:{port}/", headers=headers, timeout=5).status_code == 200
        gateway.send_signal(signal.SIGTERM)  # the spans still batched go out as it stops
        gateway.wait(timeout=30)  # uvicorn stops, then raises the signal again: -15
    finally:
        if gateway.poll() is None:
            gateway.kill()
            gateway.wait()
    exported = collector.resource_spans()
    assert exported and all(resource["service.name"] == "linli-gateway" for resource, _ in exported)
    # the request, not the probes (/readyz above): those would bury residents' requests
    assert [name for _, names in exported for name in names] == ["GET /"]
    request = next(
        span
        for _p, _t, body in collector.received
        for found in ExportTraceServiceRequest.FromString(body).resource_spans
        for scope in found.scope_spans
        for span in scope.spans
        if span.name == "GET /"
    )
    assert request.trace_id.hex() == client_trace
