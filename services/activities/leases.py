"""The offline lease of a session: which one door device may admit its tickets with no network.

Offline, two devices cannot ask each other whether a ticket is already in; so for each session
one device at a time holds the lease and only it admits offline (a device without it refuses in
words and can record a manual override, reported as a conflict if the party was let in elsewhere).
A lease lasts until it expires, is released, or is handed over to another device. Called by the
gateway directly: a door asking for the lease needs the answer now, not a queued command.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.common.db import Connection
from services.common.errors import Refusal

DEFAULT_LEASE = timedelta(hours=4)
LONGEST_LEASE = timedelta(hours=12)


@dataclass(frozen=True)
class Lease:
    session_id: uuid.UUID
    device_id: str
    holder: str
    acquired_at: datetime
    expires_at: datetime

    def held_by(self, device_id: str, now: datetime) -> bool:
        return self.device_id == device_id and now < self.expires_at


def acquire_refusal(current: Lease | None, device_id: str, now: datetime) -> Refusal | None:
    """Why ``device_id`` may not take the session's lease now, if it may not."""
    if current is None or now >= current.expires_at or current.device_id == device_id:
        return None
    return held_elsewhere(current)


def hand_over_refusal(
    current: Lease | None, device_id: str, to_device_id: str, now: datetime
) -> Refusal | None:
    if current is None or not current.held_by(device_id, now):
        return not_holder()
    if to_device_id == device_id:
        return Refusal("BAD_USER_INPUT", "请选择另一台设备", "Choose another device", {"field": "toDeviceId"})
    return None


def held_elsewhere(current: Lease) -> Refusal:
    until = current.expires_at.isoformat()
    return Refusal(
        "LEASE_HELD_ELSEWHERE",
        "另一台扫码设备正持有本场次的离线许可，请让它交接或释放",
        "Another scanner holds this session's offline lease; ask it to hand over or release it",
        {"deviceId": current.device_id, "expiresAt": until},
    )


def not_holder() -> Refusal:
    return Refusal(
        "NOT_LEASE_HOLDER",
        "本设备没有本场次的离线许可",
        "This device does not hold this session's offline lease",
    )


def _lease(row: object) -> Lease:
    return Lease(
        row["session_id"],  # type: ignore[index]
        row["device_id"],  # type: ignore[index]
        row["holder"],  # type: ignore[index]
        row["acquired_at"],  # type: ignore[index]
        row["expires_at"],  # type: ignore[index]
    )


async def current(conn: Connection, session_id: uuid.UUID, lock: bool = False) -> Lease | None:
    row = await conn.fetchrow(
        "SELECT * FROM activities.offline_leases WHERE session_id = $1" + (" FOR UPDATE" if lock else ""),
        session_id,
    )
    return _lease(row) if row else None


async def acquire(
    conn: Connection, session_id: uuid.UUID, device_id: str, holder: str, now: datetime, lasts: timedelta
) -> Lease:
    """Take (or renew) the session's lease for ``device_id``; LEASE_HELD_ELSEWHERE if another
    device holds it unexpired. One statement, so two devices asking at once cannot both win."""
    row = await conn.fetchrow(
        """
        INSERT INTO activities.offline_leases AS l VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (session_id) DO UPDATE
            SET device_id = $2, holder = $3, acquired_at = $4, expires_at = $5
            WHERE l.device_id = $2 OR l.expires_at <= $4
        RETURNING *
        """,
        session_id,
        device_id,
        holder,
        now,
        now + lasts,
    )
    if row is not None:
        return _lease(row)
    found = await current(conn, session_id)
    refusal = acquire_refusal(found, device_id, now)
    if refusal is None:  # released or expired in between: ask again
        return await acquire(conn, session_id, device_id, holder, now, lasts)
    raise refusal


async def _set(
    conn: Connection, session_id: uuid.UUID, device_id: str, holder: str, now: datetime, expires_at: datetime
) -> Lease:
    row = await conn.fetchrow(
        "UPDATE activities.offline_leases SET device_id = $2, holder = $3, acquired_at = $4, expires_at = $5 "
        "WHERE session_id = $1 RETURNING *",
        session_id,
        device_id,
        holder,
        now,
        expires_at,
    )
    return _lease(row)


async def release(conn: Connection, session_id: uuid.UUID, device_id: str) -> bool:
    """Give the lease up; False when this device did not hold it."""
    done = await conn.execute(
        "DELETE FROM activities.offline_leases WHERE session_id = $1 AND device_id = $2",
        session_id,
        device_id,
    )
    return bool(done.endswith(" 1"))


async def hand_over(
    conn: Connection,
    session_id: uuid.UUID,
    device_id: str,
    to_device_id: str,
    to_holder: str,
    now: datetime,
) -> Lease:
    """The holder passes its lease, with its expiry, to another device (the next shift's phone)."""
    async with conn.transaction():
        found = await current(conn, session_id, lock=True)
        refusal = hand_over_refusal(found, device_id, to_device_id, now)
        if refusal is not None:
            raise refusal
        assert found is not None
        return await _set(conn, session_id, to_device_id, to_holder, now, found.expires_at)
