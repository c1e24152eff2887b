"""A deleted resident's part of volunteers: the hours ledger, shift sign-ups, check-ins and
claims stay under the account id (which no longer names anyone); the names they gave here
(profile, 双报到), their wishes' words and address, and any text or kept event that names them
are erased or replaced by the pseudonym."""

from __future__ import annotations

from dataclasses import replace

from services.common.db import Connection
from services.common.erasure import Erasure, erase_commands, erasure_of, scrub, scrub_outbox
from services.volunteers.contracts import SERVICE

ERASED_WISH = "（该居民已注销账号，心愿内容已删除）"
# Free text others wrote (reviews, notes, reasons) that may name the resident.
_FREE_TEXT = (
    ("volunteers.wishes", "description"),
    ("volunteers.wishes", "done_note"),
    ("volunteers.wishes", "decline_reason"),
    ("volunteers.wish_claims", "give_back_reason"),
    ("volunteers.wish_call_backs", "note"),
    ("volunteers.ledger", "reason"),
    ("volunteers.shift_withdrawals", "reason"),
    ("volunteers.correction_requests", "reason"),
    ("volunteers.correction_requests", "decline_reason"),
    ("volunteers.certificates", "revoke_reason"),
)


async def _names_given_here(conn: Connection, volunteer_id: str) -> list[str]:
    rows = await conn.fetch(
        """
        SELECT name FROM volunteers.party_members WHERE volunteer_id = $1
        UNION ALL SELECT display_name FROM volunteers.profiles WHERE volunteer_id = $1
        """,
        volunteer_id,
    )
    return [row["name"] for row in rows if row["name"]]


async def erase(conn: Connection, erasure: Erasure) -> int:
    """Rows changed."""
    rid = erasure.resident_id
    known = erasure_of(rid, [*erasure.needles, *await _names_given_here(conn, rid)])
    erasure = replace(erasure, needles=known.needles)
    changed = 0
    for status in (
        await conn.execute(
            "UPDATE volunteers.profiles SET display_name = NULL, availability = NULL, "
            "availability_slots = '[]' WHERE volunteer_id = $1",
            rid,
        ),
        await conn.execute(
            "UPDATE volunteers.party_members SET name = $2 WHERE volunteer_id = $1", rid, erasure.pseudonym
        ),
        await conn.execute(
            "UPDATE volunteers.wishes SET description = $2, building = '', photo_url = NULL "
            "WHERE resident_id = $1",
            rid,
            ERASED_WISH,
        ),
        await conn.execute(
            "UPDATE volunteers.shift_withdrawals SET reason = NULL WHERE volunteer_id = $1", rid
        ),
        # A certificate stays in the register (its number was issued) but names nobody.
        await conn.execute(
            "UPDATE volunteers.certificates SET volunteer_name = $2, volunteer_identity = '' "
            "WHERE volunteer_id = $1",
            rid,
            erasure.pseudonym,
        ),
    ):
        changed += int(status.split()[-1])
    for table, column in _FREE_TEXT:
        changed += await scrub(conn, table, column, erasure.needles, erasure.pseudonym)
    return changed + await scrub_outbox(conn, SERVICE, erasure)


ERASE_COMMANDS = erase_commands(SERVICE, erase)
