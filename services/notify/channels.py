"""Channels behind one interface: a channel takes one outgoing message and either delivers it
or raises. Adapters: the development channel (the delivery row is the record), HTTP providers
for SMS and WeChat subscription messages, e-mail over SMTP, and signed partner webhooks.

The in-app inbox is not an adapter here: it is written in the same transaction as the event
that causes it, so it is always on and exactly once.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib
import httpx

from services.common.settings import Settings
from services.notify.preferences import EMAIL, SMS, WEBHOOK, WECHAT

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


@functools.cache
def _tls() -> ssl.SSLContext:
    """Loading the CA bundle costs milliseconds of CPU: once per process, not per message."""
    return ssl.create_default_context()


def _http() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=TIMEOUT_S, verify=_tls())


class DeliveryFailed(Exception):
    """The provider refused or could not be reached; the message may be retried."""


class Channel(Protocol):
    # Names the provider: rate limits and delivery records are per provider.
    provider: str

    async def send(self, message: Outgoing) -> None: ...


class DevelopmentChannel:
    """Sends nothing: the delivery row, marked sent by this provider, is the record."""

    provider = DEVELOPMENT

    async def send(self, message: Outgoing) -> None:
        return None


class HttpProviderChannel:
    """An SMS or WeChat gateway that takes a JSON POST with a bearer key. The delivery id
    goes along as an idempotency key, so a provider that got a retried message can tell."""

    def __init__(self, provider: str, url: str, key: str) -> None:
        self.provider, self.url, self.key = provider, url, key

    async def send(self, message: Outgoing) -> None:
        body = {"to": message.address, "title": message.subject, "content": message.body}
        headers = {"Authorization": f"Bearer {self.key}", "Idempotency-Key": message.delivery_id}
        async with _http() as client:
            response = await client.post(self.url, json=body, headers=headers)
        if not response.is_success:
            raise DeliveryFailed(f"HTTP {response.status_code}: {response.text[:200]}")


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


def channels_from(settings: Settings) -> dict[str, Channel]:
    """Each channel's adapter: the configured provider, else the development channel."""
    dev = DevelopmentChannel()
    sms: Channel = dev
    if settings.notify_sms_url:
        sms = HttpProviderChannel("sms", settings.notify_sms_url, settings.notify_sms_key)
    wechat: Channel = dev
    if settings.notify_wechat_url:
        wechat = HttpProviderChannel("wechat", settings.notify_wechat_url, settings.notify_wechat_key)
    email: Channel = dev
    if settings.notify_smtp_host:
        email = EmailChannel(
            settings.notify_smtp_host, settings.notify_smtp_port, settings.notify_smtp_sender
        )
    # Never the deployment's own secret: partners hold this one.
    webhook = WebhookChannel(settings.notify_webhook_secret)
    return {SMS: sms, WECHAT: wechat, EMAIL: email, WEBHOOK: webhook}
