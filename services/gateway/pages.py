"""The pages people use, served by the gateway as static files that talk to ``/graphql``.

``/`` is the residents' mini-page, ``/console`` the organisers' console, ``/scan`` the
volunteers' scanner page and ``/station`` the venue's station-code display. No build step:
plain HTML, CSS and JavaScript under ``static/``. The one front-end dependency, the QR
decoder for the scanner's camera, comes from npm (``package.json``) and is served from
``node_modules`` when installed; without it the scanner page still takes a typed code.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
VENDORED = {"jsqr.js": NODE_MODULES / "jsqr" / "dist" / "jsQR.js"}

# Pages load only their own scripts and styles; QR images arrive as data: URLs.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}


def _page(filename: str) -> Route:
    path = STATIC / filename

    async def serve(request: Request) -> Response:
        return FileResponse(path, media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)

    return Route("/" + filename.removesuffix(".html").replace("resident", ""), serve)


async def vendor(request: Request) -> Response:
    found = VENDORED.get(request.path_params["name"])
    if found is None or not found.is_file():
        return PlainTextResponse("not installed (npm ci)", status_code=404)
    return FileResponse(found, media_type="text/javascript", headers=SECURITY_HEADERS)


def page_routes() -> list[BaseRoute]:
    return [
        _page("resident.html"),
        _page("console.html"),
        _page("scan.html"),
        _page("station.html"),
        Route("/vendor/{name}", vendor),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
