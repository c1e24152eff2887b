"""志愿服务记录证明 and record corrections in GraphQL: volunteers request certificates and
corrections, organisers issue, revoke, keep the register and decide corrections; anybody
verifies a certificate by its number (masked, see ``services.volunteers.certificates``)."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Any

import strawberry

from services.common.actor import RESIDENT, VOLUNTEER
from services.common.erasure import ERASED_RESIDENT, is_pseudonym
from services.common.errors import Refusal, forbidden
from services.common.masking import mask_name
from services.common.paging import DEFAULT_LIMIT, after_uuid, checked_limit
from services.common.replies import as_datetime
from services.gateway import commands
from services.gateway.context import Info
from services.gateway.inputs import check_key, parse_id
from services.gateway.names import community_name
from services.gateway.paging import After, Limit
from services.gateway.volunteers import volunteers_named
from services.identity.directory import CommunityContact, Directory, community_contact
from services.volunteers import certificate_repository as certs
from services.volunteers import contracts
from services.volunteers.certificates import (
    CertificateStatus,
    CorrectionDecision,
    CorrectionStatus,
    certificate_not_found,
    check_number,
    issuer_code,
)

strawberry.enum(CertificateStatus, name="CertificateStatus", description="VALID, or REVOKED with a reason.")
strawberry.enum(CorrectionStatus, name="RecordCorrectionStatus", description="OPEN, ACCEPTED or DECLINED.")
strawberry.enum(
    CorrectionDecision, name="RecordCorrectionDecision", description="Accept, or decline with a reason."
)


def verification_path(number: str) -> str:
    return f"/v/{number}"


@strawberry.type(description="One activity a certificate certifies: content, place, day and minutes.")
class CertificateActivity:
    content: str
    place: str
    on: date
    minutes: int


@strawberry.type(description="A 志愿服务记录证明 as issued (its register entry).")
class Certificate:
    id: strawberry.ID
    number: str = strawberry.field(
        description="LW-<issuer code>-<year>-<serial>, gap-free per issuer and year."
    )
    community_id: str = strawberry.field(description="The issuing community.")
    volunteer_id: str
    volunteer_name: str
    volunteer_identity: str = strawberry.field(description="Masked, e.g. 手机号 138****5678.")
    starts_on: date
    ends_on: date
    minutes: int
    hours: float
    activities: list[CertificateActivity]
    issuer_name: str
    person_in_charge: str
    handler: str
    contact: str
    issued_on: date
    status: CertificateStatus
    revoke_reason: str | None
    revoked_at: datetime | None
    verification_path: str = strawberry.field(description="The public verification page: /v/<number>.")

    @strawberry.field(description="The issuing community's name.")
    async def community_name(self, info: Info) -> str:
        return await community_name(info, self.community_id)

    @classmethod
    def from_row(cls, row: Any) -> Certificate:
        revoked_at = row.get("revoked_at")
        return cls(
            id=strawberry.ID(str(row["id"])),
            number=row["number"],
            community_id=row["issuer_id"],
            volunteer_id=row["volunteer_id"],
            volunteer_name=row["volunteer_name"],
            volunteer_identity=row["volunteer_identity"],
            starts_on=_date(row["starts_on"]),
            ends_on=_date(row["ends_on"]),
            minutes=row["minutes"],
            hours=round(row["minutes"] / 60, 2),
            activities=[
                CertificateActivity(
                    content=a["content"], place=a["place"], on=_date(a["on"]), minutes=a["minutes"]
                )
                for a in _activities(row["activities"])
            ],
            issuer_name=row["issuer_name"],
            person_in_charge=row["person_in_charge"],
            handler=row["handler"],
            contact=row["contact"],
            issued_on=_date(row["issued_on"]),
            status=CertificateStatus(row["status"]),
            revoke_reason=row.get("revoke_reason"),
            revoked_at=as_datetime(revoked_at) if revoked_at else None,
            verification_path=verification_path(row["number"]),
        )


@strawberry.type(
    description="What anybody sees of a certificate by its number: no login, nothing else personal."
)
class CertificateVerification:
    number: str
    masked_name: str = strawberry.field(description="张* for 张三.")
    starts_on: date
    ends_on: date
    hours: float
    issuer_name: str
    issued_on: date
    valid: bool
    revoked_on: date | None


@strawberry.type(description="A volunteer's request to correct the record of one of their shifts.")
class RecordCorrectionRequest:
    id: strawberry.ID
    volunteer_id: str
    shift_id: strawberry.ID
    community_id: str
    role: str
    venue: str
    shift_starts_at: datetime
    credited_minutes: int = strawberry.field(description="What the record said when they asked.")
    asked_minutes: int
    minutes_now: int = strawberry.field(description="What the record says now.")
    reason: str
    status: CorrectionStatus
    decline_reason: str | None
    requested_at: datetime
    decided_at: datetime | None
    name: str | None = strawberry.field(default=None, description="Organisers: the name they gave.")

    @classmethod
    def from_row(cls, row: Any, name: str | None = None) -> RecordCorrectionRequest:
        decided_at = row["decided_at"]
        return cls(
            id=strawberry.ID(str(row["id"])),
            volunteer_id=row["volunteer_id"],
            shift_id=strawberry.ID(str(row["shift_id"])),
            community_id=row["community_id"],
            role=row["role"],
            venue=row["venue"],
            shift_starts_at=as_datetime(row["starts_at"]),
            credited_minutes=row["credited_minutes"],
            asked_minutes=row["asked_minutes"],
            minutes_now=int(row["minutes_now"]),
            reason=row["reason"],
            status=CorrectionStatus(row["status"]),
            decline_reason=row["decline_reason"],
            requested_at=as_datetime(row["requested_at"]),
            decided_at=as_datetime(decided_at) if decided_at else None,
            name=name,
        )


@strawberry.type(description="What a community's certificates name of it as issuer (from the directory).")
class CertificateIssuer:
    community_id: str
    name: str = strawberry.field(description="出具单位: the community's name.")
    person_in_charge: str = strawberry.field(description="负责人; empty until an admin sets it.")
    handler: str = strawberry.field(description="经办人; empty until an admin sets it.")
    contact: str = strawberry.field(description="联系方式: the community desk's phone.")
    number_code: str = strawberry.field(description="The issuer's code in certificate numbers (LW-<code>-…).")

    @classmethod
    def of(cls, contact: CommunityContact) -> CertificateIssuer:
        return cls(
            community_id=contact.id,
            name=contact.name,
            person_in_charge=contact.person_in_charge,
            handler=contact.certificate_handler,
            contact=contact.desk_phone,
            number_code=issuer_code(contact.id, contact.certificate_code),
        )


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _activities(value: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(value) if isinstance(value, str) else value
    return found


def verification(row: Any) -> CertificateVerification:
    revoked_at = row.get("revoked_at")
    name = row["volunteer_name"]
    return CertificateVerification(
        number=row["number"],
        # a holder who deleted their account: the number still checks out, naming nobody
        masked_name=ERASED_RESIDENT if is_pseudonym(name) else mask_name(name),
        starts_on=_date(row["starts_on"]),
        ends_on=_date(row["ends_on"]),
        hours=round(row["minutes"] / 60, 2),
        issuer_name=row["issuer_name"],
        issued_on=_date(row["issued_on"]),
        valid=row["status"] == CertificateStatus.VALID.value,
        revoked_on=as_datetime(revoked_at).date() if revoked_at else None,
    )


@strawberry.input
class IssueCertificateInput:
    community_id: str = strawberry.field(description="The community that kept the records.")
    starts_on: date
    ends_on: date
    idempotency_key: str
    volunteer_id: str | None = strawberry.field(
        default=None, description="Organisers; yourself when left out."
    )


@strawberry.input
class RevokeCertificateInput:
    number: str
    reason: str


@strawberry.input
class RequestRecordCorrectionInput:
    shift_id: strawberry.ID
    minutes: int = strawberry.field(description="What the shift should count, in minutes.")
    reason: str
    idempotency_key: str


@strawberry.input
class DecideRecordCorrectionInput:
    request_id: strawberry.ID
    decision: CorrectionDecision
    reason: str | None = strawberry.field(
        default=None, description="Required to decline: the volunteer sees it."
    )


async def issue_args(info: Info, community_id: str, volunteer_id: str) -> dict[str, Any]:
    """What the worker cannot read itself: the volunteer's name and masked identity, and the
    issuer's fields from the directory (identity's schema)."""
    async with info.context.pool.acquire() as conn:
        name, phone = (await volunteers_named(conn, [volunteer_id]))[volunteer_id]
        issuer = await community_contact(conn, community_id)
    if not name:
        raise Refusal(
            "NAME_REQUIRED",
            "证明须写明姓名：请先在“我的”中填写姓名",
            "A certificate names its holder: give your name in your profile first",
        )
    return {
        "volunteer_name": name,
        "volunteer_identity": f"手机号 {phone}" if phone else "",
        "issuer": {
            "name": issuer.name,
            "person_in_charge": issuer.person_in_charge,
            "handler": issuer.certificate_handler,
            "contact": issuer.desk_phone,
            "code": issuer.certificate_code,
        },
    }


@strawberry.type
class CertificatesQuery:
    @strawberry.field(description="My certificates of volunteer service, newest first.")
    async def my_certificates(
        self, info: Info, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[Certificate]:
        actor = info.context.require_actor()
        limit, start = checked_limit(limit), after_uuid(after)
        async with info.context.pool.acquire() as conn:
            rows = await certs.certificates_of(conn, actor.user_id, limit, start)
        return [Certificate.from_row(row) for row in rows]

    @strawberry.field(
        description="Organisers: the register of certificates the community issued (of a year)."
    )
    async def certificate_register(
        self,
        info: Info,
        community_id: str,
        year: int | None = None,
        limit: Limit = DEFAULT_LIMIT,
        after: After = None,
    ) -> list[Certificate]:
        if not info.context.require_actor().may_organise(community_id):
            raise forbidden()
        limit, start = checked_limit(limit), after_uuid(after)
        async with info.context.pool.acquire() as conn:
            rows = await certs.certificate_register(conn, community_id, year, limit, start)
        return [Certificate.from_row(row) for row in rows]

    @strawberry.field(description="Organisers: what the community's certificates name of it as issuer.")
    async def certificate_issuer(self, info: Info, community_id: str) -> CertificateIssuer:
        if not info.context.require_actor().may_organise(community_id):
            raise forbidden()
        async with info.context.pool.acquire() as conn:
            return CertificateIssuer.of(await community_contact(conn, community_id))

    @strawberry.field(description="Public: whether a certificate is genuine and valid (masked name).")
    async def verify_certificate(self, info: Info, number: str) -> CertificateVerification:
        async with info.context.pool.acquire() as conn:
            row = await certs.certificate_by_number(conn, check_number(number))
        if row is None:
            raise certificate_not_found()
        return verification(row)

    @strawberry.field(description="My requests to correct my service records, newest first.")
    async def my_record_corrections(
        self, info: Info, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[RecordCorrectionRequest]:
        actor = info.context.require_actor()
        limit, start = checked_limit(limit), after_uuid(after)
        async with info.context.pool.acquire() as conn:
            rows = await certs.correction_requests_of(conn, actor.user_id, limit, start)
        return [RecordCorrectionRequest.from_row(row) for row in rows]

    @strawberry.field(description="Organisers: volunteers' correction requests waiting for the community.")
    async def open_record_corrections(
        self, info: Info, community_id: str, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[RecordCorrectionRequest]:
        if not info.context.require_actor().may_organise(community_id):
            raise forbidden()
        limit, start = checked_limit(limit), after_uuid(after)
        async with info.context.pool.acquire() as conn:
            rows = await certs.open_correction_requests(conn, community_id, limit, start)
            names = await volunteers_named(conn, sorted({row["volunteer_id"] for row in rows}))
        return [RecordCorrectionRequest.from_row(row, names[row["volunteer_id"]][0]) for row in rows]


@strawberry.type
class CertificatesMutation:
    @strawberry.mutation(
        description="Issue a numbered certificate of service with a community for a period: for yourself, "
        "or (organisers) for a volunteer who served there."
    )
    async def issue_certificate(self, info: Info, input: IssueCertificateInput) -> Certificate:
        actor = info.context.require_actor()
        key = check_key(input.idempotency_key)
        volunteer_id = input.volunteer_id or actor.user_id
        args = {
            "id": str(contracts.id_for("certificate", actor.user_id, key)),
            "community_id": input.community_id,
            "volunteer_id": volunteer_id,
            "starts_on": input.starts_on.isoformat(),
            "ends_on": input.ends_on.isoformat(),
            **await issue_args(info, input.community_id, volunteer_id),
        }
        return await commands.answer(
            info, contracts.SERVICE, contracts.ISSUE_CERTIFICATE, actor, args, key, Certificate.from_row
        )

    @strawberry.mutation(
        description="Community admins: the person in charge (负责人), handler (经办人) and number code the "
        "community's certificates print (audited)."
    )
    async def set_certificate_issuer(
        self, info: Info, community_id: str, person_in_charge: str, handler: str, number_code: str
    ) -> CertificateIssuer:
        actor = info.context.require_actor()
        found = await Directory(info.context.pool).set_certificate_issuer(
            actor, community_id, person_in_charge, handler, number_code, info.context.client_ip
        )
        return CertificateIssuer.of(found)

    @strawberry.mutation(description="Organisers: revoke a certificate the community issued, with a reason.")
    async def revoke_certificate(self, info: Info, input: RevokeCertificateInput) -> Certificate:
        actor = info.context.require_actor()
        args = {"number": input.number, "reason": input.reason}
        key = commands.derived_key(args)
        return await commands.answer(
            info, contracts.SERVICE, contracts.REVOKE_CERTIFICATE, actor, args, key, Certificate.from_row
        )

    @strawberry.mutation(
        description="Ask the community to correct the record of one of my shifts, with a reason."
    )
    async def request_record_correction(
        self, info: Info, input: RequestRecordCorrectionInput
    ) -> RecordCorrectionRequest:
        actor = info.context.require_role(RESIDENT, VOLUNTEER)
        key = check_key(input.idempotency_key)
        args = {
            "id": str(contracts.id_for("record-correction", actor.user_id, key)),
            "shift_id": str(parse_id("shiftId", input.shift_id)),
            "minutes": input.minutes,
            "reason": input.reason,
        }
        request_id = await commands.answer(
            info, contracts.SERVICE, contracts.REQUEST_RECORD_CORRECTION, actor, args, key, _request_id
        )
        return await _read_request(info, request_id)

    @strawberry.mutation(
        description="Organisers: accept a correction request (a correction entry in the ledger) or decline "
        "it with a reason; the volunteer is told either way."
    )
    async def decide_record_correction(
        self, info: Info, input: DecideRecordCorrectionInput
    ) -> RecordCorrectionRequest:
        actor = info.context.require_actor()
        request_id = parse_id("requestId", input.request_id)
        args = {"request_id": str(request_id), "decision": input.decision.value, "reason": input.reason}
        key = commands.derived_key(args)  # a request is decided once: the same decision again is a retry
        await commands.perform(info, contracts.SERVICE, contracts.DECIDE_RECORD_CORRECTION, actor, args, key)
        return await _read_request(info, request_id)

    @strawberry.mutation(
        description="Organisers: confirm a shift's service records (who and when are kept); refused once "
        "they are locked (LINLI_VOLUNTEER_RECORD_LOCK_DAYS after the shift). Answers how many were confirmed."
    )
    async def confirm_service_records(self, info: Info, shift_id: strawberry.ID) -> int:
        actor = info.context.require_actor()
        args = {"shift_id": str(parse_id("shiftId", shift_id))}
        # Confirming again once more records came in is a new request: what waits is the state.
        async with info.context.pool.acquire() as conn:
            waiting = await certs.unconfirmed_entries(conn, uuid.UUID(args["shift_id"]))
        key = commands.derived_key(args, waiting)
        return await commands.answer(
            info, contracts.SERVICE, contracts.CONFIRM_SERVICE_RECORDS, actor, args, key, _confirmed
        )


def _request_id(reply: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(str(reply["id"]))


def _confirmed(reply: dict[str, Any]) -> int:
    return int(reply["confirmed"])


async def _read_request(info: Info, request_id: uuid.UUID) -> RecordCorrectionRequest:
    async with info.context.pool.acquire() as conn:
        row = await certs.correction_request_read(conn, request_id)
    assert row is not None  # the worker just wrote it
    return RecordCorrectionRequest.from_row(row)
