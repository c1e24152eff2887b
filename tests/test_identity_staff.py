"""Staff accounts: made by the command line or by a community's admin, logged in by password,
and allowed only what their role in their own community allows."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from typing import Any

import pytest

from services.common.errors import Refusal
from services.common.settings import Settings
from services.identity.service import Identity
from tests.conftest import (
    COMMUNITY,
    CREATE_ACTIVITY,
    CREATE_FESTIVAL,
    OTHER_COMMUNITY,
    ROOT,
    SCHEDULE_SESSION,
    GraphQLClient,
)
from tests.dates import FESTIVAL_DAY, day_iso
from tests.identity_steps import (
    ORGANISER_LOG_IN,
    identity,
    no_cookies,
    staff_account,
    staff_logs_in,
)
from tests.test_bad_input import count_sessions, session_input

__all__ = ["identity", "no_cookies"]  # fixtures, used by name

CREATE_ORGANISER = """
mutation($community: String!, $role: StaffRole!, $username: String!, $password: String!) {
  createOrganiser(communityId: $community, role: $role, username: $username, password: $password) {
    id username roles communities
  }
}
"""


def festival_input(community: str) -> dict[str, Any]:
    return {
        "input": {
            "name": "邻里节",
            "communityIds": [community],
            "startsOn": day_iso(FESTIVAL_DAY),
            "endsOn": day_iso(FESTIVAL_DAY),
        }
    }


async def test_the_command_line_makes_a_community_admin_who_then_logs_in(
    gql: GraphQLClient, settings: Settings
) -> None:
    username = f"admin-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(12)
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "LINLI_SECRET": settings.secret,
        "LINLI_NAMESPACE": settings.namespace,
    }
    command = [sys.executable, "-m", "services.cli", "admin", "create-organiser"]
    command += ["--community", COMMUNITY, "--role", "community_admin", "--username", username]
    done = await asyncio.to_thread(
        subprocess.run,
        [*command, "--password-stdin"],
        input=f"{password}\n",
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"created community_admin account {username}" in done.stdout

    answer = await staff_logs_in(gql, username, password)

    assert answer["me"] | {"id": None} == {
        "id": None,
        "roles": ["community_admin"],
        "communities": [COMMUNITY],
        "username": username,
    }


async def test_a_community_admin_appoints_organisers_for_her_own_community_only(
    gql: GraphQLClient, identity: Identity
) -> None:
    admin = await staff_logs_in(gql, *await staff_account(identity, "community_admin", COMMUNITY))
    token = admin["accessToken"]
    password = secrets.token_urlsafe(12)
    variables = {"community": COMMUNITY, "role": "ORGANISER", "password": password}
    name = f"zhang-wei-{secrets.token_hex(3)}"

    made = await gql.ok(CREATE_ORGANISER, {**variables, "username": name}, token)
    assert made["createOrganiser"]["roles"] == ["organiser"]
    assert made["createOrganiser"]["communities"] == [COMMUNITY]

    elsewhere = {**variables, "community": OTHER_COMMUNITY, "username": "li-na"}
    assert await gql.error_code(CREATE_ORGANISER, elsewhere, token) == "FORBIDDEN"
    again = {**variables, "username": name.upper()}
    assert await gql.error_code(CREATE_ORGANISER, again, token) == "USERNAME_TAKEN"
    organiser = await staff_logs_in(gql, name, password)
    by_organiser = {**variables, "username": "wang-fang"}
    assert await gql.error_code(CREATE_ORGANISER, by_organiser, organiser["accessToken"]) == "FORBIDDEN"


async def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(
    gql: GraphQLClient, identity: Identity
) -> None:
    username, _ = await staff_account(identity, "organiser", COMMUNITY)
    wrong = {"username": username, "password": "not-the-password"}
    unknown = {"username": f"nobody-{secrets.token_hex(3)}", "password": "whatever-it-is"}
    assert await gql.error_code(ORGANISER_LOG_IN, wrong) == "BAD_CREDENTIALS"
    assert await gql.error_code(ORGANISER_LOG_IN, unknown) == "BAD_CREDENTIALS"


async def test_guessing_passwords_is_rate_limited(identity: Identity, settings: Settings) -> None:
    strict = Identity(
        identity.pool, identity.redis, settings.model_copy(update={"password_failures_before_delay": 2})
    )
    username, password = await staff_account(identity, "organiser", COMMUNITY)
    for _ in range(2):
        with pytest.raises(Refusal, match="用户名或密码错误"):
            await strict.organiser_log_in(username, "a-wrong-guess")

    with pytest.raises(Refusal) as limited:
        await strict.organiser_log_in(username, password)  # even the right one, for now
    assert limited.value.code == "RATE_LIMITED" and limited.value.details["retryAfterS"] > 0


async def test_passwords_are_kept_as_argon2_hashes(identity: Identity, pool: Any) -> None:
    username, password = await staff_account(identity, "scanner", COMMUNITY)
    async with pool.acquire() as conn:
        stored = await conn.fetchval(
            "SELECT password_hash FROM identity.staff_accounts WHERE username = $1", username
        )
    assert stored.startswith("$argon2id$") and password not in stored


async def test_an_organiser_of_one_community_cannot_schedule_in_another(
    gql: GraphQLClient, identity: Identity, pool: Any
) -> None:
    ours = await staff_logs_in(gql, *await staff_account(identity, "organiser", COMMUNITY))
    theirs = await staff_logs_in(gql, *await staff_account(identity, "organiser", OTHER_COMMUNITY))
    festival = await gql.ok(CREATE_FESTIVAL, festival_input(OTHER_COMMUNITY), theirs["accessToken"])
    activity = await gql.ok(
        CREATE_ACTIVITY,
        {
            "input": {
                "festivalId": festival["createFestival"]["id"],
                "communityId": OTHER_COMMUNITY,
                "title": "太极拳",
            }
        },
        theirs["accessToken"],
    )
    activity_id = activity["createActivity"]["id"]

    code = await gql.error_code(SCHEDULE_SESSION, session_input(activity_id), ours["accessToken"])

    assert code == "FORBIDDEN"
    assert await count_sessions(pool, activity_id) == 0


async def test_a_scanner_cannot_create_a_festival(gql: GraphQLClient, identity: Identity) -> None:
    scanner = await staff_logs_in(gql, *await staff_account(identity, "scanner", COMMUNITY))
    assert scanner["me"]["roles"] == ["scanner"]

    code = await gql.error_code(CREATE_FESTIVAL, festival_input(COMMUNITY), scanner["accessToken"])

    assert code == "FORBIDDEN"
