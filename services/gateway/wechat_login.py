"""The two pages of residents' WeChat log-in: ``/auth/wechat`` sends her to WeChat's
authorisation page, ``/auth/wechat/back`` is where WeChat sends her back with a code. Linked
already, she lands on ``/`` logged in (cookies set); the first time, on ``/?wechat=<ticket>``,
where the log-in form links her OpenID once she proves her phone. Without an AppID configured
neither page exists (404) and the residents' page offers no WeChat button.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from services.common.errors import Refusal
from services.gateway.context import Resources
from services.gateway.identity import set_login_cookies
from services.identity.service import Identity


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
        return RedirectResponse(await ours.wechat_authorize_url(back), status_code=302)

    async def back(request: Request) -> Response:
        ours = identity()
        if not ours.wechat_log_in_available:
            return not_here()
        client_ip = request.client.host if request.client else None
        try:
            result = await ours.wechat_back(
                request.query_params.get("code", ""), request.query_params.get("state", ""), client_ip
            )
        except Refusal as refusal:
            return RedirectResponse("/?" + urlencode({"wechat_failed": refusal.code}), status_code=303)
        if isinstance(result, str):  # not linked yet: she proves her phone once
            return RedirectResponse("/?" + urlencode({"wechat": result}), status_code=303)
        response = RedirectResponse("/", status_code=303)
        set_login_cookies(response, ours.settings, result)
        return response

    return [Route("/auth/wechat", start), Route("/auth/wechat/back", back, name="wechat_back")]
