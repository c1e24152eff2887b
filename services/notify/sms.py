"""Text messages: the request other services enqueue, its Chinese templates, and the
development channel, which records each text in ``notify.sms_outbox`` instead of sending it.

A request's ``repr`` hides the number and the parameters: arq logs every job's arguments, and
a login code or a full phone number must never reach a log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg

from services.common.db import Connection
from services.common.ids import new_id
from services.notify.sms_templates import LOGIN_CODE as LOGIN_CODE

SEND_SMS = "send_sms"
# A resident's log-in number becomes their SMS address, on, unless they already chose.
DEFAULT_SMS = "default_sms_preferences"


@dataclass(frozen=True, repr=False)
class SmsRequest:
    phone: str
    template: str
    params: dict[str, Any] = field(default_factory=dict)
    traceparent: str | None = None  # the request that asked for the text (services/common/tracing.py)

    def __repr__(self) -> str:
        return f"SmsRequest(phone={self.phone[:3]}****{self.phone[-4:]}, template={self.template})"


@dataclass(frozen=True, repr=False)
class LoginPhone:
    """The number a resident logs in with, for notify to text them at by default."""

    person_id: str
    phone: str

    def __repr__(self) -> str:  # arq logs job arguments: never a whole number
        return f"LoginPhone(person_id={self.person_id}, phone={self.phone[:3]}****{self.phone[-4:]})"


def render(request: SmsRequest) -> str:
    """The text as a provider would send it (signature first, as Chinese carriers require)."""
    if request.template == LOGIN_CODE:
        return (
            f"【邻里】您的登录验证码是{request.params['code']}，{request.params['minutes']}分钟内有效。"
            "请勿将验证码告诉他人。"
        )
    raise ValueError(f"unknown SMS template {request.template!r}")


async def record(conn: Connection, job_id: str, request: SmsRequest) -> bool:
    """The development channel: keep the text where tests and the console can read it.
    A retried job records nothing twice."""
    inserted = await conn.fetchval(
        """
        INSERT INTO notify.sms_outbox (id, job_id, phone, template, body)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (job_id) DO NOTHING
        RETURNING true
        """,
        new_id(),
        job_id,
        request.phone,
        request.template,
        render(request),
    )
    return bool(inserted)


async def texts_to(conn: Connection, phone: str, limit: int = 20) -> list[asyncpg.Record]:
    """The texts recorded for one number, newest first."""
    return await conn.fetch(
        "SELECT * FROM notify.sms_outbox WHERE phone = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        phone,
        limit,
    )
