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
from services.gateway.context import Info

Fetch = Callable[[Connection, Sequence[uuid.UUID]], Awaitable[list[asyncpg.Record]]]


def children(info: Info, fetch: Fetch, parent_column: str) -> DataLoader[uuid.UUID, list[asyncpg.Record]]:
    """This request's loader of the rows ``fetch`` finds under each parent id (its order kept)."""
    name = f"{fetch.__module__}.{fetch.__qualname__}"
    loaders: dict[str, Any] = info.context.loaders
    if name not in loaders:

        async def load(parent_ids: list[uuid.UUID]) -> list[list[asyncpg.Record]]:
            async with info.context.pool.acquire() as conn:
                rows = await fetch(conn, parent_ids)
            grouped: dict[uuid.UUID, list[asyncpg.Record]] = {}
            for row in rows:
                grouped.setdefault(row[parent_column], []).append(row)
            return [grouped.get(parent_id, []) for parent_id in parent_ids]

        loaders[name] = DataLoader(load_fn=load)
    loader: DataLoader[uuid.UUID, list[asyncpg.Record]] = loaders[name]
    return loader
