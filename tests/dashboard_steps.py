"""A street with a little of a year's work in it, made through the real commands and handlers:
what the dashboard's tests count."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from services.common.actor import ORGANISER, RESIDENT, SCANNER, VOLUNTEER, Actor
from services.common.ids import new_id
from services.common.settings import Settings
from services.volunteers import codes, domain, handlers
from services.volunteers import repository as volunteers_repo
from tests.conftest import GraphQLClient, token_for
from tests.door_steps import ADMIT
from tests.test_directory import add_community, add_street, platform
from tests.test_door import admit
from tests.test_wishes import CONFIRM, FINISH, START, claim, on_the_wall, post_wish
from tests.ticket_steps import schedule_at, sign_up

TITLE = "亲子手工"


async def volunteer_served(pool: Any, settings: Settings, community: str, minutes: int) -> None:
    """A volunteer checked in ``minutes`` ago to a shift under way, checks out now."""
    started = datetime.now(UTC) - timedelta(minutes=minutes)
    person = f"volunteer-{uuid.uuid4().hex[:8]}"
    async with pool.acquire() as conn:
        venue = f"街道广场 {uuid.uuid4().hex[:6]}"
        plan = domain.ShiftPlan(community, venue, "引导员", started, started + timedelta(hours=3), 10)
        shift = await volunteers_repo.insert_shift(conn, new_id(), plan, codes.venue_key(venue), "organiser")
        await volunteers_repo.insert_signup(conn, new_id(), shift["id"], person, uuid.uuid4().hex)
        await volunteers_repo.insert_check_in(
            conn, new_id(), shift["id"], person, domain.CheckInMethod.STATION, person, started
        )
    volunteer = Actor(person, frozenset({VOLUNTEER}), frozenset())
    await handlers.check_out({"pool": pool, "settings": settings}, volunteer, {"shift_id": str(shift["id"])})


@dataclass(frozen=True)
class StreetWithWork:
    admin: str
    street: str
    community: str
    organiser: str
    signups: list[str]
    resident_id: str


async def street_with_work(gql: GraphQLClient, settings: Settings, pool: Any) -> StreetWithWork:
    """A new street of one community, and a neighbouring street, through the public API; in the
    community six residents sign up for a session and two come through the door, a volunteer
    serves an hour and a half, and a resident posts two wishes, one of them met."""
    admin = platform(settings)
    street = await add_street(gql, admin, f"仪表街道{uuid.uuid4().hex[:4]}")
    community = await add_community(gql, admin, f"仪表社区{uuid.uuid4().hex[:4]}", street)
    other_street = await add_street(gql, admin, f"邻街道{uuid.uuid4().hex[:4]}")
    await add_community(gql, admin, f"邻社区{uuid.uuid4().hex[:4]}", other_street)
    organiser = token_for(settings, "dash-organiser", {ORGANISER}, {community})

    session_id = await schedule_at(gql, organiser, timedelta(minutes=20), title=TITLE, community=community)
    signups = []
    for _ in range(6):
        resident = token_for(settings, f"resident-{uuid.uuid4().hex[:8]}", {RESIDENT}, {community})
        signups.append((await sign_up(gql, resident, session_id))["id"])
    scanner = token_for(settings, "dash-scanner", {SCANNER}, {community})
    for signup_id in signups[:2]:
        await gql.ok(ADMIT, admit(session_id, signup_id, 1), scanner)

    await volunteer_served(pool, settings, community, 90)
    resident_id = f"resident-{uuid.uuid4().hex[:8]}"
    resident = token_for(settings, resident_id, {RESIDENT}, {community})
    await post_wish(gql, resident, community, "想要一把新扫帚，电话13912345678")
    wish_id = await on_the_wall(gql, resident, organiser, community)
    helper = token_for(settings, f"helper-{uuid.uuid4().hex[:8]}", {VOLUNTEER}, {community})
    assert (await claim(gql, helper, wish_id))["data"]["claimWish"]["status"] == "CLAIMED"
    await gql.ok(START, {"id": wish_id}, helper)
    await gql.ok(FINISH, {"input": {"wishId": wish_id, "note": "修好了"}}, helper)
    await gql.ok(CONFIRM, {"id": wish_id}, resident)

    return StreetWithWork(admin, street, community, organiser, signups, resident_id)
