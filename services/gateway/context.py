"""What every resolver gets: the actor (if any) and the gateway's shared resources."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg
from arq.connections import ArqRedis
from starlette.requests import HTTPConnection
from strawberry.types import Info as StrawberryInfo

from services.common.actor import Actor
from services.common.commands import CommandBus
from services.common.errors import Refusal, forbidden, unauthenticated
from services.common.settings import Settings
from services.common.tokens import TokenClaims, read_claims
from services.gateway.live import LiveChannels
from services.identity.revocations import RevokedTokens


@dataclass
class Resources:
    """Built once by the app's lifespan."""

    settings: Settings
    pool: asyncpg.Pool
    redis: ArqRedis
    bus: CommandBus
    live: LiveChannels
    revoked: RevokedTokens


@dataclass
class Context:
    resources: Resources
    actor: Actor | None
    # A bad token is refused only where an actor is needed; public reads still work.
    auth_refusal: Refusal | None = None
    # The access token in use (for logOut), the sub-response (for cookies), the client's address.
    claims: TokenClaims | None = None
    response: Any = None
    client_ip: str | None = None
    cookies: dict[str, str] | None = None
    # The directory's community names, read at most once per request (services.gateway.names).
    community_names: dict[str, str] | None = None
    # This request's batched readers of nested fields (services.gateway.loaders).
    loaders: dict[str, Any] = field(default_factory=dict)

    @property
    def pool(self) -> asyncpg.Pool:
        return self.resources.pool

    @property
    def bus(self) -> CommandBus:
        return self.resources.bus

    def require_actor(self) -> Actor:
        if self.auth_refusal is not None:
            raise self.auth_refusal
        if self.actor is None:
            raise unauthenticated()
        return self.actor

    def require_role(self, *roles: str) -> Actor:
        actor = self.require_actor()
        if not actor.has_role(*roles):
            raise forbidden()
        return actor


Info = StrawberryInfo[Context, None]


TOKEN_COOKIE = "linli_token"
REFRESH_COOKIE = "linli_refresh"
# Back from WeChat the first time: the ticket that links her OpenID when she proves her phone.
# A cookie, not a URL, so that nobody can hand her a link carrying their own WeChat.
WECHAT_COOKIE = "linli_wechat"


async def authenticate(connection: HTTPConnection, resources: Resources) -> TokenClaims | None:
    """The access token of a request: ``Authorization: Bearer`` first, else the ``linli_token``
    cookie. A forged, expired, malformed or revoked token is refused."""
    authorization = connection.headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Refusal("UNAUTHENTICATED", "登录凭证格式错误", "Malformed Authorization header")
        token = token.strip()
    else:
        token = connection.cookies.get(TOKEN_COOKIE, "")
        if not token:
            return None
    claims = read_claims(token, resources.settings.secret)
    if await resources.revoked.is_revoked(claims):
        raise Refusal("UNAUTHENTICATED", "您已退出登录，请重新登录", "You have logged out; log in again")
    return claims
