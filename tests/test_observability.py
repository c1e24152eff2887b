"""Operators can follow one sign-up by its correlation id, and watch the platform's metrics."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import SIGN_UP, eventually


async def test_one_correlation_id_finds_the_request_job_event_and_notification(
    client: httpx.AsyncClient,
    schedule: Any,
    new_resident: Any,
    pool: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    session_id = await schedule(capacity=5)
    _, token = new_resident()
    request_id = f"festival-{uuid.uuid4().hex}"
    caplog.set_level(logging.INFO)

    response = await client.post(
        "/graphql",
        json={
            "query": SIGN_UP,
            "variables": {"input": {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex}},
        },
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": request_id},
    )
    assert response.headers["X-Request-ID"] == request_id
    assert response.json()["data"]["signUp"]["status"] == "CONFIRMED"

    def logged(logger: str) -> list[str]:
        return [
            r.getMessage()
            for r in caplog.records
            if r.name == logger and getattr(r, "correlation_id", None) == request_id
        ]

    async def notification_logged() -> list[str]:
        return logged("linli.notify")

    notified = await eventually(notification_logged)
    assert notified and "signup.confirmed" in notified[0]
    assert logged("linli.commands") == ["command sign_up done"]
    async with pool.acquire() as conn:
        events = await conn.fetch("SELECT type FROM activities.outbox WHERE correlation_id = $1", request_id)
    assert [e["type"] for e in events] == ["signup.confirmed"]


async def test_metrics_show_operations_signups_and_queues(
    client: httpx.AsyncClient, schedule: Any, new_resident: Any
) -> None:
    session_id = await schedule(capacity=1)
    for _ in range(2):
        _, token = new_resident()
        await client.post(
            "/graphql",
            json={
                "query": SIGN_UP,
                "variables": {"input": {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex}},
            },
            headers={"Authorization": f"Bearer {token}"},
        )

    async def delivered() -> str | None:
        text = (await client.get("/metrics")).text
        return text if 'linli_notifications_total{channel="inbox",status="delivered"}' in text else None

    text = await eventually(delivered)
    assert text is not None
    assert 'linli_graphql_requests_total{operation="signUp",outcome="ok"}' in text
    assert 'linli_graphql_latency_seconds_bucket{le="0.005",operation="signUp"}' in text
    assert 'linli_queue_depth{queue="activities"}' in text
    assert 'linli_jobs_total{job="sign_up",outcome="ok"' in text
