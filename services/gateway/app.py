"""The gateway: Starlette serving GraphQL (Strawberry), health and readiness."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from services.common import tracing
from services.common.commands import CommandBus
from services.common.db import create_pool
from services.common.errors import Refusal, service_unavailable
from services.common.health import serve_health
from services.common.heap import settle_after_start_up
from services.common.masking import install_log_masking
from services.common.queue import create_redis
from services.common.settings import Settings
from services.gateway.certificate_sheet import certificate_routes
from services.gateway.context import Context, Resources, authenticate
from services.gateway.errors import OUTAGES, transport_refusal, typed_error
from services.gateway.exports import export_routes
from services.gateway.limits import BodySizeLimit
from services.gateway.live import LiveChannels
from services.gateway.observability import (
    CorrelationMiddleware,
    render_metrics,
    sample_queue_depths,
)
from services.gateway.offline_door import offline_door_routes
from services.gateway.pages import page_routes
from services.gateway.record_exports import record_export_routes
from services.gateway.schema import production_schema, schema
from services.gateway.ticket_sheet import ticket_routes
from services.gateway.volunteer_reports import volunteer_report_routes
from services.gateway.wechat_login import wechat_login_routes
from services.identity.revocations import RevokedTokens
from services.identity.upkeep import run_upkeep

log = logging.getLogger("linli.gateway")
MAX_SUBSCRIPTIONS_PER_CONNECTION = 10


class LinliGraphQL(GraphQL[Context, None]):
    def __init__(self, resources: dict[str, Resources], settings: Settings) -> None:
        chosen = production_schema() if settings.production else schema
        super().__init__(
            chosen,
            graphql_ide=None if settings.production else "graphiql",
            # Each live subscription holds a Redis connection: a phone needs a few, not 100.
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
        )
        self._resources = resources
        self._settings = settings
        self._schema = chosen
        # Off: every request takes strawberry's view (tests/test_hot_path_contract.py compares).
        self.hot_path = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        if not self.hot_path or scope["method"] != "POST" or not _plain_json(scope):
            await self._answer_http(scope, receive, send)
            return
        request = Request(scope, receive)
        body = await request.body()
        answered = await self._answer_plain_post(request, body)
        if answered is not None:
            await answered(scope, receive, send)
            return

        async def replay() -> Message:  # anything unusual: strawberry's own view, body and all
            return {"type": "http.request", "body": body, "more_body": False}

        await self._answer_http(scope, replay, send)

    async def _answer_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry's view, its HTTP-level refusals answered as GraphQL errors with a code
        (as every refusal is), not as plain text."""
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as exc:
            response = transport_error(*transport_refusal(exc.status_code, exc.reason))
        await response(scope, receive, send)

    async def _answer_plain_post(self, request: Request, body: bytes) -> Response | None:
        """The common request — one query or mutation as a JSON object — answered as strawberry's
        view would, without its generality (content negotiation, batches, streams, uploads),
        which cost a sign-up in a burst about a tenth of the gateway's time, and without its
        per-request pipeline (``LinliSchema.execute_cached``). None: not that."""
        try:
            data = json.loads(body)
        except ValueError:
            return None
        if not isinstance(data, dict | list):  # strawberry's view would fail on it
            return transport_error(
                400, Refusal("BAD_REQUEST", "请求格式不正确，无法读取", "Malformed request")
            )
        if not isinstance(data, dict) or not isinstance(data.get("query"), str):
            return None
        variables, name, extensions = data.get("variables"), data.get("operationName"), data.get("extensions")
        if not (_dict_or_none(variables) and _dict_or_none(extensions) and isinstance(name, str | None)):
            return None
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, response=sub_response)
        result = await self._schema.execute_cached(data["query"], variables, context, name, extensions)
        if result is None:
            return None  # strawberry's view says what is wrong (a subscription, say)
        return self.create_response(await self.process_result(request, result), sub_response)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        if result.errors:
            result.errors = [typed_error(error) for error in result.errors]
        return await super().process_result(request, result)

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        resources = self._resources["live"]
        seen = {
            "response": response,
            "client_ip": request.client.host if request.client else None,
            "cookies": dict(request.cookies),
        }
        try:
            claims = await authenticate(request, resources)
        except Refusal as refusal:
            return Context(resources, None, auth_refusal=refusal, **seen)
        except OUTAGES:  # cannot check revocations now: public reads go on, the rest may retry
            return Context(resources, None, auth_refusal=service_unavailable(), **seen)
        return Context(resources, claims.actor if claims else None, claims=claims, **seen)


def _plain_json(scope: Scope) -> bool:
    """A JSON body that asks for a JSON answer (not a stream of results)."""
    headers = dict(scope["headers"])
    content_type = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
    accept = headers.get(b"accept", b"")
    return (
        content_type == b"application/json" and b"multipart" not in accept and b"event-stream" not in accept
    )


def transport_error(status: int, refusal: Refusal) -> Response:
    """A refusal before any GraphQL ran, shaped as a GraphQL response all the same."""
    message = f"{refusal.zh} / {refusal.en}"
    extensions = {"code": refusal.code, "messageZh": refusal.zh, "messageEn": refusal.en}
    headers = {"Allow": "GET, POST"} if status == 405 else None
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": extensions}]}, status, headers
    )


def _dict_or_none(value: object) -> bool:
    return value is None or isinstance(value, dict)


def create_app(settings: Settings) -> Starlette:
    """The gateway app; servers must already be resolved into ``settings``."""
    assert settings.database_url and settings.redis_url
    install_log_masking()
    holder: dict[str, Resources] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        assert settings.database_url and settings.redis_url
        pool = await create_pool(settings.database_url, settings.db_pool_min, settings.db_pool_max)
        redis = await create_redis(settings.redis_url)
        bus = CommandBus(redis, settings)
        await bus.start()
        live = LiveChannels(redis, settings.max_live_subscriptions)
        await live.start()
        revoked = RevokedTokens(redis, settings)
        await revoked.start()
        holder["live"] = Resources(settings, pool, redis, bus, live, revoked)
        # Identity is the gateway's: so are relaying its events and pruning its schema.
        upkeep = asyncio.create_task(run_upkeep(pool, redis, settings), name="identity upkeep")
        # /metrics on a port of its own, which the ingress does not route (infra/k8s/gateway.yaml).
        metrics_server = None
        if settings.metrics_port:
            try:
                metrics_server = await serve_health(
                    settings.host, settings.metrics_port, problems, sample_queues
                )
            except OSError as exc:  # metrics are for operators; residents are served all the same
                log.warning("no metrics on port %s: %s", settings.metrics_port, exc)
        settle_after_start_up()
        try:
            yield
        finally:
            if metrics_server is not None:
                metrics_server.close()
            upkeep.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await upkeep
            await revoked.stop()
            await live.stop()
            await bus.stop()
            await redis.aclose()
            await pool.close()
            tracing.flush()

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readiness() -> dict[str, bool]:
        resources = holder.get("live")
        checks = {"postgres": False, "redis": False}
        if resources is not None:
            with contextlib.suppress(Exception):
                async with resources.pool.acquire(timeout=2) as conn:
                    checks["postgres"] = await conn.fetchval("SELECT true") is True
            with contextlib.suppress(Exception):
                checks["redis"] = bool(await resources.redis.ping())
        return checks

    async def problems() -> list[str]:
        return [f"{name} does not answer" for name, ok in (await readiness()).items() if not ok]

    async def sample_queues() -> None:
        await sample_queue_depths(holder["live"].redis, settings)

    async def readyz(request: Request) -> JSONResponse:
        checks = await readiness()
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", **checks},
            status_code=200 if ready else 503,
        )

    async def metrics(request: Request) -> Response:
        resources = holder["live"]
        body, content_type = await render_metrics(resources.redis, settings)
        return Response(body, media_type=content_type)

    graphql = LinliGraphQL(holder, settings)
    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            # Given a port of its own, /metrics is not served here (the ingress routes this port).
            *([] if settings.metrics_port else [Route("/metrics", metrics)]),
            # Every method reaches the view, so that PUT or DELETE is refused as GraphQL errors are.
            Route("/graphql", graphql),
            WebSocketRoute("/graphql", graphql),  # subscriptions (graphql-ws, graphql-transport-ws)
            *export_routes(holder),
            *wechat_login_routes(holder),
            *ticket_routes(holder),
            *offline_door_routes(holder),
            *volunteer_report_routes(holder),
            *certificate_routes(holder),
            *record_export_routes(holder),
            *page_routes(settings.node_modules),
        ],
        middleware=[
            Middleware(CorrelationMiddleware),
            Middleware(BodySizeLimit, max_bytes=settings.max_request_bytes),
        ],
        lifespan=lifespan,
    )
