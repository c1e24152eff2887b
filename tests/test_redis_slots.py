"""Every Lua script's keys share one hash slot, so a Redis Cluster could run it: the keys are
named by the same functions the scripts' callers use, with user input that holds braces."""

from __future__ import annotations

import re
import uuid

import pytest
from pydantic import ValidationError
from redis.crc import key_slot

from services.common.commands import send_once_keys
from services.common.settings import Settings
from services.common.slots import hash_tag
from services.identity.service import Identity
from services.notify.delivery import delivery_job
from services.notify.handlers import SESSION, Reminder, reminder_job
from services.notify.jobs import QueuedJob
from tests.conftest import ROOT
from tests.dates import at, at_iso

SETTINGS = Settings(namespace="linli-slots")
# What people type where keys are made of it: idempotency keys, user names.
AWKWARD = ["plain", "", "{", "}", "{}", "}{", "a{b}c", "{x}", "wang}{li", "学校{一}", "x" * 200]


def slots(keys: list[str]) -> set[int]:
    return {key_slot(key.encode()) for key in keys}


@pytest.mark.parametrize("key", AWKWARD)
def test_a_commands_claim_shares_its_streams_slot(key: str) -> None:
    for service in ("activities", "volunteers"):
        keys = send_once_keys(SETTINGS, service, f"{service}:signUp:resident-{key}:{key}")
        assert len(slots(keys)) == 1, keys


@pytest.mark.parametrize("name", AWKWARD)
def test_an_accounts_password_gate_keys_share_one_slot(name: str) -> None:
    identity = Identity(pool=None, redis=None, settings=SETTINGS)  # type: ignore[arg-type]
    for address in ("10.0.0.1", None, "{ip}", "::1"):
        keys = identity._gate_keys(name, address).gate_keys()
        assert len(keys) == 5 and len(slots(keys)) == 1, keys


def test_accounts_spread_over_slots_rather_than_all_in_one() -> None:
    identity = Identity(pool=None, redis=None, settings=SETTINGS)  # type: ignore[arg-type]
    names = [f"organiser-{n}" for n in range(20)]
    assert len(slots([identity._gate_keys(name, None).account_count for name in names])) > 10


def test_notify_jobs_share_their_queues_slot() -> None:
    jobs = [delivery_job(SETTINGS, uuid.uuid4(), at(3, "09:00"), tag) for tag in ("", ":2", "{x}")]
    jobs.append(reminder_job(SETTINGS, Reminder("signup-{1}", at_iso(3), 120, at(3, "07:00"), SESSION)))
    keys = [key for job in jobs for key in job.script_keys()]
    assert len(slots(keys)) == 1, keys
    assert key_slot(SETTINGS.queue("notify").encode()) in slots(keys)


def test_a_job_named_outside_its_queues_slot_is_refused() -> None:
    stray = QueuedJob("deliver", (), "linli-slots:deliver:1", SETTINGS.queue("notify"))
    with pytest.raises(ValueError, match="hash slot"):
        stray.script_keys()


def test_a_namespace_with_braces_is_refused_it_would_move_keys_out_of_their_slots() -> None:
    with pytest.raises(ValidationError, match="LINLI_NAMESPACE"):
        Settings(namespace="linli{a}")
    with pytest.raises(ValueError):
        hash_tag("")


def test_every_file_with_a_lua_script_is_checked_here() -> None:
    """A new script must name its keys in one slot too, and be added to this module."""
    with_scripts = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "services").rglob("*.py")
        if re.search(r"redis\.call\(", path.read_text(encoding="utf-8"))
    }
    assert with_scripts == {
        "services/common/commands.py",  # _SEND_ONCE: send_once_keys
        "services/identity/throttle.py",  # _GATE: GateKeys.gate_keys; _REFUND: one key
        "services/notify/jobs.py",  # _ENQUEUE: QueuedJob.script_keys, one queue per run
    }
