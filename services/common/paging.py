"""Pages of a list: the one convention every list of the API follows (README.md, "Pages of a list").

A list field takes ``limit`` (how many items, 1 to ``MAX_LIMIT``, ``DEFAULT_LIMIT`` when not
given) and ``after`` (the id of the last item the caller already has; none for the first page).
Items come in a stable order that ends with a unique column, and each next page is read by
keyset (``(key, id) > (the key of that item, its id)``), so a page costs the same however far
down it is and an item added meanwhile is neither skipped nor repeated. A page shorter than
``limit`` is the last; a full one may have more.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from services.common.db import Connection
from services.common.errors import Refusal, bad_input

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def checked_limit(limit: int, field: str = "limit") -> int:
    """``limit`` when it is 1 to ``MAX_LIMIT``; refused otherwise."""
    if not 1 <= limit <= MAX_LIMIT:
        raise bad_input(field, f"每页条数须在1到{MAX_LIMIT}之间", f"{field} must be 1 to {MAX_LIMIT}")
    return limit


def unknown_cursor(field: str = "after") -> Refusal:
    """``after`` names no item of this list (mistyped, or from another list)."""
    return Refusal(
        "BAD_CURSOR",
        "翻页位置不在此列表中，请从第一页重新加载",
        "That page position is not in this list: load it again from the start",
        {"field": field},
    )


def after_uuid(after: str | None, field: str = "after") -> uuid.UUID | None:
    """The id ``after`` names, as a UUID; refused when it is not one."""
    if after is None:
        return None
    try:
        return uuid.UUID(str(after))
    except ValueError:
        raise unknown_cursor(field) from None


def after_text(after: str | None, field: str = "after") -> str | None:
    """``after`` for lists whose items are named by text ids; refused when empty or too long."""
    if after is None:
        return None
    if not after or len(after) > 200:
        raise unknown_cursor(field)
    return after


async def page_start(conn: Connection, after: object, sql: str, *args: Any) -> asyncpg.Record | None:
    """Where the page after item ``after`` starts: the row ``sql`` reads of that item (its place
    in the list's order), none for a first page; refused when ``after`` is no item of the list."""
    if after is None:
        return None
    start = await conn.fetchrow(sql, *args)
    if start is None:
        raise unknown_cursor()
    return start
