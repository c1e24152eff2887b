"""The audit trail of staff actions: every mutation an organiser, admin, scanner or grid worker
carries out is recorded (who, when, what was asked, what it produced), and a community's admins
can read their community's trail.

Recorded in the gateway, after the operation, from the request and its result, so each service
needs no audit code of its own. "Before" is not recorded: the gateway does not read a service's
state before it changes (the services' events carry what changed).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from services.common.actor import COMMUNITY_ADMIN, PLATFORM_ADMIN, RESIDENT, VOLUNTEER, Actor
from services.common.clock import now
from services.common.errors import bad_input, forbidden
from services.common.masking import mask_phones_in
from services.gateway.context import Context, Info
from services.identity import queries, repository

log = logging.getLogger("linli.audit")

# Log-ins, log-outs and account creation are audited by identity itself.
_AUDITED_ELSEWHERE = frozenset(
    {"requestLoginCode", "logIn", "organiserLogIn", "refreshToken", "logOut", "createOrganiser"}
    # The directory's changes and street staff: by services.identity.directory.
    | {"addStreet", "addCommunity", "updateCommunity", "addStation", "updateStation", "addGrid"}
    | {"createStreetStaff"}
)


def is_staff(actor: Actor) -> bool:
    return bool(actor.roles - {RESIDENT, VOLUNTEER})


def community_of(actor: Actor, produced: Any) -> str | None:
    """The community an action belongs to: the one its result names, else the actor's only one."""
    if isinstance(produced, dict):
        named = produced.get("communityId")
        if isinstance(named, str):
            return named
    return next(iter(actor.communities)) if len(actor.communities) == 1 else None


class StaffAudit(SchemaExtension):
    """Record each successful staff mutation in ``identity.audit_log``."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context
        if context.operation_type != OperationType.MUTATION:
            return
        ctx = context.context
        if not isinstance(ctx, Context) or ctx.actor is None or not is_staff(ctx.actor):
            return
        result = context.result
        data = getattr(result, "data", None)
        if not data or getattr(result, "errors", None):
            return
        asked = mask_phones_in(json.dumps(context.variables or {}, ensure_ascii=False, default=str))
        try:
            async with ctx.pool.acquire() as conn:
                for field, produced in data.items():
                    if field in _AUDITED_ELSEWHERE:
                        continue
                    await repository.audit(
                        conn,
                        now(),
                        field,
                        subject=str(produced.get("id", field)) if isinstance(produced, dict) else field,
                        actor_id=ctx.actor.user_id,
                        client_ip=ctx.client_ip,
                        details={"input": json.loads(asked), "result": produced},
                        community_id=community_of(ctx.actor, produced),
                    )
        except Exception:  # the action itself succeeded; a missing audit line must be seen
            log.exception("could not audit %s by %s", list(data), ctx.actor.user_id)


@strawberry.type
class AuditEntry:
    at: datetime
    action: str
    actor_id: str | None
    subject: str
    details: strawberry.scalars.JSON


@strawberry.type
class AuditQuery:
    @strawberry.field(description="Staff actions in a community, newest first (its admins only).")
    async def audit_log(self, info: Info, community_id: str, limit: int = 100) -> list[AuditEntry]:
        actor = info.context.require_actor()
        if not (
            PLATFORM_ADMIN in actor.roles
            or (COMMUNITY_ADMIN in actor.roles and community_id in actor.communities)
        ):
            raise forbidden()
        if not 1 <= limit <= 500:
            raise bad_input("limit", "条数须在1到500之间", "limit must be 1 to 500")
        async with info.context.pool.acquire() as conn:
            rows = await queries.community_audit_trail(conn, community_id, limit)
        return [
            AuditEntry(
                at=row["at"],
                action=row["action"],
                actor_id=row["actor_id"],
                subject=row["subject"],
                details=row["details"],
            )
            for row in rows
        ]
