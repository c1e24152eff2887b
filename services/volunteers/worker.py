"""The volunteers worker: runs shift, check-in, service-hours, certificate, wish, 议事会 and
three-lists commands and relays its outbox."""

from __future__ import annotations

from services.common.retention import pruning
from services.common.worker import ServiceWorker
from services.notify.contracts import CONSUMES
from services.volunteers.certificate_handlers import CERTIFICATE_COMMANDS
from services.volunteers.check_in_handlers import CHECK_IN_COMMANDS
from services.volunteers.contracts import SERVICE
from services.volunteers.council_handlers import COUNCIL_COMMANDS, OVERDUE_TASK_SWEEP
from services.volunteers.erasure import ERASE_COMMANDS
from services.volunteers.handlers import CHECK_OUT_JOBS, CHECK_OUT_SWEEP, COMMANDS
from services.volunteers.list_handlers import LIST_COMMANDS
from services.volunteers.wish_handlers import WISH_CLAIM_SWEEP, WISH_COMMANDS

VOLUNTEERS_WORKER = ServiceWorker(
    name=SERVICE,
    functions=[
        *COMMANDS,
        *CHECK_IN_COMMANDS,
        *ERASE_COMMANDS,
        *WISH_COMMANDS,
        *CERTIFICATE_COMMANDS,
        *COUNCIL_COMMANDS,
        *LIST_COMMANDS,
        *CHECK_OUT_JOBS,
    ],
    routes={"notify": CONSUMES},
    confirmed_by=("notify",),  # notify records every event it handles
    cron_jobs=[CHECK_OUT_SWEEP, WISH_CLAIM_SWEEP, OVERDUE_TASK_SWEEP, pruning(SERVICE)],
)
