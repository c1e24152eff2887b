"""Five hundred residents race for fifty seats through the public API: nobody is oversold,
no family is split, and everyone gets a final answer."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from tests.conftest import SIGN_UP, GraphQLClient, eventually

SIGNUP = "query($id: ID!) { signup(id: $id) { id status partySize } }"
FINAL = {"CONFIRMED", "WAITLISTED"}


async def _sign_up(gql: GraphQLClient, token: str, session_id: str, party_size: int) -> dict[str, Any]:
    variables = {
        "input": {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex, "partySize": party_size}
    }
    answer: dict[str, Any] = (await gql.ok(SIGN_UP, variables, token))["signUp"]
    return answer


async def _settled(gql: GraphQLClient, token: str, answer: dict[str, Any]) -> dict[str, Any]:
    """The final answer: a PENDING one (the worker did not reply in time) is looked up until
    its command has run, rather than counted as anything."""
    if answer["status"] in FINAL:
        return answer

    async def lookup() -> dict[str, Any] | None:
        found: dict[str, Any] | None = (await gql.ok(SIGNUP, {"id": answer["id"]}, token))["signup"]
        return found if found and found["status"] in FINAL else None

    settled: dict[str, Any] | None = await eventually(lookup, within_s=120)
    assert settled is not None, f"sign-up {answer['id']} never settled"
    return settled


async def test_five_hundred_residents_race_for_fifty_seats(
    gql: GraphQLClient, schedule: Any, new_resident: Any, pool: Any
) -> None:
    session_id = await schedule(capacity=50)
    residents = [new_resident() for _ in range(500)]
    party_sizes = [4 if i % 5 == 0 else 1 for i in range(500)]  # every fifth comes as a family of 4

    answers = await asyncio.gather(
        *(
            _sign_up(gql, token, session_id, size)
            for (_, token), size in zip(residents, party_sizes, strict=True)
        )
    )
    final = [
        await _settled(gql, token, answer) for (_, token), answer in zip(residents, answers, strict=True)
    ]

    assert {answer["status"] for answer in final} <= FINAL
    assert [answer["partySize"] for answer in final] == party_sizes  # no party was split
    confirmed = [answer for answer in final if answer["status"] == "CONFIRMED"]
    waitlisted = [answer for answer in final if answer["status"] == "WAITLISTED"]
    seats = sum(answer["partySize"] for answer in confirmed)
    # A single always fits while a seat is free, and 400 singles outnumber the seats, so the
    # session fills exactly whatever the arrival order.
    assert seats == 50
    assert len(confirmed) + len(waitlisted) == 500

    async with pool.acquire() as conn:
        taken = await conn.fetchval(
            "SELECT taken FROM activities.sessions WHERE id = $1", uuid.UUID(session_id)
        )
        rows = await conn.fetch(
            "SELECT resident_id, party_size, status FROM activities.signups WHERE session_id = $1",
            uuid.UUID(session_id),
        )
    assert taken == seats
    assert sum(row["party_size"] for row in rows if row["status"] == "CONFIRMED") == taken
    requested = {user_id: size for (user_id, _), size in zip(residents, party_sizes, strict=True)}
    assert {row["resident_id"]: row["party_size"] for row in rows} == requested  # one row each
    assert sorted(row["status"] for row in rows) == sorted(answer["status"] for answer in final)
    session = await gql.ok(
        "query($id: ID!) { session(id: $id) { seatsLeft waitlistLength } }", {"id": session_id}
    )
    assert session["session"] == {"seatsLeft": 0, "waitlistLength": len(waitlisted)}


CANCEL_SIGNUP = """
mutation($input: CancelSignupInput!) { cancelSignup(input: $input) { id status } }
"""


async def test_seats_freed_while_others_join_the_waitlist_are_never_left_empty(
    gql: GraphQLClient, schedule: Any, new_resident: Any, pool: Any
) -> None:
    # The session is full and nobody waits; then half the residents leave while newcomers,
    # finding it full a moment earlier, head for the waitlist. Whatever the interleaving, a
    # newcomer must not end up waiting beside a free seat.
    session_id = await schedule(capacity=30)
    holders = [new_resident() for _ in range(30)]
    answers = await asyncio.gather(*(_sign_up(gql, token, session_id, 1) for _, token in holders))
    held = [await _settled(gql, token, answer) for (_, token), answer in zip(holders, answers, strict=True)]
    assert {answer["status"] for answer in held} == {"CONFIRMED"}
    newcomers = [new_resident() for _ in range(60)]
    newcomer_sizes = [(1, 2, 1, 3)[i % 4] for i in range(60)]

    async def cancel(token: str, signup_id: str) -> dict[str, Any]:
        variables = {"input": {"signupId": signup_id, "idempotencyKey": uuid.uuid4().hex}}
        answer: dict[str, Any] = (await gql.ok(CANCEL_SIGNUP, variables, token))["cancelSignup"]
        return answer

    leaving = [(token, answer["id"]) for (_, token), answer in zip(holders, held, strict=True)][::2]
    results = await asyncio.gather(
        *(cancel(token, signup_id) for token, signup_id in leaving),
        *(
            _sign_up(gql, token, session_id, size)
            for (_, token), size in zip(newcomers, newcomer_sizes, strict=True)
        ),
    )

    assert {answer["status"] for answer in results[: len(leaving)]} == {"CANCELLED"}
    for (_, token), answer in zip(newcomers, results[len(leaving) :], strict=True):
        await _settled(gql, token, answer)
    async with pool.acquire() as conn:
        session = await conn.fetchrow(
            "SELECT capacity, taken FROM activities.sessions WHERE id = $1", uuid.UUID(session_id)
        )
        rows = await conn.fetch(
            "SELECT party_size, status FROM activities.signups WHERE session_id = $1",
            uuid.UUID(session_id),
        )
    assert len(rows) == 90
    assert sum(row["party_size"] for row in rows if row["status"] == "CONFIRMED") == session["taken"]
    free = session["capacity"] - session["taken"]
    waiting = [row["party_size"] for row in rows if row["status"] == "WAITLISTED"]
    assert all(size > free for size in waiting), (free, waiting)
