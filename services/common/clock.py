"""The clock: one place that says what time it is, so tests can choose."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    return datetime.now(UTC)
