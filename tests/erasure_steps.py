"""Steps the account-deletion (PIPL) tests share: rare names nobody else in the database has,
and the sweep of every text column of every Linli schema for what must be gone."""

from __future__ import annotations

import random
from typing import Any

from services.common.settings import QUEUED_SERVICES

SCHEMAS = ("identity", *QUEUED_SERVICES)
DELETE = 'mutation { deleteMyAccount(confirmation: "注销") }'
RARE = "甄隗邬璩郗蔺覃鄢阚詹郦湛禚"


def rare_name(length: int) -> str:
    return "".join(random.choice(RARE) for _ in range(length))


async def text_columns(conn: Any) -> list[tuple[str, str, str]]:
    """Every column of the Linli schemas that can hold text: text, varchar, json(b), arrays."""
    rows = await conn.fetch(
        """
        SELECT c.table_schema, c.table_name, c.column_name
        FROM information_schema.columns c
        JOIN information_schema.tables t USING (table_schema, table_name)
        WHERE c.table_schema = ANY($1::text[]) AND t.table_type = 'BASE TABLE'
          AND (c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')
               OR c.udt_name IN ('_text', '_varchar'))
        """,
        list(SCHEMAS),
    )
    return [(r["table_schema"], r["table_name"], r["column_name"]) for r in rows]


async def where_found(conn: Any, needles: list[str]) -> list[str]:
    found = []
    for schema, table, column in await text_columns(conn):
        for needle in needles:
            hits = await conn.fetchval(
                f'SELECT count(*) FROM {schema}."{table}" WHERE strpos("{column}"::text, $1) > 0', needle
            )
            if hits:
                found.append(f"{schema}.{table}.{column} holds {needle!r} ({hits} rows)")
    return found
