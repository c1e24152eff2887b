"""Certificate and correction commands: load, decide with ``certificates``, save and record
events in one transaction (see ``certificates`` for the rules)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg

from services.common import clock
from services.common.actor import RESIDENT, VOLUNTEER, Actor
from services.common.commands import command
from services.common.db import row_as_dict
from services.common.errors import forbidden
from services.common.outbox import record_event
from services.volunteers import certificate_repository as repo
from services.volunteers import certificates as rules
from services.volunteers import contracts, domain, reports
from services.volunteers import repository as ledger
from services.volunteers.domain import LedgerKind
from services.volunteers.handlers import _now, _pool, _settings
from services.volunteers.profiles import check_period

SCHEMA = contracts.SERVICE


async def issue_certificate(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """Issue a numbered certificate of a volunteer's service with a community in a period: on
    their own request, or an organiser's of that community. The gateway sends the volunteer's
    name and masked identity and the issuer's fields from the directory; the hours come from
    the ledger here, and all of it is kept with the certificate as issued."""
    certificate_id = uuid.UUID(args["id"])
    community_id: str = args["community_id"]
    volunteer_id = domain.check_text("volunteerId", args["volunteer_id"], 64)
    if volunteer_id == actor.user_id:
        if not actor.has_role(RESIDENT, VOLUNTEER) and not actor.may_organise(community_id):
            raise forbidden()
    elif not actor.may_organise(community_id):
        raise forbidden()
    start, end = check_period(date.fromisoformat(args["starts_on"]), date.fromisoformat(args["ends_on"]))
    since, until = reports.period_bounds(start, end)
    at = _now(ctx)
    issued_on = at.astimezone(clock.LOCAL_TZ).date()
    issuer = args["issuer"]
    code = rules.issuer_code(community_id, issuer.get("code", ""))
    try:
        async with _pool(ctx).acquire() as conn, conn.transaction():
            existing = await repo.get_certificate(conn, certificate_id)
            if existing is not None:
                return row_as_dict(existing)
            if community_id not in await reports.communities_of(conn, volunteer_id):
                raise forbidden()  # only the community that kept their records certifies them
            activities = await repo.service_lines(conn, volunteer_id, community_id, since, until)
            rules.ensure_something_to_certify(activities)
            serial = await repo.next_serial(conn, community_id, issued_on.year)
            row = await repo.insert_certificate(
                conn,
                certificate_id,
                rules.certificate_number(code, issued_on.year, serial),
                community_id,
                issued_on.year,
                serial,
                {"id": volunteer_id, "name": args["volunteer_name"], "identity": args["volunteer_identity"]},
                (start, end),
                activities,
                issuer,
                at,
                issued_on,
                actor.user_id,
            )
            await record_event(
                conn,
                SCHEMA,
                contracts.CERTIFICATE_ISSUED,
                {
                    "certificate_id": str(certificate_id),
                    "number": row["number"],
                    "volunteer_id": volunteer_id,
                    "community_id": community_id,
                    "minutes": row["minutes"],
                    "requested_by": actor.user_id,
                },
            )
    except asyncpg.UniqueViolationError:
        # A twin of this request (same id) committed first; our number went back with our rollback.
        async with _pool(ctx).acquire() as conn:
            twin = await repo.get_certificate(conn, certificate_id)
        if twin is None:
            raise
        return row_as_dict(twin)
    return row_as_dict(row)


async def revoke_certificate(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """The issuing community revokes a certificate with a reason: it verifies as revoked from
    then on, and the holder is told. Its number is never given again."""
    number = rules.check_number(args["number"])
    async with _pool(ctx).acquire() as conn, conn.transaction():
        found = await repo.certificate_by_number(conn, number, for_update=True)
        if found is None:
            raise rules.certificate_not_found()
        if not actor.may_organise(found["issuer_id"]):
            raise forbidden()
        if found["status"] == rules.CertificateStatus.REVOKED.value and found["revoked_by"] == actor.user_id:
            return row_as_dict(found)  # the same request again
        reason = rules.check_revocation(rules.CertificateStatus(found["status"]), args["reason"])
        row = await repo.revoke_certificate(conn, found["id"], reason, actor.user_id, _now(ctx))
        await record_event(
            conn,
            SCHEMA,
            contracts.CERTIFICATE_REVOKED,
            {
                "number": number,
                "volunteer_id": row["volunteer_id"],
                "community_id": row["issuer_id"],
                "reason": reason,
                "revoked_by": actor.user_id,
            },
        )
    return row_as_dict(row)


async def request_record_correction(
    ctx: dict[str, Any], actor: Actor, args: dict[str, Any]
) -> dict[str, Any]:
    """A volunteer asks for the record of one of their shifts to be corrected, with a reason."""
    if not actor.has_role(RESIDENT, VOLUNTEER):
        raise forbidden()
    request_id = uuid.UUID(args["id"])
    shift_id = uuid.UUID(args["shift_id"])
    try:
        async with _pool(ctx).acquire() as conn, conn.transaction():
            existing = await repo.get_correction_request(conn, request_id)
            if existing is not None:
                return row_as_dict(existing)
            shift = await ledger.get_shift(conn, shift_id)
            if shift is None:
                raise domain.shift_not_found()
            if not await repo.has_record(conn, actor.user_id, shift_id):
                raise domain.not_signed_up()
            credited = await repo.credited_for_shift(conn, actor.user_id, shift_id)
            asked, reason = rules.check_correction_request(int(args["minutes"]), credited, args["reason"])
            row = await repo.insert_correction_request(
                conn, request_id, actor.user_id, shift, credited, asked, reason, _now(ctx)
            )
    except asyncpg.UniqueViolationError as exc:
        async with _pool(ctx).acquire() as conn:
            twin = await repo.get_correction_request(conn, request_id)
        if twin is not None:
            return row_as_dict(twin)
        raise rules.correction_already_open() from exc
    return row_as_dict(row)


async def decide_record_correction(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """The community accepts a correction request (a correction entry brings the shift's record
    to what the volunteer asked) or declines it with a reason. The volunteer is told either way;
    the gateway's audit log records who decided."""
    request_id = uuid.UUID(args["request_id"])
    status, decline_reason = rules.correction_outcome(
        rules.CorrectionDecision(args["decision"]), args.get("reason")
    )
    at = _now(ctx)
    async with _pool(ctx).acquire() as conn, conn.transaction():
        found = await repo.get_correction_request(conn, request_id, for_update=True)
        if found is None:
            raise rules.correction_not_found()
        if not actor.may_organise(found["community_id"]):
            raise forbidden()
        if found["status"] != rules.CorrectionStatus.OPEN.value:
            if found["status"] == status.value and found["decided_by"] == actor.user_id:
                return row_as_dict(found)  # the same decision again
            raise rules.correction_decided(found["status"])
        volunteer_id: str = found["volunteer_id"]
        entry_id = None
        change = 0
        if status is rules.CorrectionStatus.ACCEPTED:
            await ledger.lock_volunteer(conn, volunteer_id)
            change = found["asked_minutes"] - await repo.credited_for_shift(
                conn, volunteer_id, found["shift_id"]
            )
            if change:
                entry = await ledger.insert_ledger_entry(
                    conn,
                    uuid.uuid4(),
                    volunteer_id,
                    found["shift_id"],
                    LedgerKind.CORRECTION,
                    change,
                    recorded_by=actor.user_id,
                    reason=rules.correction_reason(found["reason"]),
                )
                entry_id = entry["id"]
        row = await repo.decide_correction_request(
            conn, request_id, status, decline_reason, actor.user_id, at, entry_id
        )
        shift = await ledger.get_shift(conn, found["shift_id"])
        assert shift is not None
        await record_event(
            conn,
            SCHEMA,
            contracts.RECORD_CORRECTION_DECIDED,
            {
                "request_id": str(request_id),
                "volunteer_id": volunteer_id,
                "community_id": found["community_id"],
                "status": status.value,
                "reason": decline_reason,
                "role": shift["role"],
                "venue": shift["venue"],
                "starts_at": shift["starts_at"].isoformat(),
                "asked_minutes": found["asked_minutes"],
                "minutes_changed": change,
                "decided_by": actor.user_id,
                "shift_community_id": shift["community_id"],  # the dashboard counts the change there
                **await ledger.units_of(conn, volunteer_id),
            },
        )
    return row_as_dict(row)


async def confirm_service_records(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """An organiser confirms a shift's records (who and when are kept), within
    ``Settings.volunteer_record_lock_days`` of its end; after that they are locked."""
    shift_id = uuid.UUID(args["shift_id"])
    lock_days = _settings(ctx).volunteer_record_lock_days
    at = _now(ctx)
    async with _pool(ctx).acquire() as conn, conn.transaction():
        shift = await ledger.get_shift(conn, shift_id)
        if shift is None:
            raise domain.shift_not_found()
        if not actor.may_organise(shift["community_id"]):
            raise forbidden()
        if rules.record_locked(shift["ends_at"], at, lock_days):
            raise rules.record_locked_refusal(lock_days)
        confirmed = await repo.confirm_records(conn, shift_id, actor.user_id, at)
    return {"shift_id": str(shift_id), "confirmed": confirmed}


CERTIFICATE_COMMANDS = [
    command(contracts.ISSUE_CERTIFICATE, issue_certificate),
    command(contracts.REVOKE_CERTIFICATE, revoke_certificate),
    command(contracts.REQUEST_RECORD_CORRECTION, request_record_correction),
    command(contracts.DECIDE_RECORD_CORRECTION, decide_record_correction),
    command(contracts.CONFIRM_SERVICE_RECORDS, confirm_service_records),
]
