"""What other processes may see of the notify service: the events it consumes."""

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
)
