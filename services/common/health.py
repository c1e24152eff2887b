"""A worker's /healthz, /readyz and /metrics, served by the worker's own event loop on
``LINLI_METRICS_PORT`` for the Kubernetes probes and Prometheus. A gateway given that port serves
its /metrics there too (and no longer on the port the ingress routes).

That the loop answers at all is the liveness; readiness also asks PostgreSQL and Redis and
whether the worker's loops (commands, relay, arq) still run. Three plain GETs need no framework:
a few lines of HTTP/1.1 with ``Connection: close``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

log = logging.getLogger("linli.health")

# What stops the worker being ready, in words; empty when it is.
ReadinessCheck = Callable[[], Awaitable[list[str]]]
_REQUEST_TIMEOUT_S = 5.0


async def _answer(
    path: str, problems_of: ReadinessCheck, sample: Callable[[], Awaitable[None]] | None = None
) -> tuple[str, str, bytes]:
    if path == "/healthz":
        return "200 OK", "application/json", b'{"status":"ok"}'
    if path == "/readyz":
        problems = await problems_of()
        body = json.dumps({"status": "not ready" if problems else "ready", "problems": problems})
        return ("503 Service Unavailable" if problems else "200 OK"), "application/json", body.encode()
    if path == "/metrics":
        if sample is not None:
            await sample()
        return "200 OK", CONTENT_TYPE_LATEST, generate_latest(REGISTRY)
    return "404 Not Found", "text/plain; charset=utf-8", b"not found"


async def serve_health(
    host: str,
    port: int,
    problems_of: ReadinessCheck,
    sample: Callable[[], Awaitable[None]] | None = None,
) -> asyncio.Server:
    """Start answering on ``host:port``; close the returned server to stop. ``sample`` runs
    before each /metrics answer (the gateway samples queue depths)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), _REQUEST_TIMEOUT_S)
            while (await asyncio.wait_for(reader.readline(), _REQUEST_TIMEOUT_S)).strip():
                pass  # headers: nothing here needs them
            words = request_line.decode("latin-1").split()
            path = words[1].partition("?")[0] if len(words) >= 2 else ""
            status, content_type, body = await _answer(path, problems_of, sample)
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode("latin-1") + body)
            await writer.drain()
        except (TimeoutError, ConnectionError, UnicodeDecodeError):
            pass  # a probe that hung up or sent nonsense gets nothing
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)
