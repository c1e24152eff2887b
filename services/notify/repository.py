"""SQL for the ``notify`` schema, and nothing else."""

from __future__ import annotations

import uuid

from services.common.db import Connection
from services.common.ids import new_id
from services.notify.domain import Message


async def insert_message(conn: Connection, event_id: uuid.UUID, message: Message) -> None:
    await conn.execute(
        """
        INSERT INTO notify.inbox
            (id, recipient_id, kind, title_zh, body_zh, title_en, body_en, event_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (event_id, recipient_id) DO NOTHING
        """,
        new_id(),
        message.recipient_id,
        message.kind,
        message.title_zh,
        message.body_zh,
        message.title_en,
        message.body_en,
        event_id,
    )
