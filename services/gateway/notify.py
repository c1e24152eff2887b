"""The notify part of the GraphQL API: a person's in-app inbox and notification preferences,
the dead-letter list organisers see (their own communities') and re-send from, and the message
texts organisers word their own way per festival."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import Any

import asyncpg
import strawberry

from services.activities import queries as activity_queries
from services.common.actor import COMMUNITY_ADMIN, ORGANISER, PLATFORM_ADMIN, Actor
from services.common.errors import bad_input, forbidden, not_found
from services.common.masking import mask_phone
from services.common.paging import DEFAULT_LIMIT, after_uuid, checked_limit
from services.common.settings import Settings
from services.gateway import commands
from services.gateway.context import Info
from services.gateway.inputs import parse_id
from services.gateway.names import community_name
from services.gateway.paging import After, Limit
from services.notify import contracts, queries
from services.notify.preferences import EMAIL, SMS, WEBHOOK, WECHAT
from services.notify.templates import DEFAULT_TEMPLATES, PLACEHOLDERS, check_kind, check_template
from services.notify.wechat_templates import WeChatTemplate, parse_templates, templates_to_ask


@strawberry.type
class InboxMessage:
    id: strawberry.ID
    kind: str
    title: str
    body: str
    title_en: str
    body_en: str
    created_at: datetime
    read: bool

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> InboxMessage:
        return cls(
            id=strawberry.ID(str(row["id"])),
            kind=row["kind"],
            title=row["title_zh"],
            body=row["body_zh"],
            title_en=row["title_en"],
            body_en=row["body_en"],
            created_at=row["created_at"],
            read=row["read_at"] is not None,
        )


@strawberry.enum
class Channel(Enum):
    SMS = SMS
    WECHAT = WECHAT
    EMAIL = EMAIL
    WEBHOOK = WEBHOOK


@strawberry.type
class NotificationPreferences:
    channels: list[Channel] = strawberry.field(description="Channels besides the inbox, which is always on.")
    email: str | None
    phone: str | None
    wechat_open_id: str | None
    quiet_start: str = strawberry.field(
        description="HH:MM, Asia/Shanghai; equal to quietEnd: no quiet hours."
    )
    quiet_end: str

    @classmethod
    def of(cls, preferences: contracts.Preferences) -> NotificationPreferences:
        return cls(
            channels=[Channel(c) for c in preferences.channels],
            email=preferences.email,
            phone=preferences.phone,
            wechat_open_id=preferences.wechat_openid,
            quiet_start=preferences.quiet_start,
            quiet_end=preferences.quiet_end,
        )

    @classmethod
    def defaults(cls, settings: Settings) -> NotificationPreferences:
        return cls(
            channels=[],
            email=None,
            phone=None,
            wechat_open_id=None,
            quiet_start=settings.notify_quiet_start,
            quiet_end=settings.notify_quiet_end,
        )


@strawberry.input
class NotificationPreferencesInput:
    channels: list[Channel]
    email: str | None = None
    phone: str | None = None
    wechat_open_id: str | None = None
    quiet_start: str | None = strawberry.field(
        default=None, description="HH:MM; unset: the deployment's default (21:30)."
    )
    quiet_end: str | None = strawberry.field(default=None, description="HH:MM; unset: the default (08:00).")


@strawberry.enum
class DeliveryStatus(Enum):
    QUEUED = "QUEUED"
    SENT = "SENT"
    DEAD = "DEAD"
    NOT_SENT = strawberry.enum_value(
        "NOT_SENT", description="The resident turned the channel off for it (WeChat): not sent, not retried."
    )


@strawberry.type
class Delivery:
    id: strawberry.ID
    channel: Channel
    kind: str
    recipient_id: str
    address: str = strawberry.field(description="Masked: enough to recognise, not to contact.")
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    provider: str | None = strawberry.field(description="Who sent it; dev-outbox: only recorded.")
    not_before: datetime = strawberry.field(description="Held back until then (quiet hours).")
    updated_at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Delivery:
        return cls(
            id=strawberry.ID(str(row["id"])),
            channel=Channel(row["channel"]),
            kind=row["kind"],
            recipient_id=row["recipient_id"],
            address=_mask(row["channel"], row["address"]),
            status=DeliveryStatus(row["status"]),
            attempts=row["attempts"],
            last_error=row["last_error"],
            provider=row["provider"],
            not_before=row["not_before"],
            updated_at=row["updated_at"],
        )


def _mask(channel: str, address: str) -> str:
    if channel == SMS:
        return mask_phone(address)
    if channel == EMAIL:
        name, _, domain = address.partition("@")
        return f"{name[:1]}***@{domain}"
    if channel == WECHAT:
        return f"{address[:4]}***"
    return address  # a partner's webhook URL is configuration, not personal data


def _communities_seen(actor: Actor) -> list[str] | None:
    """The communities whose messages this organiser may see; None: every one."""
    return None if PLATFORM_ADMIN in actor.roles else sorted(actor.communities)


@strawberry.type
class MessageTemplate:
    festival_id: strawberry.ID
    community_id: str
    kind: str
    title_zh: str
    body_zh: str
    title_en: str
    body_en: str
    updated_by: str
    updated_at: datetime

    @strawberry.field(description="The community's name, e.g. 朔方社区.")
    async def community_name(self, info: Info) -> str:
        return await community_name(info, self.community_id)

    @classmethod
    def of(cls, template: contracts.MessageTemplate) -> MessageTemplate:
        return cls(
            festival_id=strawberry.ID(template.festival_id),
            community_id=template.community_id,
            kind=template.kind,
            title_zh=template.title_zh,
            body_zh=template.body_zh,
            title_en=template.title_en,
            body_en=template.body_en,
            updated_by=template.updated_by,
            updated_at=template.updated_at,
        )


@strawberry.type
class DefaultMessageTemplate:
    kind: str
    placeholders: list[str] = strawberry.field(description="Names usable as {name} in this kind's texts.")
    title_zh: str
    body_zh: str
    title_en: str
    body_en: str


@strawberry.input
class MessageTemplateInput:
    festival_id: strawberry.ID
    community_id: str
    kind: str = strawberry.field(description="A kind listed by defaultMessageTemplates.")
    title_zh: str
    body_zh: str = strawberry.field(description="{placeholder}s of this kind only; {{ and }} for braces.")
    title_en: str
    body_en: str


async def _festival_of(info: Info, festival_id: uuid.UUID, community_id: str) -> None:
    """The festival must exist and include the community (read through activities' queries)."""
    async with info.context.pool.acquire() as conn:
        festival = await activity_queries.festival(conn, festival_id)
    if festival is None:
        raise not_found("festival", "节庆")
    if community_id not in festival["community_ids"]:
        raise bad_input("communityId", "该节庆不包括这个社区", "The festival does not include this community")


async def _template_version(info: Info, festival_id: uuid.UUID, community_id: str, kind: str) -> str | None:
    async with info.context.pool.acquire() as conn:
        return await queries.template_version(conn, festival_id, community_id, kind)


def _wechat_templates(settings: Settings) -> dict[str, WeChatTemplate]:
    """The official account's subscription templates (none without an AppID)."""
    return parse_templates(settings.notify_wechat_templates) if settings.wechat_app_id else {}


@strawberry.enum
class WechatMoment(Enum):
    SIGN_UP = strawberry.enum_value("SIGN_UP", description="Just after signing up for a session.")
    WISH = strawberry.enum_value("WISH", description="Just after posting a 微心愿 wish.")


@strawberry.type
class NotifyQuery:
    @strawberry.field(
        description=(
            "The WeChat subscription templates the residents' page offers at this moment (WeChat's"
            " one-time subscription dialogue); empty when WeChat is not configured."
        )
    )
    def wechat_templates_to_ask(self, info: Info, after: WechatMoment) -> list[str]:
        return templates_to_ask(_wechat_templates(info.context.resources.settings), after.name)

    @strawberry.field(description="My in-app messages, newest first.")
    async def my_inbox(
        self, info: Info, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[InboxMessage]:
        actor = info.context.require_actor()
        async with info.context.pool.acquire() as conn:
            rows = await queries.inbox(conn, actor.user_id, checked_limit(limit), after_uuid(after))
        return [InboxMessage.from_row(row) for row in rows]

    @strawberry.field(description="How I want to be told: channels, addresses and quiet hours.")
    async def my_notification_preferences(self, info: Info) -> NotificationPreferences:
        actor = info.context.require_actor()
        async with info.context.pool.acquire() as conn:
            row = await queries.preferences(conn, actor.user_id)
        if row is None:
            return NotificationPreferences.defaults(info.context.resources.settings)
        return NotificationPreferences(
            channels=[Channel(c) for c in row["channels"]],
            email=row["email"],
            phone=row["phone"],
            wechat_open_id=row["wechat_openid"],
            quiet_start=row["quiet_start"].strftime("%H:%M"),
            quiet_end=row["quiet_end"].strftime("%H:%M"),
        )

    @strawberry.field(
        description="Deliveries that failed every attempt, about my communities (organisers only)."
    )
    async def dead_letters(
        self, info: Info, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[Delivery]:
        actor = info.context.require_role(ORGANISER, COMMUNITY_ADMIN)
        limit, start = checked_limit(limit), after_uuid(after)
        async with info.context.pool.acquire() as conn:
            rows = await queries.dead_letters(conn, _communities_seen(actor), limit, start)
        return [Delivery.from_row(row) for row in rows]

    @strawberry.field(
        description=(
            "Messages on every channel about my communities and their status, newest first (organisers only)."
        )
    )
    async def deliveries(
        self,
        info: Info,
        status: DeliveryStatus | None = None,
        recipient_id: str | None = None,
        limit: Limit = DEFAULT_LIMIT,
        after: After = None,
    ) -> list[Delivery]:
        actor = info.context.require_role(ORGANISER, COMMUNITY_ADMIN)
        if recipient_id is not None and not 1 <= len(recipient_id) <= 128:
            raise bad_input("recipientId", "收件人编号格式不正确", "Malformed recipient id")
        async with info.context.pool.acquire() as conn:
            rows = await queries.deliveries(
                conn,
                status.value if status else None,
                recipient_id,
                _communities_seen(actor),
                checked_limit(limit),
                after_uuid(after),
            )
        return [Delivery.from_row(row) for row in rows]

    @strawberry.field(
        description=(
            "A festival's own message texts in the communities I organise (all of them for"
            " platform admins); kinds without one use the default template."
        )
    )
    async def message_templates(self, info: Info, festival_id: strawberry.ID) -> list[MessageTemplate]:
        actor = info.context.require_role(ORGANISER, COMMUNITY_ADMIN)
        festival = parse_id("festivalId", festival_id)
        async with info.context.pool.acquire() as conn:
            rows = await queries.templates(conn, festival, _communities_seen(actor))
        return [MessageTemplate.of(contracts.MessageTemplate.of(row)) for row in rows]

    @strawberry.field(
        description="The default text of each kind of message organisers may override, with its placeholders."
    )
    def default_message_templates(self) -> list[DefaultMessageTemplate]:
        return [
            DefaultMessageTemplate(
                kind=kind,
                placeholders=sorted(PLACEHOLDERS[kind]),
                title_zh=t.title_zh,
                body_zh=t.body_zh,
                title_en=t.title_en,
                body_en=t.body_en,
            )
            for kind, t in DEFAULT_TEMPLATES.items()
        ]


@strawberry.type
class ResentDelivery:
    id: strawberry.ID
    status: str


@strawberry.type
class NotifyMutation:
    @strawberry.mutation(description="Choose my channels, addresses and quiet hours.")
    async def set_notification_preferences(
        self, info: Info, input: NotificationPreferencesInput
    ) -> NotificationPreferences:
        actor = info.context.require_actor()
        if WEBHOOK in {c.value for c in input.channels}:
            raise bad_input("channels", "不支持的通知渠道", "Webhooks are for partner systems")
        args = {
            "channels": [c.value for c in input.channels],
            "email": input.email,
            "phone": input.phone,
            "wechat_openid": input.wechat_open_id,
            "quiet_start": input.quiet_start,
            "quiet_end": input.quiet_end,
        }
        async with info.context.pool.acquire() as conn:
            current = await queries.preferences(conn, actor.user_id)
        key = commands.derived_key(args, current["version"] if current else None)
        chosen = await commands.answer(
            info, contracts.SERVICE, contracts.SET_PREFERENCES, actor, args, key, contracts.Preferences.of
        )
        return NotificationPreferences.of(chosen)

    @strawberry.mutation(
        description=(
            "Record the one-time WeChat subscriptions I accepted (the template ids WeChat's dialogue"
            " answered 'accept' for); returns how many messages of them may now reach me."
        )
    )
    async def allow_wechat_messages(self, info: Info, template_ids: list[str]) -> int:
        actor = info.context.require_actor()
        known = {t.template_id for t in _wechat_templates(info.context.resources.settings).values()}
        if not 1 <= len(template_ids) <= 20 or not set(template_ids) <= known:
            raise bad_input(
                "templateIds",
                "这些微信消息模板不可订阅",
                "These WeChat message templates cannot be subscribed to",
            )
        args = {"template_ids": list(template_ids)}
        # Each acceptance grants one message more: what is left now is the state it changes.
        async with info.context.pool.acquire() as conn:
            left = await queries.subscriptions_left(conn, actor.user_id)
        key = commands.derived_key(args, left)
        return await commands.answer(
            info, contracts.SERVICE, contracts.ALLOW_WECHAT_MESSAGES, actor, args, key, _allowed
        )

    @strawberry.mutation(description="Mark my inbox messages read; returns how many were unread.")
    async def mark_read(self, info: Info, ids: list[strawberry.ID]) -> int:
        actor = info.context.require_actor()
        if not 1 <= len(ids) <= 200:
            raise bad_input("ids", "每次可标记1到200条消息", "Mark 1 to 200 messages at a time")
        args = {"ids": sorted({str(parse_id("ids", i)) for i in ids})}
        async with info.context.pool.acquire() as conn:
            unread = await queries.unread_among(conn, actor.user_id, args["ids"])
        key = commands.derived_key(args, unread)  # marked again once read: a new request, answered 0
        answer = await commands.answer(
            info, contracts.SERVICE, contracts.MARK_READ, actor, args, key, contracts.Marked.of
        )
        return answer.marked

    @strawberry.mutation(description="Send a dead letter again with fresh attempts (organisers only).")
    async def resend_delivery(
        self, info: Info, id: strawberry.ID, idempotency_key: str | None = None
    ) -> ResentDelivery:
        actor = info.context.require_role(ORGANISER, COMMUNITY_ADMIN)
        delivery_id = parse_id("id", id)
        async with info.context.pool.acquire() as conn:
            version = await queries.delivery_version(conn, delivery_id)
        key = commands.command_key(idempotency_key, str(delivery_id), version)
        args = {"id": str(delivery_id), "key": key}
        resent = await commands.answer(
            info, contracts.SERVICE, contracts.RESEND_DELIVERY, actor, args, key, contracts.Resent.of
        )
        return ResentDelivery(id=strawberry.ID(resent.id), status=resent.status)

    @strawberry.mutation(
        description="Word one kind of message my way for a festival's sessions in my community."
    )
    async def set_message_template(self, info: Info, input: MessageTemplateInput) -> MessageTemplate:
        actor = info.context.require_role(ORGANISER, COMMUNITY_ADMIN)
        if not actor.may_organise(input.community_id):
            raise forbidden()
        festival_id = parse_id("festivalId", input.festival_id)
        check_template(input.kind, input.title_zh, input.body_zh, input.title_en, input.body_en)
        await _festival_of(info, festival_id, input.community_id)
        args = {
            "festival_id": str(festival_id),
            "community_id": input.community_id,
            "kind": input.kind,
            "title_zh": input.title_zh,
            "body_zh": input.body_zh,
            "title_en": input.title_en,
            "body_en": input.body_en,
        }
        key = commands.derived_key(
            args, await _template_version(info, festival_id, input.community_id, input.kind)
        )
        saved = await commands.answer(
            info,
            contracts.SERVICE,
            contracts.SET_MESSAGE_TEMPLATE,
            actor,
            args,
            key,
            contracts.MessageTemplate.of,
        )
        return MessageTemplate.of(saved)

    @strawberry.mutation(
        description="Back to the default text for one kind of message; true if there was an override."
    )
    async def clear_message_template(
        self, info: Info, festival_id: strawberry.ID, community_id: str, kind: str
    ) -> bool:
        actor = info.context.require_role(ORGANISER, COMMUNITY_ADMIN)
        if not actor.may_organise(community_id):
            raise forbidden()
        festival = parse_id("festivalId", festival_id)
        args = {"festival_id": str(festival), "community_id": community_id, "kind": check_kind(kind)}
        key = commands.derived_key(args, await _template_version(info, festival, community_id, kind))
        answer = await commands.answer(
            info, contracts.SERVICE, contracts.CLEAR_MESSAGE_TEMPLATE, actor, args, key, contracts.Cleared.of
        )
        return answer.cleared


def _allowed(reply: dict[str, Any]) -> int:
    return int(reply["allowed"])
