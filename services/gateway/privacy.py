"""Residents' rights over their personal data (PIPL): see and download everything Linli holds
about them (``myData``, read through each service's queries module), and delete the account.

Deleting goes through every service: each queued service erases its own rows (an
``erase_resident`` command, services.common.erasure), then identity erases the account and
ends every session of it. The same request sent again after a failure part-way carries on
where it stopped.
"""

from __future__ import annotations

import asyncio

import strawberry
from strawberry.scalars import JSON

from services.activities import queries as activities_queries
from services.common.actor import RESIDENT
from services.common.clock import now
from services.common.erasure import ERASE_RESIDENT
from services.common.errors import Refusal
from services.common.settings import QUEUED_SERVICES
from services.gateway.commands import derived_key, perform
from services.gateway.context import Info
from services.gateway.identity import clear_cookies, identity, resident_uuid
from services.identity import queries as identity_queries
from services.identity.domain import unknown_account
from services.notify import queries as notify_queries
from services.volunteers import queries as volunteers_queries

# What a resident types to say they mean it (the page asks for it).
DELETE_CONFIRMATION = "注销"


def confirmation_needed() -> Refusal:
    return Refusal(
        "CONFIRMATION_REQUIRED",
        f"请输入“{DELETE_CONFIRMATION}”以确认注销账号",
        f"Type “{DELETE_CONFIRMATION}” to confirm deleting the account",
        {"field": "confirmation"},
    )


@strawberry.type
class PrivacyQuery:
    @strawberry.field(
        description=(
            "Residents: everything Linli holds about me, as one JSON object (profile, household, "
            "consents, sign-ups, volunteering and service hours, wishes, inbox, notification "
            "preferences): to read, or to save as a file."
        )
    )
    async def my_data(self, info: Info) -> JSON:
        actor = info.context.require_role(RESIDENT)
        resident_id = resident_uuid(actor)
        person = actor.user_id
        async with info.context.pool.acquire() as conn:
            mine = await identity_queries.personal_data(conn, resident_id)
            if not mine:
                raise unknown_account()
            community = mine["profile"].get("community_id")
            names = await identity_queries.community_names(conn, [community] if community else [])
            mine["profile"]["community_name"] = names.get(community or "", "")
            mine.update(await activities_queries.personal_data(conn, person))
            mine.update(await volunteers_queries.personal_data(conn, person))
            mine.update(await notify_queries.personal_data(conn, person))
        return JSON({"accountId": person, "exportedAt": now().isoformat(), **mine})


@strawberry.type
class PrivacyMutation:
    @strawberry.mutation(
        description=(
            "Residents: delete my account. My name, numbers, household, inbox, texts and wishes' "
            "words are erased; my sign-ups and shifts not yet over are withdrawn (their places go "
            "to the waiting list); past sign-ups, service hours, certificates and the audit log "
            "stay under a pseudonym. "
            f"confirmation must be “{DELETE_CONFIRMATION}”. Every session of mine ends."
        )
    )
    async def delete_my_account(self, info: Info, confirmation: str) -> bool:
        actor = info.context.require_role(RESIDENT)
        if confirmation.strip() != DELETE_CONFIRMATION:
            raise confirmation_needed()
        account = identity(info)
        erasure = await account.erasure_for(actor)
        args = erasure.as_args()
        # One key per erasure: a retry after a failure part-way is answered, not repeated.
        key = derived_key(ERASE_RESIDENT, args)
        await asyncio.gather(
            *(perform(info, service, ERASE_RESIDENT, actor, args, key) for service in QUEUED_SERVICES)
        )
        await account.erase_account(actor, info.context.claims, erasure, info.context.client_ip)
        clear_cookies(info.context)
        return True
