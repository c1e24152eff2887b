"""A festival list reads its festivals' activities in one query and their sessions in another,
however many festivals it shows, and each festival still gets exactly its own, in order."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any, cast

import asyncpg

from services.activities import queries
from services.common.db import Connection
from services.gateway import loaders
from services.gateway.context import Info
from tests.conftest import GraphQLClient, open_session

FESTIVALS = """query($after: ID) { festivals(limit: 200, after: $after) {
  id activities { id title sessions { id startsAt } } } }"""


async def test_nested_fields_are_read_once_per_level_with_each_parents_own_rows_in_order(
    gql: GraphQLClient, pool: Any, organiser_token: str
) -> None:
    sessions = [uuid.UUID(await open_session(gql, organiser_token, title=f"剪纸{n}")) for n in range(3)]
    async with pool.acquire() as conn:
        festival_ids = [
            await conn.fetchval(
                "SELECT a.festival_id FROM activities.sessions s "
                "JOIN activities.activities a ON a.id = s.activity_id WHERE s.id = $1",
                session_id,
            )
            for session_id in sessions
        ]
        one_by_one = [await queries.activities_of(conn, [festival_id]) for festival_id in festival_ids]

    asked: list[list[uuid.UUID]] = []

    async def counted(
        conn: Connection, festival_ids: Sequence[uuid.UUID], limit: int, after: uuid.UUID | None
    ) -> list[asyncpg.Record]:
        asked.append(list(festival_ids))
        return await queries.activities_of(conn, festival_ids, limit, after)

    info = cast(Info, SimpleNamespace(context=SimpleNamespace(loaders={}, pool=pool)))
    loader = loaders.child_pages(info, counted, "festival_id")
    batched = await asyncio.gather(*(loader.load((festival_id, 50, None)) for festival_id in festival_ids))

    assert asked == [festival_ids]  # one query for the three festivals
    assert [[a["id"] for a in rows] for rows in batched] == [[a["id"] for a in rows] for rows in one_by_one]
    assert loaders.child_pages(info, counted, "festival_id") is loader  # one loader per request


async def test_the_festival_list_answers_every_festival_with_its_own_activities_and_sessions(
    gql: GraphQLClient, pool: Any, organiser_token: str
) -> None:
    made = {uuid.UUID(await open_session(gql, organiser_token, title=f"书法{n}")) for n in range(2)}
    festivals: list[dict[str, Any]] = []
    page: list[dict[str, Any]] = [{"id": None}] * 200
    while len(page) == 200:  # every page of the list (README.md, "Pages of a list")
        page = (await gql.ok(FESTIVALS, {"after": page[-1]["id"]}, organiser_token))["festivals"]
        festivals += page
    listed = {
        uuid.UUID(session["id"]): (festival["id"], activity["id"])
        for festival in festivals
        for activity in festival["activities"]
        for session in activity["sessions"]
    }
    assert made <= set(listed)
    async with pool.acquire() as conn:
        for session_id in made:
            truth = await conn.fetchrow(
                "SELECT a.festival_id, a.id FROM activities.sessions s "
                "JOIN activities.activities a ON a.id = s.activity_id WHERE s.id = $1",
                session_id,
            )
            assert listed[session_id] == (str(truth["festival_id"]), str(truth["id"]))
