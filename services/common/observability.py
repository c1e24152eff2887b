"""Logs and metrics: JSON log lines carrying a correlation id, and Prometheus metrics.

The correlation id is born in the gateway (or taken from the client's ``X-Request-ID``),
travels in each command's envelope and each event's envelope, and is set again in the
worker that handles them, so one sign-up's request, job, event and notification can be
found by a single id.
"""

from __future__ import annotations

import contextvars
import json
import logging
import uuid
from datetime import UTC, datetime

from prometheus_client import Counter, Gauge, Histogram

from services.common.masking import mask_phones_in
from services.common.tracing import current_trace_id

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


_base_record_factory = logging.getLogRecordFactory()


def _stamped_record(*args: object, **kwargs: object) -> logging.LogRecord:
    """Every log record carries the correlation id current where it was made, and the trace id
    beside it when tracing is on."""
    record = _base_record_factory(*args, **kwargs)
    record.correlation_id = correlation_id.get()
    record.trace_id = current_trace_id()
    return record


logging.setLogRecordFactory(_stamped_record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, correlation id, service."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": mask_phones_in(record.getMessage()),
        }
        cid = getattr(record, "correlation_id", None)
        if cid:
            entry["correlation_id"] = cid
        trace_id = getattr(record, "trace_id", None)
        if trace_id:
            entry["trace_id"] = trace_id
        if record.exc_info:
            entry["error"] = mask_phones_in(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(service: str, json_lines: bool = True) -> None:
    """Log to stderr, as JSON lines in production-like runs, plain text for a developer."""
    handler = logging.StreamHandler()
    if json_lines:
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s {service} %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


# --- metrics -------------------------------------------------------------------------------
# Each process (gateway, each worker) exposes its own registry; labels keep cardinality low.

GRAPHQL_REQUESTS = Counter(
    "linli_graphql_requests_total", "GraphQL operations handled", ["operation", "outcome"]
)
GRAPHQL_LATENCY = Histogram(
    "linli_graphql_latency_seconds",
    "Time to answer a GraphQL operation",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
QUEUE_DEPTH = Gauge("linli_queue_depth", "Jobs waiting in a service's queue", ["queue"])
JOBS = Counter("linli_jobs_total", "Jobs run by a worker", ["queue", "job", "outcome"])
JOB_WAIT = Histogram(
    "linli_job_wait_seconds",
    "Time a job waited in its queue before a worker took it",
    ["queue"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30),
)
DEAD_LETTERED = Counter(
    "linli_commands_dead_lettered_total",
    "Commands given up on and moved to a dead-letter stream",
    ["service", "command"],
)
DEAD_COMMANDS = Gauge(
    "linli_dead_commands", "Commands waiting in a service's dead-letter stream", ["service"]
)
SIGNUPS = Counter("linli_signups_total", "Sign-ups by outcome", ["outcome"])
CHECK_INS = Counter("linli_check_ins_total", "Volunteer and ticket check-ins", ["kind", "outcome"])
NOTIFICATIONS = Counter(
    "linli_notifications_total", "Notifications by channel and status", ["channel", "status"]
)
WITHOUT_TEMPLATE = Counter(
    "linli_messages_without_template_total",
    "Messages not sent on a channel (SMS, WeChat) because their kind has no approved template there",
    ["channel", "kind"],
)
OUTBOX_LAG = Gauge("linli_outbox_lag_seconds", "Age of the oldest event not yet relayed", ["schema"])
EVENTS_RESENT = Counter(
    "linli_events_resent_total",
    "Relayed events a consumer had no record of: sent again, or given up on after the last try",
    ["schema", "consumer", "outcome"],
)
