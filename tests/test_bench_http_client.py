"""The load driver's own HTTP client (bench/http_client.py) against real servers: uvicorn, as the
gateway runs, serving a tiny Starlette app, and a bare asyncio server that hangs up mid-answer."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import uvicorn
import uvloop
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bench.http_client import (
    GraphQLConnection,
    HTTPStatusError,
    HTTPTransportError,
    RequestTimeout,
    chunked_body,
)


async def answer(request: Request) -> Response:
    """Echo the GraphQL request, with the client's port (the same port = the same connection)."""
    sent = await request.json()
    kind = sent["query"]
    echo = {
        "query": kind,
        "variables": sent["variables"],
        "authorization": request.headers.get("authorization"),
        "content_type": request.headers.get("content-type"),
        "client_port": request.client.port if request.client else None,
    }
    if kind == "broken":
        return JSONResponse({"errors": ["down"]}, status_code=500)
    if kind == "slow":
        await asyncio.sleep(1)
    if kind == "streamed":  # no length known up front: uvicorn sends it chunked

        async def pieces() -> AsyncIterator[bytes]:
            text = json.dumps({"data": echo})
            for start in range(0, len(text), 7):
                yield text[start : start + 7].encode()

        return StreamingResponse(pieces(), media_type="application/json")
    headers = {"Connection": "close"} if kind == "last" else None
    return JSONResponse({"data": echo}, headers=headers)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


Start = Callable[[], Awaitable[None]]


@pytest.fixture
async def gateway_like() -> AsyncIterator[tuple[str, Start, Start]]:
    """A uvicorn server on a fixed port, with ways to stop it and start it again there."""
    port = free_port()
    app = Starlette(routes=[Route("/graphql", answer, methods=["POST"])])
    running: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def start() -> None:
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
        )
        task = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 (uvicorn offers only this flag)
            await asyncio.sleep(0.01)
        running.append((server, task))

    async def stop() -> None:
        server, task = running.pop()
        server.should_exit = True
        await task

    await start()
    yield f"http://127.0.0.1:{port}", start, stop
    while running:
        await stop()


async def test_a_phone_keeps_one_connection_for_many_requests(gateway_like: tuple[str, Start, Start]) -> None:
    url, _, _ = gateway_like
    phone = GraphQLConnection(url, timeout_s=5)
    answers = [await phone.execute("signUp", {"input": {"n": n, "名": "邻里"}}, "tok-1") for n in range(5)]
    phone.close()

    assert phone.connects == 1
    assert len({a["data"]["client_port"] for a in answers}) == 1
    assert [a["data"]["variables"] for a in answers] == [{"input": {"n": n, "名": "邻里"}} for n in range(5)]
    assert answers[0]["data"]["authorization"] == "Bearer tok-1"
    assert answers[0]["data"]["content_type"] == "application/json"


async def test_a_500_is_a_status_error_and_the_connection_stays(
    gateway_like: tuple[str, Start, Start],
) -> None:
    url, _, _ = gateway_like
    phone = GraphQLConnection(url, timeout_s=5)
    with pytest.raises(HTTPStatusError) as refused:
        await phone.execute("broken", {}, "tok")
    after = await phone.execute("signUp", {}, "tok")
    phone.close()

    assert refused.value.status == 500
    assert json.loads(refused.value.body) == {"errors": ["down"]}
    assert after["data"]["query"] == "signUp"
    assert phone.connects == 1


async def test_a_chunked_answer_is_read_whole(gateway_like: tuple[str, Start, Start]) -> None:
    url, _, _ = gateway_like
    phone = GraphQLConnection(url, timeout_s=5)
    streamed = await phone.execute("streamed", {"id": "x" * 100}, "tok")
    after = await phone.execute("signUp", {}, "tok")
    phone.close()

    assert streamed["data"]["variables"] == {"id": "x" * 100}
    assert after["data"]["client_port"] == streamed["data"]["client_port"]  # kept alive after it


def test_chunked_framing_with_extensions_and_trailers() -> None:
    message = b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nExpires: never\r\n\r\nNEXT"
    assert chunked_body(message, 0) == (b"Wikipedia", len(message) - 4)
    assert chunked_body(message[:12], 0) is None  # incomplete: wait for more


async def test_connection_close_is_honoured(gateway_like: tuple[str, Start, Start]) -> None:
    url, _, _ = gateway_like
    phone = GraphQLConnection(url, timeout_s=5)
    last = await phone.execute("last", {}, "tok")
    again = await phone.execute("signUp", {}, "tok")
    phone.close()

    assert phone.connects == 2
    assert last["data"]["client_port"] != again["data"]["client_port"]


async def test_a_server_gone_is_a_transport_error_and_the_next_request_reconnects(
    gateway_like: tuple[str, Start, Start],
) -> None:
    url, start, stop = gateway_like
    phone = GraphQLConnection(url, timeout_s=5)
    first = await phone.execute("signUp", {}, "tok")
    await stop()
    with pytest.raises(HTTPTransportError) as refused:
        await phone.execute("signUp", {}, "tok")
    await start()
    back = await phone.execute("signUp", {}, "tok")
    phone.close()

    # refused, or the old connection found closed if the write raced uvicorn's hang-up
    assert "ConnectionRefusedError" in refused.value.reason or "closed" in refused.value.reason
    assert back["data"]["client_port"] != first["data"]["client_port"]
    assert phone.connects == 2


async def test_a_slow_answer_times_out_and_the_next_request_reconnects(
    gateway_like: tuple[str, Start, Start],
) -> None:
    url, _, _ = gateway_like
    phone = GraphQLConnection(url, timeout_s=0.3)
    with pytest.raises(RequestTimeout):
        await phone.execute("slow", {}, "tok")
    back = await phone.execute("signUp", {}, "tok")
    phone.close()

    assert back["data"]["query"] == "signUp"
    assert phone.connects == 2


@pytest.fixture
async def hangs_up_mid_answer() -> AsyncIterator[tuple[str, list[int]]]:
    """A bare server that, on each connection's first request, sends half a response and hangs
    up; later requests on a new connection get a whole one."""
    connections: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(len(connections))
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        await reader.readexactly(length)
        body = b'{"data": {"ok": true}}'
        if len(connections) == 1:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body[:5]))
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", connections
    server.close()
    await server.wait_closed()


async def test_a_hang_up_mid_answer_is_a_transport_error_then_a_new_connection_answers(
    hangs_up_mid_answer: tuple[str, list[int]],
) -> None:
    url, connections = hangs_up_mid_answer
    phone = GraphQLConnection(url, timeout_s=5)
    with pytest.raises(HTTPTransportError) as cut:
        await phone.execute("signUp", {}, "tok")
    answer = await phone.execute("signUp", {}, "tok")
    phone.close()

    assert "before the response ended" in cut.value.reason
    assert answer == {"data": {"ok": True}}
    assert len(connections) == 2


def test_on_uvloop_as_the_bench_runs_it() -> None:
    """uvloop may tell the protocol of its connection only after ``create_connection`` returned."""

    async def scenario() -> list[dict[str, object]]:
        port = free_port()
        app = Starlette(routes=[Route("/graphql", answer, methods=["POST"])])
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
        )
        serving = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 (uvicorn offers only this flag)
            await asyncio.sleep(0.01)
        try:
            phones = [GraphQLConnection(f"http://127.0.0.1:{port}", timeout_s=5) for _ in range(3)]
            answers = await asyncio.gather(
                *(p.execute("signUp", {"n": i}, "tok") for i, p in enumerate(phones))
            )
            for phone in phones:
                phone.close()
            return answers
        finally:
            server.should_exit = True
            await serving

    answers = uvloop.run(scenario())

    assert [a["data"]["variables"] for a in answers] == [{"n": 0}, {"n": 1}, {"n": 2}]  # type: ignore[index]
