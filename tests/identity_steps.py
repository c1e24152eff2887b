"""Steps the identity tests share: a fresh number, the code the SMS outbox holds, logging in."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from services.common.actor import PLATFORM_ADMIN, Actor
from services.identity.privacy_notice import VERSION
from services.identity.service import Identity
from services.notify.sms import texts_to
from tests.conftest import GraphQLClient, eventually

REQUEST_CODE = """
mutation($phone: String!) { requestLoginCode(phone: $phone) { expiresInS resendAfterS } }
"""
# Residents accept the privacy notice in force as they log in (the page's log-in says so).
LOG_IN = (
    f'mutation($phone: String!, $code: String!, $notice: String = "{VERSION}") '
    """{
  logIn(phone: $phone, code: $code, privacyNoticeVersion: $notice) {
    accessToken refreshToken expiresInS me { id roles phone }
  }
}
"""
)
ORGANISER_LOG_IN = """
mutation($username: String!, $password: String!) {
  organiserLogIn(username: $username, password: $password) {
    accessToken refreshToken me { id roles communities username }
  }
}
"""
PLATFORM = Actor("platform-test", frozenset({PLATFORM_ADMIN}), frozenset())


def new_phone() -> str:
    return f"139{secrets.randbelow(10**8):08d}"


async def texted_code(pool: Any, phone: str, nth: int = 1) -> str:
    """The code in the ``nth`` text sent to the number (waiting for the notify worker)."""

    async def texts() -> list[Any]:
        async with pool.acquire() as conn:
            rows = await texts_to(conn, phone)
        return rows if len(rows) >= nth else []

    rows = await eventually(texts)
    assert rows, f"no text #{nth} reached the SMS outbox"
    found = re.search(r"验证码是(\d{6})", rows[0]["body"])
    assert found, rows[0]["body"]
    return found.group(1)


async def resident_logs_in(gql: GraphQLClient, pool: Any, phone: str | None = None) -> dict[str, Any]:
    """A resident asks for a code and logs in with it: the logIn answer."""
    phone = phone or new_phone()
    await gql.ok(REQUEST_CODE, {"phone": phone})
    code = await texted_code(pool, phone)
    data = await gql.ok(LOG_IN, {"phone": phone, "code": code})
    gql.http.cookies.clear()
    answer: dict[str, Any] = data["logIn"]
    return answer


async def staff_account(identity: Identity, role: str, community: str) -> tuple[str, str]:
    """A staff account made by the platform: (username, password)."""
    username = f"{role[:4]}-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(12)
    await identity.create_organiser(PLATFORM, community, role, username, password)
    return username, password


async def staff_logs_in(gql: GraphQLClient, username: str, password: str) -> dict[str, Any]:
    data = await gql.ok(ORGANISER_LOG_IN, {"username": username, "password": password})
    gql.http.cookies.clear()
    answer: dict[str, Any] = data["organiserLogIn"]
    return answer


@pytest.fixture
def identity(pool: Any, redis: Any, settings: Any) -> Identity:
    return Identity(pool, redis, settings)


@pytest.fixture(autouse=True)
def no_cookies(gql: GraphQLClient) -> Iterator[None]:
    """Log-in sets cookies on the shared HTTP client; other tests must not inherit them."""
    gql.http.cookies.clear()
    yield
    gql.http.cookies.clear()
