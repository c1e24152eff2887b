"""The directory of places: communities found by the characters of their names, grouped by
street; street-level staff who see every community of their street and nothing else; residents
who say where they live by name; and the migration that named the community ids already in use."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from typing import Any

import asyncpg

from services.common.actor import PLATFORM_ADMIN
from services.common.db import drop_database, ensure_database
from services.common.errors import Refusal
from services.common.migrations import SERVICES, migrate, migration_files
from services.identity import queries
from services.identity import repository as identity_repo
from services.identity.directory import community_contact
from services.identity.domain import check_desk_phone, search_pattern
from services.identity.service import Identity
from tests.conftest import (
    COMMUNITY,
    CREATE_FESTIVAL,
    GraphQLClient,
    open_session,
    token_for,
)
from tests.dates import FESTIVAL_DAY, day_iso
from tests.identity_steps import identity, no_cookies, resident_logs_in, staff_account, staff_logs_in

__all__ = ["identity", "no_cookies"]  # fixtures, used by name

ADD_STREET = 'mutation($n: String!) { addStreet(name: $n, district: "灵武市") { id name district } }'
ADD_COMMUNITY = """
mutation($n: String!, $s: String!, $short: String!, $phone: String!) {
  addCommunity(name: $n, streetId: $s, shortName: $short, deskPhone: $phone) { id name streetName deskPhone }
}
"""
ADD_STATION = """
mutation($c: String!, $n: String!, $a: String!) {
  addStation(communityId: $c, name: $n, address: $a) { id name address communityName }
}
"""
ADD_GRID = """
mutation($c: String!, $n: String!, $b: [String!]!) {
  addGrid(communityId: $c, name: $n, buildings: $b) { name buildings }
}
"""
UPDATE_COMMUNITY = """
mutation($c: String!, $phone: String) { updateCommunity(communityId: $c, deskPhone: $phone) { deskPhone } }
"""
STREET_STAFF = """
mutation($s: String!, $u: String!, $p: String!) {
  createStreetStaff(streetId: $s, role: ORGANISER, username: $u, password: $p) { communities }
}
"""
DIRECTORY = """
query($q: String!) {
  communityDirectory(search: $q) { streetId streetName district communities { id name shortName } }
}
"""
COMMUNITY_CARD = """
query($id: String!) {
  community(id: $id) {
    name streetName deskPhone stations { name address communityName } grids { name buildings }
  }
}
"""
ME = "{ me { communities communityNames communityId communityName } }"
REFRESH = "mutation($t: String) { refreshToken(refreshToken: $t) { accessToken me { communities } } }"
ROSTER = "query($s: ID!) { sessionRoster(sessionId: $s) { status } }"
UPDATE_PROFILE = """
mutation($c: String!) {
  updateMyProfile(communityId: $c, building: "3号楼", unit: "2单元", name: "王秀兰") {
    communityId communityName
  }
}
"""


def platform(settings: Any) -> str:
    return token_for(settings, "platform-directory", {PLATFORM_ADMIN}, set())


async def add_street(gql: GraphQLClient, admin: str, name: str) -> str:
    street: str = (await gql.ok(ADD_STREET, {"n": name}, admin))["addStreet"]["id"]
    return street


async def add_community(gql: GraphQLClient, admin: str, name: str, street: str, phone: str = "") -> str:
    variables = {"n": name, "s": street, "short": "", "phone": phone}
    community: str = (await gql.ok(ADD_COMMUNITY, variables, admin))["addCommunity"]["id"]
    return community


async def session_in(gql: GraphQLClient, token: str, community: str) -> str:
    """A festival, activity and session of one community, scheduled by its organiser."""
    return await open_session(
        gql, token, community=community, venue="邻里驿家", category="health", festival_name="邻里节"
    )


async def test_the_directory_finds_communities_by_the_characters_of_their_names(
    gql: GraphQLClient, settings: Any, identity: Identity
) -> None:
    admin = platform(settings)
    tag = secrets.token_hex(3)
    east = await add_street(gql, admin, f"东城{tag}街道")
    west = await add_street(gql, admin, f"西城{tag}街道")
    shuimu = await add_community(gql, admin, f"水木兰州{tag}社区", east, "0951-4012345")
    yucai = await add_community(gql, admin, f"育才街{tag}社区", east)
    farm = await add_community(gql, admin, f"农场{tag}社区", west)

    # Characters in order, not only a run of them: 水…兰 finds 水木兰州.
    found = (await gql.ok(DIRECTORY, {"q": f"水兰{tag}"}))["communityDirectory"]
    assert [(g["streetId"], [c["id"] for c in g["communities"]]) for g in found] == [(east, [shuimu])]
    assert found[0]["streetName"] == f"东城{tag}街道" and found[0]["district"] == "灵武市"

    # A street's name finds all its communities, grouped under it.
    by_street = (await gql.ok(DIRECTORY, {"q": f"东城{tag}"}))["communityDirectory"]
    assert [sorted(c["id"] for c in g["communities"]) for g in by_street] == [sorted([shuimu, yucai])]

    # What matches in two streets comes grouped by street; LIKE's wildcards are only characters.
    both = (await gql.ok(DIRECTORY, {"q": f"{tag}社区"}))["communityDirectory"]
    assert {g["streetId"]: sorted(c["id"] for c in g["communities"]) for g in both} == {
        east: sorted([shuimu, yucai]),
        west: [farm],
    }
    assert (await gql.ok(DIRECTORY, {"q": "%_%"}))["communityDirectory"] == []
    # An id met before the directory named it is no choice for residents until an admin places it.
    await staff_account(identity, "organiser", f"unplaced-{tag}")
    assert (await gql.ok(DIRECTORY, {"q": f"unplaced-{tag}"}))["communityDirectory"] == []

    # The communities Linli served before the directory are there under their names.
    shuofang = (await gql.ok(DIRECTORY, {"q": "朔方"}))["communityDirectory"]
    found_names = [(g["streetName"], c) for g in shuofang for c in g["communities"]]
    assert ("城区街道", {"id": COMMUNITY, "name": "朔方社区", "shortName": "朔方"}) in found_names


async def test_a_communitys_admin_keeps_its_stations_grids_and_desk_phone(
    gql: GraphQLClient, settings: Any, identity: Identity
) -> None:
    admin = platform(settings)
    tag = secrets.token_hex(3)
    street = await add_street(gql, admin, f"城区{tag}街道")
    community = await add_community(gql, admin, f"朔方{tag}社区", street)
    other = await add_community(gql, admin, f"西苑{tag}社区", street)
    username, password = await staff_account(identity, "community_admin", community)
    own = (await staff_logs_in(gql, username, password))["accessToken"]

    station = await gql.ok(
        ADD_STATION, {"c": community, "n": "朔方社区邻里驿家", "a": "灵武市朔方路12号"}, own
    )
    assert station["addStation"]["communityName"] == f"朔方{tag}社区"
    await gql.ok(ADD_GRID, {"c": community, "n": "第一网格", "b": ["1号楼", "2号楼"]}, own)
    await gql.ok(UPDATE_COMMUNITY, {"c": community, "phone": "0951-4012345"}, own)

    card = (await gql.ok(COMMUNITY_CARD, {"id": community}))["community"]
    assert card == {
        "name": f"朔方{tag}社区",
        "streetName": f"城区{tag}街道",
        "deskPhone": "0951-4012345",
        "stations": [
            {"name": "朔方社区邻里驿家", "address": "灵武市朔方路12号", "communityName": f"朔方{tag}社区"}
        ],
        "grids": [{"name": "第一网格", "buildings": ["1号楼", "2号楼"]}],
    }
    # Not another community's, not the directory's shape, and no phone that is not one.
    assert await gql.error_code(ADD_STATION, {"c": other, "n": "驿站", "a": "某路1号"}, own) == "FORBIDDEN"
    assert await gql.error_code(ADD_STREET, {"n": f"新{tag}街道"}, own) == "FORBIDDEN"
    assert (
        await gql.error_code(UPDATE_COMMUNITY, {"c": community, "phone": "打电话"}, own) == "BAD_USER_INPUT"
    )
    async with identity.pool.acquire() as conn:
        contact = await community_contact(conn, community)
    assert (contact.name, contact.desk_phone, contact.stations[0].address) == (
        f"朔方{tag}社区",
        "0951-4012345",
        "灵武市朔方路12号",
    )


UPDATE_STATION = """
mutation($id: ID!, $a: String, $p: String) {
  updateStation(id: $id, address: $a, phone: $p) { address phone }
}
"""
AUDIT = "query($c: String!) { auditLog(communityId: $c) { action actorId subject } }"


async def test_a_station_moves_and_each_change_is_in_the_communitys_audit_trail(
    gql: GraphQLClient, settings: Any, identity: Identity
) -> None:
    admin = platform(settings)
    tag = secrets.token_hex(3)
    street = await add_street(gql, admin, f"城区{tag}街道")
    community = await add_community(gql, admin, f"朔方{tag}社区", street)
    other = await add_community(gql, admin, f"西苑{tag}社区", street)
    username, password = await staff_account(identity, "community_admin", community)
    own = (await staff_logs_in(gql, username, password))["accessToken"]
    other_username, other_password = await staff_account(identity, "community_admin", other)
    neighbour = (await staff_logs_in(gql, other_username, other_password))["accessToken"]
    added = await gql.ok(ADD_STATION, {"c": community, "n": "邻里驿家", "a": "朔方路12号"}, own)
    station = added["addStation"]["id"]

    moved = await gql.ok(UPDATE_STATION, {"id": station, "a": "朔方路20号", "p": "0951-4010001"}, own)
    assert moved["updateStation"] == {"address": "朔方路20号", "phone": "0951-4010001"}
    assert await gql.error_code(UPDATE_STATION, {"id": station, "a": "别处"}, neighbour) == "FORBIDDEN"
    assert await gql.error_code(UPDATE_STATION, {"id": "not-an-id", "a": "别处"}, own) == "BAD_USER_INPUT"
    again = {"c": community, "n": "邻里驿家", "a": "另一处"}
    assert await gql.error_code(ADD_STATION, again, own) == "NAME_TAKEN"
    twin = {"n": f"西苑{tag}社区", "s": street, "short": "", "phone": ""}
    assert await gql.error_code(ADD_COMMUNITY, twin, admin) == "NAME_TAKEN"

    trail = (await gql.ok(AUDIT, {"c": community}, own))["auditLog"]
    actions = [(entry["action"], entry["subject"]) for entry in trail]
    assert ("directory.station_added", station) in actions
    assert ("directory.station_changed", station) in actions
    assert ("directory.community_added", community) in actions
    assert not any(action in {"addStation", "updateStation"} for action, _ in actions)  # once, not twice


async def test_street_staff_see_every_community_of_their_street_and_nothing_else(
    gql: GraphQLClient, settings: Any, identity: Identity
) -> None:
    admin = platform(settings)
    tag = secrets.token_hex(3)
    street = await add_street(gql, admin, f"城区{tag}街道")
    elsewhere = await add_street(gql, admin, f"宁东{tag}街道")
    first = await add_community(gql, admin, f"朔方{tag}社区", street)
    second = await add_community(gql, admin, f"育才街{tag}社区", street)
    outside = await add_community(gql, admin, f"农场{tag}社区", elsewhere)
    username, password = f"street-{tag}", secrets.token_urlsafe(12)
    made = await gql.ok(STREET_STAFF, {"s": street, "u": username, "p": password}, admin)
    assert made["createStreetStaff"]["communities"] == sorted([first, second])

    logged_in = await staff_logs_in(gql, username, password)
    token = logged_in["accessToken"]
    assert logged_in["me"]["communities"] == sorted([first, second])
    me = (await gql.ok(ME, token=token))["me"]
    assert sorted(me["communityNames"]) == sorted([f"朔方{tag}社区", f"育才街{tag}社区"])

    # They organise in each community of the street and read its rosters ...
    for community in (first, second):
        session = await session_in(gql, token, community)
        assert (await gql.ok(ROSTER, {"s": session}, token))["sessionRoster"] == []
    # ... and nothing in another street: neither schedule there nor read its rosters.
    neighbour_username, neighbour_password = await staff_account(identity, "organiser", outside)
    neighbour = (await staff_logs_in(gql, neighbour_username, neighbour_password))["accessToken"]
    their_session = await session_in(gql, neighbour, outside)
    assert await gql.error_code(ROSTER, {"s": their_session}, token) == "FORBIDDEN"
    refused = {"input": {"name": "邻里节", "communityIds": [outside], "startsOn": day_iso(FESTIVAL_DAY),
                         "endsOn": day_iso(FESTIVAL_DAY)}}  # fmt: skip
    assert await gql.error_code(CREATE_FESTIVAL, refused, token) == "FORBIDDEN"
    # Only the platform grants a whole street.
    other_try = {"s": street, "u": f"street2-{tag}", "p": secrets.token_urlsafe(12)}
    assert await gql.error_code(STREET_STAFF, other_try, neighbour) == "FORBIDDEN"

    # A community added to the street later is theirs from their next token on.
    later = await add_community(gql, admin, f"水木兰州{tag}社区", street)
    fresh = await gql.ok(REFRESH, {"t": logged_in["refreshToken"]})
    gql.http.cookies.clear()
    assert fresh["refreshToken"]["me"]["communities"] == sorted([first, second, later])


async def test_a_resident_says_where_she_lives_by_the_communitys_name(gql: GraphQLClient, pool: Any) -> None:
    token = (await resident_logs_in(gql, pool))["accessToken"]

    chosen = await gql.ok(UPDATE_PROFILE, {"c": "朔方社区"}, token)
    assert chosen["updateMyProfile"] == {"communityId": COMMUNITY, "communityName": "朔方社区"}
    # The picker sends the id it got from the directory; that works as it always did.
    assert (await gql.ok(UPDATE_PROFILE, {"c": COMMUNITY}, token))["updateMyProfile"][
        "communityName"
    ] == "朔方社区"

    unknown = await gql.raw(UPDATE_PROFILE, {"c": "没有这个社区"}, token)
    error = unknown["errors"][0]["extensions"]
    assert error["code"] == "BAD_USER_INPUT"
    assert "请输入社区名称中的字" in error["messageZh"] and "编号" not in error["messageZh"]


async def test_the_migration_names_the_community_ids_already_in_use(
    servers: tuple[str, str], settings: Any, identity: Identity
) -> None:
    """A database from before the directory: its ids get entries, named ones keep their names,
    and staff grants and profiles still name the same communities."""
    server_url = servers[0]
    database = f"linli_directory_{uuid.uuid4().hex[:8]}"
    database_url = await ensure_database(server_url, database)
    try:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(
                "CREATE TABLE public.linli_migrations (service text NOT NULL, version text NOT NULL, "
                "applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (service, version))"
            )
            for service in SERVICES:
                for version, sql in migration_files(service):
                    if service == "identity" and version >= "020":  # from the directory on
                        continue
                    await conn.execute(sql)
                    await conn.execute(
                        "INSERT INTO public.linli_migrations (service, version) VALUES ($1, $2)",
                        service,
                        version,
                    )
            account = uuid.uuid4()
            await conn.execute(
                "INSERT INTO identity.staff_accounts (id, username, password_hash, created_by, created_at) "
                "VALUES ($1, 'old-organiser', 'x', 'test', now())",
                account,
            )
            await conn.execute(
                "INSERT INTO identity.staff_roles VALUES ($1, 'organiser', 'yinchuan-old'), "
                "($1, 'organiser', 'lingwu-shuofang')",
                account,
            )
            await conn.execute(
                "INSERT INTO activities.venues (id, community_id, name, kind, capacity, created_by) "
                "VALUES ($1, 'wuzhong-hall', '礼堂', 'ROOM', 50, 'test')",
                uuid.uuid4(),
            )
        finally:
            await conn.close()

        assert "identity/020_directory" in await migrate(database_url)

        conn = await asyncpg.connect(database_url)
        try:
            names = await queries.community_names(conn)
            grants = await identity_repo.staff_grants(conn, account)
        finally:
            await conn.close()
        assert names["lingwu-shuofang"] == "朔方社区"
        assert names["yinchuan-old"] == "yinchuan-old"  # known from a staff grant, named by its id
        assert names["wuzhong-hall"] == "wuzhong-hall"  # known only to the activities service
        assert grants == [("organiser", "lingwu-shuofang"), ("organiser", "yinchuan-old")]
    finally:
        await drop_database(server_url, database)


async def test_the_demo_loads_named_communities_with_stations_grids_and_staff_twice_alike(
    gql: GraphQLClient, identity: Identity
) -> None:
    from services.demo import DEMO_PASSWORD, load_directory

    await load_directory(identity)
    await load_directory(identity)  # a second load changes nothing and is not refused

    groups = (await gql.ok(DIRECTORY, {"q": "社区"}))["communityDirectory"]
    by_street = {g["streetName"]: {c["name"] for c in g["communities"]} for g in groups}
    assert {"朔方社区", "育才街社区"} <= by_street["城区街道"]
    assert {"水木兰州社区", "农场社区"} <= by_street["东城街道"]
    card = (await gql.ok(COMMUNITY_CARD, {"id": "lingwu-yucaijie"}))["community"]
    assert card["deskPhone"] and len(card["stations"]) == 2 and all(s["address"] for s in card["stations"])
    assert card["grids"][0]["buildings"]
    street_admin = await staff_logs_in(gql, "chengqu-jiedao", DEMO_PASSWORD)
    assert {"lingwu-shuofang", "lingwu-yucaijie"} <= set(street_admin["me"]["communities"])
    assert "lingwu-nongchang" not in street_admin["me"]["communities"]


def test_typed_characters_become_a_pattern_of_those_characters_in_order() -> None:
    assert search_pattern("朔方") == "%朔%方%"
    assert search_pattern(" 水 兰 ") == "%水%兰%"
    assert search_pattern("50%_") == "%5%0%\\%%\\_%"
    assert search_pattern("   ") is None


def test_a_desk_phone_is_a_landline_or_a_mobile() -> None:
    assert check_desk_phone(" 0951-4012345 ") == "0951-4012345"
    assert check_desk_phone("13912345678") == "13912345678"
    assert check_desk_phone("") == ""
    for bad in ("打电话", "12", "0951-40123a5"):
        try:
            check_desk_phone(bad)
        except Refusal as refusal:
            assert refusal.code == "BAD_USER_INPUT"
        else:
            raise AssertionError(f"{bad!r} was accepted")


def test_linli_admin_adds_a_street_a_community_a_station_and_a_grid(settings: Any) -> None:
    assert settings.database_url and settings.redis_url
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url}
    tag = secrets.token_hex(3)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "services.cli", "admin", *args],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    def admin(*args: str) -> str:
        done = run(*args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    admin("add-street", "--name", f"宁东{tag}街道", "--district", "灵武市", "--id", f"st-{tag}")
    admin("add-community", "--street", f"st-{tag}", "--name", f"宁东{tag}社区", "--id", f"c-{tag}")
    admin("set-desk-phone", "--community", f"c-{tag}", "--phone", "0951-4019999")
    admin("add-station", "--community", f"c-{tag}", "--name", "宁东邻里驿家", "--address", "宁东镇1号")
    admin("add-grid", "--community", f"c-{tag}", "--name", "第一网格", "--building", "1号楼")
    tree = admin("directory")
    assert f"灵武市 宁东{tag}街道 / 宁东{tag}社区 [c-{tag}], desk 0951-4019999" in tree
    assert "    station 宁东邻里驿家: 宁东镇1号" in tree and "    grid 第一网格: 1号楼" in tree

    refused = run("add-community", "--street", "no-such", "--name", "某社区")
    assert refused.returncode == 1 and "找不到该街道" in refused.stderr
