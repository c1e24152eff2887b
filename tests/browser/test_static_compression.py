"""The pages' files over real HTTP (uvicorn, as ``curl -sI`` sees them): compressed as the client
accepts, with a validator, and a 304 with no body when the client already has them."""

from __future__ import annotations

import gzip

import brotli
import httpx
import pytest

from services.gateway.pages import STATIC
from services.gateway.static_files import accepted_encodings


@pytest.mark.parametrize("path", ["/static/common.js", "/static/linli.css", "/", "/station"])
async def test_a_head_request_shows_the_encoding_and_a_validator(base_url: str, path: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        head = await http.head(path, headers={"Accept-Encoding": "gzip"})
    assert head.status_code == 200
    assert head.headers["content-encoding"] == "gzip"
    assert head.headers["etag"].startswith('"') and head.headers["etag"].endswith('-gz"')
    assert head.headers["last-modified"]
    assert head.headers["cache-control"] == "no-cache"
    assert "Accept-Encoding" in head.headers["vary"]


async def test_each_encoding_carries_the_same_file_and_a_known_copy_is_not_sent_again(base_url: str) -> None:
    original = (STATIC / "common.js").read_bytes()
    async with httpx.AsyncClient(base_url=base_url) as http:
        # httpx would decode for us: ask for the raw bytes as they travel
        squeezed = await http.get("/static/common.js", headers={"Accept-Encoding": "gzip"})
        packed = await http.get("/static/common.js", headers={"Accept-Encoding": "gzip, br"})
        plain = await http.get("/static/common.js", headers={"Accept-Encoding": "identity"})
        assert gzip.decompress(await _raw(http, "gzip")) == original
        assert brotli.decompress(await _raw(http, "br")) == original
        assert plain.content == original and "content-encoding" not in plain.headers
        assert packed.headers["content-encoding"] == "br"
        assert len(await _raw(http, "br")) < len(original) // 2
        assert squeezed.headers["content-type"].startswith("text/javascript")

        again = await http.get(
            "/static/common.js",
            headers={"Accept-Encoding": "gzip, br", "If-None-Match": packed.headers["etag"]},
        )
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == packed.headers["etag"]
        # the gzip copy's tag does not stand for the brotli one
        other = await http.get(
            "/static/common.js",
            headers={"Accept-Encoding": "br", "If-None-Match": squeezed.headers["etag"]},
        )
        assert other.status_code == 200 and other.headers["content-encoding"] == "br"
        assert (await http.get("/static/no-such-file.js")).status_code == 404


async def _raw(http: httpx.AsyncClient, encoding: str) -> bytes:
    async with http.stream("GET", "/static/common.js", headers={"Accept-Encoding": encoding}) as response:
        assert response.headers["content-encoding"] == encoding
        return b"".join([chunk async for chunk in response.aiter_raw()])


def test_accept_encoding_is_read_with_its_weights() -> None:
    assert accepted_encodings("gzip, deflate, br;q=0.5") == {"gzip", "deflate", "br"}
    assert accepted_encodings("br;q=0, gzip") == {"gzip"}
    assert accepted_encodings("") == set()
