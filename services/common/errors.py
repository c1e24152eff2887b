"""Refusals: one exception type carrying a stable code and a message in Chinese and English."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Refusal(Exception):
    """A request that cannot be carried out, for a reason a person can understand.

    ``code`` is stable (clients switch on it); ``zh``/``en`` are shown to people.
    """

    code: str
    zh: str
    en: str
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"

    def as_payload(self) -> dict[str, Any]:
        return {"code": self.code, "zh": self.zh, "en": self.en, "details": self.details}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Refusal:
        return cls(payload["code"], payload["zh"], payload["en"], payload.get("details") or {})


def unauthenticated() -> Refusal:
    return Refusal("UNAUTHENTICATED", "请先登录", "Please log in first")


def forbidden() -> Refusal:
    return Refusal("FORBIDDEN", "您没有权限进行此操作", "You are not allowed to do this")


def bad_input(field_name: str, zh: str, en: str) -> Refusal:
    return Refusal("BAD_USER_INPUT", zh, en, {"field": field_name})


def not_found(what: str, zh_what: str) -> Refusal:
    return Refusal("NOT_FOUND", f"找不到该{zh_what}", f"No such {what}", {"what": what})


def service_unavailable() -> Refusal:
    """PostgreSQL or Redis cannot be reached: nothing was done, and the same request may be sent
    again (with the same idempotency key) in a moment."""
    return Refusal(
        "SERVICE_UNAVAILABLE",
        "服务暂时不可用，请稍后用同一请求重试",
        "The service is briefly unavailable; send the same request again shortly",
    )
