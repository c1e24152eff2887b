"""The notify worker: consumes other services' events into people's inboxes."""

from __future__ import annotations

from services.common.worker import ServiceWorker
from services.notify.contracts import SERVICE
from services.notify.handlers import EVENT_HANDLERS, SMS_HANDLERS

NOTIFY_WORKER = ServiceWorker(name=SERVICE, functions=[*EVENT_HANDLERS, *SMS_HANDLERS])
