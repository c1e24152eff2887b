"""The notification bound of a sign-up burst (issue 17): how long after the burst's last answer
the last resident's confirmation (or wait-list message) is in their inbox, against the 30 s
promised; and notify's CPU inside the burst against after it, which deferral should move out
of the burst (services/notify/deferral.py). Used by ``bench.signup_burst``."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

TARGET_NOTIFY_BOUND_S = 30.0
NOTIFY_ROLE = "notify-worker"  # the platform's notify process (bench.signup_burst.Platform.pids)
# The burst's answers, as inbox messages (one per resident who got a final answer).
ANSWER_KINDS = ["signup.confirmed", "signup.waitlisted"]


@dataclass
class NotifyBound:
    expected: int  # residents answered CONFIRMED or WAITLISTED
    told: int = 0  # of them with their message in the inbox when the wait ended
    # last message's time minus the burst's last answer; None if not all arrived in the wait
    bound_s: float | None = None
    waited_s: float = 0.0  # how long the driver waited for the last one
    notify_cpu_in_burst_s: float = 0.0
    notify_cpu_after_s: float = 0.0  # from the last answer until the last message

    @property
    def met(self) -> bool:
        return self.bound_s is not None and self.bound_s <= TARGET_NOTIFY_BOUND_S


async def wait_notified(
    database_url: str, prefix: str, expected: int, ended_at: datetime, timeout_s: float = 120
) -> tuple[int, float | None, float]:
    """Wait until ``expected`` residents of the burst (``<prefix>-resident-<i>``) hold their
    answer's message; returns how many do, the last one's delay after ``ended_at`` (seconds,
    None if they were not all told in time) and how long this waited. An inbox row's time is
    its transaction's start: the delay is short by that transaction's length at most."""
    started = time.perf_counter()
    conn = await asyncpg.connect(database_url)
    try:
        while True:
            row = await conn.fetchrow(
                "SELECT count(DISTINCT recipient_id) AS told, max(created_at) AS last FROM notify.inbox "
                "WHERE recipient_id LIKE $1 || '-resident-%' AND kind = ANY($2::text[])",
                prefix,
                ANSWER_KINDS,
            )
            assert row is not None
            told, last = row["told"], row["last"]
            waited = round(time.perf_counter() - started, 2)
            if told >= expected:
                return told, round((last - ended_at).total_seconds(), 2), waited
            if waited > timeout_s:
                return told, None, waited
            await asyncio.sleep(0.1)
    finally:
        await conn.close()


def last_answer_at() -> datetime:
    return datetime.now(UTC)


def process_cpu_s(pid: int | None) -> float:
    """CPU seconds (user + system) one process used so far; 0 when it is gone. By pid, not by
    role: other people's ``linli up`` on a shared machine run workers of the same name."""
    if pid is None:
        return 0.0
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def print_bounds(bounds: dict[str, NotifyBound]) -> None:
    if not bounds:
        return
    print(
        "\nNotifications out of the burst: the last answer's message in the inbox after the burst's "
        f"last answer (target <= {TARGET_NOTIFY_BOUND_S:.0f} s), and notify's CPU inside the burst vs after:"
    )
    for name, b in bounds.items():
        if b.bound_s is None:
            told = f"only {b.told} of {b.expected} told after {b.waited_s:.0f} s -> NOT MET"
        else:
            told = f"{b.bound_s:.1f} s ({b.told} told) -> {'MET' if b.met else 'NOT MET'}"
        per = 1000 / max(b.expected, 1)
        print(
            f"  {name:<12} {told}; notify CPU in the burst {b.notify_cpu_in_burst_s:.2f} s "
            f"({b.notify_cpu_in_burst_s * per:.2f} ms/sign-up), after it {b.notify_cpu_after_s:.2f} s "
            f"({b.notify_cpu_after_s * per:.2f} ms/sign-up)"
        )
