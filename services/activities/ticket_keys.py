"""SQL for the communities' Ed25519 ticket keys (``activities.ticket_keys``) and the signed codes
made with them. Every function takes a connection.

A community's first ticket makes its key (two gateways racing for it agree through the unique
index on the signing key); ``rotate`` retires it. Issuing a code reads the key and signs: it
writes nothing else, so showing a ticket stays a read.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from services.activities import signed_tickets
from services.activities.signed_tickets import TicketKey
from services.common.db import Connection
from services.common.errors import not_found

# Keys past their validity are still published this long, so a door says "expired" in words
# instead of "unknown key" for an old ticket.
PUBLISHED_AFTER_EXPIRY = timedelta(days=30)


_SIGNING = (
    "SELECT key_id, private_key FROM activities.ticket_keys WHERE community_id = $1 AND retired_at IS NULL"
)


async def signing_key(conn: Connection, secret: str, community_id: str) -> tuple[int, bytes]:
    """The community's signing key (id, private seed), made on first use."""
    row = await conn.fetchrow(_SIGNING, community_id)
    if row is None:
        await _add_key(conn, secret, community_id)
        row = await conn.fetchrow(_SIGNING, community_id)
    assert row is not None
    return row["key_id"], signed_tickets.unwrap(secret, row["key_id"], row["private_key"])


async def _add_key(conn: Connection, secret: str, community_id: str) -> int | None:
    seed = signed_tickets.new_private_key()
    key_id: int | None = await conn.fetchval(
        "SELECT nextval(pg_get_serial_sequence('activities.ticket_keys', 'key_id'))"
    )
    assert key_id is not None
    inserted: int | None = await conn.fetchval(
        """
        INSERT INTO activities.ticket_keys (key_id, community_id, public_key, private_key)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (community_id) WHERE retired_at IS NULL DO NOTHING
        RETURNING key_id
        """,
        key_id,
        community_id,
        signed_tickets.public_key_of(seed),
        signed_tickets.wrap(secret, key_id, seed),
    )
    return inserted


async def ticket_code(conn: Connection, secret: str, signup_id: uuid.UUID) -> str:
    """The signed code of a sign-up's ticket, good until a week after its session's end."""
    row = await conn.fetchrow(
        "SELECT s.id, s.community_id, s.ends_at FROM activities.signups g "
        "JOIN activities.sessions s ON s.id = g.session_id WHERE g.id = $1",
        signup_id,
    )
    if row is None:
        raise not_found("sign-up", "报名")
    key_id, seed = await signing_key(conn, secret, row["community_id"])
    return signed_tickets.issue(seed, key_id, signup_id, row["id"], signed_tickets.expiry_for(row["ends_at"]))


def _key(row: object) -> TicketKey:
    return TicketKey(row["key_id"], row["community_id"], bytes(row["public_key"]), row["valid_until"])  # type: ignore[index]


async def keys_by_id(conn: Connection, key_ids: Sequence[int]) -> dict[int, TicketKey]:
    rows = await conn.fetch(
        "SELECT key_id, community_id, public_key, valid_until FROM activities.ticket_keys "
        "WHERE key_id = ANY($1::int[])",
        list(key_ids),
    )
    return {row["key_id"]: _key(row) for row in rows}


async def published_keys(conn: Connection, community_ids: Sequence[str], now: datetime) -> list[TicketKey]:
    """The public keys a door of these communities needs: every one still valid, and those expired
    lately (see PUBLISHED_AFTER_EXPIRY)."""
    rows = await conn.fetch(
        """
        SELECT key_id, community_id, public_key, valid_until FROM activities.ticket_keys
        WHERE community_id = ANY($1::text[]) AND (valid_until IS NULL OR valid_until > $2)
        ORDER BY community_id, key_id
        """,
        list(community_ids),
        now - PUBLISHED_AFTER_EXPIRY,
    )
    return [_key(row) for row in rows]


async def rotate(conn: Connection, secret: str, community_id: str, now: datetime) -> TicketKey:
    """Retire the community's signing key (valid until the end of its last session, plus the
    tickets' grace) and start a new one; the new key."""
    async with conn.transaction():
        last_end: datetime | None = await conn.fetchval(
            "SELECT max(ends_at) FROM activities.sessions WHERE community_id = $1", community_id
        )
        valid_until = signed_tickets.expiry_for(max(last_end or now, now))
        await conn.execute(
            "UPDATE activities.ticket_keys SET retired_at = $2, valid_until = $3 "
            "WHERE community_id = $1 AND retired_at IS NULL",
            community_id,
            now,
            valid_until,
        )
        key_id = await _add_key(conn, secret, community_id)
    assert key_id is not None
    return (await keys_by_id(conn, [key_id]))[key_id]
