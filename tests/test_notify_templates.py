"""Organisers word messages their own way per festival, and see the dead letters of their own
communities only.

The stories run through the gateway and workers of tests/test_notify_delivery.py (its ``stack``
and its SMS provider that can be told to fail), on real PostgreSQL and Redis; the rules of
templates are also tested without I/O.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from typing import Any

import asyncpg
import pytest

from services.common.actor import ORGANISER, PLATFORM_ADMIN, Actor
from services.common.errors import Refusal
from services.common.ids import new_id
from services.common.outbox import EVENT_HANDLER
from services.notify.contracts import SEND_REMINDER
from services.notify.delivery import plan_deliveries
from services.notify.domain import Message, messages_for, reminder_message
from services.notify.handlers import instant, set_message_template
from services.notify.preferences import Preferences
from services.notify.templates import DEFAULT_TEMPLATES, PLACEHOLDERS, Template, check_template
from tests import test_notify_delivery as delivery
from tests.conftest import (
    COMMUNITY,
    CREATE_ACTIVITY,
    CREATE_FESTIVAL,
    OTHER_COMMUNITY,
    SCHEDULE_SESSION,
    GraphQLClient,
    eventually,
    token_for,
)
from tests.dates import FESTIVAL_DAY, at_iso, day_iso, en_day, zh_day
from tests.test_notify_delivery import (
    ANY_HOUR,
    DEAD_LETTERS,
    DELIVERIES,
    RESEND,
    SET_PREFERENCES,
    SmsProvider,
    Stack,
    phone_for,
    sign_up,
)

# That module's gateway and workers, and its SMS provider that fails when told to, are this
# module's fixtures too (pytest finds fixtures by the names a module holds them under).
stack, gql, mailbox, provider = delivery.stack, delivery.gql, delivery.mailbox, delivery.provider

SET_TEMPLATE = """
mutation($input: MessageTemplateInput!) {
  setMessageTemplate(input: $input) { festivalId communityId kind titleZh bodyZh titleEn bodyEn updatedBy }
}
"""
CLEAR_TEMPLATE = """
mutation($festival: ID!, $community: String!, $kind: String!) {
  clearMessageTemplate(festivalId: $festival, communityId: $community, kind: $kind)
}
"""
TEMPLATES = "query($festival: ID!) { messageTemplates(festivalId: $festival) { communityId kind bodyZh } }"
DEFAULTS = "{ defaultMessageTemplates { kind placeholders bodyZh } }"
INBOX = "{ myInbox { kind title body titleEn bodyEn } }"

PAYLOAD = {
    "resident_id": "r-1",
    "party_size": 2,
    "activity_title": "义诊",
    "venue": "朔方社区邻里驿家",
    "starts_at": "2026-12-05T09:00:00+08:00",  # rendered by pure functions only
    "festival_id": "f-1",
    "community_id": COMMUNITY,
}
OURS = Template(
    "邻里节：报名成功",
    "{activity}见！{time}在{venue}，{party_size}人。{{请带水杯}}",
    "Festival: signed up",
    "See you at {activity}, {time}, {venue} ({party_size}).",
)


# --- rendering, without I/O -------------------------------------------------------------


def test_an_override_words_only_the_messages_of_its_own_festival_and_community() -> None:
    overrides = {("f-1", COMMUNITY, "signup.confirmed"): OURS}

    (ours,) = messages_for("signup.confirmed", PAYLOAD, overrides)
    assert (ours.title_zh, ours.body_zh) == (
        "邻里节：报名成功",
        "义诊见！12月5日 09:00在朔方社区邻里驿家，2人。{请带水杯}",
    )
    assert ours.body_en == "See you at 义诊, 05 Dec 09:00, 朔方社区邻里驿家 (2)."

    default = messages_for("signup.confirmed", PAYLOAD)
    for elsewhere in ({**PAYLOAD, "festival_id": "f-2"}, {**PAYLOAD, "community_id": OTHER_COMMUNITY}):
        assert messages_for("signup.confirmed", elsewhere, overrides) == default
    # An event from before festivals were named in payloads gets the default too.
    older = {k: v for k, v in PAYLOAD.items() if k not in ("festival_id", "community_id")}
    assert messages_for("signup.confirmed", older, overrides) == default
    assert messages_for("signup.waitlisted", PAYLOAD, overrides) == messages_for("signup.waitlisted", PAYLOAD)


def test_what_an_event_says_is_never_read_as_a_template() -> None:
    sly = {**PAYLOAD, "activity_title": "{venue.__class__}", "venue": "{0}"}
    (message,) = messages_for("signup.confirmed", sly, {("f-1", COMMUNITY, "signup.confirmed"): OURS})
    assert message.body_zh.startswith("{venue.__class__}见！") and "在{0}，" in message.body_zh


def test_the_defaults_say_what_they_always_said() -> None:
    (message,) = messages_for("session.cancelled", {**PAYLOAD, "reason": "暴雨红色预警"})
    assert message == Message(
        "r-1",
        "session.cancelled",
        "活动取消通知",
        "很抱歉，「义诊」（12月5日 09:00，朔方社区邻里驿家）已取消，原因：暴雨红色预警。您的报名已自动取消。",
        "Session cancelled",
        'Sorry, "义诊" on 05 Dec 09:00 at 朔方社区邻里驿家 has been cancelled. Reason: 暴雨红色预警. '
        "Your sign-up has been cancelled.",
        # What an approved SMS template is filled with: the same facts, in Chinese.
        {"activity": "义诊", "time": "12月5日 09:00", "venue": "朔方社区邻里驿家", "reason": "暴雨红色预警"},
    )
    assert PLACEHOLDERS["session.rescheduled"] == {"activity", "old_time", "old_venue", "time", "venue"}
    assert PLACEHOLDERS["signup.waitlisted"] == {"activity", "time"}


def test_a_reminder_can_be_worded_per_festival_too() -> None:
    mine = Template("明天见", "{activity}还有{lead}开始", "See you", "{activity} in {lead}")
    overrides = {("f-1", COMMUNITY, "signup.reminder"): mine}
    reminder = reminder_message("r-1", PAYLOAD, 24 * 60, overrides)
    assert (reminder.body_zh, reminder.body_en) == ("义诊还有1天开始", "义诊 in 1 day(s)")
    assert reminder_message("r-1", {**PAYLOAD, "festival_id": "f-2"}, 120).title_zh == "活动提醒"


def test_an_override_stored_under_older_rules_falls_back_to_the_default() -> None:
    stale = Template("旧", "{gone}", "Old", "{gone}")
    (message,) = messages_for("signup.confirmed", PAYLOAD, {("f-1", COMMUNITY, "signup.confirmed"): stale})
    assert message == messages_for("signup.confirmed", PAYLOAD)[0]


def test_a_template_may_use_some_of_its_placeholders_and_literal_braces() -> None:
    checked = check_template("signup.waitlisted", " 候补 ", "{activity}满了{{抱歉}}", "Waiting", "{time}")
    assert checked == Template("候补", "{activity}满了{{抱歉}}", "Waiting", "{time}")


@pytest.mark.parametrize(
    ("kind", "body_zh", "field", "placeholder"),
    [
        ("signup.confirmed", "{name}您好", "bodyZh", "name"),
        ("signup.waitlisted", "{party_size}人", "bodyZh", "party_size"),  # not offered by this kind
        ("signup.confirmed", "{activity.__class__}", "bodyZh", "activity.__class__"),
        ("signup.confirmed", "{activity[0]}", "bodyZh", "activity[0]"),
        ("signup.confirmed", "{activity!r}", "bodyZh", "activity"),
        ("signup.confirmed", "{activity:>99}", "bodyZh", "activity"),
        ("signup.confirmed", "{}", "bodyZh", ""),
        ("signup.confirmed", "{0}", "bodyZh", "0"),
    ],
)
def test_a_placeholder_the_kind_does_not_offer_is_refused_by_name(
    kind: str, body_zh: str, field: str, placeholder: str
) -> None:
    with pytest.raises(Refusal) as refused:
        check_template(kind, "标题", body_zh, "Title", "Body")
    assert refused.value.code == "BAD_USER_INPUT"
    assert refused.value.details == {"field": field, "placeholder": placeholder}


@pytest.mark.parametrize(
    ("texts", "field"),
    [
        (("标题", "正文", "Title", "{activity"), "bodyEn"),
        (("标题", "正文}", "Title", "Body"), "bodyZh"),
        (("  ", "正文", "Title", "Body"), "titleZh"),
        (("标题", "正文", "T" * 121, "Body"), "titleEn"),
    ],
)
def test_malformed_empty_or_overlong_texts_are_refused_by_field(texts: tuple[str, ...], field: str) -> None:
    with pytest.raises(Refusal) as refused:
        check_template("signup.confirmed", *texts)
    assert (refused.value.code, refused.value.details["field"]) == ("BAD_USER_INPUT", field)


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(Refusal) as refused:
        check_template("shift.signed_up", "标题", "正文", "Title", "Body")
    assert refused.value.details == {"field": "kind"}
    assert "signup.confirmed" in refused.value.en


def test_each_delivery_remembers_the_community_it_is_about() -> None:
    prefs = Preferences(frozenset({"sms"}), time(0, 0), time(0, 0), phone="13800138000")
    message = messages_for("signup.confirmed", PAYLOAD)[0]
    planned = plan_deliveries(
        uuid.uuid4(), message, prefs, False, datetime.now(UTC), "https://p.example", COMMUNITY
    )
    assert {p["community_id"] for p in planned} == {COMMUNITY}


# --- through the gateway ----------------------------------------------------------------


def organiser_of(stack: Stack, community: str) -> str:
    return token_for(stack.settings, f"organiser-{uuid.uuid4().hex[:6]}", {ORGANISER}, {community})


async def festival_with_session(gql: GraphQLClient, token: str, community: str) -> tuple[str, str]:
    """A fresh festival of ``community`` with one session: (festival id, session id)."""
    festival = await gql.ok(
        CREATE_FESTIVAL,
        {
            "input": {
                "name": "模板测试邻里节",
                "communityIds": [community],
                "startsOn": day_iso(FESTIVAL_DAY),
                "endsOn": day_iso(FESTIVAL_DAY + 1),
                "idempotencyKey": uuid.uuid4().hex,
            }
        },
        token,
    )
    festival_id: str = festival["createFestival"]["id"]
    activity = await gql.ok(
        CREATE_ACTIVITY,
        {
            "input": {
                "festivalId": festival_id,
                "communityId": community,
                "title": "义诊",
                "category": "health",
                "idempotencyKey": uuid.uuid4().hex,
            }
        },
        token,
    )
    session = await gql.ok(
        SCHEDULE_SESSION,
        {
            "input": {
                "activityId": activity["createActivity"]["id"],
                "venue": "邻里驿家",
                "startsAt": at_iso(FESTIVAL_DAY, "09:00"),
                "endsAt": at_iso(FESTIVAL_DAY, "11:00"),
                "capacity": 10,
                "idempotencyKey": uuid.uuid4().hex,
            }
        },
        token,
    )
    return festival_id, session["scheduleSession"]["id"]


def template_input(festival_id: str, community: str, kind: str = "signup.confirmed", **texts: str) -> Any:
    return {
        "input": {
            "festivalId": festival_id,
            "communityId": community,
            "kind": kind,
            "titleZh": texts.get("titleZh", "邻里节：报名成功"),
            "bodyZh": texts.get("bodyZh", "{activity}见！{time}，{venue}，{party_size}人。"),
            "titleEn": texts.get("titleEn", "Festival: signed up"),
            "bodyEn": texts.get("bodyEn", "See you at {activity}, {time}, {venue}."),
        }
    }


async def inbox_of(gql: GraphQLClient, token: str) -> list[dict[str, str]]:
    async def arrived() -> list[dict[str, str]]:
        found: list[dict[str, str]] = (await gql.ok(INBOX, token=token))["myInbox"]
        return found

    found: list[dict[str, str]] = await eventually(arrived)
    return found


async def test_a_festivals_own_words_reach_its_residents_and_no_other_festivals(
    stack: Stack, gql: GraphQLClient, new_resident: Any
) -> None:
    organiser = organiser_of(stack, COMMUNITY)
    ours, our_session = await festival_with_session(gql, organiser, COMMUNITY)
    other, other_session = await festival_with_session(gql, organiser, COMMUNITY)
    assert [d["kind"] for d in (await gql.ok(DEFAULTS))["defaultMessageTemplates"]] == list(DEFAULT_TEMPLATES)

    saved = (await gql.ok(SET_TEMPLATE, template_input(ours, COMMUNITY), organiser))["setMessageTemplate"]
    assert (saved["festivalId"], saved["communityId"], saved["kind"]) == (ours, COMMUNITY, "signup.confirmed")
    reminder = template_input(ours, COMMUNITY, "signup.reminder", bodyZh="{activity}还有{lead}开始，别迟到")
    await gql.ok(SET_TEMPLATE, reminder, organiser)
    listed = (await gql.ok(TEMPLATES, {"festival": ours}, organiser))["messageTemplates"]
    assert [t["kind"] for t in listed] == ["signup.confirmed", "signup.reminder"]
    assert (await gql.ok(TEMPLATES, {"festival": other}, organiser))["messageTemplates"] == []

    (resident, token), (_, elsewhere_token) = new_resident(), new_resident()
    signed_up = await sign_up(gql, token, our_session)
    await sign_up(gql, elsewhere_token, other_session)

    (mine,) = await inbox_of(gql, token)
    assert mine == {
        "kind": "signup.confirmed",
        "title": "邻里节：报名成功",
        "body": f"义诊见！{zh_day(FESTIVAL_DAY)} 09:00，邻里驿家，1人。",
        "titleEn": "Festival: signed up",
        "bodyEn": f"See you at 义诊, {en_day(FESTIVAL_DAY)} 09:00, 邻里驿家.",
    }
    (theirs,) = await inbox_of(gql, elsewhere_token)
    assert theirs["title"] == "报名成功" and theirs["body"].startswith("您已成功报名「义诊」")

    # The reminder the day before is in the festival's words too.
    async def projected() -> asyncpg.Record | None:
        found: asyncpg.Record | None = await stack.pool.fetchrow(
            "SELECT starts_at FROM notify.signups WHERE signup_id = $1", uuid.UUID(signed_up["id"])
        )
        return found

    row = await eventually(projected)
    assert await stack.run_job(SEND_REMINDER, signed_up["id"], instant(row["starts_at"]), 24 * 60) is True
    (reminded,) = await stack.inbox(resident, "signup.reminder")
    assert reminded["body_zh"] == "义诊还有1天开始，别迟到"

    # Cleared, the festival speaks in the default words again.
    clear = {"festival": ours, "community": COMMUNITY, "kind": "signup.confirmed"}
    assert (await gql.ok(CLEAR_TEMPLATE, clear, organiser))["clearMessageTemplate"] is True
    assert (await gql.ok(CLEAR_TEMPLATE, clear, organiser))["clearMessageTemplate"] is False
    _, later_token = new_resident()
    await sign_up(gql, later_token, our_session)
    (later,) = await inbox_of(gql, later_token)
    assert later["title"] == "报名成功"


async def test_a_template_with_a_placeholder_its_kind_lacks_is_refused_and_nothing_is_stored(
    stack: Stack, gql: GraphQLClient
) -> None:
    organiser = organiser_of(stack, COMMUNITY)
    festival, _ = await festival_with_session(gql, organiser, COMMUNITY)
    for variables, field in [
        (template_input(festival, COMMUNITY, bodyZh="{name}您好，{activity}见"), "bodyZh"),
        (template_input(festival, COMMUNITY, bodyEn="{activity.__init__.__globals__}"), "bodyEn"),
        (template_input(festival, COMMUNITY, titleEn="{venue[0]}"), "titleEn"),
        (template_input(festival, COMMUNITY, kind="wish.posted"), "kind"),
    ]:
        body = await gql.raw(SET_TEMPLATE, variables, organiser)
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["details"]["field"] == field
    assert (await gql.ok(TEMPLATES, {"festival": festival}, organiser))["messageTemplates"] == []

    # The notify worker checks again, whoever sends it the command.
    actor = Actor("organiser-direct", frozenset({ORGANISER}), frozenset({COMMUNITY}))
    args = {**template_input(festival, COMMUNITY)["input"], "bodyZh": "{party}"}
    command = {
        "festival_id": festival,
        "community_id": COMMUNITY,
        "kind": "signup.confirmed",
        "title_zh": args["titleZh"],
        "body_zh": args["bodyZh"],
        "title_en": args["titleEn"],
        "body_en": args["bodyEn"],
    }
    with pytest.raises(Refusal) as refused:
        await set_message_template(stack.ctx(lambda: datetime.now(UTC)), actor, command)
    assert refused.value.details["field"] == "bodyZh"
    stored = await stack.pool.fetchval(
        "SELECT count(*) FROM notify.message_templates WHERE festival_id = $1", uuid.UUID(festival)
    )
    assert stored == 0


async def test_only_the_festivals_own_organisers_word_its_messages_in_their_community(
    stack: Stack, gql: GraphQLClient
) -> None:
    ours = organiser_of(stack, COMMUNITY)
    theirs = organiser_of(stack, OTHER_COMMUNITY)
    festival, _ = await festival_with_session(gql, ours, COMMUNITY)
    await gql.ok(SET_TEMPLATE, template_input(festival, COMMUNITY), ours)

    assert await gql.error_code(SET_TEMPLATE, template_input(festival, COMMUNITY), theirs) == "FORBIDDEN"
    clear = {"festival": festival, "community": COMMUNITY, "kind": "signup.confirmed"}
    assert await gql.error_code(CLEAR_TEMPLATE, clear, theirs) == "FORBIDDEN"
    # Their own community is not part of this festival.
    body = await gql.raw(SET_TEMPLATE, template_input(festival, OTHER_COMMUNITY), theirs)
    assert body["errors"][0]["extensions"]["details"] == {"field": "communityId"}
    assert (await gql.ok(TEMPLATES, {"festival": festival}, theirs))["messageTemplates"] == []
    assert len((await gql.ok(TEMPLATES, {"festival": festival}, ours))["messageTemplates"]) == 1
    unknown = template_input(str(uuid.uuid4()), COMMUNITY)
    assert await gql.error_code(SET_TEMPLATE, unknown, ours) == "NOT_FOUND"
    resident = token_for(stack.settings, "resident-x", {"resident"}, {COMMUNITY})
    assert await gql.error_code(TEMPLATES, {"festival": festival}, resident) == "FORBIDDEN"


async def test_an_event_naming_its_festival_otherwise_than_by_id_is_still_told(stack: Stack) -> None:
    wish = {
        "id": str(new_id()),
        "type": "wish.posted",
        "source": "volunteers",
        "payload": {
            "wish_id": str(uuid.uuid4()),
            "community_id": COMMUNITY,
            "festival_id": "lingwu-2026",  # volunteers name festivals in free text
            "category": "REPAIR",
            "building": "3",
            "resident_id": f"resident-{uuid.uuid4().hex[:8]}",
            "posted_by": None,
        },
    }
    assert await stack.run_job(EVENT_HANDLER, [wish]) == 1


async def test_a_dead_letter_is_seen_by_its_own_communitys_organisers_only(
    stack: Stack, gql: GraphQLClient, new_resident: Any, provider: SmsProvider
) -> None:
    ours, theirs = organiser_of(stack, COMMUNITY), organiser_of(stack, OTHER_COMMUNITY)
    admin = token_for(stack.settings, "platform-admin", {PLATFORM_ADMIN}, set())
    _, session_id = await festival_with_session(gql, ours, COMMUNITY)
    resident, token = new_resident()
    phone = phone_for(resident)
    await gql.ok(SET_PREFERENCES, {"input": {"channels": ["SMS"], "phone": phone, **ANY_HOUR}}, token)
    provider.failures[phone] = -1

    await sign_up(gql, token, session_id)

    dead = await stack.settled(resident, "sms", "DEAD")
    assert dead is not None and dead["community_id"] == COMMUNITY

    def about(letters: list[dict[str, Any]]) -> list[str]:
        return [d["id"] for d in letters if d["recipientId"] == resident]

    assert about((await gql.ok(DEAD_LETTERS, token=ours))["deadLetters"]) == [str(dead["id"])]
    assert about((await gql.ok(DEAD_LETTERS, token=admin))["deadLetters"]) == [str(dead["id"])]
    assert about((await gql.ok(DEAD_LETTERS, token=theirs))["deadLetters"]) == []
    assert (await gql.ok(DELIVERIES, {"to": resident}, theirs))["deliveries"] == []
    assert len((await gql.ok(DELIVERIES, {"to": resident}, ours))["deliveries"]) == 2  # SMS and webhook
    assert await gql.error_code(RESEND, {"id": str(dead["id"])}, theirs) == "FORBIDDEN"
    provider.failures[phone] = 0
    assert (await gql.ok(RESEND, {"id": str(dead["id"])}, ours))["resendDelivery"]["status"] == "QUEUED"
