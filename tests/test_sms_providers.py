"""Texts through Aliyun SMS and Tencent Cloud SMS, approved templates only (issue 24).

Both signatures are checked against the worked examples of the providers' public documentation,
and every kind of message goes to a stand-in of each provider (tests/sms_standins.py) that
verifies the request as the provider would: a wrong signature, an unapproved template, a
parameter too long or a free-text body is refused. A kind with no approved template is not
texted: it stays in the inbox and operators are told.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from arq.worker import Retry
from prometheus_client import REGISTRY

from services.common.clock import now
from services.common.settings import Settings
from services.notify import repository as repo
from services.notify.channels import DeliveryFailed, Outgoing, sms_channel
from services.notify.delivery import deliver, plan_deliveries
from services.notify.domain import Message, messages_for, reminder_message, shift_reminder_message
from services.notify.handlers import handle_events, send_sms
from services.notify.preferences import SMS, check_preferences
from services.notify.sms import LOGIN_CODE, SmsRequest
from services.notify.sms_providers import aliyun_signature, tc3_authorization, tc3_signature
from services.notify.sms_templates import TEXTABLE
from tests.dates import at
from tests.sms_standins import (
    AliyunStandIn,
    Registered,
    TencentStandIn,
    aliyun_expected_signature,
    serving,
    tc3_expected_signature,
)

# --- the providers' published examples --------------------------------------------------

# Aliyun SMS documentation, "签名机制" for SendSms (GET, AccessKey secret "testSecret").
ALIYUN_SMS_EXAMPLE = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}
ALIYUN_SMS_SIGNATURE = "zJDF+Lrzhj/ThnlvIToysFRq6t4="
# Aliyun's RPC signature documentation (ECS DescribeRegions, secret "testsecret").
ALIYUN_RPC_EXAMPLE = {
    "AccessKeyId": "testid",
    "Action": "DescribeRegions",
    "Format": "XML",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    "SignatureVersion": "1.0",
    "Timestamp": "2016-02-23T12:46:24Z",
    "Version": "2014-05-26",
}
ALIYUN_RPC_SIGNATURE = "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
# Tencent Cloud API 3.0, "签名方法 v3" (CVM DescribeInstances; the key as published, masked).
TC3_SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******"
TC3_SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3*******"
TC3_PAYLOAD = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
TC3_TIMESTAMP = 1551113065
TC3_SIGNATURE = "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"


def test_linli_and_the_aliyun_stand_in_both_sign_the_documented_examples() -> None:
    assert aliyun_signature("testSecret", "GET", ALIYUN_SMS_EXAMPLE) == ALIYUN_SMS_SIGNATURE
    assert aliyun_expected_signature("GET", ALIYUN_SMS_EXAMPLE, "testSecret") == ALIYUN_SMS_SIGNATURE
    assert aliyun_signature("testsecret", "GET", ALIYUN_RPC_EXAMPLE) == ALIYUN_RPC_SIGNATURE
    assert aliyun_expected_signature("GET", ALIYUN_RPC_EXAMPLE, "testsecret") == ALIYUN_RPC_SIGNATURE
    # One character of the secret or of a value, and it is another signature.
    assert aliyun_signature("testSecreT", "GET", ALIYUN_SMS_EXAMPLE) != ALIYUN_SMS_SIGNATURE
    changed = {**ALIYUN_SMS_EXAMPLE, "TemplateParam": '{"customer":"tesT"}'}
    assert aliyun_signature("testSecret", "GET", changed) != ALIYUN_SMS_SIGNATURE


def test_linli_and_the_tencent_stand_in_both_sign_the_documented_example() -> None:
    content_type = "application/json; charset=utf-8"
    host = "cvm.tencentcloudapi.com"
    assert (
        tc3_signature(TC3_SECRET_KEY, "cvm", host, TC3_PAYLOAD, TC3_TIMESTAMP, content_type) == TC3_SIGNATURE
    )
    headers = {"content-type": content_type, "host": host}
    assert (
        tc3_expected_signature(TC3_SECRET_KEY, "2019-02-25", "cvm", str(TC3_TIMESTAMP), headers, TC3_PAYLOAD)
        == TC3_SIGNATURE
    )
    assert tc3_authorization(TC3_SECRET_ID, TC3_SECRET_KEY, "cvm", host, TC3_PAYLOAD, TC3_TIMESTAMP) == (
        f"TC3-HMAC-SHA256 Credential={TC3_SECRET_ID}/2019-02-25/cvm/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={TC3_SIGNATURE}"
    )
    assert tc3_signature(TC3_SECRET_KEY, "cvm", host, TC3_PAYLOAD + b" ", TC3_TIMESTAMP, content_type) != (
        TC3_SIGNATURE
    )


# --- every kind of message ---------------------------------------------------------------

LONG_TITLE = "第四届幸福邻里节·剪纸书法与非遗传承体验活动（老年专场）"
UNTEMPLATED = "wish.done"  # approved at neither provider in these tests
NOT_TEXTED = {"channel": SMS, "kind": UNTEMPLATED}  # the operators' counter of it


def every_message(person: str) -> list[Message]:
    """One message of every kind and wording the domain writes, about one person."""
    p: dict[str, Any] = {
        "resident_id": person,
        "volunteer_id": person,
        "organiser_id": person,
        "claimant_id": person,
        "posted_by": person,
        "festival_id": None,
        "community_id": "lingwu-shuofang",
        "signup_id": str(uuid.uuid4()),
        "activity_title": LONG_TITLE,
        "starts_at": at(7, "09:00").isoformat(),
        "old_starts_at": at(6, "14:30").isoformat(),
        "venue": "朔方社区邻里驿家",
        "old_venue": "朔方社区文化广场",
        "party_size": 2,
        "reason": "因大风天气，为了大家的安全，活动暂停举办，敬请谅解",
        "role": "引导员",
        "places_left": 1,
        "minutes_credited": 90,
        "dropped": ["李桂兰"],
        "dropped_me": False,
        "kept": [],
        "kept_me": True,
        "category": "REPAIR",
        "organisation": "灵武市供电公司",
        "planned_visit_at": at(8, "10:00").isoformat(),
        "building": "3号楼1单元301",
        "note": "已更换厨房水龙头",
    }
    kinds = [
        "signup.confirmed",
        "signup.waitlisted",
        "signup.cancelled",
        "waitlist.promoted",
        "session.cancelled",
        "session.rescheduled",
        "signup.party_reduced",
        "shift.signed_up",
        "volunteer.checked_out",
        "shift.withdrawn",
        "wish.posted",
        "wish.published",
        "wish.claimed",
        "wish.done",
        "wish.met",
        "wish.given_back",
        "wish.visit_planned",
        "wish.claim_expired",
    ]
    messages = [m for kind in kinds for m in messages_for(kind, p)]
    messages += messages_for("party_member.reviewed", {**p, "status": "APPROVED"})
    messages += messages_for("party_member.reviewed", {**p, "status": "DECLINED"})
    messages += messages_for("wish.reviewed", {**p, "outcome": "MERGED"})
    messages += messages_for("wish.reviewed", {**p, "outcome": "DECLINED"})
    messages.append(reminder_message(person, p, 120))
    messages.append(shift_reminder_message(person, p, 24 * 60))
    return messages


def test_every_message_offers_exactly_the_parameters_its_template_key_promises() -> None:
    messages = every_message("resident-zhao")
    for message in messages:
        assert message.template_key in TEXTABLE, message.template_key
        assert set(message.params) == set(TEXTABLE[message.template_key]), message.template_key
        assert all(isinstance(v, str) and v.strip() == v for v in message.params.values())
    # Nothing the catalogue lists is left untested (the log-in code goes by its own path).
    assert {m.template_key for m in messages} | {LOGIN_CODE} == set(TEXTABLE)


def limit_for(provider: str, name: str) -> int:
    if name == "code":
        return 6
    return 20 if provider == "aliyun" else 12


def code_for(provider: str, key: str) -> str:
    number = sorted(TEXTABLE).index(key)
    return f"SMS_4710{number:02d}" if provider == "aliyun" else str(1700000 + number)


def approved(provider: str) -> dict[str, Registered]:
    """What the operator registered at the provider: every kind but one."""
    return {
        code_for(provider, key): Registered(
            code_for(provider, key), tuple((n, limit_for(provider, n)) for n in names)
        )
        for key, names in TEXTABLE.items()
        if key != UNTEMPLATED
    }


def linli_table(provider: str, limits: dict[str, int] | None = None) -> dict[str, Any]:
    """LINLI_NOTIFY_SMS_TEMPLATES as the operator writes it from the approved templates."""
    return {
        key: {
            "code": code_for(provider, key),
            "params": {n: (limits or {}).get(n, limit_for(provider, n)) for n in names},
        }
        for key, names in TEXTABLE.items()
        if key != UNTEMPLATED
    }


def cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass
class Provider:
    name: str
    standin: AliyunStandIn | TencentStandIn
    settings: Settings


@pytest.fixture(params=["aliyun", "tencent"])
async def provider(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Provider]:
    name: str = request.param
    standin: AliyunStandIn | TencentStandIn
    if name == "aliyun":
        standin = AliyunStandIn("LTAI5tLinliTest", "aliyun-secret-for-tests", "灵武邻里", approved(name))
        extra = {}
    else:
        standin = TencentStandIn(
            "AKIDLinliTest", "tencent-secret-for-tests", "1400788000", "灵武邻里", approved(name)
        )
        extra = {"notify_sms_sdk_app_id": standin.sdk_app_id}
    key_id = standin.key_id if isinstance(standin, AliyunStandIn) else standin.secret_id
    secret = standin.secret if isinstance(standin, AliyunStandIn) else standin.secret_key
    ours = Settings.model_validate(
        {
            **settings.model_dump(),
            "namespace": f"{settings.namespace}-sms-{name}",
            "notify_sms_provider": name,
            "notify_sms_endpoint": standin.url,
            "notify_sms_access_key_id": key_id,
            "notify_sms_access_key_secret": secret,
            "notify_sms_sign_name": "灵武邻里",
            "notify_sms_templates": linli_table(name),
            "notify_rate_per_s": 1000,
            **extra,
        }
    )
    async with serving(standin.app(), standin.port):
        yield Provider(name, standin, ours)


def ctx_for(provider: Provider, pool: Any, redis: ArqRedis) -> dict[str, Any]:
    return {
        "pool": pool,
        "redis": redis,
        "settings": provider.settings,
        "job_try": 1,
        "job_id": str(uuid.uuid4()),
    }


def phone_of(person: str) -> str:
    return "139" + str(int(uuid.uuid5(uuid.NAMESPACE_OID, person)))[:8]


async def test_every_kind_of_message_reaches_each_provider_signed_with_its_template_and_parameters(
    provider: Provider, pool: Any, redis: ArqRedis
) -> None:
    person = f"resident-{uuid.uuid4()}"
    phone = phone_of(person)
    prefs = check_preferences([SMS], "00:00", "00:00", None, phone, None)
    ctx = ctx_for(provider, pool, redis)
    texted = {SMS: set(provider.settings.notify_sms_templates)}
    messages = every_message(person)

    planned = [
        row
        for m in messages
        for row in plan_deliveries(uuid.uuid4(), m, prefs, False, now(), None, None, texted)
    ]
    async with pool.acquire() as conn:
        await repo.insert_deliveries(conn, planned)
    for row in planned:
        assert await deliver(ctx, str(row["id"])) == repo.SENT
    await send_sms(ctx, SmsRequest(phone, LOGIN_CODE, {"code": "246810", "minutes": 5}))

    received = {t.code: t for t in provider.standin.texts_to(phone)}
    sent_messages = [m for m in messages if m.template_key != UNTEMPLATED]
    assert len(provider.standin.texts_to(phone)) == len(received) == len(sent_messages) + 1
    for message in sent_messages:
        text = received[code_for(provider.name, message.template_key)]
        assert text.sign_name == "灵武邻里"
        assert text.params == {
            name: cut(message.params[name], limit_for(provider.name, name))
            for name in TEXTABLE[message.template_key]
        }
    login = received[code_for(provider.name, LOGIN_CODE)]
    assert login.params == {"code": "246810", "minutes": "5"}
    # The long title was cut to the template's limit, saying so, not refused.
    confirmed = received[code_for(provider.name, "signup.confirmed")]
    assert confirmed.params["activity"].endswith("…") and LONG_TITLE.startswith(
        confirmed.params["activity"][:-1]
    )
    assert provider.standin.refused == []


async def test_a_kind_without_an_approved_template_stays_in_the_inbox_and_operators_are_told(
    provider: Provider, pool: Any, redis: ArqRedis, caplog: pytest.LogCaptureFixture
) -> None:
    person = f"resident-{uuid.uuid4()}"
    phone = phone_of(person)
    async with pool.acquire() as conn:
        await repo.save_preferences(
            conn, person, check_preferences([SMS], "00:00", "00:00", None, phone, None)
        )
    reported = REGISTRY.get_sample_value("linli_messages_without_template_total", NOT_TEXTED) or 0.0
    event = {
        "id": str(uuid.uuid4()),
        "type": UNTEMPLATED,
        "payload": {"resident_id": person, "category": "REPAIR", "note": "已修好"},
    }

    with caplog.at_level(logging.WARNING, logger="linli.notify"):
        assert await handle_events(ctx_for(provider, pool, redis), [event]) == 1

    inbox = await pool.fetch("SELECT kind FROM notify.inbox WHERE recipient_id = $1", person)
    assert [r["kind"] for r in inbox] == [UNTEMPLATED]
    texts = await pool.fetch(
        "SELECT * FROM notify.deliveries WHERE recipient_id = $1 AND channel = 'sms'", person
    )
    assert texts == []
    assert REGISTRY.get_sample_value("linli_messages_without_template_total", NOT_TEXTED) == reported + 1
    assert any(f"no approved sms template for {UNTEMPLATED}" in r.getMessage() for r in caplog.records)
    assert provider.standin.texts_to(phone) == []


async def test_a_wrong_signature_an_unapproved_template_a_long_parameter_or_free_text_is_refused(
    provider: Provider,
) -> None:
    phone = phone_of(f"resident-{uuid.uuid4()}")
    message = every_message("resident-zhao")[0]  # signup.confirmed, with a long title
    outgoing = Outgoing(
        str(uuid.uuid4()), SMS, phone, message.title_zh, message.body_zh, message.template_key, message.params
    )
    refusals = {
        "aliyun": ["SignatureDoesNotMatch", "isv.SMS_TEMPLATE_ILLEGAL", "isv.PARAM_LENGTH_LIMIT"],
        "tencent": [
            "AuthFailure.SignatureFailure",
            "FailedOperation.TemplateIncorrectOrUnapproved",
            "InvalidParameterValue.TemplateParameterLengthLimit",
        ],
    }[provider.name]

    wrong_secret = provider.settings.model_copy(update={"notify_sms_access_key_secret": "not-the-secret"})
    unapproved = provider.settings.model_copy(
        update={
            "notify_sms_templates": {
                **linli_table(provider.name),
                "signup.confirmed": {"code": "SMS_0", "params": ["activity"]},
            }
        }
    )
    too_long = provider.settings.model_copy(
        update={"notify_sms_templates": linli_table(provider.name, {"activity": 40})}
    )
    for settings, refusal in zip((wrong_secret, unapproved, too_long), refusals, strict=True):
        with pytest.raises(DeliveryFailed, match=refusal.replace(".", r"\.")):
            channel = sms_channel(settings)
            assert channel is not None
            await channel.send(outgoing)
    assert provider.standin.refused == refusals

    # The made-up body Linli used to send: no provider takes free text.
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            provider.standin.url, json={"to": phone, "title": "报名成功", "content": message.body_zh}
        )
    assert answer.json().get("Code") != "OK" and "SendStatusSet" not in answer.text
    assert provider.standin.refused[-1] in (
        "InvalidParameter.ContentType",
        "AuthFailure.InvalidAuthorization",
    )
    assert provider.standin.texts_to(phone) == []


async def test_a_refused_text_is_retried_and_sent_once_with_a_fresh_signature(
    provider: Provider, pool: Any, redis: ArqRedis
) -> None:
    person = f"resident-{uuid.uuid4()}"
    phone = phone_of(person)
    provider.standin.failures[phone] = 1
    prefs = check_preferences([SMS], "00:00", "00:00", None, phone, None)
    (row,) = plan_deliveries(uuid.uuid4(), every_message(person)[0], prefs, False, now(), None, None, None)
    async with pool.acquire() as conn:
        await repo.insert_deliveries(conn, [row])
    ctx = ctx_for(provider, pool, redis)

    with pytest.raises(Retry):
        await deliver(ctx, str(row["id"]))
    assert await deliver(ctx, str(row["id"])) == repo.SENT

    assert provider.standin.tries[phone] == 2 and len(provider.standin.texts_to(phone)) == 1
    sent = await pool.fetchrow(
        "SELECT attempts, provider, last_error FROM notify.deliveries WHERE id = $1", row["id"]
    )
    assert sent["attempts"] == 2 and sent["provider"] == f"{provider.name}-sms"
    assert ("BUSINESS_LIMIT_CONTROL" if provider.name == "aliyun" else "PhoneNumberDailyLimit") in sent[
        "last_error"
    ]


@pytest.mark.parametrize(
    ("given", "refusal"),
    [
        ({"notify_sms_provider": "aliyn"}, "must be one of aliyun, tencent"),
        ({"notify_sms_provider": "aliyun"}, "needs LINLI_NOTIFY_SMS_ACCESS_KEY_ID"),
        (
            {
                "notify_sms_provider": "tencent",
                "notify_sms_access_key_id": "id",
                "notify_sms_access_key_secret": "k",
            }
            | {"notify_sms_sign_name": "灵武邻里"},
            "needs LINLI_NOTIFY_SMS_SDK_APP_ID",
        ),
        (
            {
                "notify_sms_provider": "aliyun",
                "notify_sms_access_key_id": "id",
                "notify_sms_access_key_secret": "k",
            }
            | {
                "notify_sms_sign_name": "灵武邻里",
                "notify_sms_templates": {"signup.confirmd": {"code": "SMS_1"}},
            },
            "no message kind 'signup.confirmd'",
        ),
        (
            {
                "notify_sms_provider": "aliyun",
                "notify_sms_access_key_id": "id",
                "notify_sms_access_key_secret": "k",
            }
            | {
                "notify_sms_sign_name": "灵武邻里",
                "notify_sms_templates": {"signup.waitlisted": {"code": "SMS_1", "params": {"venue": 20}}},
            },
            "signup.waitlisted: no parameter 'venue'; it offers activity, time",
        ),
        (
            {
                "notify_sms_provider": "aliyun",
                "notify_sms_access_key_id": "id",
                "notify_sms_access_key_secret": "k",
            }
            | {
                "notify_sms_sign_name": "灵武邻里",
                "notify_sms_templates": {"signup.waitlisted": {"code": "SMS_1"}},
            },
            "needs the log-in code's template",
        ),
    ],
)
def test_a_provider_set_up_wrong_stops_linli_at_start_saying_what_is_wrong(
    given: dict[str, Any], refusal: str
) -> None:
    with pytest.raises(ValueError, match=refusal):
        Settings(**given)
