"""Check-ins by station code or card, answered in batches: when a shift's crowd arrives at once,
the scans the worker reads together are decided in one transaction.

Each scan gets the answer it would get alone (first scan, the same check-in again, or its
refusal); a scan that fails for another reason fails alone and is retried alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from services.common import clock
from services.common.commands import Envelope, Reply, batch_command
from services.common.db import row_as_dict
from services.common.errors import Refusal, forbidden
from services.common.ids import new_id
from services.common.outbox import NewEvent, record_events
from services.volunteers import codes, contracts, domain
from services.volunteers import repository as repo
from services.volunteers.domain import DEFAULT_POLICY, CheckInMethod
from services.volunteers.handlers import SCHEMA, _close_at_shift_end, _pool, _settings


@dataclass
class _Scan:
    """One check-in command of a batch, with its answer once decided."""

    envelope: Envelope
    shift_id: uuid.UUID | None = None
    volunteer_id: str = ""
    method: CheckInMethod = CheckInMethod.STATION
    reply: Reply | None = None
    failure: Exception | None = None

    @property
    def pending(self) -> bool:
        return self.reply is None and self.failure is None

    @property
    def attendee(self) -> repo.Attendee:
        assert self.shift_id is not None
        return self.shift_id, self.volunteer_id

    def answer(self, row: asyncpg.Record, first: bool) -> None:
        self.reply = Reply(value={**row_as_dict(row), "first_scan": first})

    def refuse(self, refusal: Refusal) -> None:
        self.reply = Reply(refusal=refusal)


def _read(envelope: Envelope) -> _Scan:
    scan = _Scan(envelope)
    try:
        scan.shift_id = uuid.UUID(envelope.args["shift_id"])
    except Exception as exc:  # the gateway sends ids it parsed: this one is broken
        scan.failure = exc
    return scan


def _identify(scan: _Scan, shift: asyncpg.Record | None, secret: str, at: datetime) -> None:
    """Who the scan checks in and how, from the shift and the code alone; or its refusal."""
    actor = scan.envelope.actor
    try:
        code: str = scan.envelope.args["code"]
        if shift is None:
            raise domain.shift_not_found()
        if codes.is_card(code):
            if not domain.may_scan_cards(actor, shift["community_id"]):
                raise forbidden()
            scan.volunteer_id = codes.read_card(secret, code)
            scan.method = CheckInMethod.CARD
            return
        if codes.is_station_digits(code):  # typed by hand from the station's six digits
            codes.verify_station_digits(secret, code, shift["community_id"], shift["venue"], at.timestamp())
        else:
            codes.verify_station_code(secret, code, shift["community_id"], shift["venue"], at.timestamp())
        scan.volunteer_id = actor.user_id
        scan.method = CheckInMethod.STATION
    except Refusal as refusal:
        scan.refuse(refusal)
    except Exception as exc:  # a code no scanner produces: this command fails, not the batch
        scan.failure = exc


def _event(scan: _Scan, shift: asyncpg.Record, row: asyncpg.Record) -> NewEvent:
    payload = {
        "check_in_id": str(row["id"]),
        "shift_id": str(row["shift_id"]),
        "volunteer_id": row["volunteer_id"],
        "community_id": shift["community_id"],
        "venue": shift["venue"],
        "role": shift["role"],
        "method": scan.method.value,
        "scanned_by": scan.envelope.actor.user_id,
        "checked_in_at": row["checked_in_at"].isoformat(),
    }
    # each event continues its own request: its correlation id and trace
    return contracts.VOLUNTEER_CHECKED_IN, payload, scan.envelope.correlation_id, scan.envelope.traceparent


@dataclass
class _Decisions:
    """What a batch's scans come to once sign-ups and open check-ins are known."""

    new: dict[repo.Attendee, tuple[_Scan, repo.NewCheckIn]] = field(default_factory=dict)
    twins: list[_Scan] = field(default_factory=list)  # the same person again, after a first scan


def _decide(
    pending: Sequence[_Scan],
    shifts: dict[uuid.UUID, asyncpg.Record],
    signed_up: set[repo.Attendee],
    open_: dict[repo.Attendee, asyncpg.Record],
    at: datetime,
) -> _Decisions:
    """In arrival order, as each scan alone would be: refused, answered with the open check-in,
    or a new check-in (the first of each person; a later scan of theirs is its twin)."""
    decided = _Decisions()
    for scan in pending:
        shift_id, volunteer_id = scan.attendee
        if scan.attendee not in signed_up:
            scan.refuse(domain.not_signed_up())
        elif scan.attendee in open_:
            scan.answer(open_[scan.attendee], first=False)
        elif scan.attendee in decided.new:
            decided.twins.append(scan)
        else:
            try:
                domain.ensure_may_check_in(at, repo.shift_span(shifts[shift_id]), DEFAULT_POLICY)
            except Refusal as refusal:
                scan.refuse(refusal)
                continue
            who = scan.envelope.actor.user_id
            check_in = repo.NewCheckIn(new_id(), shift_id, volunteer_id, scan.method, who, at)
            decided.new[scan.attendee] = (scan, check_in)
    return decided


def _settle(
    decided: _Decisions,
    made: dict[repo.Attendee, asyncpg.Record],
    earlier: dict[repo.Attendee, asyncpg.Record],
) -> None:
    """Answer the new check-ins and their twins once written: a first scan, or the check-in a
    concurrent scan committed first; if neither is there (checked out in between), the scan is
    decided again, alone."""
    firsts = [(scan, True) for scan, _ in decided.new.values()]
    for scan, may_be_first in [*firsts, *((twin, False) for twin in decided.twins)]:
        inserted = made.get(scan.attendee)
        found = inserted if inserted is not None else earlier.get(scan.attendee)
        if found is not None:
            scan.answer(found, first=may_be_first and inserted is not None)
        else:
            scan.failure = RuntimeError(f"check-in of {scan.attendee} moved under the scan; deciding again")


async def check_in(ctx: dict[str, Any], envelopes: Sequence[Envelope]) -> list[Reply | Exception]:
    """Check in by the venue's station code (self) or by a volunteer's card (scanned by staff).

    A second scan while checked in answers with the same check-in and changes nothing, whether
    it comes in the same batch, a later one or a concurrent worker's. The batch reads its
    shifts, sign-ups and open check-ins with one statement each, opens every new check-in with
    one insert and writes their events with one more.
    """
    secret = _settings(ctx).secret
    at = clock.now()
    scans = [_read(envelope) for envelope in envelopes]
    decided = _Decisions()
    made: dict[repo.Attendee, asyncpg.Record] = {}
    earlier: dict[repo.Attendee, asyncpg.Record] = {}
    async with _pool(ctx).acquire() as conn:
        shifts = await repo.shifts_by_id(conn, list({s.shift_id for s in scans if s.shift_id}))
        for scan in scans:
            if scan.pending:
                assert scan.shift_id is not None
                _identify(scan, shifts.get(scan.shift_id), secret, at)
        pending = [s for s in scans if s.pending]
        if pending:
            async with conn.transaction():
                attendees = list({s.attendee for s in pending})
                signed_up = await repo.signed_up_among(conn, attendees)
                open_ = await repo.open_check_ins_among(conn, attendees)
                decided = _decide(pending, shifts, signed_up, open_, at)
                if decided.new:
                    made = await repo.insert_check_ins(conn, [c for _, c in decided.new.values()])
                    await record_events(
                        conn,
                        SCHEMA,
                        [
                            _event(scan, shifts[a[0]], made[a])
                            for a, (scan, _) in decided.new.items()
                            if a in made
                        ],
                    )
                # A concurrent scan of the same person for the same shift got there first.
                lost = [a for a in decided.new if a not in made]
                if lost:
                    earlier = await repo.open_check_ins_among(conn, lost)
    _settle(decided, made, earlier)
    for shift_id in {shift_id for shift_id, _ in made}:
        await _close_at_shift_end(ctx, shift_id, shifts[shift_id]["ends_at"])
    return [scan.reply or scan.failure or RuntimeError("unanswered") for scan in scans]


CHECK_IN_COMMANDS = [batch_command(contracts.CHECK_IN, check_in)]
