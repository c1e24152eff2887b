"""A deleted resident's part of activities: their sign-ups stay (seat counts must add up) under
the account id, which no longer names anyone; the household members' names they carry, and any
event still kept that names them, are replaced by the pseudonym."""

from __future__ import annotations

from services.activities.contracts import SERVICE
from services.common.db import Connection
from services.common.erasure import Erasure, erase_commands, scrub, scrub_outbox


async def erase(conn: Connection, erasure: Erasure) -> int:
    """Rows changed."""
    mine = "signup_id IN (SELECT id FROM activities.signups WHERE resident_id = $3)"
    needles, pseudonym = erasure.needles, erasure.pseudonym
    return (
        await scrub(
            conn,
            "activities.signups",
            "attendees",
            needles,
            pseudonym,
            jsonb=True,
            where="resident_id = $3",
            args=[erasure.resident_id],
        )
        + await scrub(
            conn,
            "activities.party_changes",
            "dropped",
            needles,
            pseudonym,
            jsonb=True,
            where=mine,
            args=[erasure.resident_id],
        )
        + await scrub_outbox(conn, SERVICE, erasure)
    )


ERASE_COMMANDS = erase_commands(SERVICE, erase)
