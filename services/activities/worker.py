"""The activities worker: runs activities commands, relays its outbox to notify, and publishes
live seat counts from its own events."""

from __future__ import annotations

from services.activities.checkins import CHECK_IN_TICKET
from services.activities.contracts import SERVICE
from services.activities.erasure import ERASE_COMMANDS
from services.activities.handlers import COMMANDS
from services.activities.live_counts import EVENTS as COUNTED_EVENTS
from services.activities.live_counts import LIVE_COUNT_JOBS
from services.common.retention import pruning
from services.common.worker import ServiceWorker
from services.notify.contracts import CONSUMES

ACTIVITIES_WORKER = ServiceWorker(
    name=SERVICE,
    functions=[*COMMANDS, *ERASE_COMMANDS, CHECK_IN_TICKET, *LIVE_COUNT_JOBS],
    routes={"notify": CONSUMES, SERVICE: COUNTED_EVENTS},
    confirmed_by=("notify",),  # notify records every event it handles
    cron_jobs=[pruning(SERVICE)],
)
