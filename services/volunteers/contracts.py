"""What other processes may see of the volunteers service."""

from __future__ import annotations

SERVICE = "volunteers"
