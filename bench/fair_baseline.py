"""The fair baseline of ``make bench``: the same work per sign-up as Linli, and nothing else.

A minimal Starlette + asyncpg HTTP endpoint, served by uvicorn as the gateway is: it verifies
the bearer token (``services.common.tokens``), then in one transaction takes a seat (or joins
the waitlist), inserts the sign-up and an outbox event, and answers JSON shaped like Linli's
``signUp`` answer. No GraphQL, no command stream, no worker, no notifications: what Linli adds
over this is its architecture's cost. ``make bench`` drives it with the same client, clients and
shapes as the platform (``fair_bursts``), in its own process so its CPU is counted apart.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import asyncpg
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from services.common.actor import RESIDENT, Actor
from services.common.errors import Refusal
from services.common.ids import new_id
from services.common.tokens import issue_token, read_token

if TYPE_CHECKING:
    from bench.signup_burst import Attempt, Burst

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS fair;
CREATE TABLE fair.sessions (
    id uuid PRIMARY KEY,
    capacity integer NOT NULL,
    taken integer NOT NULL DEFAULT 0 CHECK (taken <= capacity)
);
CREATE TABLE fair.signups (
    id              uuid PRIMARY KEY,
    session_id      uuid NOT NULL REFERENCES fair.sessions (id),
    resident_id     text NOT NULL,
    party_size      integer NOT NULL,
    status          text NOT NULL,
    idempotency_key text NOT NULL,
    arrival         bigserial NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (resident_id, idempotency_key),
    UNIQUE (session_id, resident_id)
);
CREATE TABLE fair.outbox (
    id         uuid PRIMARY KEY,
    type       text NOT NULL,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    sent_at    timestamptz
);
"""
PATH = "/signup"
UNAUTHENTICATED = {"errors": [{"message": "not signed in", "extensions": {"code": "UNAUTHENTICATED"}}]}


def create_app(database_url: str, secret: str, pool_size: int) -> Starlette:
    pools: list[asyncpg.Pool] = []

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(database_url, min_size=pool_size, max_size=pool_size)
        assert pool is not None
        pools.append(pool)
        yield
        await pool.close()

    async def sign_up(request: Request) -> JSONResponse:
        try:
            actor = read_token(request.headers.get("authorization", "").removeprefix("Bearer "), secret)
        except Refusal:
            return JSONResponse(UNAUTHENTICATED)
        if RESIDENT not in actor.roles:
            return JSONResponse(UNAUTHENTICATED)
        args = json.loads(await request.body())["variables"]["input"]
        session_id = uuid.UUID(args["sessionId"])
        signup_id = new_id()
        async with pools[0].acquire() as conn, conn.transaction():
            taken = await conn.fetchval(
                "UPDATE fair.sessions SET taken = taken + 1 WHERE id = $1 AND taken + 1 <= capacity "
                "RETURNING taken",
                session_id,
            )
            status = "CONFIRMED" if taken is not None else "WAITLISTED"
            await conn.execute(
                "INSERT INTO fair.signups (id, session_id, resident_id, party_size, status, idempotency_key) "
                "VALUES ($1, $2, $3, 1, $4, $5)",
                signup_id,
                session_id,
                actor.user_id,
                status,
                args["idempotencyKey"],
            )
            payload = {
                "signup_id": str(signup_id),
                "session_id": str(session_id),
                "resident_id": actor.user_id,
            }
            await conn.execute(
                "INSERT INTO fair.outbox (id, type, payload, created_at) VALUES ($1, $2, $3, $4)",
                new_id(),
                f"signup.{status.lower()}",
                json.dumps(payload),
                datetime.now(UTC),
            )
        answer = {"id": str(signup_id), "status": status, "partySize": 1, "waitlistPosition": None}
        return JSONResponse({"data": {"signUp": answer}})

    async def ready(_: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[Route(PATH, sign_up, methods=["POST"]), Route("/readyz", ready)], lifespan=lifespan
    )


# ---------------------------------------------------------------------------------------------
# Driving it from `make bench`


class Server:
    """The endpoint in a process of its own (uvicorn, as the gateway runs)."""

    def __init__(self, database_url: str, secret: str, port: int, pool_size: int) -> None:
        env = {**os.environ, "FAIR_DATABASE_URL": database_url, "FAIR_SECRET": secret}
        command = [
            sys.executable,
            "-m",
            "bench.fair_baseline",
            "--port",
            str(port),
            "--pool-size",
            str(pool_size),
        ]
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.base_url = f"http://127.0.0.1:{port}"

    async def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    stderr = self.process.stderr.read().decode() if self.process.stderr else ""
                    raise RuntimeError(f"the fair baseline exited: {stderr[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise RuntimeError("the fair baseline was not ready")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def fair_burst(
    server: Server, database_url: str, secret: str, name: str, residents: int, sessions: int, seats: int,
    concurrency: int,
) -> Burst:  # fmt: skip
    """N residents sign up through the endpoint, from ``concurrency`` keep-alive clients."""
    from bench.http_client import GraphQLConnection, HTTPStatusError, HTTPTransportError
    from bench.signup_burst import (
        COMMUNITY,
        SIGN_UP,
        Attempt,
        Burst,
        check_seats,
        cpu_ticks,
        cpu_used,
        drive,
        summarise,
    )

    session_ids = [uuid.uuid4() for _ in range(sessions)]
    capacity = seats // sessions
    conn = await asyncpg.connect(database_url)
    try:
        await conn.executemany(
            "INSERT INTO fair.sessions (id, capacity) VALUES ($1, $2)", [(s, capacity) for s in session_ids]
        )
    finally:
        await conn.close()
    tokens = [
        issue_token(
            Actor(f"fair-{name}-resident-{i}", frozenset({RESIDENT}), frozenset({COMMUNITY})), secret, 3600
        )
        for i in range(residents)
    ]  # minted before the clock starts, as for Linli
    clients = [GraphQLConnection(server.base_url, 60, path=PATH) for _ in range(concurrency)]

    async def attempt(slot: int, i: int) -> Attempt:
        session = i % sessions
        result = Attempt(session)
        variables = {"input": {"sessionId": str(session_ids[session]), "idempotencyKey": f"{name}-{i:06d}"}}
        started = time.perf_counter()
        try:
            body = await clients[slot].execute(SIGN_UP, variables, tokens[i])
        except (HTTPStatusError, HTTPTransportError) as exc:
            result.error = type(exc).__name__
            return result
        result.latency_s = time.perf_counter() - started
        if body.get("errors"):
            result.error = str(body["errors"][0]["extensions"]["code"])
            return result
        result.status = body["data"]["signUp"]["status"]
        return result

    before = cpu_ticks()
    try:
        attempts, wall = await drive(residents, concurrency, attempt)
    finally:
        for client in clients:
            client.close()
    after = cpu_ticks()
    burst = Burst(name, "fair", residents, sessions, capacity * sessions, concurrency)
    burst.cpu_s = cpu_used(_as_role(before, server), _as_role(after, server))
    summarise(burst, attempts, wall)
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT s.id, s.capacity, s.taken, "
            "coalesce(sum(g.party_size) FILTER (WHERE g.status = 'CONFIRMED'), 0) AS confirmed "
            "FROM fair.sessions s LEFT JOIN fair.signups g ON g.session_id = s.id "
            "WHERE s.id = ANY($1::uuid[]) GROUP BY s.id",
            session_ids,
        )
        outbox = await conn.fetchval(
            "SELECT count(*) FROM fair.outbox o JOIN fair.signups g "
            "ON g.id = (o.payload->>'signup_id')::uuid WHERE g.session_id = ANY($1::uuid[])",
            session_ids,
        )
    finally:
        await conn.close()
    check_seats(burst, attempts, rows, session_ids)
    if outbox != residents:
        burst.violations.append(f"{outbox} outbox events for {residents} sign-ups")
    return burst


ROLE = "fair-baseline"


def _as_role(ticks: dict[int, tuple[str, int]], server: Server) -> dict[int, tuple[str, int]]:
    """The endpoint's process under its own name (else it would count as some other python)."""
    return {pid: ((ROLE, t) if pid == server.process.pid else (role, t)) for pid, (role, t) in ticks.items()}


async def fair_bursts(
    raw_url: str, secret: str, port: int, options: argparse.Namespace, shapes: list[tuple[str, int]],
    pool_size: int, bursts: list[Burst],
) -> None:  # fmt: skip
    """The warm-up and each burst shape, against the endpoint on ``raw_url`` (schema ``fair``)."""
    conn = await asyncpg.connect(raw_url)
    try:
        await conn.execute(SCHEMA)
    finally:
        await conn.close()
    server = Server(raw_url, secret, port, pool_size)
    try:
        await server.wait_ready()
        c = options.concurrency
        await fair_burst(server, raw_url, secret, "warm-up", options.warmup, 1, options.warmup, c)
        for name, sessions in shapes:
            print(f"fair baseline: {name} burst of {options.residents} ...", flush=True)
            bursts.append(
                await fair_burst(server, raw_url, secret, name, options.residents, sessions, options.seats, c)
            )
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.fair_baseline", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pool-size", type=int, default=20)
    options = parser.parse_args(argv)
    app = create_app(os.environ["FAIR_DATABASE_URL"], os.environ["FAIR_SECRET"], options.pool_size)
    # as the gateway: uvloop and httptools (uvicorn's defaults when installed), no access log
    uvicorn.run(app, host="127.0.0.1", port=options.port, log_config=None, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
