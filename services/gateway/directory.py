"""The directory part of the GraphQL API: communities found by name (grouped by street), their
stations and grids, and its management by admins. See ``services.identity.directory``."""

from __future__ import annotations

import re
import uuid
from itertools import groupby
from typing import Annotated, Any
from urllib.parse import urlencode

import asyncpg
import segno
import strawberry

from services.common.errors import bad_input
from services.common.paging import DEFAULT_LIMIT, after_text, checked_limit
from services.gateway.context import Info
from services.gateway.identity import StaffAccount, StaffRole
from services.gateway.marks import secret_argument
from services.gateway.names import community_name
from services.gateway.paging import After, Limit
from services.identity import domain, queries
from services.identity.directory import Directory

MAX_FOUND = 50


def directory(info: Info) -> Directory:
    return Directory(info.context.pool)


@strawberry.type(description="A 小区 or 网格 of a community, with its buildings (楼栋).")
class Grid:
    id: strawberry.ID
    community_id: str
    name: str
    buildings: list[str]

    @strawberry.field(description="The community's name, e.g. 朔方社区.")
    async def community_name(self, info: Info) -> str:
        return await community_name(info, self.community_id)

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Grid:
        return cls(
            id=strawberry.ID(str(row["id"])),
            community_id=row["community_id"],
            name=row["name"],
            buildings=list(row["buildings"]),
        )


@strawberry.type(description="A 邻里驿家 station: where residents go; a QR poster links to it.")
class Station:
    id: strawberry.ID
    community_id: str
    name: str
    address: str
    phone: str = strawberry.field(description="The station's phone; empty when it has none.")

    @strawberry.field(description="The community's name, e.g. 朔方社区.")
    async def community_name(self, info: Info) -> str:
        return await community_name(info, self.community_id)

    @strawberry.field(
        description="The QR code (a PNG data: URL) of the station's poster: it links residents to "
        "<origin>/?station=<id>, which fills in their community. origin is the site's, e.g. "
        "https://linli.example.cn."
    )
    def poster_qr(self, origin: str) -> str:
        return poster_qr(origin, self.id)

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Station:
        return cls(
            id=strawberry.ID(str(row["id"])),
            community_id=row["community_id"],
            name=row["name"],
            address=row["address"],
            phone=row["phone"],
        )


@strawberry.type(description="A community (社区) of the directory.")
class Community:
    id: str
    name: str
    short_name: str
    street_id: str | None
    street_name: str = strawberry.field(description="Its street (街道); empty when not yet placed.")
    district: str = strawberry.field(description="The city or district, e.g. 灵武市.")
    desk_phone: str = strawberry.field(description="The community desk's phone; empty when unknown.")

    @strawberry.field
    async def stations(self, info: Info) -> list[Station]:
        async with info.context.pool.acquire() as conn:
            rows = await queries.stations_of(conn, self.id)
        return [Station.from_row(row) for row in rows]

    @strawberry.field
    async def grids(self, info: Info) -> list[Grid]:
        async with info.context.pool.acquire() as conn:
            rows = await queries.grids_of(conn, self.id)
        return [Grid.from_row(row) for row in rows]

    @classmethod
    def from_row(cls, row: asyncpg.Record | dict[str, Any]) -> Community:
        return cls(
            id=row["id"],
            name=row["name"],
            short_name=row["short_name"],
            street_id=row["street_id"],
            street_name=row["street_name"],
            district=row["district"],
            desk_phone=row["desk_phone"],
        )


@strawberry.type(description="A street (街道) and the communities found in it.")
class StreetCommunities:
    street_id: str | None
    street_name: str
    district: str
    communities: list[Community]


@strawberry.type(description="A street (街道) of the directory.")
class Street:
    id: str
    name: str
    district: str


async def _community(info: Info, community_id: str) -> Community:
    async with info.context.pool.acquire() as conn:
        row = await queries.community(conn, community_id)
    assert row is not None
    return Community.from_row(row)


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]{1,200}(:\d{1,5})?")


def poster_qr(origin: str, station_id: str) -> str:
    """A QR code of the link a station's poster carries, as a PNG data: URL."""
    origin = (origin or "").strip().rstrip("/")
    if not _ORIGIN.fullmatch(origin):
        raise bad_input(
            "origin",
            "网址格式不正确，如 https://linli.example.cn",
            "Give an origin, e.g. https://linli.example.cn",
        )
    link = f"{origin}/?{urlencode({'station': station_id})}"
    data_url: str = segno.make_qr(link, error="m").png_data_uri(scale=8, border=4)
    return data_url


def _station_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise bad_input("id", "编号格式不正确", "Malformed id") from None


@strawberry.type
class DirectoryQuery:
    @strawberry.field(
        description="Communities whose name (or street's name) holds the typed characters in "
        "order, e.g. 朔方; all when nothing is typed. Grouped by street; a community not yet "
        "placed in a street is left out."
    )
    async def community_directory(self, info: Info, search: str = "") -> list[StreetCommunities]:
        async with info.context.pool.acquire() as conn:
            rows = await queries.directory(conn, domain.search_pattern(search), MAX_FOUND, placed_only=True)
        return [
            StreetCommunities(
                street_id=street_id,
                street_name=group[0]["street_name"],
                district=group[0]["district"],
                communities=[Community.from_row(row) for row in group],
            )
            for street_id, grouped in groupby(rows, key=lambda row: row["street_id"])
            for group in [list(grouped)]
        ]

    @strawberry.field(description="One community of the directory, with its stations and grids.")
    async def community(self, info: Info, id: str) -> Community | None:
        async with info.context.pool.acquire() as conn:
            row = await queries.community(conn, id.strip())
        return Community.from_row(row) if row is not None else None

    @strawberry.field(description="A 邻里驿家 station, e.g. the one a QR poster names.")
    async def station(self, info: Info, id: strawberry.ID) -> Station | None:
        try:
            station_id = uuid.UUID(str(id))
        except ValueError:
            return None
        async with info.context.pool.acquire() as conn:
            row = await queries.station(conn, station_id)
        return Station.from_row(row) if row is not None else None

    @strawberry.field(description="The streets (街道) of the directory, by district and name.")
    async def streets(self, info: Info, limit: Limit = DEFAULT_LIMIT, after: After = None) -> list[Street]:
        async with info.context.pool.acquire() as conn:
            rows = await queries.streets(conn, checked_limit(limit), after_text(after))
        return [Street(id=row["id"], name=row["name"], district=row["district"]) for row in rows]


@strawberry.type
class DirectoryMutation:
    @strawberry.mutation(description="Platform admins: add a street (街道).")
    async def add_street(self, info: Info, name: str, district: str = "", id: str | None = None) -> Street:
        actor = info.context.require_actor()
        row = await directory(info).add_street(actor, name, district, id, info.context.client_ip)
        return Street(id=row["id"], name=row["name"], district=row["district"])

    @strawberry.mutation(description="Platform admins: add a community to a street.")
    async def add_community(
        self,
        info: Info,
        name: str,
        street_id: str,
        short_name: str = "",
        desk_phone: str = "",
        id: str | None = None,
    ) -> Community:
        actor = info.context.require_actor()
        row = await directory(info).add_community(
            actor, name, street_id, short_name, desk_phone, id, info.context.client_ip
        )
        return await _community(info, row["id"])

    @strawberry.mutation(
        description="Change a community: its admins set the desk phone; platform admins also "
        "rename it or move it to another street. Arguments left out stay as they are."
    )
    async def update_community(
        self,
        info: Info,
        community_id: str,
        desk_phone: str | None = None,
        name: str | None = None,
        short_name: str | None = None,
        street_id: str | None = None,
    ) -> Community:
        actor = info.context.require_actor()
        await directory(info).update_community(
            actor, community_id, name, short_name, desk_phone, street_id, info.context.client_ip
        )
        return await _community(info, community_id)

    @strawberry.mutation(description="Community admins: add a 邻里驿家 station with its address.")
    async def add_station(
        self, info: Info, community_id: str, name: str, address: str, phone: str = ""
    ) -> Station:
        actor = info.context.require_actor()
        row = await directory(info).add_station(
            actor, community_id, name, address, phone, info.context.client_ip
        )
        return Station.from_row(row)

    @strawberry.mutation(description="Community admins: change a station's address or phone.")
    async def update_station(
        self, info: Info, id: strawberry.ID, address: str | None = None, phone: str | None = None
    ) -> Station:
        actor = info.context.require_actor()
        row = await directory(info).update_station(
            actor, _station_id(id), address, phone, info.context.client_ip
        )
        return Station.from_row(row)

    @strawberry.mutation(description="Community admins: add a 小区/网格 with its buildings.")
    async def add_grid(self, info: Info, community_id: str, name: str, buildings: list[str]) -> Grid:
        actor = info.context.require_actor()
        row = await directory(info).add_grid(actor, community_id, name, buildings, info.context.client_ip)
        return Grid.from_row(row)

    @strawberry.mutation(
        description="Platform admins: a staff account for every community of a street (街道)."
    )
    async def create_street_staff(
        self,
        info: Info,
        street_id: str,
        role: StaffRole,
        username: str,
        password: Annotated[str, secret_argument()],
        display_name: str = "",
    ) -> StaffAccount:
        actor = info.context.require_actor()
        row, staff = await directory(info).create_street_staff(
            actor, street_id, role.value, username, password, display_name, info.context.client_ip
        )
        return StaffAccount.created(row, staff)
