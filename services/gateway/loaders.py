"""Batched reads for nested fields: one query per level of a GraphQL answer, not one per parent.

A festival list asks each festival for its activities and each activity for its sessions; left
to themselves those resolvers read once per parent (51 festivals, then every activity: the
N + 1 reads that made the festival list the slowest read on a city's data, bench/README.md).
A loader gathers the keys its field asks for in one turn of the event loop and reads them in
one query through the service's ``queries``. Loaders live on the request's context, so nothing
is cached past one request.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
from strawberry.dataloader import DataLoader

from services.common.db import Connection
from services.common.errors import Refusal
from services.gateway.context import Info

PageFetch = Callable[
    [Connection, Sequence[uuid.UUID], int, uuid.UUID | None], Awaitable[list[asyncpg.Record]]
]
PageKey = tuple[uuid.UUID, int, uuid.UUID | None]  # the parent, the page's limit and its ``after``


def child_pages(
    info: Info, fetch: PageFetch, parent_column: str
) -> DataLoader[PageKey, list[asyncpg.Record]]:
    """This request's loader of a page of the rows ``fetch`` finds under each parent: the first
    pages of every parent asking for the same limit in one query; a later page (``after`` one
    of its rows) belongs to one parent and is read on its own."""
    name = f"{fetch.__module__}.{fetch.__qualname__}:pages"
    loaders: dict[str, Any] = info.context.loaders
    if name not in loaders:

        async def load(keys: list[PageKey]) -> list[list[asyncpg.Record] | Refusal]:
            asks: dict[tuple[int, uuid.UUID | None], list[uuid.UUID]] = {}
            for parent_id, limit, after in keys:
                asks.setdefault((limit, after), []).append(parent_id)
            found: dict[PageKey, list[asyncpg.Record]] = {}
            refused: dict[tuple[int, uuid.UUID | None], Refusal] = {}
            async with info.context.pool.acquire() as conn:
                for (limit, after), parent_ids in asks.items():
                    try:
                        rows = await fetch(conn, parent_ids, limit, after)
                    except Refusal as refusal:  # an ``after`` not among its parent's rows
                        refused[(limit, after)] = refusal
                        continue
                    for row in rows:
                        found.setdefault((row[parent_column], limit, after), []).append(row)
            return [refused.get(key[1:]) or found.get(key, []) for key in keys]

        loaders[name] = DataLoader(load_fn=load)
    loader: DataLoader[PageKey, list[asyncpg.Record]] = loaders[name]
    return loader
