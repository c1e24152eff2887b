"""Sign-up rules, end to end: the registration window, the most one sign-up may bring, a
festival's limit per resident, families signing up together, and the cancellation deadline.

Times are set relative to the real clock (a window that opened an hour ago, a deadline a
minute past), so nothing waits and nothing depends on how fast the test runs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import GraphQLClient
from tests.identity_steps import resident_logs_in
from tests.test_activities_schedule import (
    Organiser,
    cancel,
    iso,
    key,
    refusal,
    sign_up,
    signed_up,
)

ADD_MEMBER = """
mutation($name: String!, $relation: Relation!, $ageBand: AgeBand!, $guardian: Boolean! = true) {
  addHouseholdMember(name: $name, relation: $relation, ageBand: $ageBand, guardianConsent: $guardian) { id }
}
"""
FAMILY_SIGN_UP = """
mutation($input: SignUpInput!) {
  signUp(input: $input) { id status partySize waitlistPosition attendees { id name ageBand } }
}
"""
MY_SIGNUPS = "{ mySignups { id status partySize attendees { name } } }"


def ago(**delta: float) -> str:
    return iso(datetime.now(UTC) - timedelta(**delta))


def ahead(**delta: float) -> str:
    return iso(datetime.now(UTC) + timedelta(**delta))


async def test_signups_are_taken_only_while_registration_is_open(
    gql: GraphQLClient, organiser_token: str, new_resident: Any
) -> None:
    organiser = Organiser(gql, organiser_token)
    _, resident = new_resident()
    not_yet = await organiser.open_session(registrationOpensAt=ahead(hours=1))
    closed = await organiser.open_session(
        registrationOpensAt=ago(hours=2), registrationClosesAt=ago(minutes=1)
    )
    open_now = await organiser.open_session(
        registrationOpensAt=ago(hours=1), registrationClosesAt=ahead(hours=1)
    )

    early = refusal(await sign_up(gql, resident, not_yet))
    late = refusal(await sign_up(gql, resident, closed))

    assert early["code"] == "REGISTRATION_NOT_OPEN" and "opensAt" in early["details"]
    assert late["code"] == "REGISTRATION_CLOSED"
    assert (await signed_up(gql, resident, open_now))["status"] == "CONFIRMED"


async def test_a_window_that_closes_before_it_opens_is_bad_input(
    gql: GraphQLClient, organiser_token: str
) -> None:
    organiser = Organiser(gql, organiser_token)
    activity_id = await organiser.activity(await organiser.festival())
    answer = await organiser.schedule(
        activity_id,
        datetime.now(UTC) + timedelta(days=3),
        venue="朔方广场",
        registrationOpensAt=ahead(hours=2),
        registrationClosesAt=ahead(hours=1),
    )
    refused = refusal(answer)
    assert (refused["code"], refused["details"]) == ("BAD_USER_INPUT", {"field": "registrationClosesAt"})


async def test_one_signup_brings_no_more_than_the_session_allows(
    gql: GraphQLClient, organiser_token: str, new_resident: Any
) -> None:
    organiser = Organiser(gql, organiser_token)
    session_id = await organiser.open_session(maxPartySize=2)
    (_, big), (_, small) = new_resident(), new_resident()

    too_many = refusal(await sign_up(gql, big, session_id, partySize=3))

    assert too_many["code"] == "PARTY_TOO_LARGE" and too_many["details"] == {"maxPartySize": 2}
    assert (await signed_up(gql, small, session_id, partySize=2))["partySize"] == 2
    # the refused one may sign up again with fewer people
    assert (await signed_up(gql, big, session_id, partySize=2))["status"] == "CONFIRMED"


async def test_a_resident_may_take_only_as_many_sessions_of_a_festival_as_it_allows(
    gql: GraphQLClient, organiser_token: str, new_resident: Any
) -> None:
    organiser = Organiser(gql, organiser_token)
    festival_id = await organiser.festival(maxSessionsPerResident=2)
    activity_id = await organiser.activity(festival_id)
    now = datetime.now(UTC) + timedelta(days=5)
    sessions = [
        await organiser.session(activity_id, now + timedelta(hours=n), venue="广场") for n in range(3)
    ]
    other_festival_session = await organiser.open_session()
    _, resident = new_resident()

    first = await signed_up(gql, resident, sessions[0])
    await signed_up(gql, resident, sessions[1])
    third = refusal(await sign_up(gql, resident, sessions[2]))

    assert third["code"] == "FESTIVAL_LIMIT_REACHED" and third["details"] == {"limit": 2}
    assert (await signed_up(gql, resident, other_festival_session))["status"] == "CONFIRMED"
    # a cancelled sign-up no longer counts
    await cancel(gql, resident, first["id"])
    assert (await signed_up(gql, resident, sessions[2]))["status"] == "CONFIRMED"


async def test_signups_for_many_sessions_at_once_still_keep_the_festival_limit(
    gql: GraphQLClient, organiser_token: str, new_resident: Any
) -> None:
    organiser = Organiser(gql, organiser_token)
    activity_id = await organiser.activity(await organiser.festival(maxSessionsPerResident=2))
    start = datetime.now(UTC) + timedelta(days=6)
    sessions = [
        await organiser.session(activity_id, start + timedelta(hours=n), venue="广场") for n in range(5)
    ]
    _, resident = new_resident()

    answers = await asyncio.gather(*(sign_up(gql, resident, s) for s in sessions))

    accepted = [a for a in answers if not a.get("errors")]
    assert len(accepted) == 2
    assert {refusal(a)["code"] for a in answers if a.get("errors")} == {"FESTIVAL_LIMIT_REACHED"}


async def test_a_family_signs_up_together_and_is_confirmed_or_waits_as_one(
    gql: GraphQLClient, pool: Any, organiser_token: str, new_resident: Any
) -> None:
    organiser = Organiser(gql, organiser_token)
    session_id = await organiser.open_session(capacity=4)
    mother = (await resident_logs_in(gql, pool))["accessToken"]
    neighbour = (await resident_logs_in(gql, pool))["accessToken"]
    son = await gql.ok(ADD_MEMBER, {"name": "王小明", "relation": "CHILD", "ageBand": "CHILD"}, mother)
    grandpa = await gql.ok(ADD_MEMBER, {"name": "王建国", "relation": "PARENT", "ageBand": "ELDER"}, mother)
    strangers_child = await gql.ok(
        ADD_MEMBER, {"name": "李小红", "relation": "CHILD", "ageBand": "CHILD"}, neighbour
    )
    member_ids = [son["addHouseholdMember"]["id"], grandpa["addHouseholdMember"]["id"]]
    _, early_bird = new_resident()
    await signed_up(gql, early_bird, session_id, partySize=2)

    def family_input(ids: list[str], **extra: Any) -> dict[str, Any]:
        return {"input": {"sessionId": session_id, "idempotencyKey": key(), "attendeeIds": ids, **extra}}

    stranger = await gql.raw(
        FAMILY_SIGN_UP, family_input([*member_ids, strangers_child["addHouseholdMember"]["id"]]), mother
    )
    wrong_size = await gql.raw(FAMILY_SIGN_UP, family_input(member_ids, partySize=2), mother)
    family = (await gql.ok(FAMILY_SIGN_UP, family_input(member_ids), mother))["signUp"]

    assert refusal(stranger)["code"] == "NOT_HOUSEHOLD_MEMBER"
    assert refusal(wrong_size)["code"] == "BAD_USER_INPUT"
    # three of them, two seats left: the whole family waits, nobody is split off
    assert family["status"] == "WAITLISTED" and family["partySize"] == 3
    assert family["attendees"] == [
        {"id": member_ids[0], "name": "王小明", "ageBand": "CHILD"},
        {"id": member_ids[1], "name": "王建国", "ageBand": "ELDER"},
    ]
    mine = (await gql.ok(MY_SIGNUPS, token=mother))["mySignups"]
    assert [s["attendees"] for s in mine] == [[{"name": "王小明"}, {"name": "王建国"}]]

    # a resident without a household (or naming someone else's) cannot bring anyone
    _, loner = new_resident()
    alone = await gql.raw(FAMILY_SIGN_UP, family_input(member_ids[:1]), loner)
    assert refusal(alone)["code"] == "NOT_HOUSEHOLD_MEMBER"


async def test_a_signup_may_be_cancelled_only_before_the_deadline(
    gql: GraphQLClient, organiser_token: str, new_resident: Any
) -> None:
    organiser = Organiser(gql, organiser_token)
    passed = await organiser.open_session(cancellationDeadline=ago(minutes=1))
    pending = await organiser.open_session(cancellationDeadline=ahead(hours=1))
    _, resident = new_resident()
    stuck = await signed_up(gql, resident, passed)
    free = await signed_up(gql, resident, pending)

    refused = refusal(await cancel(gql, resident, stuck["id"]))

    assert refused["code"] == "CANCELLATION_DEADLINE_PASSED" and "deadline" in refused["details"]
    assert (await cancel(gql, resident, free["id"]))["data"]["cancelSignup"]["status"] == "CANCELLED"


async def test_family_members_must_suit_the_activity_and_a_child_never_comes_alone(
    gql: GraphQLClient, pool: Any, organiser_token: str
) -> None:
    organiser = Organiser(gql, organiser_token)
    crafts = await organiser.open_session(activity={"ageBands": ["CHILD"], "childrenNeedAdult": True})
    mother = (await resident_logs_in(gql, pool))["accessToken"]

    async def member(name: str, relation: str, band: str) -> str:
        added = await gql.ok(ADD_MEMBER, {"name": name, "relation": relation, "ageBand": band}, mother)
        member_id: str = added["addHouseholdMember"]["id"]
        return member_id

    daughter = await member("王小丽", "CHILD", "CHILD")
    grandma = await member("张秀英", "PARENT", "SENIOR")

    def family(ids: list[str], include_me: bool = True) -> dict[str, Any]:
        return {
            "input": {
                "sessionId": crafts,
                "idempotencyKey": key(),
                "attendeeIds": ids,
                "includeMe": include_me,
            }
        }

    too_old = refusal(await gql.raw(FAMILY_SIGN_UP, family([daughter, grandma]), mother))
    alone = refusal(await gql.raw(FAMILY_SIGN_UP, family([daughter], include_me=False), mother))
    with_mother = (await gql.ok(FAMILY_SIGN_UP, family([daughter]), mother))["signUp"]

    assert too_old["code"] == "AGE_BAND_MISMATCH" and too_old["details"]["ageBand"] == "SENIOR"
    assert alone["code"] == "CHILD_NEEDS_ADULT"
    assert with_mother["status"] == "CONFIRMED" and with_mother["partySize"] == 2
