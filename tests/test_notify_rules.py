"""Notify's rules without I/O: quiet hours, urgency, backoff, preferences and planning."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, time

import pytest

from services.common.clock import LOCAL_TZ
from services.common.errors import Refusal
from services.notify.channels import webhook_signature
from services.notify.delivery import backoff_s, plan_deliveries
from services.notify.domain import Message, is_urgent, reminder_message
from services.notify.preferences import Preferences, check_preferences, next_send_time

QUIET = (time(21, 30), time(8, 0))


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ)


def test_a_message_due_at_night_waits_until_eight_the_next_morning() -> None:
    assert next_send_time(local("2026-12-04 22:15"), *QUIET, urgent=False) == local("2026-12-05 08:00")


def test_a_message_due_before_dawn_waits_until_eight_the_same_morning() -> None:
    assert next_send_time(local("2026-12-05 02:00"), *QUIET, urgent=False) == local("2026-12-05 08:00")


def test_a_message_due_in_the_day_goes_at_once() -> None:
    for when in ("2026-12-05 08:00", "2026-12-05 13:00", "2026-12-05 21:29"):
        assert next_send_time(local(when), *QUIET, urgent=False) == local(when)


def test_an_urgent_message_ignores_quiet_hours() -> None:
    assert next_send_time(local("2026-12-05 23:00"), *QUIET, urgent=True) == local("2026-12-05 23:00")


def test_quiet_hours_work_from_any_time_zone_the_clock_reads() -> None:
    # 15:00 UTC is 23:00 in Shanghai: quiet, until 08:00 Shanghai = 00:00 UTC.
    due = next_send_time(datetime(2026, 12, 4, 15, 0, tzinfo=UTC), *QUIET, urgent=False)
    assert due == datetime(2026, 12, 5, 0, 0, tzinfo=UTC)


def test_quiet_hours_within_one_day_and_none_at_all() -> None:
    nap = (time(12, 0), time(14, 0))
    assert next_send_time(local("2026-12-05 12:30"), *nap, urgent=False) == local("2026-12-05 14:00")
    assert next_send_time(local("2026-12-05 23:00"), *nap, urgent=False) == local("2026-12-05 23:00")
    never = (time(0, 0), time(0, 0))
    assert next_send_time(local("2026-12-05 03:00"), *never, urgent=False) == local("2026-12-05 03:00")


def test_only_a_session_cancelled_or_moved_today_is_urgent() -> None:
    payload = {"starts_at": "2026-12-05T09:00:00+08:00"}
    assert is_urgent("session.cancelled", payload, local("2026-12-05 06:30"))
    assert not is_urgent("session.cancelled", payload, local("2026-12-04 22:00"))
    assert not is_urgent("signup.confirmed", payload, local("2026-12-05 06:30"))
    moved_away = {"old_starts_at": "2026-12-05T09:00:00+08:00", "starts_at": "2026-12-12T09:00:00+08:00"}
    assert is_urgent("session.rescheduled", moved_away, local("2026-12-05 06:30"))
    assert not is_urgent("session.rescheduled", moved_away, local("2026-12-03 22:00"))


def test_backoff_doubles_with_jitter_and_has_a_ceiling() -> None:
    assert [backoff_s(n, 10, 0.0) for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert [backoff_s(n, 10, 0.999999) for n in (1, 2)] == pytest.approx([10, 20], rel=1e-4)
    assert backoff_s(40, 10, 0.5) <= 6 * 3600


def test_preferences_need_an_address_for_every_chosen_channel() -> None:
    with pytest.raises(Refusal) as refused:
        check_preferences(["email"], "21:30", "08:00", None, None, None)
    assert (refused.value.code, refused.value.details) == ("BAD_USER_INPUT", {"field": "email"})


@pytest.mark.parametrize(
    ("channels", "start", "email", "phone", "field"),
    [
        (["fax"], "21:30", None, None, "channels"),
        ([], "25:00", None, None, "quietStart"),
        (["email"], "21:30", "not-an-address", None, "email"),
        (["sms"], "21:30", None, "12345", "phone"),
    ],
)
def test_nonsense_preferences_are_refused(
    channels: list[str], start: str, email: str | None, phone: str | None, field: str
) -> None:
    with pytest.raises(Refusal) as refused:
        check_preferences(channels, start, "08:00", email, phone, None)
    assert refused.value.details == {"field": field}


def test_a_phone_is_stored_as_eleven_digits() -> None:
    prefs = check_preferences(["sms"], "22:00", "07:00", None, "+86 138-0013-8000", None)
    assert prefs.address("sms") == "13800138000"
    assert prefs.address("email") is None


def _message() -> Message:
    return Message("r-1", "signup.confirmed", "报名成功", "正文", "Signed up", "Body")


def test_a_message_is_planned_on_each_chosen_channel_and_once_to_the_partner() -> None:
    prefs = Preferences(frozenset({"email", "sms"}), *QUIET, email="a@b.cn", phone="13800138000")
    at = local("2026-12-04 23:00")
    source = uuid.uuid4()

    planned = plan_deliveries(source, _message(), prefs, False, at, "https://partner.example/hook")

    assert sorted((p["channel"], p["address"]) for p in planned) == [
        ("email", "a@b.cn"),
        ("sms", "13800138000"),
        ("webhook", "https://partner.example/hook"),
    ]
    by_channel = {p["channel"]: p for p in planned}
    assert by_channel["sms"]["not_before"] == local("2026-12-05 08:00")
    assert by_channel["webhook"]["not_before"] == at
    assert json.loads(by_channel["webhook"]["body"])["kind"] == "signup.confirmed"
    # The same message planned again names the same deliveries.
    again = plan_deliveries(source, _message(), prefs, False, at, "https://partner.example/hook")
    assert [p["id"] for p in again] == [p["id"] for p in planned]


def test_a_webhook_signature_covers_the_timestamp_and_the_body() -> None:
    body = b'{"kind":"signup.confirmed"}'
    header = webhook_signature("s3cret", 1764000000, body)
    expected = hmac.new(b"s3cret", b"1764000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1764000000,v1={expected}"
    assert webhook_signature("s3cret", 1764000001, body) != header


def test_a_reminder_names_the_activity_time_and_place() -> None:
    payload = {"activity_title": "义诊", "venue": "邻里驿家", "starts_at": "2026-12-05T09:00:00+08:00"}
    day_before = reminder_message("r-1", payload, 24 * 60)
    assert (
        "义诊" in day_before.body_zh and "1天" in day_before.body_zh and "12月5日 09:00" in day_before.body_zh
    )
    assert "2 hour" in reminder_message("r-1", payload, 120).body_en
