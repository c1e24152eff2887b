"""What every part of the GraphQL API does with its input: ids, idempotency keys, times from
command replies, and the answer when a command is still in flight."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from services.common.errors import Refusal, bad_input


def parse_id(field: str, value: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise bad_input(field, "编号格式不正确", "Malformed id") from exc


def check_key(key: str) -> str:
    if not 8 <= len(key) <= 128:
        raise bad_input("idempotencyKey", "幂等键须为8到128个字符", "Idempotency keys are 8 to 128 chars")
    return key


def still_processing() -> Refusal:
    return Refusal(
        "STILL_PROCESSING",
        "请求仍在处理中，请稍后使用相同的幂等键重试",
        "Still being processed; retry later with the same idempotency key",
    )


def as_datetime(value: datetime | str) -> datetime:
    """A time from a database row, or from a command reply (which carries ISO text)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def as_optional_datetime(value: datetime | str | None) -> datetime | None:
    return None if value is None else as_datetime(value)


def as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
