"""Lock-out as a weapon (issue 16): wrong passwords from changing addresses only delay a staff
account, never lock it for an hour; the delays grow up to a cap; the account's usual address is
not held up by strangers; one address is still limited; the admins hear of a burst once."""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime, timedelta
from typing import Any

import pytest

from services.common.errors import Refusal
from services.common.settings import Settings
from services.identity.service import Identity
from tests.conftest import COMMUNITY, GraphQLClient, eventually
from tests.dates import minutes_from_now
from tests.identity_steps import identity, no_cookies, staff_account, staff_logs_in

__all__ = ["identity", "no_cookies"]  # fixtures, used by name

FREE, FIRST_S, LONGEST_S = 3, 5, 60
INBOX = "{ myInbox { kind title body } }"


class Clock:
    """The service's clock, moved by the test instead of sleeping."""

    def __init__(self) -> None:
        self.now: datetime = minutes_from_now(0)

    def __call__(self) -> datetime:
        return self.now

    def wait(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def gated(identity: Identity, settings: Settings, clock: Clock, **limits: int) -> Identity:
    update: dict[str, Any] = {
        "password_failures_before_delay": FREE,
        "password_first_delay_s": FIRST_S,
        "password_longest_delay_s": LONGEST_S,
        "password_failures_window_s": 3600,
        **limits,
    }
    return Identity(identity.pool, identity.redis, settings.model_copy(update=update), clock=clock)


def stranger() -> str:
    return f"198.51.{secrets.randbelow(250)}.{secrets.randbelow(250)}"


async def refusal(attempt: Any) -> Refusal:
    with pytest.raises(Refusal) as refused:
        await attempt
    return refused.value


async def test_guesses_from_changing_addresses_cannot_keep_the_real_user_out(
    identity: Identity, settings: Settings
) -> None:
    clock = Clock()
    guarded = gated(identity, settings, clock)
    username, password = await staff_account(identity, "organiser", COMMUNITY)
    home = f"100.64.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    await guarded.organiser_log_in(username, password, home)  # the organiser's usual address

    # An attacker guesses all "hour" long, each guess from a new address, as fast as allowed.
    guesses, start = 0, clock.now
    for _ in range(300):
        try:
            await guarded.organiser_log_in(username, f"guess-{guesses}", stranger())
        except Refusal as refused:
            if refused.code == "RATE_LIMITED":
                assert refused.details["retryAfterS"] <= LONGEST_S
                clock.wait(refused.details["retryAfterS"])
                continue
            assert refused.code == "BAD_CREDENTIALS"
            guesses += 1
        if clock.now - start >= timedelta(hours=1):
            break
    assert guesses >= FREE + 1  # it was let through now and then, never locked out for good

    # In the middle of it, the organiser at the usual address gets in at once...
    tokens = await guarded.organiser_log_in(username, password, home)
    assert tokens.actor.may_organise(COMMUNITY)
    # ...and from a new address after at most the longest delay, which the refusal tells.
    somewhere_new = stranger()
    refused = await refusal(guarded.organiser_log_in(username, password, somewhere_new))
    assert refused.code == "RATE_LIMITED" and 1 <= refused.details["retryAfterS"] <= LONGEST_S
    assert "后再试" in refused.zh and "try again in" in refused.en
    clock.wait(refused.details["retryAfterS"])
    assert (await guarded.organiser_log_in(username, password, somewhere_new)).access_token


async def test_the_delays_grow_to_the_cap(identity: Identity, settings: Settings) -> None:
    clock = Clock()
    guarded = gated(identity, settings, clock)
    username, _ = await staff_account(identity, "organiser", COMMUNITY)

    for n in range(FREE):  # the first few wrong passwords are answered at once
        refused = await refusal(guarded.organiser_log_in(username, f"typo-{n}", stranger()))
        assert refused.code == "BAD_CREDENTIALS"
    waits = []
    for n in range(6):
        refused = await refusal(guarded.organiser_log_in(username, f"guess-{n}", stranger()))
        assert refused.code == "RATE_LIMITED"
        waits.append(refused.details["retryAfterS"])
        clock.wait(refused.details["retryAfterS"])
        wrong = await refusal(guarded.organiser_log_in(username, f"guess-{n}", stranger()))
        assert wrong.code == "BAD_CREDENTIALS"
    assert waits == [5, 10, 20, 40, 60, 60]  # doubling from the first delay, capped

    # A long wait is told in minutes, in both languages.
    refused = await refusal(guarded.organiser_log_in(username, "again", stranger()))
    assert refused.zh == "密码错误次数较多，为保护账号，请1分钟后再试"
    assert refused.en.endswith("try again in 1 minute")


async def test_the_per_address_limit_still_holds(identity: Identity, settings: Settings) -> None:
    clock = Clock()
    guarded = gated(identity, settings, clock, password_failures_per_ip_per_hour=4)
    ip = stranger()
    names = [f"nobody-{secrets.token_hex(4)}" for _ in range(6)]
    codes = []
    for name in names:  # one guess per name: no account's delay is ever reached
        codes.append((await refusal(guarded.organiser_log_in(name, "password1", ip))).code)
    assert codes == ["BAD_CREDENTIALS"] * 4 + ["RATE_LIMITED"] * 2
    clock.wait(LONGEST_S * 2)  # the injected clock does not end the address's hour
    username, password = await staff_account(identity, "organiser", COMMUNITY)
    refused = await refusal(guarded.organiser_log_in(username, password, ip))
    assert refused.code == "RATE_LIMITED" and refused.details["retryAfterS"] > LONGEST_S


async def test_the_admins_are_told_once_per_burst(identity: Identity, settings: Settings, pool: Any) -> None:
    clock = Clock()
    guarded = gated(identity, settings, clock)
    username, password = await staff_account(identity, "organiser", COMMUNITY)
    for n in range(FREE + 4):
        try:
            await guarded.organiser_log_in(username, f"guess-{n}", stranger())
        except Refusal as refused:
            if refused.code == "RATE_LIMITED":
                clock.wait(refused.details["retryAfterS"])
    async with pool.acquire() as conn:
        account_id = await conn.fetchval(
            "SELECT id FROM identity.staff_accounts WHERE username = $1", username
        )
        told = await conn.fetch(
            "SELECT * FROM identity.audit_log WHERE action = 'staff.log_in_burst' AND subject = $1",
            str(account_id),
        )
    assert len(told) == 1
    assert told[0]["community_id"] == COMMUNITY  # in the audit log its community's admins read
    assert password not in str(dict(told[0]))


async def test_the_communitys_admins_find_the_burst_in_their_inbox_once(
    identity: Identity, settings: Settings, gql: GraphQLClient
) -> None:
    community = f"burst-{secrets.token_hex(4)}"
    admin = await staff_account(identity, "community_admin", community)
    username, _ = await staff_account(identity, "organiser", community)
    clock = Clock()
    guarded = gated(identity, settings, clock)
    for n in range(FREE + 4):  # one burst, however long it goes on
        try:
            await guarded.organiser_log_in(username, f"guess-{n}", stranger())
        except Refusal as refused:
            if refused.code == "RATE_LIMITED":
                clock.wait(refused.details["retryAfterS"])
    token = (await staff_logs_in(gql, *admin))["accessToken"]

    async def told() -> list[Any]:
        inbox = (await gql.ok(INBOX, token=token))["myInbox"]
        return [m for m in inbox if m["kind"] == "staff.log_in_burst"]

    [message] = await eventually(told)
    assert username in message["body"] and "修改密码" in message["body"]
    assert "guess-" not in message["body"]
    await asyncio.sleep(0.5)  # a second message would have come by now
    assert len(await told()) == 1
