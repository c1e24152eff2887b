"""A deleted resident's part of activities. Their sign-ups for sessions that have not ended are
withdrawn as their own cancellation would be (seats freed, the waitlist promoted and told,
``signup.cancelled`` recorded, live counts updated), except that the deadline does not hold
them: nobody is left to come. A sign-up someone of the party already checked in on, and every
sign-up of a session that is over, stays as history (seat counts, attendance and the dashboard
must add up) under the account id, which no longer names anyone; the household members' names
they carry, and any event still kept that names them, are replaced by the pseudonym."""

from __future__ import annotations

from services.activities import attendance, domain, handlers
from services.activities import repository as repo
from services.activities.contracts import SERVICE
from services.common.clock import now
from services.common.db import Connection
from services.common.erasure import (
    ACCOUNT_ERASED,
    ERASE_RESIDENT,
    Erasure,
    erase_commands,
    scrub,
    scrub_outbox,
)


async def withdraw_signups_not_yet_over(conn: Connection, resident_id: str) -> int:
    """Cancel the resident's sign-ups for sessions not yet over (none checked in); how many.
    Run again, it finds them cancelled and does nothing: an erasure retried changes nothing more."""
    at = now()
    withdrawn = 0
    for row in await repo.signups_not_yet_over(conn, resident_id, at):
        # session first, then the sign-up: the lock order of every writer
        session = await repo.lock_session(conn, row["session_id"])
        signup = await repo.lock_signup(conn, row["id"])
        assert session is not None and signup is not None
        if signup["status"] == domain.SignupStatus.CANCELLED:
            continue
        if await attendance.checked_in_at(conn, signup["id"]) is not None:
            continue  # let in at the door while we waited for the lock: history now
        await handlers.withdraw(conn, session, signup, ERASE_RESIDENT, at, {ACCOUNT_ERASED: resident_id})
        withdrawn += 1
    return withdrawn


async def erase(conn: Connection, erasure: Erasure) -> int:
    """Rows changed."""
    mine = "signup_id IN (SELECT id FROM activities.signups WHERE resident_id = $3)"
    needles, pseudonym = erasure.needles, erasure.pseudonym
    return (
        await withdraw_signups_not_yet_over(conn, erasure.resident_id)
        # every household member, even one whose name is too short to scrub as text
        + await repo.rename_attendees(conn, erasure.resident_id, pseudonym)
        + await scrub(
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
