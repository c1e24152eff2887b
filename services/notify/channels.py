"""Channels behind one interface: a channel takes one outgoing message and either delivers it
or raises. Adapters: the development channel (the delivery row is the record), SMS through
Aliyun or Tencent Cloud (approved templates only, see sms_providers.py), the official account's
WeChat subscription messages (wechat.py), e-mail over SMTP, and signed partner webhooks.

The in-app inbox is not an adapter here: it is written in the same transaction as the event
that causes it, so it is always on and exactly once.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib
import httpx
from redis.asyncio import Redis

from services.common.settings import Settings
from services.notify.preferences import EMAIL, SMS, WEBHOOK, WECHAT
from services.notify.sms_providers import (
    ALIYUN,
    ALIYUN_ENDPOINT,
    ALIYUN_REGION,
    DEFAULT_PARAM_LIMIT,
    TENCENT,
    TENCENT_ENDPOINT,
    TENCENT_REGION,
    AliyunSms,
    SmsRefused,
    TencentSms,
)
from services.notify.sms_templates import SmsTemplate, parse_templates
from services.notify.wechat import USER_REFUSED, AccessTokens, SubscriptionMessages, WeChatError
from services.notify.wechat_templates import WeChatTemplate
from services.notify.wechat_templates import parse_templates as parse_wechat_templates

DEVELOPMENT = "dev-outbox"
SIGNATURE_HEADER = "X-Linli-Signature"
TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Outgoing:
    delivery_id: str
    channel: str
    address: str
    subject: str
    body: str
    # The approved template that says it (a kind, or kind.variant) and what fills it: SMS
    # providers send nothing else.
    template: str = ""
    params: Mapping[str, str] = field(default_factory=dict)


@functools.cache
def _tls() -> ssl.SSLContext:
    """Loading the CA bundle costs milliseconds of CPU: once per process, not per message."""
    return ssl.create_default_context()


def _http() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=TIMEOUT_S, verify=_tls())


class DeliveryFailed(Exception):
    """The provider refused or could not be reached; the message may be retried."""


class Unsendable(DeliveryFailed):
    """The message cannot go as it is: trying again will not help."""


class NoApprovedTemplate(Unsendable):
    """No approved template (SMS, WeChat) for this kind of message: never sent as free text."""


class Channel(Protocol):
    # Names the provider: rate limits and delivery records are per provider.
    provider: str

    async def send(self, message: Outgoing) -> None: ...


class DevelopmentChannel:
    """Sends nothing: the delivery row, marked sent by this provider, is the record."""

    provider = DEVELOPMENT

    async def send(self, message: Outgoing) -> None:
        return None


class TemplatedSmsChannel:
    """Texts through a Chinese cloud SMS provider: the message's approved template, filled
    with its parameters (trimmed to the template's limits), under the registered signature."""

    def __init__(self, sender: AliyunSms | TencentSms, templates: Mapping[str, SmsTemplate]) -> None:
        self.provider = sender.provider
        self.sender, self.templates = sender, templates

    async def send(self, message: Outgoing) -> None:
        template = self.templates.get(message.template)
        if template is None:
            raise NoApprovedTemplate(f"no approved SMS template for {message.template or 'this message'}")
        missing = [name for name, _ in template.params if name not in message.params]
        if missing:  # a delivery planned before its facts were kept: never half a template
            raise Unsendable(f"SMS template {message.template} needs {', '.join(missing)}")
        try:
            async with _http() as client:
                await self.sender.send(client, message.address, template, message.params, message.delivery_id)
        except SmsRefused as exc:
            raise DeliveryFailed(str(exc)) from exc


def sms_templates(settings: Settings) -> dict[str, SmsTemplate] | None:
    """The approved templates of the configured SMS provider; None without one (the
    development channel records any message)."""
    if not settings.notify_sms_provider:
        return None
    limit = DEFAULT_PARAM_LIMIT[settings.notify_sms_provider]
    return parse_templates(settings.notify_sms_templates, limit)


def sms_channel(settings: Settings) -> Channel | None:
    """The configured SMS provider's adapter, or None for the development channel."""
    templates = sms_templates(settings)
    if templates is None:
        return None
    sender: AliyunSms | TencentSms
    if settings.notify_sms_provider == ALIYUN:
        sender = AliyunSms(
            settings.notify_sms_endpoint or ALIYUN_ENDPOINT,
            settings.notify_sms_access_key_id,
            settings.notify_sms_access_key_secret,
            settings.notify_sms_sign_name,
            settings.notify_sms_region or ALIYUN_REGION,
        )
    else:
        assert settings.notify_sms_provider == TENCENT
        sender = TencentSms(
            settings.notify_sms_endpoint or TENCENT_ENDPOINT,
            settings.notify_sms_access_key_id,
            settings.notify_sms_access_key_secret,
            settings.notify_sms_sign_name,
            settings.notify_sms_sdk_app_id,
            settings.notify_sms_region or TENCENT_REGION,
        )
    return TemplatedSmsChannel(sender, templates)


def wechat_templates(settings: Settings) -> dict[str, WeChatTemplate] | None:
    """The official account's subscription message templates; None without an AppID."""
    if not settings.wechat_app_id:
        return None
    return parse_wechat_templates(settings.notify_wechat_templates)


def approved_templates(settings: Settings) -> dict[str, frozenset[str]]:
    """The template keys each templated channel may send (SMS, WeChat), for those configured:
    a message of another kind is not planned on that channel."""
    approved = {}
    for channel, templates in ((SMS, sms_templates(settings)), (WECHAT, wechat_templates(settings))):
        if templates is not None:
            approved[channel] = frozenset(templates)
    return approved


class UserDeclined(Unsendable):
    """The resident refused this message on WeChat (43101): the channel is off for it."""


class WeChatChannel:
    """Subscription messages of the official account, to the resident's OpenID: the message's
    template with its ``data`` fields fitted to their kinds. One-time subscriptions are spent
    by the delivery job (``template_id`` says which)."""

    provider = "wechat-subscribe"

    def __init__(self, messages: SubscriptionMessages) -> None:
        self.messages = messages

    def template_id(self, key: str) -> str | None:
        template = self.messages.templates.get(key)
        return template.template_id if template else None

    async def send(self, message: Outgoing) -> None:
        template = self.messages.templates.get(message.template)
        if template is None:
            raise NoApprovedTemplate(f"no WeChat template for {message.template or 'this message'}")
        missing = [param for _, param in template.fields if param not in message.params]
        if missing:
            raise Unsendable(f"WeChat template {message.template} needs {', '.join(missing)}")
        body = self.messages.body(message.address, template, message.params)
        try:
            async with _http() as client:
                await self.messages.send(client, body)
        except WeChatError as exc:
            if exc.errcode == USER_REFUSED:
                raise UserDeclined(str(exc)) from exc
            raise DeliveryFailed(str(exc)) from exc


class EmailChannel:
    def __init__(self, host: str, port: int, sender: str) -> None:
        self.provider = f"smtp:{host}:{port}"
        self.host, self.port, self.sender = host, port, sender

    async def send(self, message: Outgoing) -> None:
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = self.sender, message.address, message.subject
        mail["Message-ID"] = f"<{message.delivery_id}@linli>"
        mail.set_content(message.body)
        await aiosmtplib.send(mail, hostname=self.host, port=self.port, timeout=TIMEOUT_S)


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>``: the timestamp is signed
    too, so a partner can refuse an old message replayed."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class WebhookChannel:
    """POSTs the message (a JSON body) to a partner system, signed with the shared secret."""

    def __init__(self, secret: str, clock: Callable[[], float] = time.time) -> None:
        self.provider = "webhook"
        self.secret, self.clock = secret, clock

    async def send(self, message: Outgoing) -> None:
        if not self.secret:  # an unsigned message would be worthless to the partner
            raise DeliveryFailed("LINLI_NOTIFY_WEBHOOK_SECRET is not set")
        body = message.body.encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: webhook_signature(self.secret, int(self.clock()), body),
        }
        async with _http() as client:
            response = await client.post(message.address, content=body, headers=headers)
        if not response.is_success:
            raise DeliveryFailed(f"HTTP {response.status_code}: {response.text[:200]}")


def channels_from(settings: Settings, redis: Redis) -> dict[str, Channel]:
    """Each channel's adapter: the configured provider, else the development channel.
    ``redis`` keeps what providers' adapters share between workers (WeChat's access token)."""
    dev = DevelopmentChannel()
    sms: Channel = sms_channel(settings) or dev
    wechat: Channel = dev
    templates = wechat_templates(settings)
    if templates is not None:
        tokens = AccessTokens(
            redis,
            settings.namespace,
            settings.wechat_api_endpoint,
            settings.wechat_app_id,
            settings.wechat_app_secret,
        )
        wechat = WeChatChannel(SubscriptionMessages(tokens, templates))
    email: Channel = dev
    if settings.notify_smtp_host:
        email = EmailChannel(
            settings.notify_smtp_host, settings.notify_smtp_port, settings.notify_smtp_sender
        )
    # Never the deployment's own secret: partners hold this one.
    webhook = WebhookChannel(settings.notify_webhook_secret)
    return {SMS: sms, WECHAT: wechat, EMAIL: email, WEBHOOK: webhook}
