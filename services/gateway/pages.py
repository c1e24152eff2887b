"""The pages people use, served by the gateway as static files that talk to ``/graphql``.

``/`` is the residents' mini-page, ``/console`` the staff console (organisers schedule and
review; grid workers sign residents up and post wishes for them at the desk), ``/scan`` the
scanner page (volunteers check in with the station code; door staff admit tickets and
volunteer cards), ``/station`` the venue's station-code display and ``/wishes`` the wish wall
(微心愿) where party members and volunteers claim, start and finish residents' wishes;
``/council`` the 邻里议事会 (residents raise and rate concerns; staff triage, convene, record minutes
and follow tasks), ``/board?c=…`` a community's public board (no login, no personal data),
``/lists`` the three lists (partner units claim project items; organisers print the quarterly
report and close items);
``/dashboard`` staff's counts of a community, a street or the city over a period, as bar charts
(inline SVG drawn in the browser) with their tables, a CSV and an A4 landscape print;
``/poster?station=…`` prints a 邻里驿家 station's poster, whose QR code residents scan. No build
step: plain HTML, CSS and JavaScript modules under ``static/`` (``common.js`` holds what they
share).

How they behave, and why:
- Log-in leaves HttpOnly cookies, so no token is handled in JavaScript; an expired access
  cookie is renewed once from the refresh cookie and the call repeated.
- Every action that changes something has an idempotency key kept in ``sessionStorage``
  until its answer is final, so a retry after a lost answer (or a reload) is the same
  request; buttons are disabled and say "正在提交…" while their request is in flight, and a
  retryable failure (no network, a 502, no answer yet) leaves a 重试 button that sends the same
  request with the same key. Lists not filled yet say "正在加载…".
- Refusals are shown from ``extensions.messageZh`` / ``messageEn``; Chinese first, with an
  English switch remembered in ``localStorage``.
- The console takes seat counts live over graphql-ws (``sessionCounts``, up to the
  gateway's 10 subscriptions a socket) and polls as a fallback.
- Pages, scripts and styles go out compressed (brotli or gzip, as the browser accepts) with an
  ETag from their content and ``Cache-Control: no-cache``: a return visit costs a 304 per file
  (``static_files.py``).
- The one front-end dependency, the QR decoder for the camera (jsQR), comes from npm
  (``package.json``, installed by ``make test``) and is served from ``node_modules`` (the
  checkout's, or ``LINLI_NODE_MODULES``, which the image sets);
  without it the pages still take a typed code. The scanner's offline checks use
  ``@noble/ed25519`` the same way (``/vendor/ed25519.js``).
- ``/scan`` installs as an app (``static/scan.webmanifest``) and its service worker
  (``/scan-sw.js``) keeps the page, its scripts and the decoders for when the network drops.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from services.gateway.static_files import CompressedStaticFiles, file_response

STATIC = Path(__file__).resolve().parent / "static"
CHECKOUT_NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
VENDORED = {  # within node_modules
    "jsqr.js": Path("jsqr") / "dist" / "jsQR.js",
    "ed25519.js": Path("@noble") / "ed25519" / "index.js",  # offline ticket checks (offline-door.js)
}

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
        return file_response(path, request.scope, "text/html; charset=utf-8", SECURITY_HEADERS)

    return Route("/" + filename.removesuffix(".html").replace("resident", ""), serve)


def vendored(name: str, node_modules: Path | None = None) -> Path | None:
    """The installed file served as ``/vendor/<name>``, or None if it is not installed."""
    within = VENDORED.get(name)
    found = (node_modules or CHECKOUT_NODE_MODULES) / within if within else None
    return found if found is not None and found.is_file() else None


def _vendor(node_modules: Path | None) -> Route:
    async def serve(request: Request) -> Response:
        found = vendored(request.path_params["name"], node_modules)
        if found is None:
            return PlainTextResponse("not installed (npm ci)", status_code=404)
        return file_response(found, request.scope, "text/javascript; charset=utf-8", SECURITY_HEADERS)

    return Route("/vendor/{name}", serve)


def _service_worker() -> Route:
    """The scanner's service worker, served from the root so it may keep ``/scan`` for offline use."""

    async def serve(request: Request) -> Response:
        headers = {**SECURITY_HEADERS, "Service-Worker-Allowed": "/"}
        return file_response(STATIC / "scan-sw.js", request.scope, "text/javascript; charset=utf-8", headers)

    return Route("/scan-sw.js", serve)


def page_routes(node_modules: Path | None = None) -> list[BaseRoute]:
    return [
        _service_worker(),
        _page("resident.html"),
        _page("console.html"),
        _page("poster.html"),
        _page("scan.html"),
        _page("station.html"),
        _page("wishes.html"),
        _page("council.html"),
        _page("board.html"),
        _page("lists.html"),
        _page("dashboard.html"),
        _vendor(node_modules),
        Mount("/static", CompressedStaticFiles(directory=STATIC), name="static"),
    ]
