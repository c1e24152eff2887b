"""What other processes may see of the notify service: the events it consumes, its commands
and its deferred jobs."""

from __future__ import annotations

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
    # 邻里议事会, from the volunteers service (messages in notify/council.py)
    "concern.changed",
    "council.invited",
    "council.replied",
    "council.task_assigned",
    "council.task_overdue",
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

# deferred arq jobs on notify's queue
SEND_REMINDER = "send_reminder"
