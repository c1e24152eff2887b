"""Demo data for `linli up --demo`: four named communities of 灵武市 in two streets, with their
邻里驿家 stations, grids and staff, and the 第四届幸福邻里节 they hold together.

The festival is loaded through the same commands the GraphQL API sends, with fixed idempotency
keys; the directory through ``services.identity.directory`` like ``linli admin``; an entry already
there is left as it is. So loading it twice changes nothing. Streets, addresses and phone numbers
are made up for the demo.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any

from services.activities import contracts
from services.common.actor import PLATFORM_ADMIN, Actor
from services.common.clock import LOCAL_TZ
from services.common.commands import CommandBus
from services.common.errors import Refusal
from services.identity.directory import Directory
from services.identity.service import Identity

log = logging.getLogger("linli.demo")

COMMUNITIES = {
    "lingwu-shuofang": "朔方社区",
    "lingwu-shuimulanzhou": "水木兰州社区",
    "lingwu-yucaijie": "育才街社区",
    "lingwu-nongchang": "农场社区",
}

# street id → (name, [community ids]); 城区街道 is in the directory from its first migration.
STREETS = {
    "lingwu-chengqu": ("城区街道", ["lingwu-shuofang", "lingwu-yucaijie"]),
    "lingwu-dongcheng": ("东城街道", ["lingwu-shuimulanzhou", "lingwu-nongchang"]),
}

# community → (short name, desk phone, [(station, address)], [(grid, [buildings])])
PLACES: dict[str, tuple[str, str, list[tuple[str, str]], list[tuple[str, list[str]]]]] = {
    "lingwu-shuofang": (
        "朔方",
        "0951-4010001",
        [("朔方社区邻里驿家", "灵武市朔方路12号朔方社区服务中心一楼")],
        [
            ("朔方小区第一网格", ["1号楼", "2号楼", "3号楼"]),
            ("朔方小区第二网格", ["4号楼", "5号楼", "6号楼"]),
        ],
    ),
    "lingwu-shuimulanzhou": (
        "水木兰州",
        "0951-4010002",
        [("水木兰州社区邻里驿家", "灵武市水木兰州小区南门东侧")],
        [("水木兰州第一网格", ["1号楼", "2号楼", "3号楼", "4号楼"])],
    ),
    "lingwu-yucaijie": (
        "育才街",
        "0951-4010003",
        [("育才街社区邻里驿家", "灵武市育才街56号"), ("育才街社区文化广场", "灵武市育才街与朔方路交叉口")],
        [("育才小区网格", ["1号楼", "2号楼"]), ("教师公寓网格", ["A座", "B座"])],
    ),
    "lingwu-nongchang": (
        "农场",
        "0951-4010004",
        [("农场社区邻里驿家", "灵武市农场社区综合服务站")],
        [("农场家属区网格", ["1排", "2排", "3排"])],
    ),
}

# (username, display name, role, community or street, is it a street) — password DEMO_PASSWORD
STAFF = [
    ("chengqu-jiedao", "城区街道 马主任", "community_admin", "lingwu-chengqu", True),
    ("shuofang-admin", "朔方社区 李书记", "community_admin", "lingwu-shuofang", False),
    ("shuofang-zuzhi", "朔方社区 王干事", "organiser", "lingwu-shuofang", False),
    ("shuofang-wangge", "朔方社区 网格员张丽", "grid_worker", "lingwu-shuofang", False),
    ("shuimu-admin", "水木兰州社区 刘书记", "community_admin", "lingwu-shuimulanzhou", False),
    ("yucai-admin", "育才街社区 杨书记", "community_admin", "lingwu-yucaijie", False),
    ("nongchang-admin", "农场社区 何书记", "community_admin", "lingwu-nongchang", False),
]
DEMO_PASSWORD = "linli-demo-2026"

# (title, category, community, venue, capacity, [(day offset, start hour, hours)])
ACTIVITIES: list[tuple[str, str, str, str, int, list[tuple[int, int, int]]]] = [
    ("剪纸书法", "culture", "lingwu-shuofang", "朔方社区邻里驿家", 30, [(0, 9, 2), (1, 14, 2)]),
    ("漆扇体验", "culture", "lingwu-shuofang", "朔方社区邻里驿家", 20, [(0, 14, 2)]),
    ("义诊", "health", "lingwu-yucaijie", "育才街社区文化广场", 80, [(0, 8, 4), (1, 8, 4)]),
    ("义剪", "service", "lingwu-yucaijie", "育才街社区邻里驿家", 25, [(0, 9, 3)]),
    ("清洁维修", "service", "lingwu-nongchang", "农场社区邻里驿家", 40, [(1, 9, 3)]),
    ("亲子手工", "family", "lingwu-shuimulanzhou", "水木兰州社区邻里驿家", 15, [(0, 15, 2), (1, 10, 2)]),
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
    if reply.refusal is not None and reply.refusal.code == "IDEMPOTENCY_KEY_REUSED":
        return entity_id  # made by a load earlier today, from dates that have moved on since
    reply.unwrap()
    return entity_id


async def _unless_there(made: Any) -> None:
    """Await one directory addition; one already made (by an earlier load) is fine."""
    try:
        await made
    except Refusal as refusal:
        if refusal.code not in {"NAME_TAKEN", "USERNAME_TAKEN"}:
            raise


async def load_directory(identity: Identity) -> None:
    """The demo's streets, communities, stations, grids and staff accounts."""
    directory = Directory(identity.pool)
    for street_id, (street_name, communities) in STREETS.items():
        await _unless_there(directory.add_street(DEMO_ACTOR, street_name, "灵武市", street_id))
        for community_id in communities:
            short, phone, stations, grids = PLACES[community_id]
            name = COMMUNITIES[community_id]
            await _unless_there(
                directory.add_community(DEMO_ACTOR, name, street_id, short, phone, community_id)
            )
            # 朔方社区 was there before the directory: give it its street, short name and desk.
            await directory.update_community(DEMO_ACTOR, community_id, name, short, phone, street_id)
            for station, address in stations:
                await _unless_there(directory.add_station(DEMO_ACTOR, community_id, station, address))
            for grid, buildings in grids:
                await _unless_there(directory.add_grid(DEMO_ACTOR, community_id, grid, buildings))
    for username, display, role, place, whole_street in STAFF:
        if whole_street:
            made = directory.create_street_staff(DEMO_ACTOR, place, role, username, DEMO_PASSWORD, display)
        else:
            made = identity.create_organiser(DEMO_ACTOR, place, role, username, DEMO_PASSWORD, display)
        await _unless_there(made)
    log.info(
        "demo staff accounts (password %s): %s", DEMO_PASSWORD, ", ".join(username for username, *_ in STAFF)
    )


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
