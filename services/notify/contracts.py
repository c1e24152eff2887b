"""What other processes may see of the notify service: the events it consumes, its commands
and its deferred jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.common.replies import Row, as_datetime, as_text

SERVICE = "notify"

# Event types notify turns into messages; the producers' relays route these here.
CONSUMES: tuple[str, ...] = (
    "signup.confirmed",
    "signup.waitlisted",
    "signup.cancelled",
    "waitlist.promoted",
    "session.cancelled",
    "shift.signed_up",
    "volunteer.checked_out",
    "session.rescheduled",
    "signup.party_reduced",  # one or more of a party withdrawn, the rest still going
    # 微心愿, from the volunteers service (templates in notify/wishes.py)
    "wish.posted",
    "wish.reviewed",
    "wish.published",
    "wish.claimed",
    "wish.done",
    "wish.met",
    "wish.claim_expired",
    "wish.given_back",
    "wish.visit_planned",
    # volunteers: withdrawals from shifts, and the community's review of 双报到
    "shift.withdrawn",
    "party_member.reviewed",
    # identity: a staff account's password being guessed, for its community admins
    "staff.log_in_burst",
    # volunteers: a record correction decided, a certificate revoked (templates in notify/records.py)
    "record_correction.decided",
    "certificate.revoked",
    # 邻里议事会, from the volunteers service (messages in notify/council.py)
    "concern.changed",
    "council.invited",
    "council.replied",
    "council.task_assigned",
    "council.task_overdue",
    # counted only, for the dashboard (services/notify/dashboard.py)
    "ticket.checked_in",
    "volunteer.check_out_undone",
    "service_hours.corrected",
    "project.claimed",  # 三张清单: items claimed and closed per partner unit
    "project.closed",
)
SESSION_RESCHEDULED = "session.rescheduled"
SHIFT_SIGNED_UP = "shift.signed_up"
PARTY_REDUCED = "signup.party_reduced"
# What a resident told in person (no mobile of their own) must hear of from their grid worker:
# each makes one entry of the "要告知的居民" list.
TOLD_IN_PERSON_KINDS = frozenset(
    {
        "signup.confirmed",
        "signup.waitlisted",
        "waitlist.promoted",
        "signup.cancelled",
        "session.cancelled",
        "session.rescheduled",
        PARTY_REDUCED,
    }
)
SHIFT_WITHDRAWN = "shift.withdrawn"

# commands (on notify's command stream)
SET_PREFERENCES = "set_preferences"
RESEND_DELIVERY = "resend_delivery"
MARK_READ = "mark_read"
SET_MESSAGE_TEMPLATE = "set_message_template"
CLEAR_MESSAGE_TEMPLATE = "clear_message_template"
TELL_IN_PERSON = "tell_in_person"  # a grid worker: this resident hears from me, not by SMS
MARK_TOLD = "mark_told"  # a grid worker ticks an entry of the "to tell" list off
ALLOW_WECHAT_MESSAGES = "allow_wechat_messages"  # one-time subscriptions a resident accepted

# deferred arq jobs on notify's queue
SEND_REMINDER = "send_reminder"


# What the commands answer, typed: the gateway reads them this way.


@dataclass(frozen=True)
class Preferences:
    """How a person wants to be told."""

    channels: list[str]
    email: str | None
    phone: str | None
    wechat_openid: str | None
    quiet_start: str
    quiet_end: str

    @classmethod
    def of(cls, row: Row) -> Preferences:
        return cls(
            list(row["channels"]),
            row["email"],
            row["phone"],
            row["wechat_openid"],
            row["quiet_start"],
            row["quiet_end"],
        )


@dataclass(frozen=True)
class MessageTemplate:
    """A festival's own words for one kind of message in one community."""

    festival_id: str
    community_id: str
    kind: str
    title_zh: str
    body_zh: str
    title_en: str
    body_en: str
    updated_by: str
    updated_at: datetime

    @classmethod
    def of(cls, row: Row) -> MessageTemplate:
        return cls(
            as_text(row["festival_id"]),
            row["community_id"],
            row["kind"],
            row["title_zh"],
            row["body_zh"],
            row["title_en"],
            row["body_en"],
            row["updated_by"],
            as_datetime(row["updated_at"]),
        )


@dataclass(frozen=True)
class Marked:
    """How many of the messages were unread until now."""

    marked: int

    @classmethod
    def of(cls, row: Row) -> Marked:
        return cls(int(row["marked"]))


@dataclass(frozen=True)
class Cleared:
    """Whether there was a festival's own template to clear."""

    cleared: bool

    @classmethod
    def of(cls, row: Row) -> Cleared:
        return cls(bool(row["cleared"]))


@dataclass(frozen=True)
class Resent:
    """A dead letter sent again."""

    id: str
    status: str

    @classmethod
    def of(cls, row: Row) -> Resent:
        return cls(as_text(row["id"]), row["status"])
