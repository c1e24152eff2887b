"""The door without a network, in the API: the communities' public ticket keys, a device's offline
kit for a session (keys, masked roster, revocations, its lease), the lease itself (acquire,
release, hand over), sending queued offline admissions back in order, and the conflicts they
found, for organisers. Also ``/ticket-keys.json?community=…``, the keys for anyone to check a
ticket with.
"""

from __future__ import annotations

import base64
import re
import uuid
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.activities import (
    attendance,
    contracts,
    domain,
    leases,
    queries,
    signed_tickets,
    ticket_keys,
    tickets,
)
from services.common.actor import Actor
from services.common.clock import now
from services.common.errors import Refusal, bad_input, forbidden
from services.common.masking import mask_name
from services.gateway import commands
from services.gateway.context import Info
from services.gateway.inputs import check_key, parse_id
from services.gateway.marks import Secret
from services.gateway.tickets import MAX_CODE_LENGTH, NO_NAME, masked_people, named_people, party_of

_DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_SYNC_BATCH = 200


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def check_device(field: str, device_id: str) -> str:
    if not _DEVICE_ID.fullmatch(device_id):
        raise bad_input(field, "设备编号格式不正确", "Malformed device id")
    return device_id


@strawberry.type(description="A community's public Ed25519 key for checking tickets.")
class TicketKey:
    key_id: int
    community_id: str
    public_key: str = strawberry.field(description="The raw 32-byte key, base64url without padding.")
    valid_until: datetime | None = strawberry.field(description="Null while it still signs new tickets.")

    @classmethod
    def of(cls, key: signed_tickets.TicketKey) -> TicketKey:
        return cls(
            key_id=key.key_id,
            community_id=key.community_id,
            public_key=_b64(key.public_key),
            valid_until=key.valid_until,
        )


@strawberry.type(description="Which device may admit a session's tickets offline, until when.")
class OfflineLease:
    session_id: strawberry.ID
    device_id: str
    mine: bool = strawberry.field(description="Held by the device that asked.")
    expires_at: datetime

    @classmethod
    def of(cls, lease: leases.Lease, device_id: str) -> OfflineLease:
        return cls(
            session_id=strawberry.ID(str(lease.session_id)),
            device_id=lease.device_id,
            mine=lease.device_id == device_id,
            expires_at=lease.expires_at,
        )


@strawberry.type(description="A confirmed sign-up as an offline door keeps it (names masked).")
class OfflineRosterEntry:
    signup_id: strawberry.ID
    resident: str = strawberry.field(description="Masked name, e.g. 王**.")
    party_names: list[str] = strawberry.field(description="Masked names of who the ticket admits.")
    party_size: int
    admitted: int = strawberry.field(description="How many of the party were in when prepared.")


@strawberry.type(description="A ticket that no longer admits: its sign-up or its session was cancelled.")
class TicketRevocation:
    signup_id: strawberry.ID
    reason: str = strawberry.field(description="CANCELLED or SESSION_CANCELLED.")


@strawberry.type(description="What a door device downloads before it may lose the network.")
class OfflineDoorKit:
    session_id: strawberry.ID
    community_id: str
    title: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    check_in_opens_at: datetime
    keys: list[TicketKey]
    roster: list[OfflineRosterEntry]
    revocations: list[TicketRevocation]
    lease: OfflineLease | None = strawberry.field(description="The session's lease now, whoever holds it.")
    prepared_at: datetime


@strawberry.type(description="One admission of a conflict: who let the party in, when, on which device.")
class ConflictRecord:
    scanned_by: str
    at: datetime
    device_id: str | None
    override: bool = strawberry.field(description="Let in under a manual override, without the lease.")


@strawberry.type(description="An offline admission of a party that was already in: both records.")
class OfflineConflict:
    id: strawberry.ID
    signup_id: strawberry.ID
    resident: str = strawberry.field(description="Masked name.")
    first: ConflictRecord = strawberry.field(description="The admission that let the party in.")
    second: ConflictRecord = strawberry.field(description="The offline scan that came later, not merged.")
    reported_at: datetime


@strawberry.enum
class OfflineOutcome(Enum):
    ADMITTED = "ADMITTED"
    CONFLICT = "CONFLICT"
    REFUSED = "REFUSED"


@strawberry.type(description="What became of one queued offline admission.")
class OfflineSyncResult:
    idempotency_key: str
    outcome: OfflineOutcome
    signup_id: strawberry.ID | None = None
    people: int = 0
    code: str | None = strawberry.field(default=None, description="The refusal's code when REFUSED.")
    message_zh: str | None = None
    message_en: str | None = None


@strawberry.input
class OfflineLeaseInput:
    session_id: strawberry.ID
    device_id: str = strawberry.field(description="The scanner page's own id for this device.")
    minutes: int | None = strawberry.field(
        default=None, description="How long; 240 when omitted, 720 at most."
    )


@strawberry.input
class HandOverOfflineLeaseInput:
    session_id: strawberry.ID
    device_id: str = strawberry.field(description="The device holding the lease.")
    to_device_id: str = strawberry.field(description="The device taking it over.")


@strawberry.input
class OfflineAdmissionInput:
    code: str = strawberry.field(description="The ticket's code as scanned.", directives=[Secret()])
    session_id: strawberry.ID
    idempotency_key: str
    scanned_at: datetime = strawberry.field(description="When the device let the party in, by its clock.")
    override: bool = strawberry.field(
        default=False, description="Let in without the lease, by a person's decision."
    )


@strawberry.input
class SyncOfflineAdmissionsInput:
    device_id: str
    admissions: list[OfflineAdmissionInput] = strawberry.field(description="In the order they happened.")


async def _door_session(info: Info, actor: Actor, session_id: uuid.UUID) -> Any:
    async with info.context.pool.acquire() as conn:
        session = await attendance.session_at_door(conn, session_id)
    if session is None:
        raise domain.unknown_session()
    if not tickets.may_check_in(actor, session["community_id"]):
        raise forbidden()
    return session


def _lease_length(minutes: int | None) -> timedelta:
    if minutes is None:
        return leases.DEFAULT_LEASE
    lasts = timedelta(minutes=minutes)
    if not timedelta(minutes=1) <= lasts <= leases.LONGEST_LEASE:
        raise bad_input("minutes", "离线许可时长须在1分钟到12小时之间", "A lease lasts 1 minute to 12 hours")
    return lasts


def _revocation(row: Any) -> TicketRevocation | None:
    if row["session_status"] == domain.SessionStatus.CANCELLED:
        return TicketRevocation(signup_id=strawberry.ID(str(row["signup_id"])), reason="SESSION_CANCELLED")
    if row["status"] == domain.SignupStatus.CANCELLED:
        return TicketRevocation(signup_id=strawberry.ID(str(row["signup_id"])), reason="CANCELLED")
    return None


@strawberry.type
class OfflineDoorQuery:
    @strawberry.field(description="A community's public ticket keys (still valid, or expired lately).")
    async def ticket_keys(self, info: Info, community_id: str) -> list[TicketKey]:
        async with info.context.pool.acquire() as conn:
            found = await ticket_keys.published_keys(conn, [community_id], now())
        return [TicketKey.of(key) for key in found]

    @strawberry.field(
        description="Scanners: everything this device needs to admit a session's tickets offline."
    )
    async def prepare_offline_door(
        self, info: Info, session_id: strawberry.ID, device_id: str
    ) -> OfflineDoorKit:
        actor = info.context.require_actor()
        device = check_device("deviceId", device_id)
        session = await _door_session(info, actor, parse_id("sessionId", session_id))
        at = now()
        async with info.context.pool.acquire() as conn:
            # a community with no key yet gets one now, so the door has it before the first ticket
            await ticket_keys.signing_key(
                conn, info.context.resources.settings.secret, session["community_id"]
            )
            keys = await ticket_keys.published_keys(conn, [session["community_id"]], at)
            rows = await attendance.offline_roster(conn, session["id"])
            lease = await leases.current(conn, session["id"])
            people = await named_people(conn, [row["resident_id"] for row in rows])
        roster, revocations = [], []
        for row in rows:
            revocation = _revocation(row)
            if revocation is not None:
                revocations.append(revocation)
                continue
            person = people[row["resident_id"]]
            roster.append(
                OfflineRosterEntry(
                    signup_id=strawberry.ID(str(row["signup_id"])),
                    resident=NO_NAME if person.name == NO_NAME else mask_name(person.name),
                    party_names=[mask_name(n) for n in party_of(person, row["party_size"], row["attendees"])],
                    party_size=row["party_size"],
                    admitted=row["admitted"],
                )
            )
        return OfflineDoorKit(
            session_id=strawberry.ID(str(session["id"])),
            community_id=session["community_id"],
            title=session["activity_title"],
            venue=session["venue"],
            starts_at=session["starts_at"],
            ends_at=session["ends_at"],
            check_in_opens_at=session["starts_at"] - tickets.CHECK_IN_OPENS_BEFORE,
            keys=[TicketKey.of(key) for key in keys],
            roster=roster,
            revocations=revocations,
            lease=OfflineLease.of(lease, device) if lease and at < lease.expires_at else None,
            prepared_at=at,
        )

    @strawberry.field(description="Organisers: offline admissions of parties already in, with both records.")
    async def offline_conflicts(self, info: Info, session_id: strawberry.ID) -> list[OfflineConflict]:
        actor = info.context.require_actor()
        wanted = parse_id("sessionId", session_id)
        async with info.context.pool.acquire() as conn:
            session = await queries.session(conn, wanted)
            if session is None:
                raise domain.unknown_session()
            if not actor.may_organise(session["community_id"]):
                raise forbidden()
            rows = await attendance.offline_conflicts(conn, wanted)
            people = await masked_people(conn, [row["resident_id"] for row in rows])
        return [
            OfflineConflict(
                id=strawberry.ID(str(row["id"])),
                signup_id=strawberry.ID(str(row["signup_id"])),
                resident=people[row["resident_id"]].label,
                first=ConflictRecord(
                    scanned_by=row["first_scanned_by"],
                    at=row["first_admitted_at"],
                    device_id=row["first_device_id"],
                    override=row["first_override"],
                ),
                second=ConflictRecord(
                    scanned_by=row["scanned_by"],
                    at=row["offline_at"],
                    device_id=row["device_id"],
                    override=row["override"],
                ),
                reported_at=row["reported_at"],
            )
            for row in rows
        ]


@strawberry.type
class OfflineDoorMutation:
    @strawberry.mutation(description="Scanners: take (or renew) a session's offline lease for this device.")
    async def acquire_offline_lease(self, info: Info, input: OfflineLeaseInput) -> OfflineLease:
        actor = info.context.require_actor()
        device = check_device("deviceId", input.device_id)
        lasts = _lease_length(input.minutes)
        session = await _door_session(info, actor, parse_id("sessionId", input.session_id))
        async with info.context.pool.acquire() as conn:
            lease = await leases.acquire(conn, session["id"], device, actor.user_id, now(), lasts)
        return OfflineLease.of(lease, device)

    @strawberry.mutation(description="Scanners: give this device's offline lease up. False if it held none.")
    async def release_offline_lease(self, info: Info, input: OfflineLeaseInput) -> bool:
        actor = info.context.require_actor()
        device = check_device("deviceId", input.device_id)
        session = await _door_session(info, actor, parse_id("sessionId", input.session_id))
        async with info.context.pool.acquire() as conn:
            return await leases.release(conn, session["id"], device)

    @strawberry.mutation(
        description="Scanners: pass this device's offline lease, with its expiry, to another."
    )
    async def hand_over_offline_lease(self, info: Info, input: HandOverOfflineLeaseInput) -> OfflineLease:
        actor = info.context.require_actor()
        device = check_device("deviceId", input.device_id)
        to_device = check_device("toDeviceId", input.to_device_id)
        session = await _door_session(info, actor, parse_id("sessionId", input.session_id))
        async with info.context.pool.acquire() as conn:
            lease = await leases.hand_over(conn, session["id"], device, to_device, actor.user_id, now())
        return OfflineLease.of(lease, device)

    @strawberry.mutation(
        description="Organisers: start a new ticket key; the old one checks its tickets until they expire."
    )
    async def rotate_ticket_key(self, info: Info, community_id: str) -> TicketKey:
        actor = info.context.require_actor()
        if not actor.may_organise(community_id):
            raise forbidden()
        async with info.context.pool.acquire() as conn:
            key = await ticket_keys.rotate(conn, info.context.resources.settings.secret, community_id, now())
        return TicketKey.of(key)

    @strawberry.mutation(
        description="Scanners: send the admissions this device made offline, in order; each is admitted "
        "once, or kept as a conflict when the party was already in."
    )
    async def sync_offline_admissions(
        self, info: Info, input: SyncOfflineAdmissionsInput
    ) -> list[OfflineSyncResult]:
        actor = info.context.require_actor()
        device = check_device("deviceId", input.device_id)
        if len(input.admissions) > MAX_SYNC_BATCH:
            raise bad_input("admissions", "一次最多同步200条", "At most 200 admissions at a time")
        for item in input.admissions:  # all checked before any is applied: a bad batch changes nothing
            check_key(item.idempotency_key)
            parse_id("sessionId", item.session_id)
            if not item.code.strip() or len(item.code) > MAX_CODE_LENGTH:
                raise bad_input("code", "二维码内容无效", "The scanned code is empty or too long")
        results = []
        for item in input.admissions:  # in order: the first to arrive is the admission
            results.append(await _sync_one(info, actor, device, item))
        return results


async def _sync_one(info: Info, actor: Actor, device: str, item: OfflineAdmissionInput) -> OfflineSyncResult:
    key = item.idempotency_key
    args: dict[str, Any] = {
        "id": str(contracts.id_for("ticket-check-in", actor.user_id, key)),
        "session_id": str(item.session_id),
        "people": None,
        "code": item.code.strip(),
        "offline": {
            "device_id": device,
            "offline_at": item.scanned_at.isoformat(),
            "override": item.override,
        },
    }
    try:
        admission = await commands.answer(
            info, contracts.SERVICE, contracts.CHECK_IN_TICKET, actor, args, key, contracts.TicketCheckIn.of
        )
    except Refusal as refusal:
        if refusal.code in ("STILL_PROCESSING", "SERVICE_UNAVAILABLE", "INTERNAL_ERROR"):
            raise  # the device keeps it queued and sends the same batch again
        return OfflineSyncResult(
            idempotency_key=key,
            outcome=OfflineOutcome.REFUSED,
            code=refusal.code,
            message_zh=refusal.zh,
            message_en=refusal.en,
        )
    return OfflineSyncResult(
        idempotency_key=key,
        outcome=OfflineOutcome.CONFLICT if admission.conflict else OfflineOutcome.ADMITTED,
        signup_id=strawberry.ID(admission.signup_id),
        people=admission.people,
    )


def offline_door_routes(resources: dict[str, Any]) -> list[Route]:
    """``/ticket-keys.json?community=<id>``: the community's public ticket keys, for anyone."""

    async def keys(request: Request) -> JSONResponse:
        community = request.query_params.get("community", "")
        if not community or len(community) > 64:
            return JSONResponse({"error": "community is required"}, status_code=400)
        live = resources["live"]
        async with live.pool.acquire() as conn:
            found = await ticket_keys.published_keys(conn, [community], now())
        return JSONResponse(
            {
                "algorithm": "Ed25519",
                "signedMessage": "linli:ticket:v2: || body",
                "keys": [
                    {
                        "keyId": key.key_id,
                        "communityId": key.community_id,
                        "publicKey": _b64(key.public_key),
                        "validUntil": key.valid_until.isoformat() if key.valid_until else None,
                    }
                    for key in found
                ],
            },
            headers={"Cache-Control": "max-age=300"},
        )

    return [Route("/ticket-keys.json", keys)]
