"""Notify's handlers: events become inbox messages and deliveries exactly once, sign-ups are
reminded before their session, and people set their own channels and quiet hours."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from arq.connections import ArqRedis
from arq.cron import cron
from arq.worker import Retry, func

from services.common import tracing
from services.common.actor import COMMUNITY_ADMIN, ORGANISER, PLATFORM_ADMIN, Actor
from services.common.clock import now
from services.common.commands import command
from services.common.db import Connection
from services.common.erasure import erased_by
from services.common.errors import Refusal, forbidden, not_found
from services.common.observability import NOTIFICATIONS, correlation_id
from services.common.outbox import EVENT_HANDLER, consume_new, handling
from services.common.settings import Settings
from services.notify import dashboard, queries
from services.notify import dashboard_repository as dashboard_repo
from services.notify import deferred_repository as deferred_repo
from services.notify import repository as repo
from services.notify.backlog import backlog_watch
from services.notify.channels import (
    DEVELOPMENT,
    NoApprovedTemplate,
    Outgoing,
    approved_templates,
    sms_channel,
)
from services.notify.contracts import (
    ALLOW_WECHAT_MESSAGES,
    CLEAR_MESSAGE_TEMPLATE,
    MARK_READ,
    MARK_TOLD,
    PARTY_REDUCED,
    RESEND_DELIVERY,
    SEND_REMINDER,
    SERVICE,
    SESSION_RESCHEDULED,
    SET_MESSAGE_TEMPLATE,
    SET_PREFERENCES,
    SHIFT_SIGNED_UP,
    SHIFT_WITHDRAWN,
    TELL_IN_PERSON,
    TOLD_IN_PERSON_KINDS,
)
from services.notify.deferral import DEFERRABLE, REMINDER_DUE, deferred_now, drain_due, split, subject
from services.notify.delivery import (
    delivery_job,
    enqueue_deliveries,
    enqueue_delivery,
    plan_deliveries,
    report_without_template,
)
from services.notify.domain import (
    Message,
    is_urgent,
    messages_for,
    reminder_message,
    shift_reminder_message,
)
from services.notify.jobs import QueuedJob, enqueue_jobs, job_id_in_queue_slot
from services.notify.preferences import (
    SMS,
    Preferences,
    check_preferences,
    default_preferences,
    sms_by_default,
)
from services.notify.projection import SIGNUP_STATUS, first_of_new, one_statement_signups
from services.notify.sms import DEFAULT_SMS, SEND_SMS, LoginPhone, SmsRequest
from services.notify.sms import record as record_sms
from services.notify.sms import render as render_sms
from services.notify.templates import DEFAULT_TEMPLATES, check_kind, check_template

log = logging.getLogger("linli.notify")

SESSION, SHIFT = "session", "shift"  # what a reminder is for
REQUEUE_PENDING = "requeue_pending"
_SWEEP_EVERY_S = 300
_SWEEP_GRACE_S = 60  # a delivery this overdue has surely lost its job (or the queue is stuck)
DRAIN_BATCH = 200  # events put off, handled per transaction once the burst is over (as RELAY_BATCH)
_REMINDER_NAMESPACE = uuid.UUID("0c9e7d4a-2f61-4b8a-9e35-7a1d6c2b8f40")


def _clock(ctx: dict[str, Any]) -> Callable[[], datetime]:
    clock: Callable[[], datetime] = ctx.get("clock", now)
    return clock


async def handle_events(ctx: dict[str, Any], events: list[dict[str, Any]]) -> int:
    """Write the inbox messages of a batch of events in one transaction, with the deliveries
    on people's chosen channels and the reminders sign-ups need; an event handled before (a
    redelivery) does nothing. In a command burst, non-urgent events are only recorded, to be
    handled once it is over (services/notify/deferral.py). Returns how many inbox messages
    were written."""
    pool: asyncpg.Pool = ctx["pool"]
    settings: Settings = ctx["settings"]
    at = _clock(ctx)()
    watch = backlog_watch(ctx)
    backlog = await watch.current() if any(e["type"] in DEFERRABLE for e in events) else None
    async with pool.acquire() as conn, conn.transaction():
        fresh, repeated = first_of_new(events, await consume_new(conn, SERVICE, [e["id"] for e in events]))
        for event in repeated:
            log.info("event %s (%s) already handled", event["id"], event["type"])
        later, at_once = split(fresh, backlog, watch.bounds)
        await deferred_repo.defer(conn, [(e, subject(e["payload"])) for e in later], now())
        # What was put off about the same sessions goes first: "confirmed" before "called off".
        about = {s for e in at_once if (s := subject(e["payload"])) is not None}
        at_once = [*await deferred_repo.take_about(conn, about), *at_once]
        written = await _write_effects(conn, settings, ctx["redis"], at_once, at)
    _count_written(written)
    return len(written)


async def handle_deferred(ctx: dict[str, Any], limit: int = DRAIN_BATCH) -> int:
    """Handle up to ``limit`` of the events put off in a burst, oldest first, in one
    transaction: their rows go with their effects. Returns how many events were handled."""
    pool: asyncpg.Pool = ctx["pool"]
    at = _clock(ctx)()
    async with pool.acquire() as conn, conn.transaction():
        events = await deferred_repo.take_oldest(conn, limit)
        reminders = [e for e in events if e["type"] == REMINDER_DUE]
        others = [e for e in events if e["type"] != REMINDER_DUE]
        with handling(SERVICE, others) as traced:
            written = await _write_effects(conn, ctx["settings"], ctx["redis"], list(traced), at)
        reminded = [await _remind(conn, ctx["settings"], ctx["redis"], r["payload"], at) for r in reminders]
    _count_written(written)
    NOTIFICATIONS.labels("inbox", "delivered").inc(sum(reminded))
    if events:
        log.info("%d events put off in a burst handled (%d inbox messages)", len(events), len(written))
    return len(events)


async def drain_deferred(ctx: dict[str, Any]) -> None:
    """Run for the worker's life: once a tick, look at the streams, and if events were put off
    and the burst has settled (or the oldest has waited the longest), handle them in batches.
    Rows live in PostgreSQL, so a worker that stops leaves them to the next.

    The look every tick, idle or not, keeps the arrival rate measured over the last tick: an
    event coming in as a burst starts is judged by the last second, not by the quiet minutes
    before it (a bench run handled most of a burst's events at once that way)."""
    settings: Settings = ctx["settings"]
    watch = backlog_watch(ctx)
    while True:
        await asyncio.sleep(settings.notify_defer_tick_s)
        try:
            while True:
                backlog = await watch.current()
                async with ctx["pool"].acquire() as conn:
                    oldest = await deferred_repo.oldest(conn)
                if not drain_due(backlog, oldest, watch.bounds):
                    break
                if await handle_deferred(ctx) < DRAIN_BATCH:
                    break
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("handling the events put off failed; will retry", exc_info=True)


async def _write_effects(
    conn: Connection, settings: Settings, redis: ArqRedis, events: list[dict[str, Any]], at: datetime
) -> list[tuple[dict[str, Any], Message]]:
    """The effects of events new to notify, in the caller's transaction: projection, counts,
    inbox messages, deliveries and reminders. Returns the messages written."""
    written: list[tuple[dict[str, Any], Message]] = []
    if not events:
        return written
    reminders = await _project(conn, settings, events, at)
    await dashboard_repo.add_counts(conn, [i for e in events for i in dashboard.increments(e, at)])
    await dashboard_repo.add_session_changes(conn, [c for e in events for c in dashboard.session_changes(e)])
    overrides = await repo.templates_for(
        conn, {e["payload"].get("festival_id") for e in events if e["type"] in DEFAULT_TEMPLATES}
    )
    for event in events:
        written += [(event, m) for m in messages_for(event["type"], event["payload"], overrides)]
    recipients = {m.recipient_id for _, m in written}
    await repo.hold_people(conn, recipients)
    gone = await repo.erased_among(conn, recipients)
    # An erasure's own events tell the erased person nothing, whichever of notify's erasure
    # and these events comes first; the others they concern are told as usual.
    written = [
        (event, m)
        for event, m in written
        if m.recipient_id not in gone and m.recipient_id != erased_by(event["payload"])
    ]
    await repo.insert_messages(conn, [(uuid.UUID(e["id"]), m) for e, m in written])
    await _list_to_tell(conn, written, at)
    prefs = await repo.preferences_of(conn, {m.recipient_id for _, m in written})
    approved = approved_templates(settings)
    planned: list[dict[str, Any]] = []
    traces: dict[uuid.UUID, str | None] = {}  # delivery -> the trace of its event
    for event, message in written:
        urgent = is_urgent(event["type"], event["payload"], at)
        person = prefs.get(message.recipient_id) or _default(settings)
        source = uuid.UUID(event["id"])
        community = event["payload"].get("community_id")
        deliveries = plan_deliveries(
            source, message, person, urgent, at, settings.notify_webhook_url, community, approved
        )
        traces.update((row["id"], event.get("traceparent")) for row in deliveries)
        planned += deliveries
    await repo.insert_deliveries(conn, planned)
    # Enqueued before commit: a crash after the commit cannot lose them (see delivery.py).
    jobs = [
        delivery_job(settings, row["id"], row["not_before"], traceparent=traces[row["id"]]) for row in planned
    ]
    await enqueue_jobs(redis, jobs + [reminder_job(settings, r) for r in reminders])
    return written


def _count_written(written: list[tuple[dict[str, Any], Message]]) -> None:
    for event, message in written:
        NOTIFICATIONS.labels("inbox", "delivered").inc()
        token = correlation_id.set(event.get("correlation_id"))
        log.info("inbox message %s for event %s delivered", message.kind, event["id"])
        correlation_id.reset(token)


async def _list_to_tell(
    conn: Connection, written: list[tuple[dict[str, Any], Message]], at: datetime
) -> None:
    """Residents told in person hear of their sign-ups from their grid worker: each such
    message also goes on the grid workers' "to tell" list of the resident's community (once
    per event, in the transaction that marks the event handled)."""
    about = [(e, m) for e, m in written if e["type"] in TOLD_IN_PERSON_KINDS]
    if not about:
        return
    in_person = await repo.told_in_person(conn, {m.recipient_id for _, m in about})
    rows = [
        {
            "event_id": uuid.UUID(event["id"]),
            "person_id": message.recipient_id,
            "community_id": in_person[message.recipient_id],
            "kind": message.kind,
            "title_zh": message.title_zh,
            "body_zh": message.body_zh,
            "title_en": message.title_en,
            "body_en": message.body_en,
            "created_at": at,
        }
        for event, message in about
        if message.recipient_id in in_person
    ]
    await repo.insert_to_tell(conn, rows)


def _default(settings: Settings) -> Preferences:
    return default_preferences(settings.notify_quiet_start, settings.notify_quiet_end)


def instant(at: datetime) -> str:
    """One spelling per instant (UTC), for reminder job ids and the re-check at send time."""
    return at.astimezone(UTC).isoformat()


@dataclass(frozen=True)
class Reminder:
    signup_id: str
    starts_at: str  # as projected when scheduled: a moved session or shift no longer matches
    lead_minutes: int
    send_at: datetime
    kind: str  # SESSION or SHIFT


async def _project(
    conn: Connection, settings: Settings, events: list[dict[str, Any]], at: datetime
) -> list[Reminder]:
    """Keep notify's picture of sign-ups and shift sign-ups current; return the reminders
    to schedule. In a burst most events are of distinct sign-ups: those go in one statement."""
    together, one_by_one = one_statement_signups(events)
    told = [(uuid.UUID(e["id"]), SIGNUP_STATUS[e["type"]], e["payload"]) for e in together]
    applied = await repo.project_signups(conn, told)
    confirmed = [
        (event, SESSION)
        for event in together
        if SIGNUP_STATUS[event["type"]] == "CONFIRMED" and uuid.UUID(event["payload"]["signup_id"]) in applied
    ]
    for event in one_by_one:
        kind = await _project_one(conn, event)
        if kind is not None:
            confirmed.append((event, kind))
    reminders = []
    for event, kind in confirmed:
        signup_id, starts_at = (
            event["payload"]["signup_id"],
            datetime.fromisoformat(event["payload"]["starts_at"]),
        )
        for lead in settings.notify_reminder_leads_min:
            send_at = starts_at - timedelta(minutes=lead)
            if send_at > at:
                reminders.append(Reminder(signup_id, instant(starts_at), lead, send_at, kind))
    return reminders


async def _project_one(conn: Connection, event: dict[str, Any]) -> str | None:
    """Project one event; what its confirmed sign-up needs reminding of (SESSION or SHIFT),
    or None if it confirmed nothing."""
    event_id, payload = uuid.UUID(event["id"]), event["payload"]
    if event["type"] in SIGNUP_STATUS:
        status = SIGNUP_STATUS[event["type"]]
        if await repo.project_signup(conn, event_id, status, payload) and status == "CONFIRMED":
            return SESSION
    elif event["type"] == SESSION_RESCHEDULED:  # one event per sign-up of the moved session
        if await repo.move_signup(conn, event_id, payload) == "CONFIRMED":
            return SESSION
    elif event["type"] == PARTY_REDUCED:  # fewer people: the reminders say the smaller party
        await repo.project_signup(conn, event_id, payload["status"], payload)
    elif event["type"] == SHIFT_SIGNED_UP:
        if await repo.project_shift_signup(conn, event_id, "CONFIRMED", payload):
            return SHIFT
    elif event["type"] == SHIFT_WITHDRAWN:  # its reminders find it cancelled and stay unsent
        await repo.project_shift_signup(conn, event_id, "CANCELLED", payload)
    return None


def reminder_job_id(settings: Settings, signup_id: str, starts_at: str, lead_minutes: int) -> str:
    return job_id_in_queue_slot(settings.queue(SERVICE), f"reminder:{signup_id}:{lead_minutes}:{starts_at}")


def reminder_job(settings: Settings, reminder: Reminder) -> QueuedJob:
    return QueuedJob(
        SEND_REMINDER,
        (reminder.signup_id, reminder.starts_at, reminder.lead_minutes, reminder.kind),
        reminder_job_id(settings, reminder.signup_id, reminder.starts_at, reminder.lead_minutes),
        settings.queue(SERVICE),
        reminder.send_at,
    )


async def send_reminder(
    ctx: dict[str, Any], signup_id: str, starts_at: str, lead_minutes: int, kind: str = SESSION
) -> bool:
    """Remind a resident of their session (or a volunteer of their shift), if the sign-up
    still stands and nothing moved since the reminder was scheduled; in a command burst, put
    it off with the burst's other messages. True if it was written now."""
    pool: asyncpg.Pool = ctx["pool"]
    watch = backlog_watch(ctx)
    due = reminder_due(signup_id, starts_at, lead_minutes, kind)
    backlog = await watch.current()
    async with pool.acquire() as conn, conn.transaction():
        if deferred_now(due["type"], backlog, watch.bounds):
            await deferred_repo.defer(conn, [(due, None)], now())
            return False
        written = await _remind(conn, ctx["settings"], ctx["redis"], due["payload"], _clock(ctx)())
    if written:
        NOTIFICATIONS.labels("inbox", "delivered").inc()
    return written


def reminder_due(signup_id: str, starts_at: str, lead_minutes: int, kind: str) -> dict[str, Any]:
    """A reminder falling due, as an event put off in a burst; its id is its message's source,
    so putting it off twice keeps it once."""
    source = _reminder_source(signup_id, starts_at, lead_minutes)
    payload = {"signup_id": signup_id, "starts_at": starts_at, "lead_minutes": lead_minutes, "kind": kind}
    return {"id": str(source), "type": REMINDER_DUE, "source": SERVICE, "payload": payload}


def _reminder_source(signup_id: str, starts_at: str, lead_minutes: int) -> uuid.UUID:
    """The id a reminder's inbox message is known by, as its event (it is written once)."""
    return uuid.uuid5(_REMINDER_NAMESPACE, f"{signup_id}\x00{lead_minutes}\x00{starts_at}")


async def _remind(
    conn: Connection, settings: Settings, redis: ArqRedis, due: dict[str, Any], at: datetime
) -> bool:
    """Write one reminder (``reminder_due``'s payload) in the caller's transaction, if its
    sign-up still stands as scheduled. True if it was written."""
    signup_id, starts_at, lead_minutes, kind = (
        due["signup_id"],
        due["starts_at"],
        int(due["lead_minutes"]),
        due["kind"],
    )
    if kind == SHIFT:
        row = await repo.shift_signup(conn, uuid.UUID(signup_id))
    else:
        row = await repo.signup(conn, uuid.UUID(signup_id))
    expected = datetime.fromisoformat(starts_at)
    if row is None or row["status"] != "CONFIRMED" or row["starts_at"] != expected:
        log.info("reminder for %s sign-up %s not sent: it no longer stands as scheduled", kind, signup_id)
        return False
    payload = {**dict(row), "starts_at": row["starts_at"].isoformat()}
    if kind == SHIFT:
        message = shift_reminder_message(row["volunteer_id"], payload, lead_minutes)
    else:
        festival = [str(row["festival_id"])] if row["festival_id"] else []
        overrides = await repo.templates_for(conn, festival)
        message = reminder_message(row["resident_id"], payload, lead_minutes, overrides)
    await repo.hold_people(conn, [message.recipient_id])
    if await repo.erased_among(conn, [message.recipient_id]):  # before her sign-up's cancellation came
        log.info("reminder for %s sign-up %s not sent: its person deleted their account", kind, signup_id)
        return False
    source = _reminder_source(signup_id, starts_at, lead_minutes)
    await repo.insert_messages(conn, [(source, message)])
    prefs = (await repo.preferences_of(conn, [message.recipient_id])).get(message.recipient_id)
    planned = plan_deliveries(
        source,
        message,
        prefs or _default(settings),
        False,
        at,
        settings.notify_webhook_url,
        row["community_id"],
        approved_templates(settings),
    )
    await repo.insert_deliveries(conn, planned)
    await enqueue_deliveries(redis, settings, planned)
    return True


async def requeue_pending(ctx: dict[str, Any]) -> int:
    """Put back on the queue what Redis should hold but may have lost (say, a Redis restored
    from an old snapshot): overdue queued deliveries, and reminders due before the next sweep
    but one. Job ids follow from what they are for, so what is still queued is not queued
    twice. Returns how many were looked at."""
    pool: asyncpg.Pool = ctx["pool"]
    settings: Settings = ctx["settings"]
    redis: ArqRedis = ctx["redis"]
    at = now()
    horizon = timedelta(seconds=2 * _SWEEP_EVERY_S)
    reminders = []
    async with pool.acquire() as conn:
        overdue = await repo.overdue_deliveries(conn, at - timedelta(seconds=_SWEEP_GRACE_S))
        for lead in settings.notify_reminder_leads_min:
            before = timedelta(minutes=lead)
            for row in await repo.starting_between(conn, at + before, at + before + horizon):
                starts_at = row["starts_at"]
                reminders.append(
                    Reminder(str(row["signup_id"]), instant(starts_at), lead, starts_at - before, row["kind"])
                )
    jobs = [delivery_job(settings, row["id"], row["not_before"]) for row in overdue]
    await enqueue_jobs(redis, jobs + [reminder_job(settings, r) for r in reminders])
    if overdue:
        log.warning("%s overdue deliveries queued again", len(overdue))
    return len(overdue) + len(reminders)


# Every five minutes, whatever the traffic: what Redis lost is found even on a quiet day.
SWEEP = cron(
    requeue_pending,
    name=f"{REQUEUE_PENDING}-every-5-min",
    minute=set(range(0, 60, _SWEEP_EVERY_S // 60)),
    max_tries=1,
)

EVENT_HANDLERS = [
    func(handle_events, name=EVENT_HANDLER, max_tries=10),
    func(send_reminder, name=SEND_REMINDER, max_tries=10),
    func(requeue_pending, name=REQUEUE_PENDING, max_tries=3),
]


# --- commands ----------------------------------------------------------------------------


def preferences_payload(prefs: Preferences) -> dict[str, Any]:
    return {
        "channels": sorted(prefs.channels),
        "email": prefs.email,
        "phone": prefs.phone,
        "wechat_openid": prefs.wechat_openid,
        "quiet_start": prefs.quiet_start.strftime("%H:%M"),
        "quiet_end": prefs.quiet_end.strftime("%H:%M"),
    }


async def set_preferences(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """A person chooses their channels, addresses and quiet hours (for themselves only)."""
    prefs = check_preferences(
        list(args["channels"]),
        args.get("quiet_start") or ctx["settings"].notify_quiet_start,
        args.get("quiet_end") or ctx["settings"].notify_quiet_end,
        args.get("email"),
        args.get("phone"),
        args.get("wechat_openid"),
    )
    async with ctx["pool"].acquire() as conn:
        await repo.save_preferences(conn, actor.user_id, prefs)
    return preferences_payload(prefs)


def not_a_dead_letter() -> Refusal:
    return Refusal("NOT_A_DEAD_LETTER", "该消息不在失败列表中", "This delivery is not a dead letter")


async def resend_delivery(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """An organiser sends a dead letter of their own communities again, with a fresh set of
    attempts (one about no community only platform admins may)."""
    if not actor.has_role(ORGANISER, COMMUNITY_ADMIN):
        raise forbidden()
    row_id = uuid.UUID(args["id"])
    at = _clock(ctx)()
    async with ctx["pool"].acquire() as conn, conn.transaction():
        found = await repo.delivery(conn, row_id)
        if found is not None and not _may_see(actor, found["community_id"]):
            raise forbidden()
        row = await repo.requeue_dead(conn, row_id, at)
        if row is None:
            if await repo.delivery(conn, row_id) is None:
                raise not_found("delivery", "消息")
            raise not_a_dead_letter()
        await enqueue_delivery(ctx["redis"], ctx["settings"], row_id, at, f":resend:{args['key']}")
    log.info("dead letter %s queued again by %s", row_id, actor.user_id)
    return {"id": str(row_id), "status": row["status"]}


def _may_see(actor: Actor, community_id: str | None) -> bool:
    if community_id is None:
        return PLATFORM_ADMIN in actor.roles
    return actor.may_organise(community_id)


async def set_message_template(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """Organisers of a community word a kind of message their way for one festival's sessions
    there. Checked again here: only a template that renders is ever stored."""
    community_id = str(args["community_id"])
    if not actor.may_organise(community_id):
        raise forbidden()
    template = check_template(
        args["kind"], args["title_zh"], args["body_zh"], args["title_en"], args["body_en"]
    )
    festival_id = uuid.UUID(args["festival_id"])
    async with ctx["pool"].acquire() as conn:
        row = await repo.save_template(
            conn, festival_id, community_id, args["kind"], template, actor.user_id, _clock(ctx)()
        )
    log.info(
        "template %s of festival %s in %s set by %s",
        args["kind"],
        festival_id,
        community_id,
        actor.user_id,
    )
    return queries.template_value(row)


async def clear_message_template(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """Back to the default text; clearing what is not there changes nothing."""
    community_id = str(args["community_id"])
    if not actor.may_organise(community_id):
        raise forbidden()
    kind = check_kind(args["kind"])
    async with ctx["pool"].acquire() as conn:
        cleared = await repo.delete_template(conn, uuid.UUID(args["festival_id"]), community_id, kind)
    return {"cleared": cleared}


async def mark_read(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """A person has read some of their inbox messages (marking twice changes nothing)."""
    ids = [uuid.UUID(i) for i in args["ids"]]
    async with ctx["pool"].acquire() as conn:
        marked = await repo.mark_read(conn, actor.user_id, ids, _clock(ctx)())
    return {"marked": marked}


async def tell_in_person(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """A grid worker registered a resident without a mobile of their own: from now on what
    that resident must hear of goes on the community's "to tell" list (setting it again is
    harmless)."""
    community_id = str(args["community_id"])
    if not actor.acts_for_residents_of(community_id):
        raise forbidden()
    async with ctx["pool"].acquire() as conn:
        await repo.tell_in_person(conn, str(args["person_id"]), community_id, actor.user_id, _clock(ctx)())
    return {"person_id": str(args["person_id"]), "community_id": community_id}


async def mark_told(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """A grid worker of the resident's community passed an entry on: ticked, with who and when."""
    entry_id = uuid.UUID(args["id"])
    async with ctx["pool"].acquire() as conn, conn.transaction():
        entry = await repo.to_tell_entry(conn, entry_id)
        if entry is None:
            raise not_found("entry", "待告知事项")
        if not actor.acts_for_residents_of(entry["community_id"]):
            raise forbidden()
        row = await repo.mark_told(conn, entry_id, actor.user_id, _clock(ctx)())
    assert row is not None
    return {"id": str(row["id"]), "told_by": row["told_by"], "told_at": row["told_at"].isoformat()}


async def allow_wechat_messages(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """A resident accepted WeChat's one-time subscriptions to these templates (ids the gateway
    checked against the configured ones): one message of each may now reach her there."""
    template_ids = [str(t) for t in args["template_ids"]]
    async with ctx["pool"].acquire() as conn, conn.transaction():
        await repo.grant_subscriptions(conn, actor.user_id, template_ids, _clock(ctx)())
        left = await queries.subscriptions_left(conn, actor.user_id)
    return {"allowed": sum(left.get(t, 0) for t in set(template_ids))}


COMMANDS = [
    command(SET_PREFERENCES, set_preferences),
    command(ALLOW_WECHAT_MESSAGES, allow_wechat_messages),
    command(TELL_IN_PERSON, tell_in_person),
    command(MARK_TOLD, mark_told),
    command(RESEND_DELIVERY, resend_delivery),
    command(MARK_READ, mark_read),
    command(SET_MESSAGE_TEMPLATE, set_message_template),
    command(CLEAR_MESSAGE_TEMPLATE, clear_message_template),
]


# --- texts for log-in codes --------------------------------------------------------------


async def send_sms(ctx: dict[str, Any], request: SmsRequest) -> bool:
    """Deliver one urgent text (a log-in code) at once through the SMS provider, by its
    approved template like any message; with none configured (development), record it in the
    SMS outbox instead. A failure is retried by arq, briefly: a code is soon useless. The text
    is never stored when a provider sends it. Without an approved template nothing is sent
    (never free text): operators hear of it, and the resident can ask again once it is added."""
    channel = sms_channel(ctx["settings"])
    # No phone number and no code among the span's attributes: traces leave the platform.
    provider = channel.provider if channel is not None else DEVELOPMENT
    attributes = {"linli.channel": SMS, "linli.provider": provider, "linli.kind": request.template}
    with tracing.span(f"send {SMS}", SERVICE, tracing.SpanKind.CLIENT, request.traceparent, attributes):
        if channel is None:
            pool: asyncpg.Pool = ctx["pool"]
            async with pool.acquire() as conn:
                return await record_sms(conn, ctx["job_id"], request)
        params = {name: str(value) for name, value in request.params.items()}
        outgoing = Outgoing(
            ctx["job_id"], SMS, request.phone, request.template, render_sms(request), request.template, params
        )
        try:
            await channel.send(outgoing)
        except NoApprovedTemplate:
            report_without_template(SMS, request.template)
            NOTIFICATIONS.labels(SMS, "dead").inc()
            return False
        except Exception as exc:
            NOTIFICATIONS.labels(SMS, "failed").inc()
            raise Retry(defer=ctx["job_try"] * 0.5) from exc
    NOTIFICATIONS.labels(SMS, "delivered").inc()
    return True


async def default_sms_preferences(ctx: dict[str, Any], login: LoginPhone) -> bool:
    """A resident logged in: unless they already chose how to be told, text them at the number
    they log in with. True if their preferences were stored now."""
    settings: Settings = ctx["settings"]
    prefs = sms_by_default(login.phone, settings.notify_quiet_start, settings.notify_quiet_end)
    pool: asyncpg.Pool = ctx["pool"]
    async with pool.acquire() as conn:
        if await repo.erased_among(conn, [login.person_id]):
            return False  # the account was deleted since that log-in
        return await repo.insert_preferences_if_none(conn, login.person_id, prefs)


# keep_result=0: the stored result would repeat the arguments, login code included.
SMS_HANDLERS = [
    func(send_sms, name=SEND_SMS, max_tries=5, keep_result=0),
    func(default_sms_preferences, name=DEFAULT_SMS, max_tries=5, keep_result=0),
]
