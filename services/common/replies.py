"""Values as a command's reply carries them (JSON: ISO text) or a row holds them (native): one
way to read both, for the contracts' reply dataclasses."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import asyncpg

# A command's reply, or a row of a service's read model.
Row = Mapping[str, Any] | asyncpg.Record


def as_datetime(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def as_optional_datetime(value: datetime | str | None) -> datetime | None:
    return None if value is None else as_datetime(value)


def as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def as_text(value: Any) -> str:
    """An id, whether a UUID (a row) or its text (a reply)."""
    return str(value)


def as_optional_text(value: Any) -> str | None:
    return None if value is None else str(value)


def as_list(value: str | list[Any] | None) -> list[Any]:
    """A JSON array, as a row's text or a reply's list."""
    if value is None:
        return []
    return list(json.loads(value) if isinstance(value, str) else value)
