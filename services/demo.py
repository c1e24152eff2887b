"""Demo data for `linli up --demo`: the 第四届幸福邻里节 of a few communities of 灵武市.

Loaded through the same commands the GraphQL API sends, with fixed idempotency keys, so
loading it twice changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from services.activities import contracts
from services.common.actor import PLATFORM_ADMIN, Actor
from services.common.clock import LOCAL_TZ
from services.common.commands import CommandBus

COMMUNITIES = {
    "lingwu-shuofang": "朔方社区",
    "lingwu-xiyuan": "西苑社区",
    "lingwu-dongta": "东塔社区",
}

# (title, category, community, venue, capacity, [(day offset, start hour, hours)])
ACTIVITIES: list[tuple[str, str, str, str, int, list[tuple[int, int, int]]]] = [
    ("剪纸书法", "culture", "lingwu-shuofang", "朔方社区邻里驿家", 30, [(0, 9, 2), (1, 14, 2)]),
    ("漆扇体验", "culture", "lingwu-shuofang", "朔方社区邻里驿家", 20, [(0, 14, 2)]),
    ("义诊", "health", "lingwu-xiyuan", "西苑社区文化广场", 80, [(0, 8, 4), (1, 8, 4)]),
    ("义剪", "service", "lingwu-xiyuan", "西苑社区邻里驿家", 25, [(0, 9, 3)]),
    ("清洁维修", "service", "lingwu-dongta", "东塔社区服务站", 40, [(1, 9, 3)]),
    ("亲子手工", "family", "lingwu-dongta", "东塔社区邻里驿家", 15, [(0, 15, 2), (1, 10, 2)]),
]

DEMO_ACTOR = Actor("demo-loader", frozenset({PLATFORM_ADMIN}), frozenset(COMMUNITIES))


async def _send(bus: CommandBus, name: str, kind: str, key: str, args: dict[str, Any]) -> str:
    entity_id = str(contracts.id_for(kind, DEMO_ACTOR.user_id, key))
    reply = await bus.send(
        contracts.SERVICE,
        name,
        DEMO_ACTOR,
        {"id": entity_id, **args},
        key=f"{kind}:{key}",
        timeout_s=30,
    )
    if reply is None:
        raise RuntimeError(f"the activities worker did not answer {name} for the demo")
    reply.unwrap()
    return entity_id


async def load_demo(bus: CommandBus, first_day: date | None = None) -> str:
    """Create the demo festival; return its id."""
    start = first_day or (datetime.now(LOCAL_TZ).date() + timedelta(days=7))
    festival_id = await _send(
        bus,
        contracts.CREATE_FESTIVAL,
        "festival",
        "demo-festival-4",
        {
            "name": "第四届幸福邻里节",
            "community_ids": list(COMMUNITIES),
            "starts_on": start.isoformat(),
            "ends_on": (start + timedelta(days=1)).isoformat(),
        },
    )
    for title, category, community, venue, capacity, slots in ACTIVITIES:
        activity_id = await _send(
            bus,
            contracts.CREATE_ACTIVITY,
            "activity",
            f"demo-activity-{title}",
            {
                "festival_id": festival_id,
                "community_id": community,
                "title": title,
                "category": category,
                "description": f"{COMMUNITIES[community]} · 第四届幸福邻里节",
            },
        )
        for day, hour, hours in slots:
            starts = datetime.combine(start + timedelta(days=day), time(hour), LOCAL_TZ)
            await _send(
                bus,
                contracts.SCHEDULE_SESSION,
                "session",
                f"demo-session-{title}-{day}-{hour}",
                {
                    "activity_id": activity_id,
                    "venue": venue,
                    "starts_at": starts.isoformat(),
                    "ends_at": (starts + timedelta(hours=hours)).isoformat(),
                    "capacity": capacity,
                },
            )
    return festival_id
