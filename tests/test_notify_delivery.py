"""Notify end to end: residents hear on the channels they chose, on time, once; failing
providers are retried and end as dead letters organisers can see and re-send.

These tests run their own gateway and workers on a database and Redis namespace of their own,
configured with a real SMTP server (aiosmtpd) and a stand-in of Aliyun SMS on free local ports:
the providers' addresses are settings, fixed when a worker starts.
"""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from aiosmtpd.controller import Controller
from arq.connections import ArqRedis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.activities.worker import ACTIVITIES_WORKER
from services.common.clock import now
from services.common.db import create_pool, drop_database, ensure_database
from services.common.ids import new_id
from services.common.migrations import migrate
from services.common.outbox import EVENT_HANDLER
from services.common.settings import Settings
from services.common.worker import build_worker
from services.gateway.app import create_app
from services.notify import repository as repo
from services.notify.channels import (
    SIGNATURE_HEADER,
    DeliveryFailed,
    Outgoing,
    WebhookChannel,
    webhook_signature,
)
from services.notify.contracts import SEND_REMINDER
from services.notify.delivery import delivery_job_id, within_rate
from services.notify.handlers import REQUEUE_PENDING, handle_events, instant, reminder_job_id
from services.notify.sms import LOGIN_CODE, SEND_SMS, SmsRequest, texts_to
from services.notify.sms_templates import TEXTABLE
from services.notify.worker import NOTIFY_WORKER
from tests.conftest import RUN_ID, SIGN_UP, GraphQLClient, eventually
from tests.dates import at
from tests.sms_standins import AliyunStandIn, Registered, Text, serving

SET_PREFERENCES = """
mutation($input: NotificationPreferencesInput!) {
  setNotificationPreferences(input: $input) { channels email phone quietStart quietEnd }
}
"""
MY_PREFERENCES = "{ myNotificationPreferences { channels email phone quietStart quietEnd } }"
DEAD_LETTERS = "{ deadLetters { id channel kind recipientId address status attempts lastError } }"
DELIVERIES = """
query($to: String) { deliveries(recipientId: $to) { channel status attempts provider notBefore } }
"""
RESEND = "mutation($id: ID!) { resendDelivery(id: $id) { id status } }"
CANCEL_SIGNUP = "mutation($input: CancelSignupInput!) { cancelSignup(input: $input) { status } }"
CANCEL_SESSION = "mutation($input: CancelSessionInput!) { cancelSession(input: $input) { status } }"
MARK_READ = "mutation($ids: [ID!]!) { markRead(ids: $ids) }"
ANY_HOUR = {"quietStart": "00:00", "quietEnd": "00:00"}
# What a delivery's last error says when the carrier limits a number (Aliyun's business code).
CARRIER_DOWN = "HTTP 200: isv.BUSINESS_LIMIT_CONTROL: isv.BUSINESS_LIMIT_CONTROL"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# --- the outside world: a mail server and an SMS provider ---------------------------------


class Mailbox:
    """A real SMTP server on 127.0.0.1 that keeps what it is sent."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mails: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 OK"

    async def to(self, address: str) -> list[str]:
        return [content for rcpts, content in self.mails if address in rcpts]


# Every kind approved at the provider, by these codes, each parameter up to Aliyun's 35 characters.
SMS_CODES = {key: f"SMS_{600100 + i}" for i, key in enumerate(sorted(TEXTABLE))}
SIGN_NAME = "灵武邻里"


@dataclass
class SmsProvider(AliyunStandIn):
    """Aliyun SMS's stand-in (tests/sms_standins.py: it checks signature, template and
    parameters), which can be told to fail for some numbers, and beside it a partner's webhook
    endpoint."""

    hooks: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    @property
    def hook_url(self) -> str:
        return f"{self.url}hook"

    async def hook(self, request: Request) -> JSONResponse:
        self.hooks.append((dict(request.headers), await request.body()))
        return JSONResponse({"ok": True})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/", self.endpoint, methods=["GET", "POST"]),
                Route("/hook", self.hook, methods=["POST"]),
            ]
        )

    async def texts(self, phone: str) -> list[Text]:
        return self.texts_to(phone)


def sms_provider() -> SmsProvider:
    approved = {
        code: Registered(code, tuple((n, 35) for n in TEXTABLE[key])) for key, code in SMS_CODES.items()
    }
    return SmsProvider("LTAI5tNotifyTests", "notify-tests-aliyun-secret", SIGN_NAME, approved)


def sms_settings(provider: SmsProvider) -> dict[str, Any]:
    """The settings that send texts to ``provider``, every kind by its approved template."""
    return {
        "notify_sms_provider": "aliyun",
        "notify_sms_endpoint": provider.url,
        "notify_sms_access_key_id": provider.key_id,
        "notify_sms_access_key_secret": provider.secret,
        "notify_sms_sign_name": SIGN_NAME,
        "notify_sms_templates": {
            key: {"code": code, "params": list(TEXTABLE[key])} for key, code in SMS_CODES.items()
        },
    }


@pytest.fixture(scope="module")
async def mailbox() -> AsyncIterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture(scope="module")
async def provider() -> AsyncIterator[SmsProvider]:
    sms = sms_provider()
    async with serving(sms.app(), sms.port):
        yield sms


# --- our own gateway and workers, wired to them -----------------------------------------


@dataclass
class Stack:
    settings: Settings
    pool: asyncpg.Pool
    redis: ArqRedis
    http: httpx.AsyncClient

    def ctx(self, clock: Callable[[], datetime]) -> dict[str, Any]:
        """What a notify job gets from its worker, with the clock chosen by the test."""
        return {"pool": self.pool, "redis": self.redis, "settings": self.settings, "clock": clock}

    async def run_job(self, name: str, *args: Any) -> Any:
        job = await self.redis.enqueue_job(
            name,
            *args,
            _queue_name=self.settings.queue("notify"),
            _job_id=f"{self.settings.namespace}:{uuid.uuid4()}",
        )
        assert job is not None
        return await job.result(timeout=10, poll_delay=0.05)

    async def inbox(self, person: str, kind: str | None = None) -> list[asyncpg.Record]:
        return await self.pool.fetch(
            "SELECT * FROM notify.inbox WHERE recipient_id = $1 AND ($2::text IS NULL OR kind = $2)",
            person,
            kind,
        )

    async def deliveries(self, person: str, channel: str) -> list[asyncpg.Record]:
        return await self.pool.fetch(
            "SELECT * FROM notify.deliveries WHERE recipient_id = $1 AND channel = $2", person, channel
        )

    async def settled(self, person: str, channel: str, status: str) -> asyncpg.Record | None:
        async def check() -> asyncpg.Record | None:
            rows = await self.deliveries(person, channel)
            return rows[0] if rows and rows[0]["status"] == status else None

        found: asyncpg.Record | None = await eventually(check, within_s=15)
        return found


@pytest.fixture(scope="module")
async def stack(
    servers: tuple[str, str], settings: Settings, redis: ArqRedis, mailbox: Mailbox, provider: SmsProvider
) -> AsyncIterator[Stack]:
    server_url, _ = servers
    database = f"linli_test_{RUN_ID}_notify"
    database_url = await ensure_database(server_url, database)
    await migrate(database_url)
    ours = settings.model_copy(
        update={
            "database_url": database_url,
            "namespace": f"{settings.namespace}-notify",
            "notify_smtp_host": "127.0.0.1",
            "notify_smtp_port": mailbox.port,
            **sms_settings(provider),
            "notify_max_attempts": 3,
            "notify_retry_base_s": 0.05,
            "notify_rate_per_s": 1000,
            "notify_webhook_url": provider.hook_url,
            "notify_webhook_secret": "partner-secret",
        }
    )
    running = [build_worker(service, ours) for service in (ACTIVITIES_WORKER, NOTIFY_WORKER)]
    tasks = [asyncio.create_task(worker.async_run()) for worker in running]
    pool = await create_pool(database_url, 1, 5)
    app = create_app(ours)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://linli.test") as http:
                yield Stack(ours, pool, redis, http)
    finally:
        for worker in running:
            await worker.close()
        await asyncio.gather(*tasks)
        await pool.close()
        await drop_database(server_url, database)


@pytest.fixture
def gql(stack: Stack) -> GraphQLClient:
    """The conftest's ``schedule`` and friends, but through this module's own gateway."""
    return GraphQLClient(stack.http)


async def sign_up(gql: GraphQLClient, token: str, session_id: str) -> dict[str, Any]:
    variables = {"input": {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex}}
    answer: dict[str, Any] = (await gql.ok(SIGN_UP, variables, token))["signUp"]
    return answer


def phone_for(person: str) -> str:
    return "139" + str(int(uuid.uuid5(uuid.NAMESPACE_OID, person)))[:8]


# --- stories ----------------------------------------------------------------------------


async def test_a_resident_who_chose_email_gets_one_inbox_message_and_one_email(
    stack: Stack,
    gql: GraphQLClient,
    schedule: Any,
    new_resident: Any,
    mailbox: Mailbox,
    provider: SmsProvider,
) -> None:
    session_id = await schedule(capacity=5)
    resident, token = new_resident()
    email = f"{resident}@example.cn"
    chosen = await gql.ok(
        SET_PREFERENCES, {"input": {"channels": ["EMAIL"], "email": email, **ANY_HOUR}}, token
    )
    assert chosen["setNotificationPreferences"]["channels"] == ["EMAIL"]
    assert (await gql.ok(MY_PREFERENCES, token=token))["myNotificationPreferences"]["email"] == email

    await sign_up(gql, token, session_id)

    mails = await eventually(lambda: mailbox.to(email))
    assert len(mails) == 1 and "Subject: =?utf-8?b?" in mails[0]  # the Chinese title, encoded
    assert [row["kind"] for row in await stack.inbox(resident)] == ["signup.confirmed"]
    (message,) = (await gql.ok("{ myInbox { id read } }", token=token))["myInbox"]
    assert message["read"] is False
    assert (await gql.ok(MARK_READ, {"ids": [message["id"]]}, token))["markRead"] == 1
    assert (await gql.ok(MARK_READ, {"ids": [message["id"]]}, token))["markRead"] == 0
    assert (await gql.ok("{ myInbox { read } }", token=token))["myInbox"] == [{"read": True}]
    _, stranger = new_resident()
    assert (await gql.ok(MARK_READ, {"ids": [message["id"]]}, stranger))["markRead"] == 0
    assert await gql.error_code(MARK_READ, {"ids": ["not-an-id"]}, token) == "BAD_USER_INPUT"
    sent = await stack.settled(resident, "email", "SENT")
    assert sent is not None and sent["attempts"] == 1 and sent["provider"].startswith("smtp:")

    # The partner system got a signed copy of the message.
    hook = await stack.settled(resident, "webhook", "SENT")
    assert hook is not None
    headers, body = next((h, b) for h, b in provider.hooks if json.loads(b)["id"] == str(hook["id"]))
    timestamp = int(headers[SIGNATURE_HEADER.lower()].split(",")[0].removeprefix("t="))
    assert headers[SIGNATURE_HEADER.lower()] == webhook_signature("partner-secret", timestamp, body)
    assert json.loads(body)["recipient_id"] == resident

    # The relay hands over the same event again: nothing more is written or sent.
    event = await stack.pool.fetchrow(
        "SELECT * FROM activities.outbox WHERE payload->>'resident_id' = $1", resident
    )
    envelope = {
        "id": str(event["id"]),
        "type": event["type"],
        "source": "activities",
        "payload": event["payload"],
        "created_at": event["created_at"].isoformat(),
    }
    assert await stack.run_job(EVENT_HANDLER, [envelope]) == 0
    assert len(await stack.inbox(resident)) == 1
    assert len(await stack.deliveries(resident, "email")) == 1
    assert len(await stack.deliveries(resident, "webhook")) == 1
    assert len(await mailbox.to(email)) == 1


async def test_someone_who_never_chose_has_the_inbox_and_the_default_quiet_hours(
    stack: Stack, gql: GraphQLClient, new_resident: Any
) -> None:
    _, token = new_resident()
    preferences = (await gql.ok(MY_PREFERENCES, token=token))["myNotificationPreferences"]
    assert preferences == {
        "channels": [],
        "email": None,
        "phone": None,
        "quietStart": "21:30",
        "quietEnd": "08:00",
    }
    chosen = {"input": {"channels": ["EMAIL"], "email": "wang@example.cn"}}
    answer = (await gql.ok(SET_PREFERENCES, chosen, token))["setNotificationPreferences"]
    assert (answer["quietStart"], answer["quietEnd"]) == ("21:30", "08:00")  # the defaults, kept
    refused = {"input": {"channels": ["SMS"], **ANY_HOUR}}
    assert await gql.error_code(SET_PREFERENCES, refused, token) == "BAD_USER_INPUT"


def _event(event_type: str, resident: str, starts_at: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "id": str(new_id()),
        "type": event_type,
        "source": "activities",
        "payload": {
            "signup_id": str(uuid.uuid4()),
            "session_id": str(uuid.uuid4()),
            "resident_id": resident,
            "party_size": 1,
            "activity_title": "义诊",
            "venue": "朔方社区邻里驿家",
            "starts_at": starts_at.isoformat(),
            **extra,
        },
    }


async def test_a_message_due_in_quiet_hours_waits_until_eight_but_an_urgent_one_goes(
    stack: Stack, gql: GraphQLClient, new_resident: Any
) -> None:
    resident, token = new_resident()
    phone = phone_for(resident)
    await gql.ok(
        SET_PREFERENCES, {"input": {"channels": ["SMS"], "phone": phone}}, token
    )  # quiet 21:30-08:00
    late_evening = at(30, "23:00")
    confirmed = _event("signup.confirmed", resident, at(37, "09:00"))

    assert await handle_events(stack.ctx(lambda: late_evening), [confirmed]) == 1

    (sms,) = await stack.deliveries(resident, "sms")
    eight = at(31, "08:00")
    assert (sms["status"], sms["not_before"]) == ("QUEUED", eight)
    job_id = delivery_job_id(stack.settings, sms["id"])
    score = await stack.redis.zscore(stack.settings.queue("notify"), job_id)
    assert score == int(eight.timestamp() * 1000)  # arq holds the job until then

    early_morning = at(31, "06:30")
    cancelled = _event("session.cancelled", resident, at(31, "09:00"), reason="暴雨红色预警")
    await handle_events(stack.ctx(lambda: early_morning), [cancelled])
    urgent = [row for row in await stack.deliveries(resident, "sms") if row["kind"] == "session.cancelled"]
    assert [row["not_before"] for row in urgent] == [early_morning]


async def test_a_reminder_goes_only_for_a_signup_that_still_stands_as_scheduled(
    stack: Stack, gql: GraphQLClient, schedule: Any, new_resident: Any, organiser_token: str
) -> None:
    session_id = await schedule(capacity=5)
    (leaver, leaver_token), (stayer, stayer_token) = new_resident(), new_resident()
    leaving = await sign_up(gql, leaver_token, session_id)
    staying = await sign_up(gql, stayer_token, session_id)

    async def projected(signup_id: str, status: str) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await stack.pool.fetchrow(
            "SELECT * FROM notify.signups WHERE signup_id = $1 AND status = $2", uuid.UUID(signup_id), status
        )
        return row

    row = await eventually(lambda: projected(staying["id"], "CONFIRMED"))
    starts_at = instant(row["starts_at"])
    queue = stack.settings.queue("notify")
    for lead in (24 * 60, 120):  # both reminders wait in the queue for their time
        job_id = reminder_job_id(stack.settings, staying["id"], starts_at, lead)
        due = row["starts_at"] - timedelta(minutes=lead)
        assert await stack.redis.zscore(queue, job_id) == int(due.timestamp() * 1000)

    cancel = {"input": {"signupId": leaving["id"], "idempotencyKey": uuid.uuid4().hex}}
    await gql.ok(CANCEL_SIGNUP, cancel, leaver_token)
    assert await eventually(lambda: projected(leaving["id"], "CANCELLED"))

    # The day before comes: each reminder job runs.
    assert await stack.run_job(SEND_REMINDER, leaving["id"], starts_at, 24 * 60) is False
    assert await stack.run_job(SEND_REMINDER, staying["id"], starts_at, 24 * 60) is True
    assert await stack.run_job(SEND_REMINDER, staying["id"], starts_at, 24 * 60) is True  # run twice
    assert await stack.inbox(leaver, "signup.reminder") == []
    reminders = await stack.inbox(stayer, "signup.reminder")
    assert len(reminders) == 1 and "1天" in reminders[0]["body_zh"]

    # The session is moved: the old reminder stays silent, a new one is scheduled.
    moved_to = row["starts_at"] + timedelta(hours=3)
    event = await stack.pool.fetchrow(
        "SELECT payload FROM activities.outbox "
        "WHERE type = 'signup.confirmed' AND payload->>'resident_id' = $1",
        stayer,
    )
    moved = {  # as activities tells of a move, one event per sign-up
        "id": str(new_id()),
        "type": "session.rescheduled",
        "source": "activities",
        "payload": {
            **event["payload"],
            "old_starts_at": starts_at,
            "old_venue": event["payload"]["venue"],
            "starts_at": moved_to.isoformat(),
        },
    }
    await stack.run_job(EVENT_HANDLER, [moved])
    assert await stack.run_job(SEND_REMINDER, staying["id"], starts_at, 120) is False
    new_job = reminder_job_id(stack.settings, staying["id"], instant(moved_to), 120)
    assert await stack.redis.zscore(queue, new_job) is not None


async def test_a_volunteer_is_reminded_of_a_shift_as_scheduled(stack: Stack) -> None:
    volunteer, signup_id = f"volunteer-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    starts_at = at(60, "09:00")
    signed_up = {
        "id": str(new_id()),
        "type": "shift.signed_up",
        "source": "volunteers",
        "payload": {
            "signup_id": signup_id,
            "shift_id": str(uuid.uuid4()),
            "volunteer_id": volunteer,
            "community_id": "lingwu-shuofang",
            "venue": "朔方社区广场",
            "role": "引导员",
            "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + timedelta(hours=3)).isoformat(),
        },
    }
    assert await stack.run_job(EVENT_HANDLER, [signed_up]) == 1

    job_id = reminder_job_id(stack.settings, signup_id, instant(starts_at), 120)
    due = starts_at - timedelta(hours=2)
    assert await stack.redis.zscore(stack.settings.queue("notify"), job_id) == int(due.timestamp() * 1000)
    assert await stack.run_job(SEND_REMINDER, signup_id, instant(starts_at), 120, "shift") is True
    (reminder,) = await stack.inbox(volunteer, "shift.reminder")
    assert "引导员" in reminder["body_zh"] and "2小时" in reminder["body_zh"]
    moved = (starts_at + timedelta(hours=1)).isoformat()  # a reminder for another start time
    assert await stack.run_job(SEND_REMINDER, signup_id, moved, 120, "shift") is False


async def test_a_provider_that_fails_twice_then_succeeds_delivers_once(
    stack: Stack, gql: GraphQLClient, schedule: Any, new_resident: Any, provider: SmsProvider
) -> None:
    session_id = await schedule(capacity=5)
    resident, token = new_resident()
    phone = phone_for(resident)
    await gql.ok(SET_PREFERENCES, {"input": {"channels": ["SMS"], "phone": phone, **ANY_HOUR}}, token)
    provider.failures[phone] = 2

    await sign_up(gql, token, session_id)

    sent = await stack.settled(resident, "sms", "SENT")
    assert sent is not None
    assert (sent["attempts"], sent["last_error"]) == (3, CARRIER_DOWN)
    assert provider.tries[phone] == 3
    texts = await provider.texts(phone)
    assert len(texts) == 1 and texts[0].code == SMS_CODES["signup.confirmed"]
    assert texts[0].params["activity"] and texts[0].sign_name == SIGN_NAME


async def test_a_provider_that_always_fails_leaves_a_dead_letter_organisers_can_resend(
    stack: Stack,
    gql: GraphQLClient,
    schedule: Any,
    new_resident: Any,
    organiser_token: str,
    provider: SmsProvider,
) -> None:
    session_id = await schedule(capacity=5)
    resident, token = new_resident()
    phone = phone_for(resident)
    await gql.ok(SET_PREFERENCES, {"input": {"channels": ["SMS"], "phone": phone, **ANY_HOUR}}, token)
    provider.failures[phone] = -1

    await sign_up(gql, token, session_id)

    dead = await stack.settled(resident, "sms", "DEAD")
    assert dead is not None and dead["attempts"] == 3
    letters = (await gql.ok(DEAD_LETTERS, token=organiser_token))["deadLetters"]
    (letter,) = [d for d in letters if d["recipientId"] == resident]
    assert letter == {
        "id": str(dead["id"]),
        "channel": "SMS",
        "kind": "signup.confirmed",
        "recipientId": resident,
        "address": f"{phone[:3]}****{phone[-4:]}",
        "status": "DEAD",
        "attempts": 3,
        "lastError": CARRIER_DOWN,
    }
    assert await gql.error_code(DEAD_LETTERS, token=token) == "FORBIDDEN"
    outbox = await gql.ok(DELIVERIES, {"to": resident}, organiser_token)
    statuses = sorted((d["channel"], d["status"]) for d in outbox["deliveries"])
    assert statuses == [("SMS", "DEAD"), ("WEBHOOK", "SENT")]  # the partner got it regardless
    assert await gql.error_code(RESEND, {"id": letter["id"]}, token) == "FORBIDDEN"

    provider.failures[phone] = 0  # the carrier is back
    resent = await gql.ok(RESEND, {"id": letter["id"]}, organiser_token)
    assert resent["resendDelivery"] == {"id": letter["id"], "status": "QUEUED"}
    assert await stack.settled(resident, "sms", "SENT")
    assert len(await provider.texts(phone)) == 1
    assert await gql.error_code(RESEND, {"id": letter["id"]}, organiser_token) == "NOT_A_DEAD_LETTER"
    assert await gql.error_code(RESEND, {"id": str(uuid.uuid4())}, organiser_token) == "NOT_FOUND"


async def test_what_redis_lost_is_queued_again(
    stack: Stack, gql: GraphQLClient, new_resident: Any, provider: SmsProvider
) -> None:
    resident, token = new_resident()
    phone = phone_for(resident)
    await gql.ok(SET_PREFERENCES, {"input": {"channels": ["SMS"], "phone": phone, **ANY_HOUR}}, token)
    # A session starting in two hours and a bit: its 2-hour reminder is due within minutes.
    starts_at = now().replace(microsecond=0) + timedelta(hours=2, minutes=3)
    confirmed = _event("signup.confirmed", resident, starts_at)
    lost_text = {
        "id": uuid.uuid4(),
        "channel": "sms",
        "recipient_id": resident,
        "address": phone,
        "kind": "signup.confirmed",
        "subject": "报名成功",
        "body": "您已成功报名「义诊」。",
        "urgent": False,
        "not_before": now() - timedelta(hours=1),
        "template": "signup.confirmed",
        "params": {
            "activity": "义诊",
            "time": "12月5日 09:00",
            "venue": "朔方社区邻里驿家",
            "party_size": "1",
        },
    }
    # The database remembers a text and a sign-up to remind; Redis has no job for either.
    async with stack.pool.acquire() as conn:
        await repo.insert_deliveries(conn, [lost_text])
        await repo.project_signup(conn, uuid.UUID(confirmed["id"]), "CONFIRMED", confirmed["payload"])

    assert await stack.run_job(REQUEUE_PENDING) >= 2  # the text and the reminder, at least

    sent = await stack.settled(resident, "sms", "SENT")
    assert sent is not None and sent["id"] == lost_text["id"]
    assert len(await provider.texts(phone)) == 1
    signup_id = confirmed["payload"]["signup_id"]
    job_id = reminder_job_id(stack.settings, signup_id, instant(starts_at), 120)
    due = starts_at - timedelta(hours=2)
    assert await stack.redis.zscore(stack.settings.queue("notify"), job_id) == int(due.timestamp() * 1000)


async def test_a_login_code_goes_straight_to_the_sms_provider_even_after_a_failure(
    stack: Stack, provider: SmsProvider
) -> None:
    phone = phone_for(f"login-{uuid.uuid4()}")
    provider.failures[phone] = 1

    code = SmsRequest(phone, LOGIN_CODE, {"code": "246810", "minutes": 5})
    job_id = f"{stack.settings.namespace}:sms:{uuid.uuid4()}"
    await stack.redis.enqueue_job(SEND_SMS, code, _queue_name=stack.settings.queue("notify"), _job_id=job_id)

    (text,) = await eventually(lambda: provider.texts(phone))
    assert text.code == SMS_CODES[LOGIN_CODE] and text.params == {"code": "246810", "minutes": "5"}
    assert provider.tries[phone] == 2
    # Sent by the provider, the code is not kept in the development outbox.
    async with stack.pool.acquire() as conn:
        assert await texts_to(conn, phone) == []


async def test_each_provider_takes_only_so_many_messages_a_second(stack: Stack) -> None:
    namespace, second = f"{stack.settings.namespace}:{uuid.uuid4()}", 1764000000.25
    allowed = [await within_rate(stack.redis, namespace, "sms", 3, second) for _ in range(4)]
    assert allowed == [True, True, True, False]
    assert await within_rate(stack.redis, namespace, "wechat", 3, second)  # another provider
    assert await within_rate(stack.redis, namespace, "sms", 3, second + 1)  # the next second


async def test_a_partner_webhook_is_signed_over_timestamp_and_body(provider: SmsProvider) -> None:
    channel = WebhookChannel("partner-secret", clock=lambda: 1764000000.0)
    body = '{"kind":"signup.confirmed","title":"报名成功"}'

    await channel.send(Outgoing(str(uuid.uuid4()), "webhook", provider.hook_url, "报名成功", body))

    headers, received = provider.hooks[-1]
    assert received == body.encode()
    assert headers[SIGNATURE_HEADER.lower()] == webhook_signature("partner-secret", 1764000000, received)
    with pytest.raises(DeliveryFailed, match="WEBHOOK_SECRET"):  # unsigned is never sent
        await WebhookChannel("").send(Outgoing(str(uuid.uuid4()), "webhook", provider.hook_url, "", body))


async def test_cancelling_a_session_of_five_hundred_tells_each_resident_exactly_once(
    stack: Stack,
    gql: GraphQLClient,
    schedule: Any,
    new_resident: Any,
    organiser_token: str,
    provider: SmsProvider,
) -> None:
    session_id = await schedule(capacity=500)
    residents = [new_resident() for _ in range(500)]
    texted = residents[:100]  # a fifth also chose SMS
    await asyncio.gather(
        *(
            gql.ok(SET_PREFERENCES, {"input": {"channels": ["SMS"], "phone": phone_for(r), **ANY_HOUR}}, t)
            for r, t in texted
        )
    )
    answers = await asyncio.gather(*(sign_up(gql, token, session_id) for _, token in residents))
    assert {a["status"] for a in answers} == {"CONFIRMED"}

    cancel = {
        "input": {"sessionId": session_id, "reason": "暴雨红色预警", "idempotencyKey": uuid.uuid4().hex}
    }
    assert (await gql.ok(CANCEL_SESSION, cancel, organiser_token))["cancelSession"]["status"] == "CANCELLED"

    ids = [resident for resident, _ in residents]

    async def told(kind: str, channel: str | None, status: str | None, expected: int) -> list[Any] | None:
        if channel is None:
            rows = await stack.pool.fetch(
                "SELECT recipient_id FROM notify.inbox WHERE kind = $1 AND recipient_id = ANY($2::text[])",
                kind,
                ids,
            )
        else:
            rows = await stack.pool.fetch(
                "SELECT recipient_id FROM notify.deliveries WHERE kind = $1 AND channel = $2 "
                "AND status = $3 AND recipient_id = ANY($4::text[])",
                kind,
                channel,
                status,
                ids,
            )
        return rows if len(rows) >= expected else None

    inbox = await eventually(lambda: told("session.cancelled", None, None, 500), within_s=60)
    assert inbox is not None and sorted(row["recipient_id"] for row in inbox) == sorted(ids)  # once each
    partner = await eventually(lambda: told("session.cancelled", "webhook", "SENT", 500), within_s=60)
    assert partner is not None and len(partner) == 500
    sms = await eventually(lambda: told("session.cancelled", "sms", "SENT", 100), within_s=60)
    assert sms is not None and sorted(row["recipient_id"] for row in sms) == sorted(r for r, _ in texted)
    for resident, _ in texted:
        texts = await provider.texts(phone_for(resident))
        assert [t.code for t in texts].count(SMS_CODES["session.cancelled"]) == 1
