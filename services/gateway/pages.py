"""The pages people use, served by the gateway as static files that talk to ``/graphql``.

``/`` is the residents' mini-page, ``/console`` the staff console (organisers schedule and
review; grid workers sign residents up and post wishes for them at the desk), ``/scan`` the
scanner page (volunteers check in with the station code; door staff admit tickets and
volunteer cards), ``/station`` the venue's station-code display and ``/wishes`` the wish wall
(微心愿) where party members and volunteers claim, start and finish residents' wishes;
``/poster?station=…`` prints a 邻里驿家 station's poster, whose QR code residents scan. No build
step: plain HTML, CSS and JavaScript modules under ``static/`` (``common.js`` holds what they
share).

How they behave, and why:
- Log-in leaves HttpOnly cookies, so no token is handled in JavaScript; an expired access
  cookie is renewed once from the refresh cookie and the call repeated.
- Every action that changes something has an idempotency key kept in ``sessionStorage``
  until its answer is final, so a retry after a lost answer (or a reload) is the same
  request; buttons are disabled while their request is in flight.
- Refusals are shown from ``extensions.messageZh`` / ``messageEn``; Chinese first, with an
  English switch remembered in ``localStorage``.
- The console takes seat counts live over graphql-ws (``sessionCounts``, up to the
  gateway's 10 subscriptions a socket) and polls as a fallback.
- The one front-end dependency, the QR decoder for the camera (jsQR), comes from npm
  (``package.json``, installed by ``make test``) and is served from ``node_modules``;
  without it the pages still take a typed code.
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
        _page("poster.html"),
        _page("scan.html"),
        _page("station.html"),
        _page("wishes.html"),
        Route("/vendor/{name}", vendor),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
