"""What other processes may see of the activities service: command names, events, ids."""

from __future__ import annotations

import uuid

from services.common.ids import derived_id

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
