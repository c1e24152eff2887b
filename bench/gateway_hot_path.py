"""The gateway's CPU per sign-up, in process, by the path a plain JSON POST takes (issue 17).

One gateway app runs in this process (lifespan and middlewares included) against a real
PostgreSQL and Redis; the activities worker answers the commands from a process of its own, so
``time.process_time`` here counts the gateway's work, a bare ASGI driver's and the gateway's
background tasks' (the same for every path). Residents sign up, ``--in-flight`` at a time, the
paths taking turns in rounds:

- ``view``: strawberry's view and pipeline (``LinliGraphQL.hot_path`` off);
- ``pipeline``: the plain-POST shortcut calling strawberry's ``schema.execute``, as the gateway
  did before the hot path (parse and validation caches, then the gateway's extension);
- ``hot``: the hot path, ``LinliSchema.execute_cached``.

With ``--answered`` each sign-up command is answered in process (``AnsweredBus``): the gateway's
own work alone, far steadier on a busy machine.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python -m bench.gateway_hot_path [--requests 300]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import uvloop
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from bench.signup_burst import RESULTS, delete_redis_keys, machine, organise, tokens_for
from services.common.actor import ORGANISER, RESIDENT
from services.common.commands import Reply
from services.common.db import drop_database, ensure_database
from services.common.migrations import migrate
from services.common.settings import Settings
from services.gateway.app import LinliGraphQL, create_app

SIGN_UP = "mutation($input: SignUpInput!) { signUp(input: $input) { id status partySize waitlistPosition } }"
PATHS = ("view", "pipeline", "hot")


class Pipeline:
    """What ``LinliGraphQL`` called for a plain POST before the hot path: ``schema.execute``."""

    def __init__(self, schema: Any) -> None:
        self.schema = schema

    async def execute_cached(
        self,
        query: str,
        variable_values: dict[str, Any] | None,
        context_value: Any,
        operation_name: str | None,
        operation_extensions: dict[str, Any] | None,
    ) -> ExecutionResult | None:
        try:
            return await self.schema.execute(
                query,
                variable_values=variable_values,
                context_value=context_value,
                operation_name=operation_name,
                allowed_operation_types={OperationType.QUERY, OperationType.MUTATION},
                operation_extensions=operation_extensions,
            )
        except (InvalidOperationTypeError, CannotGetOperationTypeError, MissingQueryError):
            return None


class AnsweredBus:
    """``--answered``: each sign-up command answered at once, as the worker would confirm it, so
    that only the gateway's own work is measured (no Redis hop, no worker, no waiting)."""

    async def send(
        self, service: str, name: str, actor: Any, args: dict[str, Any], key: str, timeout_s: Any = None
    ) -> Reply:
        assert name == "sign_up", name
        confirmed = {"status": "CONFIRMED", "waitlist_position": None, "attendees": [], "free_cancel": True}
        return Reply(value={**args, **confirmed})

    async def release(self, *args: Any) -> None:
        return None


@contextlib.contextmanager
def taking(view: LinliGraphQL, path: str) -> Iterator[None]:
    schema = getattr(view, "_schema", view.schema)  # (this bench also runs on main, for "before")
    view.hot_path = path != "view"
    if path == "pipeline":
        view._schema = Pipeline(schema)  # type: ignore[assignment]
    try:
        yield
    finally:
        view.hot_path, view._schema = True, schema


async def post(app: Any, body: bytes, token: str) -> dict[str, Any]:
    """One request straight through the ASGI app: the cheapest driver there is."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"linli.test"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("linli.test", 80),
    }
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    answer: dict[str, Any] = json.loads(b"".join(chunks))
    return answer


def paired(these: list[float], those: list[float]) -> float:
    return round(statistics.median(a / b for a, b in zip(these, those, strict=True)), 3)


FLOOR = "{ __typename }"


async def overhead_floor(schema: Any, operations: int) -> dict[str, float]:
    """CPU per operation of each path's own machinery: a query that reads nothing, no HTTP."""
    paths = {"pipeline": Pipeline(schema)}
    if hasattr(schema, "execute_cached"):  # (not on main)
        paths["hot"] = schema
    used: dict[str, list[float]] = {path: [] for path in paths}
    for _ in range(5):
        for path, runner in paths.items():
            started = time.process_time()
            for _ in range(operations):
                await runner.execute_cached(FLOOR, None, None, None, None)
            used[path].append((time.process_time() - started) * 1e6 / operations)
    return {path: round(statistics.median(values), 1) for path, values in used.items()}


def load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


async def measure(settings: Settings, options: argparse.Namespace) -> dict[str, Any]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        view = next(r.app for r in app.routes if isinstance(getattr(r, "app", None), LinliGraphQL))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://linli.test") as http:
            [organiser] = tokens_for(settings, "bench-organiser", ORGANISER, 1)
            [session] = await organise(http, organiser, [100_000])
        if options.answered:
            view._resources["live"].bus = AnsweredBus()  # type: ignore[assignment]
        total = options.warm_up + options.rounds * len(PATHS) * options.requests
        tokens = iter(tokens_for(settings, "bench-resident", RESIDENT, total))

        def body() -> bytes:
            variables = {"input": {"sessionId": session, "idempotencyKey": uuid.uuid4().hex}}
            return json.dumps({"query": SIGN_UP, "variables": variables}).encode()

        async def sign_ups(count: int) -> float:
            requests = [(body(), next(tokens)) for _ in range(count)]

            async def lane(mine: list[tuple[bytes, str]]) -> None:
                for request, token in mine:
                    answer = await post(app, request, token)
                    if answer.get("errors"):
                        raise RuntimeError(answer["errors"])

            lanes = [requests[i :: options.in_flight] for i in range(options.in_flight)]
            started = time.process_time()
            await asyncio.gather(*(lane(mine) for mine in lanes))
            return (time.process_time() - started) * 1000 / count

        for path in PATHS:  # warm every path's caches and the pools
            with taking(view, path):
                await sign_ups(options.warm_up // len(PATHS))
        loads = [load()]
        rounds: dict[str, list[float]] = {path: [] for path in PATHS}
        for index in range(options.rounds):
            order = PATHS[index % len(PATHS) :] + PATHS[: index % len(PATHS)]  # each path goes first in turn
            for path in order:
                with taking(view, path):
                    rounds[path].append(await sign_ups(options.requests))
            loads.append(load())
        floor = await overhead_floor(getattr(view, "_schema", view.schema), options.floor_ops)
    ms = {path: statistics.median(values) for path, values in rounds.items()}
    return {
        "cpu_ms_per_sign_up": {path: round(value, 4) for path, value in ms.items()},
        "rounds_ms": {path: [round(v, 4) for v in values] for path, values in rounds.items()},
        # Per round, the paths ran back to back: their ratio there is steadier than the medians'
        # as the machine's other load comes and goes.
        "hot_vs_pipeline": paired(rounds["hot"], rounds["pipeline"]),
        "hot_vs_view": paired(rounds["hot"], rounds["view"]),
        "saved_ms_vs_pipeline": round(ms["pipeline"] - ms["hot"], 4),
        "load_1_5_15": loads,
        "documents_cached": len(getattr(view.schema, "documents", ())),
        "floor_us_per_operation": floor,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200, help="sign-ups per path per round")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--in-flight", type=int, default=20, help="requests at once (phones in a burst)")
    parser.add_argument("--warm-up", type=int, default=300)
    parser.add_argument("--answered", action="store_true", help="commands answered in process")
    parser.add_argument("--floor-ops", type=int, default=2000, help="operations per path per round")
    options = parser.parse_args(argv)
    base = Settings()
    if not (base.database_url and base.redis_url):
        parser.error("set DATABASE_URL and REDIS_URL (a real PostgreSQL and Redis)")
    run_id = uuid.uuid4().hex[:8]
    database = f"linli_hot_path_{run_id}"
    url = asyncio.run(ensure_database(base.database_url, database))
    asyncio.run(migrate(url))
    settings = base.model_copy(update={"database_url": url, "namespace": f"linli-hot-path-{run_id}"})
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LINLI_NAMESPACE": settings.namespace,
        "LINLI_SECRET": settings.secret,
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "worker", "activities"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        report = uvloop.run(measure(settings, options))
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        asyncio.run(delete_redis_keys(url_of(settings), settings.namespace))
        with contextlib.suppress(Exception):
            asyncio.run(drop_database(base.database_url, database))
    ms = report["cpu_ms_per_sign_up"]
    loads = report["load_1_5_15"]
    print(f"gateway CPU per sign-up, in process (load {loads[0]} → {loads[-1]}):")
    for path in PATHS:
        print(f"  {path:9} {ms[path]:.3f} ms   rounds {report['rounds_ms'][path]}")
    print(
        f"  hot / pipeline {report['hot_vs_pipeline']:.2f} ({report['saved_ms_vs_pipeline']:+.3f} ms saved),"
        f" hot / view {report['hot_vs_view']:.2f} (medians of each round's ratio)"
    )
    print(f"  floor, {FLOOR} without HTTP (µs per operation): {report['floor_us_per_operation']}")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"gateway-hot-path-{stamp}{'-answered' if options.answered else ''}.json"
    out.write_text(json.dumps({"run_id": run_id, "machine": machine(), **vars(options), **report}, indent=2))
    print(f"  → {out.relative_to(RESULTS.parent.parent)}")
    return 0


def url_of(settings: Settings) -> str:
    assert settings.redis_url
    return settings.redis_url


if __name__ == "__main__":
    raise SystemExit(main())
