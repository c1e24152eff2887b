"""Who is acting: carried by every command so each service can re-check permissions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RESIDENT = "resident"
ORGANISER = "organiser"
COMMUNITY_ADMIN = "community_admin"
SCANNER = "scanner"
PLATFORM_ADMIN = "platform_admin"
VOLUNTEER = "volunteer"
GRID_WORKER = "grid_worker"  # 网格员 or desk staff: act for residents of their own community
ROLES = frozenset({RESIDENT, ORGANISER, COMMUNITY_ADMIN, SCANNER, PLATFORM_ADMIN, VOLUNTEER, GRID_WORKER})


@dataclass(frozen=True)
class Actor:
    """``communities`` are community ids only: a staff role granted for a whole street (街道) is
    already expanded into the street's communities when identity makes the actor
    (``services.identity.repository.staff_grants``), so no check here needs to know of streets."""

    user_id: str
    roles: frozenset[str]
    communities: frozenset[str]

    def has_role(self, *roles: str) -> bool:
        return PLATFORM_ADMIN in self.roles or bool(self.roles.intersection(roles))

    def may_organise(self, community_id: str) -> bool:
        """Organisers and community admins act only within their own communities."""
        if PLATFORM_ADMIN in self.roles:
            return True
        return bool(self.roles & {ORGANISER, COMMUNITY_ADMIN}) and community_id in self.communities

    def acts_for_residents_of(self, community_id: str) -> bool:
        """Grid workers sign up and post wishes for residents of their own communities only."""
        if PLATFORM_ADMIN in self.roles:
            return True
        return GRID_WORKER in self.roles and community_id in self.communities

    def as_payload(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "roles": sorted(self.roles),
            "communities": sorted(self.communities),
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Actor:
        return cls(
            user_id=str(payload["user_id"]),
            roles=frozenset(payload.get("roles", ())),
            communities=frozenset(payload.get("communities", ())),
        )
