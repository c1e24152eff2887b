"""Token sessions (issue 16): a log-in and its refreshes are one session; logging out ends all
of it, and a refresh token used twice (stolen) ends it for the thief and the owner alike."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.common.actor import PLATFORM_ADMIN, RESIDENT, Actor
from services.common.errors import Refusal
from services.common.settings import Settings
from services.common.tokens import ACCESS, KEY_ID, REFRESH, _b64, _mac, issue_token, read_claims
from services.identity.revocations import RevokedTokens
from services.identity.service import Identity
from tests.conftest import COMMUNITY, GraphQLClient, token_for
from tests.identity_steps import ORGANISER_LOG_IN, identity, no_cookies, staff_account, staff_logs_in

__all__ = ["identity", "no_cookies"]  # fixtures, used by name

ME = "{ me { id } }"
REFRESH_PAIR = "mutation($t: String) { refreshToken(refreshToken: $t) { accessToken refreshToken } }"
LOG_OUT = "mutation($t: String) { logOut(refreshToken: $t) }"


async def code_of(gql: GraphQLClient, query: str, variables: dict[str, Any], token: str | None = None) -> str:
    body = await gql.raw(query, variables, token)
    gql.http.cookies.clear()
    if not body.get("errors"):
        return "OK"
    code: str = body["errors"][0]["extensions"]["code"]
    return code


async def refreshed(gql: GraphQLClient, refresh_token: str) -> dict[str, str]:
    pair: dict[str, str] = (await gql.ok(REFRESH_PAIR, {"t": refresh_token}))["refreshToken"]
    gql.http.cookies.clear()
    return pair


def test_a_log_in_and_its_refreshes_share_one_session_id(settings: Settings) -> None:
    actor = Actor("resident-s", frozenset({RESIDENT}), frozenset())
    access = issue_token(actor, settings.secret, 60, kind=ACCESS, session_id="s1")
    refresh = issue_token(actor, settings.secret, 60, kind=REFRESH, session_id="s1")
    assert read_claims(access, settings.secret).session_id == "s1"
    assert read_claims(refresh, settings.secret, kind=REFRESH).session_id == "s1"
    assert read_claims(issue_token(actor, settings.secret, 60), settings.secret).session_id == ""


async def test_log_out_kills_the_access_token_issued_before_a_refresh(
    gql: GraphQLClient, identity: Any
) -> None:
    first = await staff_logs_in(gql, *await staff_account(identity, "organiser", COMMUNITY))
    second = await refreshed(gql, first["refreshToken"])
    assert await code_of(gql, ME, {}, first["accessToken"]) == "OK"  # still alive: not logged out

    assert await code_of(gql, LOG_OUT, {"t": second["refreshToken"]}, second["accessToken"]) == "OK"

    for token in (first["accessToken"], second["accessToken"]):
        assert await code_of(gql, ME, {}, token) == "UNAUTHENTICATED"
    assert await code_of(gql, REFRESH_PAIR, {"t": second["refreshToken"]}) == "UNAUTHENTICATED"


async def test_a_stolen_refresh_token_dies_with_log_out(gql: GraphQLClient, identity: Any) -> None:
    owner = await staff_logs_in(gql, *await staff_account(identity, "organiser", COMMUNITY))
    stolen = owner["refreshToken"]
    # The owner logs out with the access token only (the page's cookie is gone, say).
    assert await code_of(gql, LOG_OUT, {}, owner["accessToken"]) == "OK"
    assert await code_of(gql, REFRESH_PAIR, {"t": stolen}) == "UNAUTHENTICATED"


async def test_a_reused_refresh_token_revokes_the_whole_chain(
    gql: GraphQLClient, identity: Any, pool: Any
) -> None:
    owner = await staff_logs_in(gql, *await staff_account(identity, "organiser", COMMUNITY))
    copy = owner["refreshToken"]
    thief = await refreshed(gql, copy)  # the thief gets there first
    assert await code_of(gql, ME, {}, thief["accessToken"]) == "OK"

    # Within seconds, a second use is two tabs renewing at once: refused, the session goes on.
    assert await code_of(gql, REFRESH_PAIR, {"t": copy}) == "UNAUTHENTICATED"
    assert await code_of(gql, ME, {}, thief["accessToken"]) == "OK"
    # A minute later the owner's page renews with its copy.
    in_a_minute = datetime.now(UTC) + timedelta(minutes=1)
    later = Identity(pool, identity.redis, identity.settings, clock=lambda: in_a_minute)
    with pytest.raises(Refusal) as refused:
        await later.refresh(copy)
    assert refused.value.code == "UNAUTHENTICATED"

    # The reuse ended the session: the thief's pair dies, and the owner's access token too.
    assert await code_of(gql, ME, {}, thief["accessToken"]) == "UNAUTHENTICATED"
    assert await code_of(gql, REFRESH_PAIR, {"t": thief["refreshToken"]}) == "UNAUTHENTICATED"
    assert await code_of(gql, ME, {}, owner["accessToken"]) == "UNAUTHENTICATED"
    async with pool.acquire() as conn:
        reused = await conn.fetchval(
            "SELECT count(*) FROM identity.audit_log WHERE action = 'refresh_token.reused' AND subject = $1",
            owner["me"]["id"],
        )
    assert reused == 1


async def test_another_gateway_learns_of_an_ended_session_from_its_mirror(
    redis: Any, settings: Settings, identity: Any, gql: GraphQLClient
) -> None:
    owner = await staff_logs_in(gql, *await staff_account(identity, "organiser", COMMUNITY))
    claims = read_claims(owner["accessToken"], settings.secret)  # issued before the refresh
    second = await refreshed(gql, owner["refreshToken"])
    mirror = RevokedTokens(redis, settings)
    await mirror.start()
    try:
        assert await code_of(gql, LOG_OUT, {}, second["accessToken"]) == "OK"
        later = RevokedTokens(redis, settings)  # a gateway started after the log-out loads it
        await later.start()
        try:
            for gateway in (mirror, later):
                for _ in range(100):
                    if gateway.loaded and await gateway.is_revoked(claims):
                        break
                    await asyncio.sleep(0.02)
                assert await gateway.is_revoked(claims)
        finally:
            await later.stop()
    finally:
        await mirror.stop()


def signed(settings: Settings, claims: dict[str, Any]) -> str:
    """A token signed with the secret, carrying exactly ``claims``."""
    body = f"v1.{KEY_ID}.{_b64(json.dumps(claims).encode())}"
    return f"{body}.{_mac(settings.secret, body)}"


async def test_a_signed_token_without_jti_or_typ_is_refused(gql: GraphQLClient, settings: Settings) -> None:
    admin = Actor("platform-forged", frozenset({PLATFORM_ADMIN}), frozenset()).as_payload()
    exp = int(time.time()) + 3600
    whole = {**admin, "exp": exp, "jti": uuid.uuid4().hex, "typ": ACCESS}
    assert await code_of(gql, ME, {}, signed(settings, whole)) == "OK"  # the same, complete
    for missing in ("jti", "typ"):
        partial = {k: v for k, v in whole.items() if k != missing}
        with pytest.raises(Refusal):
            read_claims(signed(settings, partial), settings.secret)
        assert await code_of(gql, ME, {}, signed(settings, partial)) == "UNAUTHENTICATED"


async def test_log_out_everywhere_ends_every_session_of_mine_and_nobody_else_s(
    gql: GraphQLClient, identity: Any, pool: Any
) -> None:
    username, password = await staff_account(identity, "organiser", COMMUNITY)
    phone = await staff_logs_in(gql, username, password)  # her phone's session...
    desk = await staff_logs_in(gql, username, password)  # ...and the office computer's
    renewed = await refreshed(gql, phone["refreshToken"])
    colleague = await staff_logs_in(gql, *await staff_account(identity, "organiser", COMMUNITY))

    assert await code_of(gql, "mutation { logOutEverywhere }", {}, desk["accessToken"]) == "OK"

    for token in (phone["accessToken"], renewed["accessToken"], desk["accessToken"]):
        assert await code_of(gql, ME, {}, token) == "UNAUTHENTICATED"
    for token in (renewed["refreshToken"], desk["refreshToken"]):
        assert await code_of(gql, REFRESH_PAIR, {"t": token}) == "UNAUTHENTICATED"
    assert await code_of(gql, ME, {}, colleague["accessToken"]) == "OK"
    again = await staff_logs_in(gql, username, password)  # she logs in afresh
    assert await code_of(gql, ME, {}, again["accessToken"]) == "OK"
    async with pool.acquire() as conn:
        details = await conn.fetchval(
            "SELECT details FROM identity.audit_log WHERE action = 'logged_out_everywhere' AND subject = $1",
            desk["me"]["id"],
        )
    assert details == {"sessions": 2}
    assert await code_of(gql, "mutation { logOutEverywhere }", {}) == "UNAUTHENTICATED"


CHANGE_PASSWORD = """
mutation($c: String!, $n: String!) { changeMyPassword(currentPassword: $c, newPassword: $n) }
"""


async def test_a_staff_member_changes_her_password_and_whoever_knew_the_old_one_is_out(
    gql: GraphQLClient, identity: Any, pool: Any, settings: Settings
) -> None:
    username, old = await staff_account(identity, "organiser", COMMUNITY)
    thief = await staff_logs_in(gql, username, old)  # someone who learnt the old password
    mine = await staff_logs_in(gql, username, old)
    new = f"new-{uuid.uuid4().hex[:12]}"

    wrong = await gql.raw(CHANGE_PASSWORD, {"c": "not-the-password", "n": new}, mine["accessToken"])
    assert wrong["errors"][0]["extensions"]["code"] == "BAD_CREDENTIALS"
    assert await code_of(gql, CHANGE_PASSWORD, {"c": old, "n": "short"}, mine["accessToken"]) == (
        "BAD_USER_INPUT"
    )
    assert await code_of(gql, CHANGE_PASSWORD, {"c": old, "n": new}, mine["accessToken"]) == "OK"

    assert await code_of(gql, ME, {}, thief["accessToken"]) == "UNAUTHENTICATED"
    assert await code_of(gql, REFRESH_PAIR, {"t": thief["refreshToken"]}) == "UNAUTHENTICATED"
    assert await code_of(gql, ME, {}, mine["accessToken"]) == "OK"  # her own session goes on
    assert await code_of(gql, ORGANISER_LOG_IN, {"username": username, "password": old}) == "BAD_CREDENTIALS"
    assert await code_of(gql, ORGANISER_LOG_IN, {"username": username, "password": new}) == "OK"
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT action, details::text AS details FROM identity.audit_log WHERE subject = $1",
            mine["me"]["id"],
        )
    assert "staff.password_changed" in {r["action"] for r in rows}
    assert not [r for r in rows if old in r["details"] or new in r["details"]]
    # A resident has no password to change.
    resident = token_for(settings, str(uuid.uuid4()), {RESIDENT}, {COMMUNITY})
    assert await code_of(gql, CHANGE_PASSWORD, {"c": old, "n": new}, resident) == "FORBIDDEN"
