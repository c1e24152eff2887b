"""The activities worker: runs activities commands and relays its outbox to notify."""

from __future__ import annotations

from services.activities.contracts import SERVICE
from services.activities.handlers import COMMANDS
from services.common.worker import ServiceWorker
from services.notify.contracts import CONSUMES

ACTIVITIES_WORKER = ServiceWorker(name=SERVICE, functions=COMMANDS, routes={"notify": CONSUMES})
