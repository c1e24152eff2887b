"""What other processes may see of the activities service: command names, events, ids."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from services.common.ids import derived_id
from services.common.replies import (
    Row,
    as_date,
    as_datetime,
    as_list,
    as_optional_datetime,
    as_optional_text,
    as_text,
)

SERVICE = "activities"

# commands (arq job names on the activities queue)
CREATE_FESTIVAL = "create_festival"
CREATE_ACTIVITY = "create_activity"
SCHEDULE_SESSION = "schedule_session"
SIGN_UP = "sign_up"
CANCEL_SIGNUP = "cancel_signup"
CANCEL_SESSION = "cancel_session"
CHECK_IN_TICKET = "check_in_ticket"
PUBLISH_FESTIVAL = "publish_festival"
CREATE_VENUE = "create_venue"
CHANGE_SESSION_CAPACITY = "change_session_capacity"
MOVE_SESSION = "move_session"
CANCEL_PARTY_MEMBERS = "cancel_party_members"

# events (outbox types)
SIGNUP_CONFIRMED = "signup.confirmed"
SIGNUP_WAITLISTED = "signup.waitlisted"
SIGNUP_CANCELLED = "signup.cancelled"
WAITLIST_PROMOTED = "waitlist.promoted"
SESSION_CANCELLED = "session.cancelled"
TICKET_CHECKED_IN = "ticket.checked_in"
SESSION_RESCHEDULED = "session.rescheduled"
SESSION_CAPACITY_CHANGED = "session.capacity_changed"
SIGNUP_PARTY_REDUCED = "signup.party_reduced"


def counts_channel(namespace: str, session_id: str) -> str:
    """The Redis pub/sub channel carrying a session's seat counts after each committed change."""
    return f"{namespace}:session-counts:{session_id}"


_ID_NAMESPACE = uuid.UUID("6f1d2c7e-3a52-4b8e-9f57-0d7d1b6c9a10")


def id_for(kind: str, actor_id: str, idempotency_key: str) -> uuid.UUID:
    """What a command creates, named by who asked and their idempotency key (see derived_id)."""
    return derived_id(_ID_NAMESPACE, kind, actor_id, idempotency_key)


# What the commands answer (and the read models hold), typed: the gateway reads both this way.


@dataclass(frozen=True)
class Festival:
    id: str
    name: str
    community_ids: list[str]
    starts_on: date
    ends_on: date
    published: bool
    max_sessions_per_resident: int | None

    @classmethod
    def of(cls, row: Row) -> Festival:
        return cls(
            as_text(row["id"]),
            row["name"],
            list(row["community_ids"]),
            as_date(row["starts_on"]),
            as_date(row["ends_on"]),
            bool(row.get("published", True)),
            row.get("max_sessions_per_resident"),
        )


@dataclass(frozen=True)
class Venue:
    id: str
    community_id: str
    name: str
    kind: str
    capacity: int
    address: str

    @classmethod
    def of(cls, row: Row) -> Venue:
        return cls(
            as_text(row["id"]),
            row["community_id"],
            row["name"],
            row["kind"],
            row["capacity"],
            row.get("address") or "",
        )


@dataclass(frozen=True)
class Activity:
    id: str
    festival_id: str
    community_id: str
    title: str
    category: str
    description: str
    age_bands: list[str]
    children_need_adult: bool

    @classmethod
    def of(cls, row: Row) -> Activity:
        return cls(
            as_text(row["id"]),
            as_text(row["festival_id"]),
            row["community_id"],
            row["title"],
            row["category"],
            row["description"],
            list(row.get("age_bands") or ()),
            bool(row.get("children_need_adult")),
        )


@dataclass(frozen=True)
class Session:
    id: str
    activity_id: str
    community_id: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    taken: int
    waitlist_length: int
    status: str
    cancel_reason: str | None
    venue_id: str | None
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    max_party_size: int | None
    cancellation_deadline: datetime | None
    rescheduled_at: datetime | None

    @classmethod
    def of(cls, row: Row) -> Session:
        return cls(
            as_text(row["id"]),
            as_text(row["activity_id"]),
            row["community_id"],
            row["venue"],
            as_datetime(row["starts_at"]),
            as_datetime(row["ends_at"]),
            row["capacity"],
            row["taken"],
            row.get("waitlist_length") or 0,
            row["status"],
            row.get("cancel_reason"),
            as_optional_text(row.get("venue_id")),
            as_optional_datetime(row.get("registration_opens_at")),
            as_optional_datetime(row.get("registration_closes_at")),
            row.get("max_party_size"),
            as_optional_datetime(row.get("cancellation_deadline")),
            as_optional_datetime(row.get("rescheduled_at")),
        )


@dataclass(frozen=True)
class Attendee:
    id: str
    name: str
    age_band: str


@dataclass(frozen=True)
class Signup:
    id: str
    session_id: str
    status: str
    party_size: int
    waitlist_position: int | None
    attendees: list[Attendee]
    free_cancellation: bool

    @classmethod
    def of(cls, row: Row) -> Signup:
        return cls(
            as_text(row["id"]),
            as_text(row["session_id"]),
            row["status"],
            row["party_size"],
            row.get("waitlist_position"),
            [Attendee(a["id"], a["name"], a["age_band"]) for a in as_list(row.get("attendees"))],
            bool(row.get("free_cancel")),
        )


@dataclass(frozen=True)
class TicketCheckIn:
    """A party (or part of it) let in at the door."""

    signup_id: str
    session_id: str
    resident_id: str
    party_size: int
    people: int
    admitted: int
    checked_in_at: datetime
    conflict: bool = False  # an offline admission of a party already let in: kept for the organiser

    @classmethod
    def of(cls, row: Row) -> TicketCheckIn:
        return cls(
            as_text(row["signup_id"]),
            as_text(row["session_id"]),
            row["resident_id"],
            row["party_size"],
            row["party_size"] if row.get("people") is None else int(row["people"]),  # 0: a conflict
            int(row.get("admitted") or row["party_size"]),
            as_datetime(row["checked_in_at"]),
            bool(row.get("conflict")),
        )
