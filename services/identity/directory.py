"""The directory of places: city/district → 街道 (street) → 社区 (community) → 小区/网格 (grid) →
楼栋 (building), with each community's name, short name, street, desk phone and 邻里驿家 stations.

Why identity owns it: a community was until now only a string that identity hands out, in staff
grants (``identity.staff_roles``) and residents' profiles, and every other service takes it from
the actor identity made. The directory names those strings without changing them (ids stay the
API's), and it must be read synchronously where the actor is made: a street-level grant is
expanded into the street's communities at log-in and token refresh
(``repository.staff_grants``, the one place), and a resident's profile names a community
the directory must know. Activities and volunteers keep storing plain community ids; pages and
messages get names through ``queries.community_names`` and ``community_contact`` (below: name,
street, desk phone and stations' addresses, e.g. for printed tickets).

Stations here are the places residents are told about (name, address, phone; what a QR poster
points to). A bookable room with a capacity stays an ``activities.venues`` row of its community.

Like the rest of identity, these operations are called by the gateway (and ``linli admin``)
directly: load, decide, save and audit in one transaction.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from services.common.actor import Actor
from services.common.clock import now as clock_now
from services.common.db import Connection
from services.common.errors import forbidden, not_found
from services.identity import domain, queries
from services.identity import repository as repo
from services.identity.service import hash_password


@dataclass
class Directory:
    pool: asyncpg.Pool
    clock: Callable[[], datetime] = field(default=clock_now)

    async def add_street(
        self,
        actor: Actor,
        name: str,
        district: str,
        street_id: str | None = None,
        client_ip: str | None = None,
    ) -> asyncpg.Record:
        if not domain.may_manage_directory(actor):
            raise forbidden()
        name = domain.check_text("name", "街道名称", name, 40)
        district = (district or "").strip()[:40]
        street_id = domain.check_place_id("streetId", street_id) if street_id else domain.new_place_id("st")
        async with self.pool.acquire() as conn, conn.transaction():
            row = await repo.insert_street(conn, street_id, name, district)
            if row is None:
                raise domain.place_name_taken("街道", "street")
            details = {"name": name, "district": district}
            await repo.audit(
                conn, self.clock(), "directory.street_added", street_id, actor.user_id, client_ip, details
            )
        return row

    async def add_community(
        self,
        actor: Actor,
        name: str,
        street_id: str,
        short_name: str = "",
        desk_phone: str = "",
        community_id: str | None = None,
        client_ip: str | None = None,
    ) -> asyncpg.Record:
        if not domain.may_manage_directory(actor):
            raise forbidden()
        name = domain.check_text("name", "社区名称", name, 40)
        short_name = (short_name or "").strip()[:20]
        desk_phone = domain.check_desk_phone(desk_phone)
        community_id = (
            domain.check_place_id("communityId", community_id) if community_id else domain.new_place_id("c")
        )
        async with self.pool.acquire() as conn, conn.transaction():
            if not await repo.street_exists(conn, street_id):
                raise domain.unknown_street()
            row = await repo.insert_community(conn, community_id, name, short_name, street_id, desk_phone)
            if row is None:
                raise domain.place_name_taken("社区编号", "community id")
            if await repo.community_named(conn, community_id, name):
                raise domain.place_name_taken("社区", "community")
            details = {"name": name, "street": street_id}
            await repo.audit(
                conn, self.clock(), "directory.community_added", community_id, actor.user_id, client_ip,
                details, community_id,
            )  # fmt: skip
        return row

    async def update_community(
        self,
        actor: Actor,
        community_id: str,
        name: str | None = None,
        short_name: str | None = None,
        desk_phone: str | None = None,
        street_id: str | None = None,
        client_ip: str | None = None,
    ) -> asyncpg.Record:
        """Admins of the community change its desk phone; only the platform renames or moves it."""
        if not domain.may_manage_community(actor, community_id):
            raise forbidden()
        if (name is not None or short_name is not None or street_id is not None) and not (
            domain.may_manage_directory(actor)
        ):
            raise forbidden()
        name = domain.check_text("name", "社区名称", name, 40) if name is not None else None
        short_name = short_name.strip()[:20] if short_name is not None else None
        desk_phone = domain.check_desk_phone(desk_phone) if desk_phone is not None else None
        async with self.pool.acquire() as conn, conn.transaction():
            if street_id is not None and not await repo.street_exists(conn, street_id):
                raise domain.unknown_street()
            row = await repo.update_community(conn, community_id, name, short_name, street_id, desk_phone)
            if row is None:
                raise not_found("community", "社区")
            if name is not None and await repo.community_named(conn, community_id, name):
                raise domain.place_name_taken("社区", "community")
            changed = {
                key: value
                for key, value in {
                    "name": name, "shortName": short_name, "deskPhone": desk_phone, "street": street_id
                }.items()
                if value is not None
            }  # fmt: skip
            await repo.audit(
                conn, self.clock(), "directory.community_changed", community_id, actor.user_id, client_ip,
                changed, community_id,
            )  # fmt: skip
        return row

    async def set_certificate_issuer(
        self,
        actor: Actor,
        community_id: str,
        person_in_charge: str,
        handler: str,
        code: str,
        client_ip: str | None = None,
    ) -> CommunityContact:
        """Admins of the community name what its 志愿服务记录证明 print: the person in charge
        (负责人), the handler (经办人) and the code in their numbers (LW-<code>-2026-000001)."""
        if not domain.may_manage_community(actor, community_id):
            raise forbidden()
        person_in_charge = domain.check_text("personInCharge", "负责人", person_in_charge, 20)
        handler = domain.check_text("handler", "经办人", handler, 20)
        code = domain.check_certificate_code(code)
        details = {"personInCharge": person_in_charge, "handler": handler, "code": code}
        async with self.pool.acquire() as conn, conn.transaction():
            if not await repo.set_certificate_issuer(conn, community_id, person_in_charge, handler, code):
                raise not_found("community", "社区")
            action = "directory.certificate_issuer_set"
            await repo.audit(
                conn, self.clock(), action, community_id, actor.user_id, client_ip, details, community_id
            )
            return await community_contact(conn, community_id)

    async def add_station(
        self,
        actor: Actor,
        community_id: str,
        name: str,
        address: str,
        phone: str = "",
        client_ip: str | None = None,
    ) -> asyncpg.Record:
        if not domain.may_manage_community(actor, community_id):
            raise forbidden()
        name = domain.check_text("name", "驿站名称", name, 40)
        address = domain.check_text("address", "地址", address, 100)
        phone = domain.check_desk_phone(phone)
        async with self.pool.acquire() as conn, conn.transaction():
            if await _community(conn, community_id) is None:
                raise not_found("community", "社区")
            row = await repo.insert_station(conn, community_id, name, address, phone)
            if row is None:
                raise domain.place_name_taken("驿站", "station")
            details = {"name": name, "address": address}
            await repo.audit(
                conn, self.clock(), "directory.station_added", str(row["id"]), actor.user_id, client_ip,
                details, community_id,
            )  # fmt: skip
        return row

    async def update_station(
        self,
        actor: Actor,
        station_id: uuid.UUID,
        address: str | None = None,
        phone: str | None = None,
        client_ip: str | None = None,
    ) -> asyncpg.Record:
        address = domain.check_text("address", "地址", address, 100) if address is not None else None
        phone = domain.check_desk_phone(phone) if phone is not None else None
        async with self.pool.acquire() as conn, conn.transaction():
            found = await repo.get_station(conn, station_id)
            if found is None:
                raise not_found("station", "驿站")
            if not domain.may_manage_community(actor, found["community_id"]):
                raise forbidden()
            row = await repo.update_station(conn, station_id, address, phone)
            assert row is not None
            details = {"address": row["address"], "phone": row["phone"]}
            await repo.audit(
                conn, self.clock(), "directory.station_changed", str(station_id), actor.user_id, client_ip,
                details, found["community_id"],
            )  # fmt: skip
        return row

    async def add_grid(
        self,
        actor: Actor,
        community_id: str,
        name: str,
        buildings: list[str],
        client_ip: str | None = None,
    ) -> asyncpg.Record:
        if not domain.may_manage_community(actor, community_id):
            raise forbidden()
        name = domain.check_text("name", "网格名称", name, 40)
        buildings = list(dict.fromkeys(domain.check_text("buildings", "楼栋", b, 20) for b in buildings))
        async with self.pool.acquire() as conn, conn.transaction():
            if await _community(conn, community_id) is None:
                raise not_found("community", "社区")
            row = await repo.insert_grid(conn, community_id, name, buildings)
            if row is None:
                raise domain.place_name_taken("网格", "grid")
            details = {"name": name, "buildings": buildings}
            await repo.audit(
                conn, self.clock(), "directory.grid_added", str(row["id"]), actor.user_id, client_ip,
                details, community_id,
            )  # fmt: skip
        return row

    async def set_building_leader(
        self,
        actor: Actor,
        community_id: str,
        building: str,
        phone: str,
        client_ip: str | None = None,
    ) -> asyncpg.Record:
        """Name a building's 楼栋长: a resident of the community, found by their mobile number."""
        if not (actor.may_organise(community_id) or domain.may_manage_community(actor, community_id)):
            raise forbidden()
        building = domain.check_text("building", "楼栋", building, 20)
        phone = domain.check_phone(phone)
        async with self.pool.acquire() as conn, conn.transaction():
            resident = await queries.resident_by_phone(conn, phone)
            if resident is None or resident["community_id"] != community_id:
                raise not_found("resident", "本社区的这位居民")
            row = await repo.set_building_leader(
                conn, community_id, building, resident["id"], actor.user_id, self.clock()
            )
            details = {"building": building}
            await repo.audit(
                conn, self.clock(), "directory.building_leader_set", str(resident["id"]), actor.user_id,
                client_ip, details, community_id,
            )  # fmt: skip
        return row

    async def create_street_staff(
        self,
        actor: Actor,
        street_id: str,
        role: str,
        username: str,
        password: str,
        display_name: str = "",
        client_ip: str | None = None,
    ) -> tuple[asyncpg.Record, Actor]:
        """A staff account for every community of a street (platform admins only), and the actor
        it logs in as."""
        if not domain.may_manage_directory(actor):
            raise forbidden()
        role = domain.check_staff_role(role)
        username = domain.check_username(username)
        password = domain.check_password(password)
        display_name = (display_name or "").strip()[:40]
        password_hash = await asyncio.to_thread(hash_password, password)
        now = self.clock()
        async with self.pool.acquire() as conn, conn.transaction():
            if not await repo.street_exists(conn, street_id):
                raise domain.unknown_street()
            row = await repo.insert_street_staff(
                conn, username, password_hash, display_name, role, street_id, actor.user_id, now
            )
            if row is None:
                raise domain.username_taken()
            details = {"username": username, "role": role, "street": street_id}
            await repo.audit(conn, now, "staff.created", str(row["id"]), actor.user_id, client_ip, details)
            grants = await repo.staff_grants(conn, row["id"])
        return row, domain.staff_actor(str(row["id"]), grants)


async def _community(conn: Connection, community_id: str) -> asyncpg.Record | None:
    return await queries.community(conn, community_id)


# --- what other services and pages say about a community --------------------------------


@dataclass(frozen=True)
class StationContact:
    name: str
    address: str
    phone: str


@dataclass(frozen=True)
class CommunityContact:
    """What a page, a message or a printed ticket says about a community."""

    id: str
    name: str
    street_name: str
    desk_phone: str
    stations: tuple[StationContact, ...]
    # what a 志愿服务记录证明 names of its issuer (empty until an admin fills them in)
    person_in_charge: str = ""
    certificate_handler: str = ""
    certificate_code: str = ""


async def community_contact(conn: Connection, community_id: str) -> CommunityContact:
    """A community's name, street, desk phone and stations (name, address, phone), and what a
    certificate names of it as issuer, for other services and pages to show or print. A
    community not in the directory is named after its id and has no phone or station, so
    callers never need to handle "unknown"."""
    row = await queries.community(conn, community_id)
    found = await queries.stations_of(conn, community_id)
    stations = tuple(StationContact(s["name"], s["address"], s["phone"]) for s in found)
    if row is None:
        return CommunityContact(community_id, domain.name_from_id(community_id), "", "", stations)
    issuer = await queries.certificate_issuer(conn, community_id)
    return CommunityContact(
        row["id"],
        row["name"],
        row["street_name"],
        row["desk_phone"],
        stations,
        person_in_charge=issuer["person_in_charge"] if issuer else "",
        certificate_handler=issuer["certificate_handler"] if issuer else "",
        certificate_code=issuer["certificate_code"] if issuer else "",
    )
