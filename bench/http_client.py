"""The residents' HTTP client in the load driver: one HTTP/1.1 keep-alive connection posting
GraphQL, on a bare asyncio protocol, because every millisecond of CPU the driver spends is taken
from the platform it measures on the same two cores.

Just what the burst needs: one request at a time per connection, bodies framed by
Content-Length or chunked; anything else is refused with ``HTTPProtocolError``.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024  # a response head longer than this is not one we asked for


class HTTPStatusError(Exception):
    """The server answered with a status >= 400; the connection stays usable."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}: {body[:200]!r}")
        self.status = status
        self.body = body


class HTTPTransportError(Exception):
    """No complete answer: refused, reset, closed mid-response or timed out. The connection is
    dropped and the next request opens a new one; resending is the caller's choice."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RequestTimeout(HTTPTransportError):
    pass


class HTTPProtocolError(Exception):
    """The server spoke something this client does not read (a bug to look at, not to retry)."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes
    keep_alive: bool


def chunked_body(buffer: bytes | bytearray, start: int) -> tuple[bytes, int] | None:
    """The body of a chunked message whose first chunk begins at ``start``, and the offset just
    past it (trailers skipped); None while incomplete."""
    parts: list[bytes] = []
    pos = start
    while True:
        eol = buffer.find(b"\r\n", pos)
        if eol < 0:
            return None
        size_text = bytes(buffer[pos:eol]).split(b";", 1)[0].strip()
        if not size_text or any(c not in b"0123456789abcdefABCDEF" for c in size_text):
            raise HTTPProtocolError(f"bad chunk size line {bytes(buffer[pos:eol])[:40]!r}")
        size = int(size_text, 16)
        pos = eol + 2
        if size == 0:
            while True:  # trailer fields, up to an empty line
                eol = buffer.find(b"\r\n", pos)
                if eol < 0:
                    return None
                if eol == pos:
                    return b"".join(parts), eol + 2
                pos = eol + 2
        if len(buffer) < pos + size + 2:
            return None
        if buffer[pos + size : pos + size + 2] != b"\r\n":
            raise HTTPProtocolError("chunk not followed by CRLF")
        parts.append(bytes(buffer[pos : pos + size]))
        pos += size + 2


def parse_head(head: bytes) -> tuple[str, int, dict[str, str]]:
    """Version, status and headers (lower-case names; repeated ones joined by ', ')."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise HTTPProtocolError(f"bad status line {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise HTTPProtocolError(f"bad header line {line[:80]!r}")
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return parts[0], int(parts[1]), headers


class _ResponseReader(asyncio.Protocol):
    """Reads the one response the connection is waiting for into ``waiter``."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self.waiter: asyncio.Future[Response] | None = None
        self.buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.waiter is None or self.waiter.done():
            self.fail(HTTPProtocolError(f"{len(data)} bytes nobody asked for"))
            return
        self.buffer += data
        try:
            response = self._response()
        except HTTPProtocolError as exc:
            self.fail(exc)
            return
        if response is not None:
            self.waiter.set_result(response)

    def eof_received(self) -> bool:
        return False  # close our side too; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.waiter is not None and not self.waiter.done():
            what = "closed before the response ended" if self.buffer else "closed before a response"
            cause = f": {type(exc).__name__}" if exc else ""
            self.waiter.set_exception(HTTPTransportError(what + cause))

    def fail(self, exc: Exception) -> None:
        """End the wait with ``exc`` and drop the connection: what may still come is unreadable."""
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
        self.lost = True
        if self.transport is not None:
            self.transport.abort()

    def _response(self) -> Response | None:
        buffer = self.buffer
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD:
                    raise HTTPProtocolError("response head too long")
                return None
            version, status, headers = parse_head(bytes(buffer[:end]))
            if 100 <= status < 200:  # an interim response: the real one follows
                del buffer[: end + 4]
                continue
            break
        start = end + 4
        coding = headers.get("transfer-encoding")
        if status in (204, 304):
            body, stop = b"", start
        elif coding is not None:
            if coding.lower().rsplit(",", 1)[-1].strip() != "chunked":
                raise HTTPProtocolError(f"Transfer-Encoding {coding!r} not supported")
            found = chunked_body(buffer, start)
            if found is None:
                return None
            body, stop = found
        elif "content-length" in headers:
            length_text = headers["content-length"]
            if not length_text.isdigit():
                raise HTTPProtocolError(f"bad Content-Length {length_text!r}")
            stop = start + int(length_text)
            if len(buffer) < stop:
                return None
            body = bytes(buffer[start:stop])
        else:
            raise HTTPProtocolError("response without Content-Length or chunked encoding: not supported")
        connection = headers.get("connection", "").lower()
        keep_alive = "close" not in connection and (version != "HTTP/1.0" or "keep-alive" in connection)
        if len(buffer) > stop:  # bytes past the response: the conversation is out of step
            keep_alive = False
        del buffer[:]
        return Response(status, headers, body, keep_alive)


class GraphQLConnection:
    """One resident's phone: a keep-alive connection to the gateway, opened on first use and
    again after it was lost. Not for concurrent use."""

    def __init__(self, base_url: str, timeout_s: float, path: str = "/graphql") -> None:
        url = urlsplit(base_url)
        if url.scheme != "http" or not url.hostname:
            raise ValueError(f"only http://host[:port] URLs, not {base_url!r}")
        self.host = url.hostname
        self.port = url.port or 80
        self.timeout_s = timeout_s
        authority = self.host if url.port is None else f"{self.host}:{self.port}"
        self._head = (
            f"POST {path} HTTP/1.1\r\nHost: {authority}\r\n"
            "Content-Type: application/json\r\nAccept: application/json\r\n"
        ).encode("ascii")
        self._reader: _ResponseReader | None = None
        self._busy = False
        self.connects = 0  # how many connections it has opened

    async def execute(self, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
        """POST {"query", "variables"} with the bearer token; the decoded JSON answer.
        Raises HTTPStatusError, HTTPTransportError (RequestTimeout) or HTTPProtocolError."""
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = b"%sAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s" % (
            self._head,
            token.encode("ascii"),
            len(body),
            body,
        )
        response = await self.send(request)
        if response.status >= 400:
            raise HTTPStatusError(response.status, response.body)
        answer: dict[str, Any] = json.loads(response.body)
        return answer

    async def send(self, request: bytes) -> Response:
        """Write one complete request and read its response, within ``timeout_s`` in all."""
        if self._busy:
            raise RuntimeError("GraphQLConnection: one request at a time")
        self._busy = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        try:
            reader = self._reader
            if reader is None or reader.lost:
                reader = await self._connect()
            assert reader.transport is not None
            waiter: asyncio.Future[Response] = loop.create_future()
            reader.waiter = waiter
            timer = loop.call_at(
                deadline, reader.fail, RequestTimeout(f"no response within {self.timeout_s:g}s")
            )
            try:
                reader.transport.write(request)
                response = await waiter
            except BaseException:
                reader.fail(HTTPTransportError("request abandoned"))  # cancelled, or failed
                raise
            finally:
                timer.cancel()
                reader.waiter = None
            if not response.keep_alive:
                self.close()
            return response
        finally:
            self._busy = False

    async def _connect(self) -> _ResponseReader:
        self.close()
        loop = asyncio.get_running_loop()
        reader = _ResponseReader()
        try:
            transport, _ = await asyncio.wait_for(
                loop.create_connection(lambda: reader, self.host, self.port), self.timeout_s
            )
        except TimeoutError as exc:
            raise RequestTimeout(f"connect: no answer within {self.timeout_s:g}s") from exc
        except OSError as exc:
            raise HTTPTransportError(f"connect: {type(exc).__name__}") from exc
        reader.transport = transport  # set here too: connection_made may run later
        self._reader = reader
        self.connects += 1
        return reader

    def close(self) -> None:
        if self._reader is not None and self._reader.transport is not None:
            self._reader.transport.close()
        self._reader = None
