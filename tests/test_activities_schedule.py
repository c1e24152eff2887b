"""Scheduling, end to end: venues are never double-booked or overfilled, drafts stay hidden,
more places move the waitlist up, and a moved session tells everyone and frees them to leave."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.activities import handlers
from services.common.tokens import read_token
from tests.conftest import COMMUNITY, OTHER_COMMUNITY, SIGN_UP, GraphQLClient, eventually, token_for

HOUR = timedelta(hours=1)
# Far enough ahead that no window or deadline of these tests has passed.
DAY = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=30)

CREATE_FESTIVAL = """
mutation($input: CreateFestivalInput!) {
  createFestival(input: $input) { id published maxSessionsPerResident }
}
"""
SET_PUBLISHED = """
mutation($id: ID!, $published: Boolean!) {
  setFestivalPublished(festivalId: $id, published: $published) { id published }
}
"""
CREATE_ACTIVITY = """
mutation($input: CreateActivityInput!) {
  createActivity(input: $input) { id title category description ageBands childrenNeedAdult }
}
"""
CREATE_VENUE = """
mutation($input: CreateVenueInput!) { createVenue(input: $input) { id name kind capacity communityId } }
"""
VENUES = """query($c: String!, $limit: Int! = 200, $after: ID) {
  venues(communityId: $c, limit: $limit, after: $after) { id name kind capacity } }"""
SESSION_FIELDS = """
  id venue venueId startsAt endsAt capacity seatsTaken seatsLeft waitlistLength maxPartySize
  registrationOpensAt registrationClosesAt cancellationDeadline rescheduledAt
"""
SCHEDULE = (
    "mutation($input: ScheduleSessionInput!) { scheduleSession(input: $input) {" + SESSION_FIELDS + "} }"
)
SESSION = "query($id: ID!) { session(id: $id) {" + SESSION_FIELDS + "} }"
CHANGE_CAPACITY = """
mutation($input: ChangeSessionCapacityInput!) {
  changeSessionCapacity(input: $input) { capacity seatsTaken seatsLeft waitlistLength }
}
"""
MOVE = "mutation($input: MoveSessionInput!) { moveSession(input: $input) {" + SESSION_FIELDS + "} }"
CANCEL_SIGNUP = "mutation($input: CancelSignupInput!) { cancelSignup(input: $input) { id status } }"
CANCEL_SESSION = "mutation($input: CancelSessionInput!) { cancelSession(input: $input) { status } }"
SIGNUP = "query($id: ID!) { signup(id: $id) { status waitlistPosition freeCancellation } }"
FESTIVALS = "query($limit: Int! = 200, $after: ID) { festivals(limit: $limit, after: $after) { id } }"
FESTIVAL = "query($id: ID!) { festival(id: $id) { id published } }"
INBOX = "{ myInbox { kind title body titleEn bodyEn } }"


def key() -> str:
    return uuid.uuid4().hex


def iso(value: datetime) -> str:
    return value.isoformat()


class Organiser:
    """An organiser of the test community, setting up festivals through the public API."""

    def __init__(self, gql: GraphQLClient, token: str) -> None:
        self.gql, self.token = gql, token

    async def festival(self, **extra: Any) -> str:
        festival_input = {
            "name": "幸福邻里节·排期规则测试",
            "communityIds": [COMMUNITY],
            "startsOn": DAY.date().isoformat(),
            "endsOn": (DAY + timedelta(days=2)).date().isoformat(),
            **extra,
        }
        answer = await self.gql.ok(CREATE_FESTIVAL, {"input": festival_input}, self.token)
        festival_id: str = answer["createFestival"]["id"]
        return festival_id

    async def activity(self, festival_id: str, **extra: Any) -> str:
        activity_input = {"festivalId": festival_id, "communityId": COMMUNITY, "title": "亲子手工", **extra}
        answer = await self.gql.ok(CREATE_ACTIVITY, {"input": activity_input}, self.token)
        activity_id: str = answer["createActivity"]["id"]
        return activity_id

    async def venue(self, capacity: int = 30, kind: str = "STATION") -> str:
        venue_input = {
            "communityId": COMMUNITY,
            "name": f"朔方邻里驿家-{uuid.uuid4().hex[:6]}",
            "kind": kind,
            "capacity": capacity,
        }
        answer = await self.gql.ok(CREATE_VENUE, {"input": venue_input}, self.token)
        venue_id: str = answer["createVenue"]["id"]
        return venue_id

    def session_input(
        self, activity_id: str, starts: datetime, hours: int = 2, capacity: int = 10, **extra: Any
    ) -> dict[str, Any]:
        return {
            "input": {
                "activityId": activity_id,
                "startsAt": iso(starts),
                "endsAt": iso(starts + hours * HOUR),
                "capacity": capacity,
                **extra,
            }
        }

    async def schedule(self, activity_id: str, starts: datetime, **extra: Any) -> dict[str, Any]:
        """The raw answer: tests look at refusals too."""
        return await self.gql.raw(SCHEDULE, self.session_input(activity_id, starts, **extra), self.token)

    async def session(self, activity_id: str, starts: datetime = DAY, **extra: Any) -> str:
        answer = await self.schedule(activity_id, starts, **extra)
        assert not answer.get("errors"), answer["errors"]
        session_id: str = answer["data"]["scheduleSession"]["id"]
        return session_id

    async def open_session(self, **extra: Any) -> str:
        """A session of a fresh published festival, open for sign-ups."""
        festival_extra, activity_extra = extra.pop("festival", {}), extra.pop("activity", {})
        activity_id = await self.activity(await self.festival(**festival_extra), **activity_extra)
        return await self.session(activity_id, venue="朔方广场", **extra)


async def sign_up(gql: GraphQLClient, token: str, session_id: str, **extra: Any) -> dict[str, Any]:
    return await gql.raw(
        SIGN_UP, {"input": {"sessionId": session_id, "idempotencyKey": key(), **extra}}, token
    )


async def signed_up(gql: GraphQLClient, token: str, session_id: str, **extra: Any) -> dict[str, Any]:
    answer = await sign_up(gql, token, session_id, **extra)
    assert not answer.get("errors"), answer["errors"]
    signup: dict[str, Any] = answer["data"]["signUp"]
    return signup


async def cancel(gql: GraphQLClient, token: str, signup_id: str) -> dict[str, Any]:
    return await gql.raw(CANCEL_SIGNUP, {"input": {"signupId": signup_id, "idempotencyKey": key()}}, token)


def refusal(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer.get("errors"), f"expected a refusal, got {answer}"
    extensions: dict[str, Any] = answer["errors"][0]["extensions"]
    return extensions


async def inbox_of_kind(gql: GraphQLClient, token: str, kind: str) -> list[dict[str, Any]]:
    messages = (await gql.ok(INBOX, token=token))["myInbox"]
    return [m for m in messages if m["kind"] == kind]


async def test_a_venue_booked_at_an_overlapping_time_is_refused_naming_the_clashing_session(
    gql: GraphQLClient, organiser_token: str
) -> None:
    organiser = Organiser(gql, organiser_token)
    activity_id = await organiser.activity(await organiser.festival())
    station, square = await organiser.venue(), await organiser.venue(kind="SQUARE")
    morning = await organiser.session(activity_id, DAY, venueId=station)

    overlapping = await organiser.schedule(activity_id, DAY + HOUR, venueId=station)
    back_to_back = await organiser.schedule(activity_id, DAY + 2 * HOUR, venueId=station)
    elsewhere = await organiser.schedule(activity_id, DAY + HOUR, venueId=square)

    clash = refusal(overlapping)
    assert clash["code"] == "VENUE_CLASH"
    assert clash["details"]["sessionId"] == morning
    assert datetime.fromisoformat(clash["details"]["startsAt"]) == DAY
    assert not back_to_back.get("errors") and not elsewhere.get("errors")
    booked = back_to_back["data"]["scheduleSession"]
    assert booked["venueId"] == station and booked["venue"].startswith("朔方邻里驿家")

    # A cancelled session gives its slot back.
    await gql.ok(
        CANCEL_SESSION,
        {"input": {"sessionId": morning, "reason": "场地维修", "idempotencyKey": key()}},
        organiser_token,
    )
    assert not (await organiser.schedule(activity_id, DAY + HOUR, hours=1, venueId=station)).get("errors")


async def test_a_session_larger_than_its_venue_is_refused(gql: GraphQLClient, organiser_token: str) -> None:
    organiser = Organiser(gql, organiser_token)
    activity_id = await organiser.activity(await organiser.festival())
    room = await organiser.venue(capacity=12, kind="ROOM")

    too_big = await organiser.schedule(activity_id, DAY, capacity=13, venueId=room)
    just_fits = await organiser.schedule(activity_id, DAY, capacity=12, venueId=room)

    assert refusal(too_big)["code"] == "OVER_VENUE_CAPACITY"
    assert refusal(too_big)["details"] == {"venueCapacity": 12}
    assert just_fits["data"]["scheduleSession"]["capacity"] == 12


async def test_organisers_booking_the_same_room_at_once_get_exactly_one_booking(
    gql: GraphQLClient, organiser_token: str
) -> None:
    organiser = Organiser(gql, organiser_token)
    activity_id = await organiser.activity(await organiser.festival())
    room = await organiser.venue()

    answers = await asyncio.gather(
        *(organiser.schedule(activity_id, DAY + n * timedelta(minutes=20), venueId=room) for n in range(6))
    )

    booked = [a for a in answers if not a.get("errors")]
    assert len(booked) == 1
    assert {refusal(a)["code"] for a in answers if a.get("errors")} == {"VENUE_CLASH"}


async def test_venues_belong_to_a_community_and_only_its_organisers_use_them(
    gql: GraphQLClient, organiser_token: str, settings: Any
) -> None:
    organiser = Organiser(gql, organiser_token)
    station = await organiser.venue(capacity=40)
    neighbour = Organiser(
        gql, token_for(settings, f"organiser-{key()[:6]}", {"organiser"}, {OTHER_COMMUNITY})
    )

    listed = await gql.every(VENUES, {"c": COMMUNITY})
    [found] = [v for v in listed if v["id"] == station]
    assert (found["kind"], found["capacity"]) == ("STATION", 40)
    venue_input = {"communityId": COMMUNITY, "name": "偷用的场地", "kind": "ROOM", "capacity": 5}
    assert await gql.error_code(CREATE_VENUE, {"input": venue_input}, neighbour.token) == "FORBIDDEN"
    bad_kind = await gql.raw(CREATE_VENUE, {"input": {**venue_input, "kind": "CASTLE"}}, organiser_token)
    assert refusal(bad_kind)["code"] == "BAD_USER_INPUT"

    # A venue of another community cannot be booked, not even by a platform-wide name.
    other_festival = await neighbour.gql.ok(
        CREATE_FESTIVAL,
        {
            "input": {
                "name": "西苑邻里节",
                "communityIds": [OTHER_COMMUNITY],
                "startsOn": DAY.date().isoformat(),
                "endsOn": DAY.date().isoformat(),
            }
        },
        neighbour.token,
    )
    activity = await gql.ok(
        CREATE_ACTIVITY,
        {
            "input": {
                "festivalId": other_festival["createFestival"]["id"],
                "communityId": OTHER_COMMUNITY,
                "title": "义剪",
            }
        },
        neighbour.token,
    )
    answer = await neighbour.schedule(activity["createActivity"]["id"], DAY, venueId=station)
    assert refusal(answer)["code"] == "VENUE_NOT_FOUND"


async def test_a_session_names_a_venue_or_a_place_but_not_both_or_neither(
    gql: GraphQLClient, organiser_token: str
) -> None:
    organiser = Organiser(gql, organiser_token)
    activity_id = await organiser.activity(await organiser.festival())
    room = await organiser.venue()

    both = await organiser.schedule(activity_id, DAY, venueId=room, venue="广场")
    neither = await organiser.schedule(activity_id, DAY)

    assert refusal(both)["code"] == refusal(neither)["code"] == "BAD_USER_INPUT"


async def test_activities_describe_who_they_suit(gql: GraphQLClient, organiser_token: str) -> None:
    organiser = Organiser(gql, organiser_token)
    festival_id = await organiser.festival()
    answer = await gql.ok(
        CREATE_ACTIVITY,
        {
            "input": {
                "festivalId": festival_id,
                "communityId": COMMUNITY,
                "title": "亲子手工",
                "category": "亲子",
                "description": "  和孩子一起做灯笼  ",
                "ageBands": ["CHILD", "ADULT"],
                "childrenNeedAdult": True,
            }
        },
        organiser_token,
    )
    activity = answer["createActivity"]
    assert activity["description"] == "和孩子一起做灯笼"
    assert activity["ageBands"] == ["CHILD", "ADULT"] and activity["childrenNeedAdult"] is True


async def test_a_draft_festival_is_seen_only_by_its_organisers_until_published(
    gql: GraphQLClient, organiser_token: str, new_resident: Any
) -> None:
    organiser = Organiser(gql, organiser_token)
    _, resident = new_resident()
    festival_id = await organiser.festival(published=False)
    session_id = await organiser.session(await organiser.activity(festival_id), venue="朔方广场")

    def listed(answer: list[dict[str, Any]]) -> bool:
        return festival_id in {f["id"] for f in answer}

    assert not listed(await gql.every(FESTIVALS, token=resident))
    assert not listed(await gql.every(FESTIVALS))
    assert listed(await gql.every(FESTIVALS, token=organiser_token))
    assert (await gql.ok(FESTIVAL, {"id": festival_id}, resident))["festival"] is None
    assert (await gql.ok(SESSION, {"id": session_id}, resident))["session"] is None
    assert (await gql.ok(SESSION, {"id": session_id}, organiser_token))["session"]["id"] == session_id
    assert refusal(await sign_up(gql, resident, session_id))["code"] == "FESTIVAL_NOT_PUBLISHED"
    assert (
        await gql.error_code(SET_PUBLISHED, {"id": festival_id, "published": True}, resident) == "FORBIDDEN"
    )

    await gql.ok(SET_PUBLISHED, {"id": festival_id, "published": True}, organiser_token)

    assert listed(await gql.every(FESTIVALS, token=resident))
    assert (await signed_up(gql, resident, session_id))["status"] == "CONFIRMED"

    await gql.ok(SET_PUBLISHED, {"id": festival_id, "published": False}, organiser_token)
    assert not listed(await gql.every(FESTIVALS))


async def test_more_places_confirm_the_waiting_at_once_and_tell_them(
    gql: GraphQLClient, organiser_token: str, new_resident: Any, pool: Any
) -> None:
    organiser = Organiser(gql, organiser_token)
    activity_id = await organiser.activity(await organiser.festival())
    hall = await organiser.venue(capacity=6, kind="ROOM")
    session_id = await organiser.session(activity_id, capacity=2, venueId=hall)
    first, family, single = (new_resident()[1] for _ in range(3))
    await signed_up(gql, first, session_id, partySize=2)
    waiting_family = await signed_up(gql, family, session_id, partySize=3)
    waiting_single = await signed_up(gql, single, session_id)
    assert (
        await gql.error_code(
            CHANGE_CAPACITY,
            {"input": {"sessionId": session_id, "capacity": 9, "idempotencyKey": key()}},
            first,
        )
        == "FORBIDDEN"
    )

    def change(capacity: int) -> Any:
        variables = {"input": {"sessionId": session_id, "capacity": capacity, "idempotencyKey": key()}}
        return gql.raw(CHANGE_CAPACITY, variables, organiser_token)

    assert refusal(await change(1))["code"] == "CAPACITY_BELOW_TAKEN"
    assert refusal(await change(7))["code"] == "OVER_VENUE_CAPACITY"
    grown = await change(5)

    assert grown["data"]["changeSessionCapacity"] == {
        "capacity": 5,
        "seatsTaken": 5,
        "seatsLeft": 0,
        "waitlistLength": 1,
    }
    assert (await gql.ok(SIGNUP, {"id": waiting_family["id"]}, family))["signup"]["status"] == "CONFIRMED"
    assert (await gql.ok(SIGNUP, {"id": waiting_single["id"]}, single))["signup"]["waitlistPosition"] == 1
    promoted = await eventually(lambda: inbox_of_kind(gql, family, "waitlist.promoted"))
    assert len(promoted) == 1
    assert await inbox_of_kind(gql, single, "waitlist.promoted") == []

    assert (await change(6))["data"]["changeSessionCapacity"]["waitlistLength"] == 0
    async with pool.acquire() as conn:  # screens showing live counts learn of each change
        changes = await conn.fetch(
            "SELECT payload FROM activities.outbox WHERE type = 'session.capacity_changed' "
            "AND payload->>'session_id' = $1 ORDER BY id",
            session_id,
        )
    assert [c["payload"]["capacity"] for c in changes] == [5, 6]
    assert (await gql.ok(SIGNUP, {"id": waiting_single["id"]}, single))["signup"]["status"] == "CONFIRMED"


async def test_a_moved_session_tells_everyone_and_frees_them_to_cancel_past_the_deadline(
    gql: GraphQLClient, organiser_token: str, new_resident: Any
) -> None:
    organiser = Organiser(gql, organiser_token)
    activity_id = await organiser.activity(await organiser.festival(), title="义诊")
    station, square = await organiser.venue(), await organiser.venue(kind="SQUARE")
    deadline_passed = datetime.now(UTC) - timedelta(minutes=1)
    session_id = await organiser.session(
        activity_id, DAY, capacity=1, venueId=station, cancellationDeadline=iso(deadline_passed)
    )
    blocker = await organiser.session(activity_id, DAY + 48 * HOUR, venueId=square)
    (_, confirmed), (_, waiting) = new_resident(), new_resident()
    mine = await signed_up(gql, confirmed, session_id)
    theirs = await signed_up(gql, waiting, session_id)
    assert theirs["status"] == "WAITLISTED"
    assert refusal(await cancel(gql, confirmed, mine["id"]))["code"] == "CANCELLATION_DEADLINE_PASSED"

    def move(**change: Any) -> Any:
        return gql.raw(
            MOVE, {"input": {"sessionId": session_id, "idempotencyKey": key(), **change}}, organiser_token
        )

    clash = await move(startsAt=iso(DAY + 47 * HOUR), endsAt=iso(DAY + 49 * HOUR), venueId=square)
    assert refusal(clash)["code"] == "VENUE_CLASH" and refusal(clash)["details"]["sessionId"] == blocker
    assert refusal(await move())["code"] == "BAD_USER_INPUT"
    assert (
        await gql.error_code(
            MOVE, {"input": {"sessionId": session_id, "idempotencyKey": key(), "venueId": square}}, confirmed
        )
        == "FORBIDDEN"
    )

    moved = await move(startsAt=iso(DAY + 24 * HOUR), endsAt=iso(DAY + 26 * HOUR), venueId=square)

    session = moved["data"]["moveSession"]
    assert session["venueId"] == square and session["rescheduledAt"] is not None
    assert datetime.fromisoformat(session["startsAt"]) == DAY + 24 * HOUR
    for token in (confirmed, waiting):
        [told] = await eventually(lambda token=token: inbox_of_kind(gql, token, "session.rescheduled"))
        assert told["title"] == "活动时间地点变更" and told["titleEn"] == "Session moved"
        assert "朔方邻里驿家" in told["body"] and "朔方邻里驿家" in told["bodyEn"]
    assert (await gql.ok(SIGNUP, {"id": mine["id"]}, confirmed))["signup"]["freeCancellation"] is True
    assert (await cancel(gql, confirmed, mine["id"]))["data"]["cancelSignup"]["status"] == "CANCELLED"
    # the freed seat went to the waiting resident, who may also leave without penalty
    assert (await gql.ok(SIGNUP, {"id": theirs["id"]}, waiting))["signup"]["status"] == "CONFIRMED"
    assert (await cancel(gql, waiting, theirs["id"]))["data"]["cancelSignup"]["status"] == "CANCELLED"
    # someone signing up after the move knew the new time: the deadline binds them
    (_, latecomer) = new_resident()
    late = await signed_up(gql, latecomer, session_id)
    assert refusal(await cancel(gql, latecomer, late["id"]))["code"] == "CANCELLATION_DEADLINE_PASSED"
    # the old slot is free again
    assert not (await organiser.schedule(activity_id, DAY, venueId=station)).get("errors")


async def test_the_venue_stays_single_booked_even_for_a_write_that_skips_the_lock(
    gql: GraphQLClient, organiser_token: str, pool: Any
) -> None:
    organiser = Organiser(gql, organiser_token)
    activity_id = await organiser.activity(await organiser.festival())
    room = await organiser.venue()
    booked = await organiser.session(activity_id, DAY, venueId=room)

    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.exceptions.ExclusionViolationError):
            await conn.execute(
                "INSERT INTO activities.sessions "
                "(id, activity_id, community_id, venue, starts_at, ends_at, capacity, venue_id) "
                "SELECT $1, activity_id, community_id, venue, starts_at + interval '1 hour', "
                "ends_at + interval '1 hour', capacity, venue_id FROM activities.sessions WHERE id = $2",
                uuid.uuid4(),
                uuid.UUID(booked),
            )


async def test_a_community_names_each_venue_once(gql: GraphQLClient, organiser_token: str) -> None:
    venue_input = {"communityId": COMMUNITY, "name": f"东广场-{key()[:6]}", "kind": "SQUARE", "capacity": 200}
    first = (await gql.ok(CREATE_VENUE, {"input": venue_input}, organiser_token))["createVenue"]
    # Sent again without a key (a second click): the same request, answered with the same venue.
    clicked_twice = (await gql.ok(CREATE_VENUE, {"input": venue_input}, organiser_token))["createVenue"]
    assert clicked_twice["id"] == first["id"]
    # A new request (its own key) for the same name is another venue: refused.
    again = await gql.raw(CREATE_VENUE, {"input": {**venue_input, "idempotencyKey": key()}}, organiser_token)
    assert refusal(again)["code"] == "VENUE_NAME_TAKEN"


async def test_a_cancelled_session_is_neither_moved_nor_resized_and_a_repeated_move_tells_nobody_twice(
    gql: GraphQLClient, organiser_token: str, new_resident: Any
) -> None:
    organiser = Organiser(gql, organiser_token)
    activity_id = await organiser.activity(await organiser.festival())
    session_id = await organiser.session(activity_id, DAY, venue="朔方广场")
    _, resident = new_resident()
    await signed_up(gql, resident, session_id)
    later = {"startsAt": iso(DAY + 3 * HOUR), "endsAt": iso(DAY + 5 * HOUR)}

    for _ in range(2):  # the same move again, as a new request, changes nothing
        await gql.ok(
            MOVE, {"input": {"sessionId": session_id, "idempotencyKey": key(), **later}}, organiser_token
        )
    await eventually(lambda: inbox_of_kind(gql, resident, "session.rescheduled"))
    await gql.ok(
        CANCEL_SESSION,
        {"input": {"sessionId": session_id, "reason": "暴雨", "idempotencyKey": key()}},
        organiser_token,
    )
    await eventually(lambda: inbox_of_kind(gql, resident, "session.cancelled"))

    assert len(await inbox_of_kind(gql, resident, "session.rescheduled")) == 1
    moved = await gql.raw(
        MOVE, {"input": {"sessionId": session_id, "idempotencyKey": key(), **later}}, organiser_token
    )
    resized = await gql.raw(
        CHANGE_CAPACITY,
        {"input": {"sessionId": session_id, "capacity": 20, "idempotencyKey": key()}},
        organiser_token,
    )
    assert refusal(moved)["code"] == refusal(resized)["code"] == "SESSION_CANCELLED"


async def test_a_change_run_again_after_a_later_change_does_not_undo_it(
    gql: GraphQLClient, organiser_token: str, new_resident: Any, pool: Any, settings: Any
) -> None:
    """A worker that dies between committing a change and acknowledging its command leaves the
    command to be claimed and run again, possibly after the organiser changed the session
    once more: that second run must answer without undoing the later change."""
    organiser = Organiser(gql, organiser_token)
    session_id = await organiser.open_session()
    _, resident = new_resident()
    signup = await signed_up(gql, resident, session_id)
    actor = read_token(organiser_token, settings.secret)
    ctx = {"pool": pool}
    resize = [
        {"session_id": session_id, "capacity": n, "change_key": f"{actor.user_id}:cap-{n}"} for n in (12, 15)
    ]
    moves = [
        {
            "session_id": session_id,
            "starts_at": iso(DAY + h * HOUR),
            "ends_at": iso(DAY + (h + 1) * HOUR),
            "change_key": f"{actor.user_id}:move-{h}",
        }
        for h in (3, 5)
    ]

    await handlers.change_session_capacity(ctx, actor, resize[0])
    await handlers.change_session_capacity(ctx, actor, resize[1])
    again = await handlers.change_session_capacity(ctx, actor, resize[0])
    await handlers.move_session(ctx, actor, moves[0])
    await handlers.move_session(ctx, actor, moves[1])
    moved_again = await handlers.move_session(ctx, actor, moves[0])

    assert again["capacity"] == 15
    assert moved_again["starts_at"] == iso(DAY + 5 * HOUR)
    session = (await gql.ok(SESSION, {"id": session_id}))["session"]
    assert session["capacity"] == 15 and session["startsAt"] == iso(DAY + 5 * HOUR)
    async with pool.acquire() as conn:  # one notice per real move, none for the re-run
        notices = await conn.fetchval(
            "SELECT count(*) FROM activities.outbox WHERE type = 'session.rescheduled' "
            "AND payload->>'signup_id' = $1",
            signup["id"],
        )
    assert notices == 2
