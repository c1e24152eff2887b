"""The notify part of the GraphQL API: a person's in-app inbox."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import strawberry

from services.common.errors import bad_input
from services.gateway.context import Info
from services.notify import queries


@strawberry.type
class InboxMessage:
    id: strawberry.ID
    kind: str
    title: str
    body: str
    title_en: str
    body_en: str
    created_at: datetime
    read: bool

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> InboxMessage:
        return cls(
            id=strawberry.ID(str(row["id"])),
            kind=row["kind"],
            title=row["title_zh"],
            body=row["body_zh"],
            title_en=row["title_en"],
            body_en=row["body_en"],
            created_at=row["created_at"],
            read=row["read_at"] is not None,
        )


@strawberry.type
class NotifyQuery:
    @strawberry.field(description="My in-app messages, newest first.")
    async def my_inbox(self, info: Info, limit: int = 50) -> list[InboxMessage]:
        actor = info.context.require_actor()
        if not 1 <= limit <= 200:
            raise bad_input("limit", "每页条数须在1到200之间", "limit must be 1 to 200")
        async with info.context.pool.acquire() as conn:
            rows = await queries.inbox(conn, actor.user_id, limit)
        return [InboxMessage.from_row(row) for row in rows]
