"""The two pages of residents' WeChat log-in: ``/auth/wechat`` sends her to WeChat's
authorisation page, ``/auth/wechat/back`` is where WeChat sends her back with a code. Linked
already, she lands on ``/`` logged in (cookies set); the first time, on ``/?wechat=linking``
with the ticket in an HttpOnly cookie, and the log-in form links her OpenID once she proves her
phone. Without an AppID configured neither page exists (404) and the page offers no WeChat button.

Both steps are bound to her browser: the state WeChat carries is also in a cookie set when she
left, and the ticket never appears in a URL, so a link someone else prepared (with their code,
state or ticket) can neither log her in as them nor link their WeChat to her account.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from services.common.errors import Refusal
from services.gateway.context import WECHAT_COOKIE, Resources
from services.gateway.identity import set_login_cookies
from services.identity.service import Identity
from services.identity.wechat_login import authorisation_expired

STATE_COOKIE = "linli_wechat_state"
STEP_S = 600  # as long as Identity keeps the state and the ticket


def _cookie(identity: Identity) -> dict[str, Any]:
    return {"httponly": True, "samesite": "lax", "secure": identity.settings.production}


def wechat_login_routes(resources: dict[str, Resources]) -> list[Route]:
    """``resources["live"]`` is filled in by the app's lifespan."""

    def identity() -> Identity:
        live = resources["live"]
        return Identity(live.pool, live.redis, live.settings, revoked=live.revoked)

    def not_here() -> Response:
        return JSONResponse({"error": "WeChat log-in is not configured"}, status_code=404)

    async def start(request: Request) -> Response:
        ours = identity()
        if not ours.wechat_log_in_available:
            return not_here()
        back = str(request.url_for("wechat_back"))
        url, state = await ours.wechat_authorize_url(back)
        response = RedirectResponse(url, status_code=302)
        response.set_cookie(STATE_COOKIE, state, max_age=STEP_S, path="/auth/wechat", **_cookie(ours))
        return response

    async def back(request: Request) -> Response:
        ours = identity()
        if not ours.wechat_log_in_available:
            return not_here()
        client_ip = request.client.host if request.client else None
        state = request.query_params.get("state", "")
        try:
            if not state or request.cookies.get(STATE_COOKIE) != state:
                raise authorisation_expired()  # not the browser that left for WeChat
            result = await ours.wechat_back(request.query_params.get("code", ""), state, client_ip)
        except Refusal as refusal:
            response = RedirectResponse("/?" + urlencode({"wechat_failed": refusal.code}), status_code=303)
        else:
            if isinstance(result, str):  # not linked yet: she proves her phone once
                response = RedirectResponse("/?wechat=linking", status_code=303)
                response.set_cookie(WECHAT_COOKIE, result, max_age=STEP_S, path="/graphql", **_cookie(ours))
            else:
                response = RedirectResponse("/", status_code=303)
                set_login_cookies(response, ours.settings, result)
        response.delete_cookie(STATE_COOKIE, path="/auth/wechat")
        return response

    return [Route("/auth/wechat", start), Route("/auth/wechat/back", back, name="wechat_back")]
