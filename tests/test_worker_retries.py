"""A background job that fails for a passing reason is tried again, never silently dropped."""

from __future__ import annotations

from typing import Any

import pytest
from arq.worker import Retry, func

from services.common.worker import retried_on_failure


async def flaky(ctx: dict[str, Any], event: str) -> str:
    raise ConnectionError(f"PostgreSQL is restarting ({event})")


async def test_a_failed_job_is_retried_with_growing_backoff_until_its_last_try() -> None:
    job = retried_on_failure(func(flaky, name="flaky", max_tries=3))

    with pytest.raises(Retry) as first:
        await job.coroutine({"job_try": 1}, "e1")
    with pytest.raises(Retry) as second:
        await job.coroutine({"job_try": 2}, "e1")
    assert first.value.defer_score is not None and second.value.defer_score is not None
    assert second.value.defer_score > first.value.defer_score
    with pytest.raises(ConnectionError):  # the last try fails for real: arq records the failure
        await job.coroutine({"job_try": 3}, "e1")
