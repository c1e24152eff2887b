"""Residents log in with a code texted to their phone: stories of getting in, and of being kept out."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.common.actor import RESIDENT, Actor
from services.common.errors import Refusal
from services.common.settings import Settings
from services.common.tokens import issue_token
from services.identity.privacy_notice import VERSION
from services.identity.service import Identity
from services.notify.sms import texts_to
from tests.conftest import GraphQLClient
from tests.identity_steps import (
    LOG_IN,
    REQUEST_CODE,
    identity,
    new_phone,
    no_cookies,
    resident_logs_in,
    texted_code,
)

__all__ = ["identity", "no_cookies"]  # fixtures, used by name

INBOX = "{ myInbox { id } }"
ME = "{ me { id roles phone } }"
REFRESH = """
mutation($token: String) { refreshToken(refreshToken: $token) { accessToken refreshToken } }
"""
LOG_OUT = "mutation($token: String) { logOut(refreshToken: $token) }"


async def refused(gql: GraphQLClient, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    body = await gql.raw(query, variables, token)
    assert body.get("errors"), body
    return body["errors"][0]["extensions"]


async def test_a_resident_logs_in_with_the_texted_code_and_reads_her_inbox(
    gql: GraphQLClient, pool: Any
) -> None:
    phone = new_phone()
    sent = await gql.ok(REQUEST_CODE, {"phone": phone})
    assert sent["requestLoginCode"] == {"expiresInS": 300, "resendAfterS": 60}
    code = await texted_code(pool, phone)
    async with pool.acquire() as conn:
        stored = await conn.fetchrow("SELECT * FROM identity.login_codes WHERE phone = $1", phone)
    assert stored["code_hash"] != code and code not in stored["code_hash"]  # only a keyed hash

    answer = (await gql.ok(LOG_IN, {"phone": phone, "code": code}))["logIn"]

    assert answer["expiresInS"] == 15 * 60
    assert answer["me"]["roles"] == [RESIDENT]
    assert answer["me"]["phone"] == f"{phone[:3]}****{phone[-4:]}"
    assert await gql.ok(INBOX, token=answer["accessToken"]) == {"myInbox": []}
    async with pool.acquire() as conn:
        assert not await conn.fetchval("SELECT count(*) FROM identity.login_codes WHERE phone = $1", phone)


async def test_the_first_log_in_makes_the_account_and_later_ones_find_it(
    gql: GraphQLClient, pool: Any, identity: Identity
) -> None:
    phone = new_phone()
    first = await resident_logs_in(gql, pool, phone)
    # A second code, a minute later (the clock is the service's, so nobody waits).
    later = Identity(identity.pool, identity.redis, identity.settings, clock=_in(timedelta(minutes=2)))
    await later.request_login_code(phone, "198.51.100.1")
    code = await texted_code(pool, phone, nth=2)
    second = await later.log_in(phone, code)

    assert second.actor.user_id == first["me"]["id"]
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM identity.residents WHERE phone = $1", phone) == 1


async def test_a_code_is_locked_after_five_wrong_tries(gql: GraphQLClient, pool: Any) -> None:
    phone = new_phone()
    await gql.ok(REQUEST_CODE, {"phone": phone})
    code = await texted_code(pool, phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    answers = [await refused(gql, LOG_IN, {"phone": phone, "code": wrong}) for _ in range(5)]

    assert [a["code"] for a in answers] == ["WRONG_CODE"] * 4 + ["CODE_LOCKED"]
    assert [a["details"]["triesLeft"] for a in answers[:4]] == [4, 3, 2, 1]
    # Even the right code no longer opens the door: a new one must be requested.
    assert (await refused(gql, LOG_IN, {"phone": phone, "code": code}))["code"] == "CODE_LOCKED"


async def test_asking_for_a_second_code_at_once_is_rate_limited_with_a_wait(
    gql: GraphQLClient, pool: Any
) -> None:
    phone = new_phone()
    await gql.ok(REQUEST_CODE, {"phone": phone})

    again = await refused(gql, REQUEST_CODE, {"phone": phone})

    assert again["code"] == "RATE_LIMITED"
    assert 1 <= again["details"]["retryAfterS"] <= 60
    assert "秒后再试" in again["messageZh"]
    await texted_code(pool, phone)
    async with pool.acquire() as conn:
        assert len(await texts_to(conn, phone)) == 1


async def test_one_address_asking_for_codes_to_many_numbers_is_rate_limited(
    identity: Identity, settings: Settings, pool: Any
) -> None:
    strict = Identity(pool, identity.redis, settings.model_copy(update={"login_codes_per_ip_per_hour": 2}))
    address = "203.0.113.9"
    await strict.request_login_code(new_phone(), address)
    await strict.request_login_code(new_phone(), address)

    with pytest.raises(Refusal) as third:
        await strict.request_login_code(new_phone(), address)
    assert third.value.code == "RATE_LIMITED" and third.value.details["retryAfterS"] > 0
    await strict.request_login_code(new_phone(), "203.0.113.10")  # another address is served


async def test_a_code_is_good_for_five_minutes_only(identity: Identity, pool: Any) -> None:
    phone = new_phone()
    start = datetime.now(UTC)
    at = {"now": start}
    clocked = Identity(identity.pool, identity.redis, identity.settings, clock=lambda: at["now"])
    await clocked.request_login_code(phone, "198.51.100.2")
    code = await texted_code(pool, phone)

    at["now"] = start + timedelta(minutes=5, seconds=1)
    with pytest.raises(Refusal) as late:
        await clocked.log_in(phone, code)
    assert late.value.code == "CODE_EXPIRED"

    at["now"] = start + timedelta(minutes=4, seconds=59)
    tokens = await clocked.log_in(phone, code, privacy_notice_version=VERSION)
    assert tokens.actor.roles == frozenset({RESIDENT})


@pytest.mark.parametrize("phone", ["12345", "23812345678", "1381234567x", "138123456789", ""])
async def test_a_number_that_is_no_mainland_mobile_is_refused(gql: GraphQLClient, phone: str) -> None:
    assert (await refused(gql, REQUEST_CODE, {"phone": phone}))["code"] == "BAD_PHONE"


async def test_logging_in_without_asking_for_a_code_is_refused(gql: GraphQLClient) -> None:
    answer = await refused(gql, LOG_IN, {"phone": new_phone(), "code": "123456"})
    assert answer["code"] == "CODE_EXPIRED"


async def test_a_token_with_a_bad_signature_is_refused(gql: GraphQLClient, pool: Any) -> None:
    token = (await resident_logs_in(gql, pool))["accessToken"]
    body, mac = token.rsplit(".", 1)
    tampered = f"{body}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}"
    assert (await refused(gql, INBOX, {}, tampered))["code"] == "UNAUTHENTICATED"


async def test_an_expired_token_is_refused(gql: GraphQLClient, settings: Settings) -> None:
    resident = Actor("resident-expired", frozenset({RESIDENT}), frozenset())
    stale = issue_token(resident, settings.secret, ttl_s=60, now=time.time() - 120)
    assert (await refused(gql, INBOX, {}, stale))["code"] == "UNAUTHENTICATED"


async def test_a_refresh_token_is_no_access_token(gql: GraphQLClient, pool: Any) -> None:
    answer = await resident_logs_in(gql, pool)
    assert (await refused(gql, INBOX, {}, answer["refreshToken"]))["code"] == "UNAUTHENTICATED"


async def test_after_logging_out_neither_token_works(gql: GraphQLClient, pool: Any) -> None:
    answer = await resident_logs_in(gql, pool)
    access, refresh = answer["accessToken"], answer["refreshToken"]

    assert await gql.ok(LOG_OUT, {"token": refresh}, access) == {"logOut": True}

    assert (await refused(gql, INBOX, {}, access))["code"] == "UNAUTHENTICATED"
    assert (await refused(gql, REFRESH, {"token": refresh}))["code"] == "UNAUTHENTICATED"


async def test_a_refresh_token_buys_a_new_pair_once(gql: GraphQLClient, pool: Any) -> None:
    answer = await resident_logs_in(gql, pool)

    fresh = (await gql.ok(REFRESH, {"token": answer["refreshToken"]}))["refreshToken"]
    gql.http.cookies.clear()

    assert await gql.ok(ME, token=fresh["accessToken"]) == {
        "me": {"id": answer["me"]["id"], "roles": [RESIDENT], "phone": answer["me"]["phone"]}
    }
    spent = await refused(gql, REFRESH, {"token": answer["refreshToken"]})
    assert spent["code"] == "UNAUTHENTICATED"


async def test_the_log_in_cookie_is_http_only_and_is_accepted_in_place_of_a_header(
    gql: GraphQLClient, pool: Any
) -> None:
    phone = new_phone()
    await gql.ok(REQUEST_CODE, {"phone": phone})
    code = await texted_code(pool, phone)
    response = await gql.http.post(
        "/graphql", json={"query": LOG_IN, "variables": {"phone": phone, "code": code}}
    )
    set_cookies = response.headers.get_list("set-cookie")
    token_cookie = next(c for c in set_cookies if c.startswith("linli_token="))
    assert "httponly" in token_cookie.lower() and "samesite=lax" in token_cookie.lower()

    me = await gql.ok(ME)  # no Authorization header: the client sends the cookie

    assert me["me"]["id"] == response.json()["data"]["logIn"]["me"]["id"]
    gql.http.cookies.clear()
    assert (await refused(gql, ME, {}))["code"] == "UNAUTHENTICATED"


def _in(delta: timedelta) -> Any:
    return lambda: datetime.now(UTC) + delta


async def test_of_two_refreshes_racing_with_one_token_exactly_one_wins(gql: GraphQLClient, pool: Any) -> None:
    refresh = (await resident_logs_in(gql, pool))["refreshToken"]

    answers = await asyncio.gather(*(gql.raw(REFRESH, {"token": refresh}) for _ in range(2)))
    gql.http.cookies.clear()

    won = [a for a in answers if not a.get("errors")]
    lost = [a["errors"][0]["extensions"]["code"] for a in answers if a.get("errors")]
    assert len(won) == 1 and lost == ["UNAUTHENTICATED"]


async def test_a_number_gets_five_codes_an_hour_and_refused_resends_do_not_count(
    identity: Identity,
) -> None:
    phone = new_phone()
    start = datetime.now(UTC)
    at = {"now": start}
    clocked = Identity(identity.pool, identity.redis, identity.settings, clock=lambda: at["now"])

    async def ask(after: timedelta) -> str:
        at["now"] = start + after
        try:
            await clocked.request_login_code(phone, "198.51.100.3")
        except Refusal as refusal:
            return refusal.code
        return "SENT"

    answers = [await ask(timedelta(seconds=s)) for s in (0, 10, 120, 240, 360, 480, 600)]

    assert answers == ["SENT", "RATE_LIMITED", "SENT", "SENT", "SENT", "SENT", "RATE_LIMITED"]


async def test_logging_out_with_only_the_refresh_token_still_kills_it(gql: GraphQLClient, pool: Any) -> None:
    refresh = (await resident_logs_in(gql, pool))["refreshToken"]

    assert await gql.ok(LOG_OUT, {"token": refresh}) == {"logOut": True}

    assert (await refused(gql, REFRESH, {"token": refresh}))["code"] == "UNAUTHENTICATED"
    assert (await refused(gql, LOG_OUT, {"token": None}))["code"] == "UNAUTHENTICATED"
