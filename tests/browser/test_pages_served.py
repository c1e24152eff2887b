"""The gateway serves the pages themselves: no browser needed to check what it sends."""

from __future__ import annotations

import httpx
import pytest

from services.gateway.pages import vendored


@pytest.mark.parametrize("path", ["/", "/console", "/scan", "/station", "/wishes"])
async def test_each_page_is_served_with_a_policy_that_allows_only_its_own_scripts(
    client: httpx.AsyncClient, path: str
) -> None:
    page = await client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    assert '<html lang="zh-CN">' in page.text  # Chinese first
    assert 'name="viewport"' in page.text


async def test_scripts_styles_and_the_installed_qr_decoder_are_served(client: httpx.AsyncClient) -> None:
    for asset in ("/static/common.js", "/static/linli.css", "/static/resident.js"):
        assert (await client.get(asset)).status_code == 200
    decoder = await client.get("/vendor/jsqr.js")
    if vendored("jsqr.js"):
        assert decoder.status_code == 200 and "jsQR" in decoder.text
    else:
        assert decoder.status_code == 404  # not installed: typing the code still works
    assert (await client.get("/vendor/anything-else.js")).status_code == 404
