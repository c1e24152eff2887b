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
)
SESSION_RESCHEDULED = "session.rescheduled"
SHIFT_SIGNED_UP = "shift.signed_up"
SHIFT_WITHDRAWN = "shift.withdrawn"

# commands (on notify's command stream)
SET_PREFERENCES = "set_preferences"
RESEND_DELIVERY = "resend_delivery"
MARK_READ = "mark_read"
SET_MESSAGE_TEMPLATE = "set_message_template"
CLEAR_MESSAGE_TEMPLATE = "clear_message_template"

# deferred arq jobs on notify's queue
SEND_REMINDER = "send_reminder"
