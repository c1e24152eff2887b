"""The notify worker: consumes other services' events into inboxes and deliveries (out of the
way of command bursts), sends reminders, and takes people's notification preferences."""

from __future__ import annotations

from services.common.retention import pruning
from services.common.worker import ServiceWorker
from services.notify.contracts import SERVICE
from services.notify.delivery import DELIVERY_HANDLERS
from services.notify.erasure import ERASE_COMMANDS
from services.notify.handlers import COMMANDS, EVENT_HANDLERS, SMS_HANDLERS, SWEEP, drain_deferred
from services.notify.repository import prune_deliveries, prune_inbox, prune_sms_outbox

NOTIFY_WORKER = ServiceWorker(
    name=SERVICE,
    functions=[*COMMANDS, *ERASE_COMMANDS, *EVENT_HANDLERS, *DELIVERY_HANDLERS, *SMS_HANDLERS],
    cron_jobs=[SWEEP, pruning(SERVICE, prune_deliveries, prune_sms_outbox, prune_inbox)],
    loops=[drain_deferred],  # events put off in a command burst (services/notify/deferral.py)
)
