"""What every resolver gets: the actor (if any) and the gateway's shared resources."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from arq.connections import ArqRedis
from strawberry.types import Info as StrawberryInfo

from services.common.actor import Actor
from services.common.commands import CommandBus
from services.common.errors import Refusal, forbidden, unauthenticated
from services.common.settings import Settings
from services.common.tokens import read_token


@dataclass
class Resources:
    """Built once by the app's lifespan."""

    settings: Settings
    pool: asyncpg.Pool
    redis: ArqRedis
    bus: CommandBus


@dataclass
class Context:
    resources: Resources
    actor: Actor | None
    # A bad token is refused only where an actor is needed; public reads still work.
    auth_refusal: Refusal | None = None

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


def actor_from_header(authorization: str | None, settings: Settings) -> Actor | None:
    """The actor named by an ``Authorization: Bearer`` header; a bad token is refused."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refusal("UNAUTHENTICATED", "登录凭证格式错误", "Malformed Authorization header")
    return read_token(token.strip(), settings.secret)
