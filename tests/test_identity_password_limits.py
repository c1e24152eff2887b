"""Guessing a staff password: the allowance holds against guesses sent all at once, a refused
guess is not even hashed, and one address cannot spread its guesses over many names."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.common.errors import Refusal
from services.common.settings import Settings
from services.identity.service import Identity
from tests.conftest import COMMUNITY
from tests.identity_steps import identity, no_cookies, staff_account

__all__ = ["identity", "no_cookies"]  # fixtures, used by name

FIRST_DELAY_S = 30  # the wait after the allowed failures; the test moves its clock past it


def strict(identity: Identity, settings: Settings, **limits: int) -> Identity:
    update: dict[str, Any] = {"password_failures_window_s": 3600, **limits}
    return Identity(identity.pool, identity.redis, settings.model_copy(update=update))


async def answers(attempts: list[Any]) -> list[str]:
    """The code of each attempt's refusal ("OK" for a log-in), all sent at once."""
    results = await asyncio.gather(*attempts, return_exceptions=True)
    codes = []
    for result in results:
        if isinstance(result, Refusal):
            codes.append(result.code)
        elif isinstance(result, BaseException):
            raise result
        else:
            codes.append("OK")
    return codes


async def test_thirty_guesses_at_once_get_no_more_than_the_allowance(
    identity: Identity, settings: Settings
) -> None:
    later = {"by": timedelta(0)}
    guarded = Identity(
        identity.pool,
        identity.redis,
        settings.model_copy(
            update={"password_failures_before_delay": 3, "password_first_delay_s": FIRST_DELAY_S}
        ),
        clock=lambda: datetime.now(UTC) + later["by"],
    )
    username, password = await staff_account(identity, "organiser", COMMUNITY)
    ip = f"203.0.113.{secrets.randbelow(250)}"

    codes = await answers([guarded.organiser_log_in(username, f"guess-{n}", ip) for n in range(30)])
    assert codes.count("BAD_CREDENTIALS") <= 3
    assert codes.count("RATE_LIMITED") == 30 - codes.count("BAD_CREDENTIALS")

    # Even the right password waits for the delay the guesses started, and says how long.
    with pytest.raises(Refusal) as limited:
        await guarded.organiser_log_in(username, password, ip)
    assert limited.value.code == "RATE_LIMITED"
    assert 1 <= limited.value.details["retryAfterS"] <= FIRST_DELAY_S

    later["by"] = timedelta(seconds=FIRST_DELAY_S + 1)  # the delay is over (no lock-out)
    tokens = await guarded.organiser_log_in(username, password, ip)
    assert tokens.access_token and tokens.actor.may_organise(COMMUNITY)


async def test_one_address_cannot_spread_its_guesses_over_many_names(
    identity: Identity, settings: Settings
) -> None:
    guarded = strict(identity, settings, password_failures_per_ip_per_hour=4)
    ip = f"198.51.100.{secrets.randbelow(250)}"
    names = [f"nobody-{secrets.token_hex(4)}" for _ in range(12)]

    codes = await answers([guarded.organiser_log_in(name, "password1", ip) for name in names])
    assert codes.count("BAD_CREDENTIALS") <= 4
    assert codes.count("RATE_LIMITED") == 12 - codes.count("BAD_CREDENTIALS")

    # Another address is not held up by this one.
    elsewhere = f"192.0.2.{secrets.randbelow(250)}"
    username, password = await staff_account(identity, "organiser", COMMUNITY)
    assert (await guarded.organiser_log_in(username, password, elsewhere)).access_token


async def test_right_passwords_do_not_use_up_the_allowance(identity: Identity, settings: Settings) -> None:
    """Many organisers behind one office address log in all morning; a typo still counts."""
    guarded = strict(
        identity, settings, password_failures_before_delay=2, password_failures_per_ip_per_hour=2
    )
    ip = f"100.64.0.{secrets.randbelow(250)}"
    username, password = await staff_account(identity, "organiser", COMMUNITY)
    for _ in range(5):
        await guarded.organiser_log_in(username, password, ip)

    with pytest.raises(Refusal, match="用户名或密码错误"):
        await guarded.organiser_log_in(username, "a-typo", ip)
    await guarded.organiser_log_in(username, password, ip)
    with pytest.raises(Refusal, match="用户名或密码错误"):
        await guarded.organiser_log_in(username, "another-typo", ip)
    with pytest.raises(Refusal) as limited:
        await guarded.organiser_log_in(username, "a-third-typo", ip)
    assert limited.value.code == "RATE_LIMITED"
