"""What other processes may see of identity: its schema's name and the events it emits."""

from __future__ import annotations

SERVICE = "identity"

# events (outbox types)
STAFF_LOG_IN_BURST = "staff.log_in_burst"  # a staff password being guessed: its admins are told
