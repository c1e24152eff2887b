"""A resident deletes her account while she holds seats (PIPL): her sign-ups for sessions still
ahead are withdrawn as if she had cancelled them — the waiting list moves up in order and each
promoted neighbour is told, the seat count and live counts follow — her place on a shift is
freed with its organiser told, and a wish she claimed goes back on the wall; what is over (a
session she attended, one she missed) stays counted. Run again, the erasure changes nothing more."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from services.activities import contracts as activities_contracts
from services.activities import erasure as activities_erasure
from services.common.erasure import Erasure, erasure_of
from services.common.masking import mask_phone
from services.common.settings import Settings
from services.notify import dashboard_repository
from services.notify import handlers as notify_handlers
from services.notify import repository as notify_repository
from services.volunteers import erasure as volunteers_erasure
from tests.conftest import COMMUNITY, SIGN_UP, GraphQLClient, eventually, open_session
from tests.dates import day, minutes_from_now
from tests.door_steps import couple_signed_up
from tests.erasure_steps import DELETE, rare_name, where_found
from tests.identity_steps import resident_logs_in
from tests.party_steps import wish_on_the_wall
from tests.test_wishes import claim
from tests.ticket_steps import CHECK_IN, check_in_vars, scanner_token, schedule_at, sign_up, ticket_of

PAST_ROSTER = "query($id: ID!) { sessionRoster(sessionId: $id) { resident phone } }"

MY_SIGNUPS = "{ mySignups { id status waitlistPosition } }"
CREATE_SHIFT = "mutation($input: CreateShiftInput!) { createShift(input: $input) { id } }"
SHIFT_SIGN_UP = "mutation($input: SignUpForShiftInput!) { signUpForShift(input: $input) { id } }"
INBOX = "{ myInbox { kind } }"
WISH_INBOX = "{ myInbox { kind body } }"
PROFILE = """
mutation($input: UpdateVolunteerProfileInput!) { updateVolunteerProfile(input: $input) { volunteerId } }
"""


async def session_state(conn: Any, session_id: str) -> dict[str, Any]:
    """The session's seats, what its sign-ups add up to, each sign-up's status and the events
    it caused so far."""
    sid = uuid.UUID(session_id)
    row = await conn.fetchrow(
        """
        SELECT s.taken, (SELECT coalesce(sum(party_size), 0) FROM activities.signups
                         WHERE session_id = s.id AND status = 'CONFIRMED') AS confirmed
        FROM activities.sessions s WHERE s.id = $1
        """,
        sid,
    )
    statuses = await conn.fetch(
        "SELECT resident_id, status FROM activities.signups WHERE session_id = $1 ORDER BY arrival", sid
    )
    events = await conn.fetch(
        "SELECT type, count(*) AS n FROM activities.outbox WHERE payload->>'session_id' = $1 GROUP BY type",
        session_id,
    )
    return {
        "taken": row["taken"],
        "confirmed": row["confirmed"],
        "statuses": [(r["resident_id"], r["status"]) for r in statuses],
        "events": {r["type"]: r["n"] for r in events},
    }


async def dashboard_figures(conn: Any, labels: set[str]) -> dict[tuple[str, str], int]:
    rows = await dashboard_repository.counts(conn, [COMMUNITY], day(-1), day(1))
    return {(r["figure"], r["label"]): int(r["value"]) for r in rows if r["label"] in labels}


async def test_an_erased_residents_seats_go_to_the_waiting_list_in_order_while_her_past_stays_counted(
    gql: GraphQLClient,
    pool: Any,
    settings: Settings,
    redis: Any,
    organiser_token: str,
    new_resident: Any,
) -> None:
    name, partner = rare_name(4), rare_name(4)
    # A full session next week: she and her husband (2 of 3 seats, signed up at the desk), a
    # neighbour, and three more waiting in line.
    full = await open_session(gql, organiser_token, capacity=3, title="剪纸书法")
    couple = await couple_signed_up(gql, settings, full, name=name, partner=partner)
    phone, resident_id = couple["phone"], couple["resident_id"]
    token = (await resident_logs_in(gql, pool, phone))["accessToken"]
    neighbour = new_resident()
    assert (await sign_up(gql, neighbour[1], full))["status"] == "CONFIRMED"
    waiting = [new_resident() for _ in range(3)]
    for position, (_, waiter) in enumerate(waiting, start=1):
        answer = await sign_up(gql, waiter, full)
        assert (answer["status"], answer["waitlistPosition"]) == ("WAITLISTED", position)

    # Two sessions that are over: one she came to (let in at the door), one she missed.
    attended_title, missed_title = f"太极拳{uuid.uuid4().hex[:4]}", f"书法{uuid.uuid4().hex[:4]}"
    attended = await schedule_at(gql, organiser_token, timedelta(minutes=30), title=attended_title)
    missed = await schedule_at(gql, organiser_token, timedelta(minutes=30), title=missed_title)
    mine = await sign_up(gql, token, attended)
    no_show = await sign_up(gql, token, missed)
    code = (await ticket_of(gql, token, mine["id"]))["code"]
    await gql.ok(CHECK_IN, check_in_vars(code, attended), scanner_token(settings))
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE activities.sessions SET starts_at = now() - interval '3 hours', "
            "ends_at = now() - interval '1 hour' WHERE id = ANY($1::uuid[])",
            [uuid.UUID(attended), uuid.UUID(missed)],
        )

    # She also took the only place on a volunteer shift tomorrow.
    starts = minutes_from_now(24 * 60)
    shift = await gql.ok(
        CREATE_SHIFT,
        {
            "input": {
                "communityId": COMMUNITY,
                "venue": f"朔方社区邻里驿家 {uuid.uuid4().hex[:6]}",
                "role": "引导员",
                "startsAt": starts.isoformat(),
                "endsAt": (starts + timedelta(hours=2)).isoformat(),
                "headcount": 1,
            }
        },
        organiser_token,
    )
    shift_id = shift["createShift"]["id"]
    shift_sign_up = {"input": {"shiftId": shift_id, "idempotencyKey": uuid.uuid4().hex}}
    await gql.ok(SHIFT_SIGN_UP, shift_sign_up, token)
    volunteer = new_resident()
    assert await gql.error_code(SHIFT_SIGN_UP, shift_sign_up, volunteer[1]) == "SHIFT_FULL"

    # And she took on a neighbour's wish.
    wisher = new_resident()
    wish_id = await wish_on_the_wall(gql, wisher[1], organiser_token, "楼道灯坏了，想请人换一下")
    await gql.ok(PROFILE, {"input": {"communityId": COMMUNITY, "availability": "周末"}}, token)
    assert (await claim(gql, token, wish_id))["data"]["claimWish"]["status"] == "CLAIMED"

    labels = {attended_title, missed_title}
    counted_before = {
        ("signups_confirmed", attended_title): 1,
        ("signups_confirmed", missed_title): 1,
        ("people_admitted", attended_title): 1,
    }

    async def past_counted() -> dict[tuple[str, str], int]:
        async with pool.acquire() as conn:
            figures = await dashboard_figures(conn, labels)
        return figures if figures == counted_before else {}

    assert await eventually(past_counted), "her past sign-ups never reached the dashboard"
    async with pool.acquire() as conn:
        past_before = [await session_state(conn, s) for s in (attended, missed)]
    channel = activities_contracts.counts_channel(settings.namespace, full)
    watching = redis.pubsub()
    await watching.subscribe(channel)

    assert (await gql.ok(DELETE, token=token))["deleteMyAccount"] is True

    # The first two in line move up, in order, and are told; the third is now first.
    first, second, third = waiting

    async def promoted_and_told() -> bool:
        for _, waiter in (first, second):
            kinds = {m["kind"] for m in (await gql.ok(INBOX, token=waiter))["myInbox"]}
            if "waitlist.promoted" not in kinds:
                return False
        return True

    assert await eventually(promoted_and_told), "the promoted neighbours were never told"
    for _, waiter in (first, second):
        [signup] = (await gql.ok(MY_SIGNUPS, token=waiter))["mySignups"]
        assert signup["status"] == "CONFIRMED"
    [still_waiting] = (await gql.ok(MY_SIGNUPS, token=third[1]))["mySignups"]
    assert (still_waiting["status"], still_waiting["waitlistPosition"]) == ("WAITLISTED", 1)

    async with pool.acquire() as conn:
        after = await session_state(conn, full)
        her_inbox = await conn.fetchval(
            "SELECT string_agg(kind, ',') FROM notify.inbox WHERE recipient_id = $1", resident_id
        )
    assert after["taken"] == after["confirmed"] == 3
    assert after["statuses"] == [
        (resident_id, "CANCELLED"),
        (neighbour[0], "CONFIRMED"),
        (first[0], "CONFIRMED"),
        (second[0], "CONFIRMED"),
        (third[0], "WAITLISTED"),
    ]
    assert after["events"]["signup.cancelled"] == 1 and after["events"]["waitlist.promoted"] == 2
    assert her_inbox is None  # her cancellation tells nobody who is gone

    # Screens watching the session saw the seats refilled and the shorter line.
    async def live_counts() -> dict[str, Any] | None:
        message = await watching.get_message(ignore_subscribe_messages=True, timeout=1.0)
        if message is None:
            return None
        counts: dict[str, Any] = json.loads(message["data"])
        return counts if (counts["taken"], counts["waitlist_length"]) == (3, 1) else None

    assert await eventually(live_counts), "the live counts never showed the promotions"
    await watching.unsubscribe(channel)
    await watching.aclose()

    # Her place on the shift is free again, the organiser was told, and another can take it.
    async def organiser_told() -> int:
        async with pool.acquire() as conn:
            told: int = await conn.fetchval(
                "SELECT count(*) FROM notify.inbox WHERE kind = 'shift.withdrawn' "
                "AND recipient_id = (SELECT created_by FROM volunteers.shifts WHERE id = $1)",
                uuid.UUID(shift_id),
            )
        return told

    assert await eventually(organiser_told) == 1, "the shift's organiser was never told"
    again = {"input": {"shiftId": shift_id, "idempotencyKey": uuid.uuid4().hex}}
    await gql.ok(SHIFT_SIGN_UP, again, volunteer[1])

    # The wish is back on the wall, its resident told why, and someone else may take it.
    async def wisher_told() -> list[str]:
        messages = (await gql.ok(WISH_INBOX, token=wisher[1]))["myInbox"]
        return [m["body"] for m in messages if m["kind"] == "wish.given_back"]

    [told] = await eventually(wisher_told)
    assert "认领人已注销账号" in told
    assert (await claim(gql, volunteer[1], wish_id))["data"]["claimWish"]["status"] == "CLAIMED"

    # What is over stays counted: the seats, who came, and the dashboard.
    async with pool.acquire() as conn:
        assert [await session_state(conn, s) for s in (attended, missed)] == past_before
        admitted = await conn.fetchval(
            "SELECT admitted FROM activities.attendance WHERE signup_id = $1", uuid.UUID(mine["id"])
        )
        assert await dashboard_figures(conn, labels) == counted_before
    assert past_before[0]["statuses"] == [(resident_id, "CONFIRMED")] and admitted == 1
    assert past_before[1]["statuses"] == [(resident_id, "CONFIRMED")]
    # Organisers still read the roster of a session she came to: her under the pseudonym, no phone.
    roster = await gql.ok(PAST_ROSTER, {"id": attended}, organiser_token)
    assert roster["sessionRoster"] == [{"resident": erasure_of(resident_id, []).pseudonym, "phone": None}]

    # A reminder due for a sign-up she kept (the one she missed) is not written for her.
    async with pool.acquire() as conn:
        projected = await notify_repository.signup(conn, uuid.UUID(no_show["id"]))
    assert projected is not None and projected["status"] == "CONFIRMED"
    ctx = {"pool": pool, "settings": settings, "redis": redis}
    due = projected["starts_at"].isoformat()
    assert await notify_handlers.send_reminder(ctx, no_show["id"], due, 60) is False

    # The erasure run again (a retry of each service's command) changes nothing more.
    erasure: Erasure = erasure_of(resident_id, [name, partner, phone, mask_phone(phone)])
    async with pool.acquire() as conn:
        async with conn.transaction():
            assert await activities_erasure.withdraw_signups_not_yet_over(conn, resident_id) == 0
            await activities_erasure.erase(conn, erasure)
            assert await volunteers_erasure.release_shifts_not_yet_over(conn, resident_id) == 0
            assert await volunteers_erasure.give_back_claimed_wishes(conn, resident_id) == 0
            await volunteers_erasure.erase(conn, erasure)
        assert await session_state(conn, full) == after
        assert await where_found(conn, [name, partner, phone]) == []
        her_messages = "SELECT count(*) FROM notify.inbox WHERE recipient_id = $1"
        assert await conn.fetchval(her_messages, resident_id) == 0


async def test_a_party_member_she_brought_leaves_with_her_even_from_a_session_already_begun(
    gql: GraphQLClient, pool: Any, settings: Settings, organiser_token: str, new_resident: Any
) -> None:
    """Household members come on her sign-up (its party), so they go with it; a session that
    began but has not ended, where nobody of hers was let in yet, still frees its seats."""
    name, partner = rare_name(3), rare_name(3)
    begun = await open_session(gql, organiser_token, capacity=2, title="邻里茶话会")
    couple = await couple_signed_up(gql, settings, begun, name=name, partner=partner)
    token = (await resident_logs_in(gql, pool, couple["phone"]))["accessToken"]
    waiter_id, waiter = new_resident()
    answer = (
        await gql.ok(
            SIGN_UP,
            {"input": {"sessionId": begun, "idempotencyKey": uuid.uuid4().hex, "partySize": 2}},
            waiter,
        )
    )["signUp"]
    assert answer["status"] == "WAITLISTED"
    async with pool.acquire() as conn:  # the session began an hour ago and runs for another
        await conn.execute(
            "UPDATE activities.sessions SET starts_at = now() - interval '1 hour', "
            "ends_at = now() + interval '1 hour' WHERE id = $1",
            uuid.UUID(begun),
        )

    assert (await gql.ok(DELETE, token=token))["deleteMyAccount"] is True

    async with pool.acquire() as conn:
        state = await session_state(conn, begun)
        attendees = await conn.fetchval(
            "SELECT attendees FROM activities.signups WHERE id = $1", uuid.UUID(couple["signup_id"])
        )
    assert state["statuses"] == [(couple["resident_id"], "CANCELLED"), (waiter_id, "CONFIRMED")]
    assert state["taken"] == state["confirmed"] == 2
    kept = json.loads(attendees) if isinstance(attendees, str) else attendees
    assert [a["name"] for a in kept] == [erasure_of(couple["resident_id"], []).pseudonym]
    assert all(a["age_band"] for a in kept)  # the party's make-up stays for the counts
