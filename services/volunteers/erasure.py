"""A deleted resident's part of volunteers. Their places on shifts that have not ended (and
that they have not checked in on) are released as their own withdrawal would be, the organiser
told. The hours ledger, past shift sign-ups, check-ins, claims and certificates stay under the
account id (which no longer names anyone): the 民政部 rules keep service records, and a
certificate's number still checks out, naming nobody. The names they gave here (profile,
双报到), their wishes' words and address, and any text or kept event that names them are erased
or replaced by the pseudonym. Concerns they raised at the 邻里议事会 lose their author, photo
and phone numbers (words kept only once the council took them up: council.words_kept_after_erasure)."""

from __future__ import annotations

from dataclasses import replace

from services.common import clock
from services.common.db import Connection
from services.common.erasure import (
    ACCOUNT_ERASED,
    Erasure,
    erase_commands,
    erasure_of,
    scrub,
    scrub_outbox,
)
from services.volunteers import council, handlers, wish_handlers, wishes
from services.volunteers import council_repository as council_repo
from services.volunteers import repository as repo
from services.volunteers import wish_repository as wish_repo
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
    # 邻里议事会: what staff and partners wrote may name her (a supervisor, a household)
    ("volunteers.concerns", "words"),
    ("volunteers.concerns", "triage_note"),
    ("volunteers.council_meetings", "title"),
    ("volunteers.council_meetings", "minutes"),
    ("volunteers.meeting_invitations", "name"),
    ("volunteers.council_tasks", "decision"),
    ("volunteers.council_tasks", "owner_name"),
    ("volunteers.council_tasks", "supervisor_name"),
    ("volunteers.council_tasks", "done_note"),
    ("volunteers.task_cost_shares", "party"),
    ("volunteers.task_notes", "note"),
    ("volunteers.task_ratings", "comment"),
)


async def release_shifts_not_yet_over(conn: Connection, volunteer_id: str) -> int:
    """Withdraw the volunteer from every shift not yet over that they have not checked in on;
    how many. Run again, it finds none left."""
    await repo.lock_volunteer(conn, volunteer_id)
    at = clock.now()
    released = 0
    for signup, shift in await repo.shift_signups_not_yet_over(conn, volunteer_id, at):
        await handlers.release_place(conn, shift, signup, None, at, {ACCOUNT_ERASED: volunteer_id})
        released += 1
    return released


async def give_back_claimed_wishes(conn: Connection, claimant_id: str) -> int:
    """Wishes the person had claimed and not yet done go back on the wall, their residents told
    why; how many. (Done ones wait for the resident's confirmation, as they would anyway.)"""
    at = clock.now()
    given = 0
    for wish in await wish_repo.lock_wishes_claimed_by(conn, claimant_id):
        if wishes.may_give_back(wish["status"]):
            extra = {ACCOUNT_ERASED: claimant_id}
            given += await wish_handlers.give_back(conn, wish, wishes.CLAIMANT_GONE, at, **extra) is not None
    return given


async def forget_concern_authorship(conn: Connection, erasure: Erasure) -> int:
    """Her concerns keep no link to her, no photo, no phone; her ratings stay as stars."""
    concerns = await council_repo.lock_concerns_of(conn, erasure.resident_id)
    for concern in concerns:
        words = council.words_kept_after_erasure(
            council.ConcernStatus(concern["status"]), concern["words"], erasure.needles, erasure.pseudonym
        )
        await council_repo.forget_concern_author(conn, concern["id"], erasure.resident_id, words)
    others = await council_repo.forget_council_person(conn, erasure.resident_id, erasure.pseudonym)
    return len(concerns) + others


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
    changed = (
        await release_shifts_not_yet_over(conn, rid)
        + await give_back_claimed_wishes(conn, rid)
        + await forget_concern_authorship(conn, erasure)
    )
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
