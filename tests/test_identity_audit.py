"""The audit log says who got in, who was turned away and who made whose account."""

from __future__ import annotations

from typing import Any

from services.common.masking import mask_phone
from services.identity import queries
from services.identity.service import Identity
from tests.conftest import COMMUNITY, GraphQLClient
from tests.identity_steps import (
    LOG_IN,
    ORGANISER_LOG_IN,
    PLATFORM,
    REQUEST_CODE,
    identity,
    new_phone,
    no_cookies,
    resident_logs_in,
    texted_code,
)

__all__ = ["identity", "no_cookies"]  # fixtures, used by name


async def trail(pool: Any, subject: str) -> list[tuple[str, str | None]]:
    async with pool.acquire() as conn:
        rows = await queries.audit_trail(conn, subject)
    return [(row["action"], row["actor_id"]) for row in reversed(rows)]


async def test_a_residents_log_ins_and_log_out_are_recorded_with_a_masked_number(
    gql: GraphQLClient, pool: Any
) -> None:
    phone = new_phone()
    answer = await resident_logs_in(gql, pool, phone)
    resident_id = answer["me"]["id"]
    await gql.ok("mutation { logOut }", token=answer["accessToken"])

    assert await trail(pool, resident_id) == [
        ("resident.logged_in", resident_id),
        ("logged_out", resident_id),
    ]
    async with pool.acquire() as conn:
        details = await conn.fetchval(
            "SELECT details FROM identity.audit_log WHERE subject = $1 AND action = 'resident.logged_in'",
            resident_id,
        )
        everything = await conn.fetchval("SELECT string_agg(audit_log::text, ' ') FROM identity.audit_log")
    assert details == {"phone": mask_phone(phone), "first": True}
    assert phone not in everything


async def test_a_locked_code_is_recorded_against_the_masked_number(gql: GraphQLClient, pool: Any) -> None:
    phone = new_phone()
    await gql.ok(REQUEST_CODE, {"phone": phone})
    code = await texted_code(pool, phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        await gql.raw(LOG_IN, {"phone": phone, "code": wrong})

    assert await trail(pool, mask_phone(phone)) == [("login_code.locked", None)]


async def test_an_account_made_and_a_password_guessed_are_recorded(
    gql: GraphQLClient, pool: Any, identity: Identity
) -> None:
    row, _ = await identity.create_organiser(
        PLATFORM, COMMUNITY, "scanner", "scan-audit-1", "a-long-password"
    )
    await gql.raw(ORGANISER_LOG_IN, {"username": "scan-audit-1", "password": "a-wrong-password"})
    await gql.ok(ORGANISER_LOG_IN, {"username": "scan-audit-1", "password": "a-long-password"})
    gql.http.cookies.clear()

    account_id = str(row["id"])
    assert await trail(pool, account_id) == [
        ("staff.created", PLATFORM.user_id),
        ("staff.logged_in", account_id),
    ]
    assert await trail(pool, "username:scan-audit-1") == [("staff.log_in_failed", None)]
