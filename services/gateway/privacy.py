"""Residents' rights over their personal data (PIPL): delete the account.

Deleting goes through every service: each queued service erases its own rows (an
``erase_resident`` command, services.common.erasure), then identity erases the account and
ends every session of it. The same request sent again after a failure part-way carries on
where it stopped.
"""

from __future__ import annotations

import asyncio
import hashlib
import json

import strawberry

from services.common.actor import RESIDENT
from services.common.erasure import ERASE_RESIDENT
from services.common.errors import Refusal
from services.common.settings import QUEUED_SERVICES
from services.gateway.context import Info
from services.gateway.identity import clear_cookies, identity
from services.gateway.inputs import still_processing

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
class PrivacyMutation:
    @strawberry.mutation(
        description=(
            "Residents: delete my account. My name, numbers, household, inbox, texts and wishes' "
            "words are erased; my sign-ups, service hours and the audit log stay under a pseudonym. "
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
        key = "erase-" + hashlib.sha256(json.dumps(args, sort_keys=True).encode()).hexdigest()[:24]
        replies = await asyncio.gather(
            *(
                info.context.bus.send(service, ERASE_RESIDENT, actor, args, key=key)
                for service in QUEUED_SERVICES
            )
        )
        for reply in replies:
            if reply is None:
                raise still_processing()
            reply.unwrap()
        await account.erase_account(actor, info.context.claims, erasure, info.context.client_ip)
        clear_cookies(info.context)
        return True
