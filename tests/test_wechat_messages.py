"""WeChat subscription messages (issue 24): sent with the official account's access token,
fetched once for every worker and again after 42001; data fields fitted to their kinds; one
one-time subscription spent per message and never twice; 43101 turns WeChat off for that
message instead of retrying it. Against a stand-in of WeChat's API (tests/wechat_standin.py).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from arq.worker import Retry
from prometheus_client import REGISTRY

from services.common.clock import LOCAL_TZ, now
from services.common.settings import Settings
from services.common.worker import build_worker
from services.gateway.app import create_app
from services.notify import queries
from services.notify import repository as repo
from services.notify.channels import approved_templates
from services.notify.delivery import deliver, plan_deliveries
from services.notify.domain import Message, messages_for
from services.notify.preferences import WECHAT, check_preferences
from services.notify.wechat_templates import fit
from services.notify.worker import NOTIFY_WORKER
from tests.conftest import GraphQLClient
from tests.dates import at
from tests.sms_standins import serving
from tests.wechat_standin import WeChatStandIn

LONG_TITLE = "第四届幸福邻里节·剪纸书法与非遗传承体验活动（老年专场）"
SIGNUP, CANCEL = "TPL-signup-confirmed-0001", "TPL-session-cancelled-0002"


def test_each_field_is_fitted_to_its_kind() -> None:
    today = date(2026, 12, 3)
    assert fit("thing", LONG_TITLE, today) == LONG_TITLE[:19] + "…"
    assert fit("thing", "朔方社区邻里驿家", today) == "朔方社区邻里驿家"
    assert fit("phrase", "已取消（大风）", today) == "已取消大风"
    assert fit("phrase", "因大风天气，活动暂停", today) == "因大风天气"
    assert fit("time", "12月5日 09:00", today) == "2026年12月5日 09:00"
    assert fit("time", "1月2日 14:30", today) == "2027年1月2日 14:30"  # early next year, not last
    assert fit("date", "11月30日 09:00", today) == "2026年11月30日"
    assert fit("number", "2人", today) == "2"
    assert fit("character_string", "A" * 40, today) == "A" * 32
    assert fit("name", "欧阳娜娜娜娜娜娜娜娜娜", today) == "欧阳娜娜娜娜娜娜娜娜"


@pytest.fixture
async def wechat(settings: Settings) -> AsyncIterator[tuple[WeChatStandIn, Settings]]:
    standin = WeChatStandIn(
        "wx5f1c0a2b3d4e6f70",
        "official-account-secret-for-tests",
        {
            SIGNUP: {"thing1": "thing", "time2": "time", "thing3": "thing", "number4": "number"},
            CANCEL: {"thing1": "thing", "time2": "time", "phrase3": "phrase"},
        },
    )
    ours = settings.model_copy(
        update={
            "namespace": f"{settings.namespace}-wechat-{uuid.uuid4().hex[:6]}",
            "wechat_app_id": standin.app_id,
            "wechat_app_secret": standin.secret,
            "wechat_api_endpoint": standin.url,
            "notify_wechat_templates": {
                "signup.confirmed": {
                    "template_id": SIGNUP,
                    "page": "/?tab=mine",
                    "data": {
                        "thing1": "activity",
                        "time2": "time",
                        "thing3": "venue",
                        "number4": "party_size",
                    },
                },
                "session.cancelled": {
                    "template_id": CANCEL,
                    "data": {"thing1": "activity", "time2": "time", "phrase3": "reason"},
                },
            },
            "notify_rate_per_s": 1000,
        }
    )
    async with serving(standin.app(), standin.port):
        yield standin, ours


def message(kind: str, person: str) -> Message:
    payload: dict[str, Any] = {
        "resident_id": person,
        "activity_title": LONG_TITLE,
        "starts_at": at(7, "09:00").isoformat(),
        "venue": "朔方社区邻里驿家",
        "party_size": 2,
        "reason": "因大风天气，活动暂停",
    }
    (found,) = messages_for(kind, payload)
    return found


class Resident:
    def __init__(self, pool: Any, redis: ArqRedis, settings: Settings) -> None:
        self.person = f"resident-{uuid.uuid4()}"
        self.openid = "oLinli" + uuid.uuid4().hex[:22]
        self.pool, self.settings = pool, settings
        self.ctx = {"pool": pool, "redis": redis, "settings": settings, "job_try": 1, "job_id": "t"}

    async def allows(self, *template_ids: str) -> None:
        """What WeChat's subscribe dialogue told the page she accepted."""
        async with self.pool.acquire() as conn:
            await repo.grant_subscriptions(conn, self.person, list(template_ids), now())

    async def left(self) -> dict[str, int]:
        async with self.pool.acquire() as conn:
            return await queries.subscriptions_left(conn, self.person)

    async def plan(self, kind: str) -> list[dict[str, Any]]:
        prefs = check_preferences([WECHAT], "00:00", "00:00", None, None, self.openid)
        found = message(kind, self.person)
        rows = plan_deliveries(
            uuid.uuid4(), found, prefs, False, now(), None, None, approved_templates(self.settings)
        )
        async with self.pool.acquire() as conn:
            await repo.insert_deliveries(conn, rows)
        return rows

    async def told(self, kind: str) -> str:
        (row,) = await self.plan(kind)
        return await deliver(self.ctx, str(row["id"]))

    async def row(self, delivery_id: uuid.UUID) -> Any:
        return await self.pool.fetchrow("SELECT * FROM notify.deliveries WHERE id = $1", delivery_id)


async def test_a_message_goes_with_a_fresh_token_after_42001_its_fields_fitted_to_their_kinds(
    wechat: tuple[WeChatStandIn, Settings], pool: Any, redis: ArqRedis
) -> None:
    standin, settings = wechat
    zhao = Resident(pool, redis, settings)
    await zhao.allows(SIGNUP, SIGNUP)
    standin.quota[(zhao.openid, SIGNUP)] = 2

    assert await zhao.told("signup.confirmed") == repo.SENT
    assert standin.token_fetches == 1
    # One token for every worker, kept in Redis until five minutes before WeChat's two hours.
    key = f"{settings.namespace}:wechat:access-token:{standin.app_id}"
    assert 7200 - 300 - 60 <= await redis.ttl(key) <= 7200 - 300

    standin.expire_tokens()
    assert await zhao.told("signup.confirmed") == repo.SENT

    assert standin.answers[42001] == 1 and standin.token_fetches == 2
    assert len(standin.sent) == 2
    sent = standin.sent[-1]
    starts = at(7, "09:00").astimezone(LOCAL_TZ)
    assert sent == {
        "touser": zhao.openid,
        "template_id": SIGNUP,
        "page": "/?tab=mine",
        "data": {
            "thing1": {"value": LONG_TITLE[:19] + "…"},
            "time2": {"value": f"{starts.year}年{starts.month}月{starts.day}日 09:00"},
            "thing3": {"value": "朔方社区邻里驿家"},
            "number4": {"value": "2"},
        },
    }
    assert await zhao.left() == {SIGNUP: 0}


async def test_a_spent_one_time_subscription_is_not_used_twice(
    wechat: tuple[WeChatStandIn, Settings], pool: Any, redis: ArqRedis
) -> None:
    standin, settings = wechat
    li = Resident(pool, redis, settings)
    await li.allows(CANCEL)
    standin.quota[(li.openid, CANCEL)] = 5  # WeChat would take more: Linli must not send them

    (first,) = await li.plan("session.cancelled")
    (second,) = await li.plan("session.cancelled")
    assert await deliver(li.ctx, str(first["id"])) == repo.SENT
    assert await deliver(li.ctx, str(second["id"])) == repo.NOT_SENT

    assert [s["touser"] for s in standin.sent] == [li.openid]
    assert standin.sent[0]["data"]["phrase3"] == {"value": "因大风天气"}
    not_sent = await li.row(second["id"])
    assert not_sent["attempts"] == 0 and "no one-time subscription" in not_sent["last_error"]
    assert await li.left() == {CANCEL: 0}


async def test_a_refusal_43101_turns_wechat_off_for_that_message_without_retries(
    wechat: tuple[WeChatStandIn, Settings], pool: Any, redis: ArqRedis
) -> None:
    standin, settings = wechat
    wang = Resident(pool, redis, settings)
    await wang.allows(SIGNUP)  # the page thought so; WeChat says she refused

    (row,) = await wang.plan("signup.confirmed")
    assert await deliver(wang.ctx, str(row["id"])) == repo.NOT_SENT
    assert await deliver(wang.ctx, str(row["id"])) == repo.NOT_SENT  # a redelivered job: nothing

    assert standin.answers[43101] == 1 and standin.sent == []
    refused = await wang.row(row["id"])
    assert refused["status"] == repo.NOT_SENT and refused["attempts"] == 0
    assert "43101" in refused["last_error"]


async def test_a_failed_send_gives_the_subscription_back_for_the_retry(
    wechat: tuple[WeChatStandIn, Settings], pool: Any, redis: ArqRedis
) -> None:
    standin, settings = wechat
    liu = Resident(pool, redis, settings)
    await liu.allows(CANCEL)
    standin.quota[(liu.openid, CANCEL)] = 1
    withdrawn = standin.templates.pop(CANCEL)  # WeChat does not know the template (40037)

    (row,) = await liu.plan("session.cancelled")
    with pytest.raises(Retry):
        await deliver(liu.ctx, str(row["id"]))
    assert await liu.left() == {CANCEL: 1}

    standin.templates[CANCEL] = withdrawn
    assert await deliver(liu.ctx, str(row["id"])) == repo.SENT
    assert await liu.left() == {CANCEL: 0} and len(standin.sent) == 1


async def test_a_kind_without_a_wechat_template_is_not_planned_there_and_is_reported(
    wechat: tuple[WeChatStandIn, Settings], pool: Any, redis: ArqRedis
) -> None:
    _, settings = wechat
    sun = Resident(pool, redis, settings)
    labels = {"channel": WECHAT, "kind": "signup.waitlisted"}
    before = REGISTRY.get_sample_value("linli_messages_without_template_total", labels) or 0.0

    assert await sun.plan("signup.waitlisted") == []

    assert REGISTRY.get_sample_value("linli_messages_without_template_total", labels) == before + 1


TO_ASK = "query($after: WechatMoment!) { wechatTemplatesToAsk(after: $after) }"
ALLOW = "mutation($ids: [String!]!) { allowWechatMessages(templateIds: $ids) }"


async def test_after_signing_up_the_page_asks_and_records_what_she_allowed(
    wechat: tuple[WeChatStandIn, Settings], pool: Any, gql: GraphQLClient, new_resident: Any
) -> None:
    _, settings = wechat
    worker = build_worker(NOTIFY_WORKER, settings)
    running = asyncio.create_task(worker.async_run())
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://linli.test") as http:
                ours = GraphQLClient(http)
                resident, token = new_resident()

                asked = await ours.ok(TO_ASK, {"after": "SIGN_UP"}, token)
                assert asked["wechatTemplatesToAsk"] == [SIGNUP, CANCEL]
                assert (await ours.ok(TO_ASK, {"after": "WISH"}, token))["wechatTemplatesToAsk"] == []
                assert (await ours.ok(ALLOW, {"ids": [SIGNUP, CANCEL]}, token))["allowWechatMessages"] == 2
                assert (await ours.ok(ALLOW, {"ids": [SIGNUP]}, token))["allowWechatMessages"] == 2
                assert await ours.error_code(ALLOW, {"ids": ["TPL-made-up"]}, token) == "BAD_USER_INPUT"
                assert await ours.error_code(ALLOW, {"ids": [SIGNUP]}) == "UNAUTHENTICATED"
    finally:
        await worker.close()
        await running
    async with pool.acquire() as conn:
        assert await queries.subscriptions_left(conn, resident) == {SIGNUP: 2, CANCEL: 1}
    # Without an official account configured the page asks for nothing and records nothing.
    assert (await gql.ok(TO_ASK, {"after": "SIGN_UP"}, token))["wechatTemplatesToAsk"] == []
    assert await gql.error_code(ALLOW, {"ids": [SIGNUP]}, token) == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("given", "refusal"),
    [
        ({"wechat_app_id": "wx5f1c0a2b3d4e6f70"}, "needs LINLI_WECHAT_APP_SECRET"),
        (
            {"wechat_app_id": "wx5f1c0a2b3d4e6f70", "wechat_app_secret": "s"}
            | {
                "notify_wechat_templates": {
                    "signup.confirmed": {"template_id": "T", "data": {"things1": "activity"}}
                }
            },
            "'things1' is not a WeChat field",
        ),
        (
            {"wechat_app_id": "wx5f1c0a2b3d4e6f70", "wechat_app_secret": "s"}
            | {
                "notify_wechat_templates": {
                    "wish.posted": {"template_id": "T", "data": {"thing1": "activity"}}
                }
            },
            "wish.posted: no parameter 'activity' for thing1; it offers category",
        ),
    ],
)
def test_an_official_account_set_up_wrong_stops_linli_at_start(given: dict[str, Any], refusal: str) -> None:
    with pytest.raises(ValueError, match=refusal):
        Settings(**given)
