"""Steps the certificate and correction tests share (API and browser): a volunteer who served
a shift that is over, their name, and the GraphQL documents."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from services.common.ids import new_id
from services.volunteers import codes, domain, profiles
from services.volunteers import repository as repo
from tests.conftest import COMMUNITY
from tests.dates import at

ISSUE = """
mutation($input: IssueCertificateInput!) {
  issueCertificate(input: $input) {
    number minutes hours volunteerName volunteerIdentity issuerName contact status verificationPath
    activities { content place minutes }
  }
}
"""
REVOKE = "mutation($input: RevokeCertificateInput!) { revokeCertificate(input: $input) { number status } }"
VERIFY = """
query($n: String!) { verifyCertificate(number: $n) { number maskedName hours issuerName valid } }
"""
REGISTER = """
query($c: String!) {
  certificateRegister(communityId: $c) { number volunteerName minutes status revokeReason }
}
"""
ASK = """
mutation($input: RequestRecordCorrectionInput!) {
  requestRecordCorrection(input: $input) { id status creditedMinutes askedMinutes minutesNow }
}
"""
DECIDE = """
mutation($input: DecideRecordCorrectionInput!) {
  decideRecordCorrection(input: $input) { id status declineReason minutesNow }
}
"""
OPEN = """
query($c: String!, $limit: Int! = 200, $after: ID) {
  openRecordCorrections(communityId: $c, limit: $limit, after: $after) {
  id name role reason askedMinutes minutesNow } }
"""
INBOX = "{ myInbox { kind title body } }"


async def served(
    pool: Any, volunteer_id: str, minutes: int = 120, community: str = COMMUNITY, days_ago: int = 2
) -> uuid.UUID:
    """The volunteer signed up for a two-hour shift ``days_ago`` days ago and the ledger credits
    them ``minutes`` for it (set up through the repository: the API refuses shifts in the past).
    Returns the shift's id."""
    starts_at = at(-days_ago, "09:00")
    venue = f"朔方社区党群服务中心 {uuid.uuid4().hex[:6]}"
    plan = domain.ShiftPlan(community, venue, "秩序维护", starts_at, starts_at + timedelta(hours=2), 50)
    async with pool.acquire() as conn, conn.transaction():
        shift = await repo.insert_shift(conn, new_id(), plan, codes.venue_key(venue), "organiser-test")
        await repo.insert_signup(conn, new_id(), shift["id"], volunteer_id, uuid.uuid4().hex)
        check_in = await repo.insert_check_in(
            conn, new_id(), shift["id"], volunteer_id, domain.CheckInMethod.STATION, volunteer_id, starts_at
        )
        await repo.close_check_in(conn, check_in["id"], starts_at + timedelta(minutes=minutes))
        await repo.insert_ledger_entry(
            conn,
            new_id(),
            volunteer_id,
            shift["id"],
            domain.LedgerKind.ATTENDANCE,
            minutes,
            recorded_by=volunteer_id,
            check_in_id=check_in["id"],
        )
    shift_id: uuid.UUID = shift["id"]
    return shift_id


async def named(pool: Any, volunteer_id: str, name: str, community: str = COMMUNITY) -> None:
    """The volunteer gave their name in their volunteer profile."""
    async with pool.acquire() as conn:
        await repo.upsert_profile(conn, volunteer_id, profiles.check_profile(community, name, None, []))
