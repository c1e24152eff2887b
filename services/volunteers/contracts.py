"""What other processes may see of the volunteers service: command names, events, ids."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from services.common.ids import derived_id
from services.common.replies import Row, as_date, as_datetime, as_optional_datetime, as_optional_text, as_text

SERVICE = "volunteers"

# commands (arq job names on the volunteers queue)
CREATE_SHIFT = "create_shift"
SIGN_UP_FOR_SHIFT = "sign_up_for_shift"
CHECK_IN = "check_in"
CHECK_OUT = "check_out"
UNDO_CHECK_OUT = "undo_check_out"
CORRECT_SERVICE_HOURS = "correct_service_hours"
RECORD_SKILL = "record_skill"
UPDATE_VOLUNTEER_PROFILE = "update_volunteer_profile"
REGISTER_PARTY_MEMBER = "register_party_member"
CREATE_PARTNER_ORGANISATION = "create_partner_organisation"
ADD_PARTNER_MEMBER = "add_partner_member"
REVIEW_PARTY_MEMBER = "review_party_member"
WITHDRAW_FROM_SHIFT = "withdraw_from_shift"
ISSUE_CERTIFICATE = "issue_certificate"
REVOKE_CERTIFICATE = "revoke_certificate"
REQUEST_RECORD_CORRECTION = "request_record_correction"
DECIDE_RECORD_CORRECTION = "decide_record_correction"
CONFIRM_SERVICE_RECORDS = "confirm_service_records"

# deferred jobs (arq, on the volunteers queue)
CLOSE_FORGOTTEN_CHECK_INS_OF_SHIFT = "close_forgotten_check_ins_of_shift"  # at the shift's end
CLOSE_FORGOTTEN_CHECK_INS = "close_forgotten_check_ins"  # the sweep

# events (outbox types)
SHIFT_SIGNED_UP = "shift.signed_up"
VOLUNTEER_CHECKED_IN = "volunteer.checked_in"
VOLUNTEER_CHECKED_OUT = "volunteer.checked_out"
CHECK_OUT_UNDONE = "volunteer.check_out_undone"
SERVICE_HOURS_CORRECTED = "service_hours.corrected"
SHIFT_WITHDRAWN = "shift.withdrawn"  # a volunteer withdrew before the cut-off: the organiser hears
PARTY_MEMBER_REVIEWED = "party_member.reviewed"  # 双报到 approved or declined: the member hears
CERTIFICATE_ISSUED = "certificate.issued"
CERTIFICATE_REVOKED = "certificate.revoked"  # the holder hears
RECORD_CORRECTION_DECIDED = "record_correction.decided"  # accepted or declined: the volunteer hears

_ID_NAMESPACE = uuid.UUID("2b0c5a8e-7d41-4f0e-8c3b-6a9e1f2d4c57")


def id_for(kind: str, actor_id: str, idempotency_key: str) -> uuid.UUID:
    """What a command creates, named by who asked and their idempotency key (see derived_id)."""
    return derived_id(_ID_NAMESPACE, kind, actor_id, idempotency_key)


# What the commands answer (and the read models hold), typed: the gateway reads both this way.


@dataclass(frozen=True)
class Shift:
    id: str
    community_id: str
    festival_id: str | None
    venue: str
    role: str
    starts_at: datetime
    ends_at: datetime
    headcount: int
    taken: int
    required_skill: str | None
    contact_phone: str | None

    @classmethod
    def of(cls, row: Row) -> Shift:
        return cls(
            as_text(row["id"]),
            row["community_id"],
            as_optional_text(row["festival_id"]),
            row["venue"],
            row["role"],
            as_datetime(row["starts_at"]),
            as_datetime(row["ends_at"]),
            row["headcount"],
            row["taken"],
            row["required_skill"],
            row.get("contact_phone"),
        )


@dataclass(frozen=True)
class ShiftSignup:
    id: str
    shift_id: str
    volunteer_id: str

    @classmethod
    def of(cls, row: Row) -> ShiftSignup:
        return cls(as_text(row["id"]), as_text(row["shift_id"]), row["volunteer_id"])


@dataclass(frozen=True)
class ShiftWithdrawal:
    shift_id: str
    withdrawn_at: datetime

    @classmethod
    def of(cls, row: Row) -> ShiftWithdrawal:
        return cls(as_text(row["shift_id"]), as_datetime(row["withdrawn_at"]))


@dataclass(frozen=True)
class CheckIn:
    id: str
    shift_id: str
    volunteer_id: str
    method: str
    checked_in_at: datetime
    checked_out_at: datetime | None
    minutes_credited: int | None
    first_scan: bool | None  # in a check-in's answer only

    @classmethod
    def of(cls, row: Row) -> CheckIn:
        return cls(
            as_text(row["id"]),
            as_text(row["shift_id"]),
            row["volunteer_id"],
            row["method"],
            as_datetime(row["checked_in_at"]),
            as_optional_datetime(row["checked_out_at"]),
            row.get("minutes_credited"),
            row.get("first_scan"),
        )


@dataclass(frozen=True)
class LedgerEntry:
    id: str
    shift_id: str | None
    kind: str
    minutes: int
    reason: str | None
    recorded_by: str
    created_at: datetime
    # What the 民政部 rules ask a record to hold, where the entry is for a shift.
    content: str | None = None
    place: str | None = None
    shift_starts_at: datetime | None = None
    shift_ends_at: datetime | None = None
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None

    @classmethod
    def of(cls, row: Row) -> LedgerEntry:
        get = row.get
        return cls(
            as_text(row["id"]),
            as_optional_text(row["shift_id"]),
            row["kind"],
            row["minutes"],
            row["reason"],
            row["recorded_by"],
            as_datetime(row["created_at"]),
            get("content"),
            get("place"),
            as_optional_datetime(get("shift_starts_at")),
            as_optional_datetime(get("shift_ends_at")),
            get("confirmed_by"),
            as_optional_datetime(get("confirmed_at")),
        )


@dataclass(frozen=True)
class PartyMember:
    """A party member's 双报到 to a community."""

    volunteer_id: str
    name: str
    work_unit: str
    party_branch: str
    community_id: str
    reported_on: date
    status: str | None
    decline_reason: str | None
    registered_at: datetime | None
    reviewed_at: datetime | None

    @classmethod
    def of(cls, row: Row) -> PartyMember:
        return cls(
            row["volunteer_id"],
            row["name"],
            row["work_unit"],
            row["party_branch"],
            row["community_id"],
            as_date(row["reported_on"]),
            row.get("status"),
            row.get("decline_reason"),
            as_optional_datetime(row.get("registered_at")),
            as_optional_datetime(row.get("reviewed_at")),
        )


@dataclass(frozen=True)
class Wish:
    """A 微心愿 as its commands answer it; the wall's rows leave out who and when (None)."""

    id: str
    community_id: str
    festival_id: str | None
    category: str
    description: str
    building: str
    status: str
    resident_id: str | None
    posted_by: str | None
    claim_id: str | None
    claimant_id: str | None
    merged_into: str | None
    decline_reason: str | None
    claim_expires_at: datetime | None
    started_at: datetime | None
    done_note: str | None
    photo_url: str | None
    met_at: datetime | None

    @classmethod
    def of(cls, row: Row) -> Wish:
        get = row.get
        return cls(
            as_text(row["id"]),
            row["community_id"],
            as_optional_text(row["festival_id"]),
            row["category"],
            row["description"],
            row["building"],
            row["status"],
            get("resident_id"),
            get("posted_by"),
            as_optional_text(get("claim_id")),
            get("claimant_id"),
            as_optional_text(get("merged_into")),
            get("decline_reason"),
            as_optional_datetime(get("claim_expires_at")),
            as_optional_datetime(get("started_at")),
            get("done_note"),
            get("photo_url"),
            as_optional_datetime(get("met_at")),
        )


@dataclass(frozen=True)
class ClaimsExpired:
    """How many wishes whose claims lapsed went back to the wall."""

    expired: int

    @classmethod
    def of(cls, row: Row) -> ClaimsExpired:
        return cls(int(row["expired"]))


@dataclass(frozen=True)
class Created:
    """What a command made, by its id."""

    id: str

    @classmethod
    def of(cls, row: Row) -> Created:
        return cls(as_text(row["id"]))
