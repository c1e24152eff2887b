"""Reaching the elderly: a resident who logs in by phone gets texts at that number unless they
turn them off; their choice is kept, and quiet hours still hold texts back."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from services.common.settings import Settings
from services.notify.handlers import default_sms_preferences
from services.notify.preferences import next_send_time
from services.notify.sms import LoginPhone
from tests.conftest import GraphQLClient, eventually, open_session
from tests.identity_steps import new_phone, resident_logs_in

PREFS = "{ myNotificationPreferences { channels phone quietStart quietEnd } }"
SET_PREFS = """
mutation($input: NotificationPreferencesInput!) { setNotificationPreferences(input: $input) { channels } }
"""
SIGN_UP = "mutation($input: SignUpInput!) { signUp(input: $input) { status } }"


async def a_session(gql: GraphQLClient, organiser_token: str) -> str:
    return await open_session(gql, organiser_token, festival_name=f"邻里节 {uuid.uuid4().hex[:4]}")


async def test_a_resident_who_logs_in_by_phone_gets_texts_there_by_default_within_quiet_hours(
    gql: GraphQLClient, pool: Any, settings: Settings, organiser_token: str, workers: None
) -> None:
    phone = new_phone()
    answer = await resident_logs_in(gql, pool, phone)
    resident_id, token = answer["me"]["id"], answer["accessToken"]

    async def chosen() -> Any:
        return await pool.fetchrow("SELECT * FROM notify.preferences WHERE person_id = $1", resident_id)

    row = await eventually(chosen)
    assert row is not None and list(row["channels"]) == ["sms"] and row["phone"] == phone
    shown = (await gql.ok(PREFS, token=token))["myNotificationPreferences"]
    assert shown["channels"] == ["SMS"] and shown["phone"] == phone
    assert (shown["quietStart"], shown["quietEnd"]) == (
        settings.notify_quiet_start,
        settings.notify_quiet_end,
    )

    await gql.ok(
        SIGN_UP,
        {"input": {"sessionId": await a_session(gql, organiser_token), "idempotencyKey": uuid.uuid4().hex}},
        token,
    )

    async def texted() -> Any:
        return await pool.fetchrow(
            "SELECT * FROM notify.deliveries WHERE recipient_id = $1 AND channel = 'sms'", resident_id
        )

    delivery = await eventually(texted)
    assert delivery is not None and delivery["address"] == phone and not delivery["urgent"]
    # quiet hours still apply: a confirmation is never planned inside them
    assert (
        next_send_time(delivery["not_before"], row["quiet_start"], row["quiet_end"], False)
        == delivery["not_before"]
    )
    assert delivery["not_before"] >= delivery["created_at"] - timedelta(seconds=5)


async def test_a_resident_who_turned_texts_off_is_not_turned_back_on_at_the_next_log_in(
    gql: GraphQLClient, pool: Any, settings: Settings, workers: None
) -> None:
    phone = new_phone()
    answer = await resident_logs_in(gql, pool, phone)
    resident_id, token = answer["me"]["id"], answer["accessToken"]

    async def defaulted() -> Any:
        return await pool.fetchval(
            "SELECT channels FROM notify.preferences WHERE person_id = $1", resident_id
        )

    assert list(await eventually(defaulted)) == ["sms"]
    off = await gql.ok(SET_PREFS, {"input": {"channels": []}}, token)
    assert off["setNotificationPreferences"]["channels"] == []

    # the job a later log-in enqueues, run as the notify worker runs it
    stored = await default_sms_preferences(
        {"settings": settings, "pool": pool}, LoginPhone(resident_id, phone)
    )
    assert stored is False
    assert (
        list(await pool.fetchval("SELECT channels FROM notify.preferences WHERE person_id = $1", resident_id))
        == []
    )
    assert phone not in repr(LoginPhone(resident_id, phone))  # arq logs job arguments: the number masked
