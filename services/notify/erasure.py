"""A deleted resident's part of notify: their inbox, deliveries, texts, preferences and "to
tell" entries are deleted; what others' messages and kept events say of them is replaced by
the pseudonym. The projections of sign-ups (no names) stay, like the sign-ups themselves. The
person is noted as erased, so an event still on its way to them writes nothing."""

from __future__ import annotations

from dataclasses import replace

from services.common.db import Connection
from services.common.erasure import Erasure, erase_commands, erasure_of, scrub, scrub_outbox
from services.notify import repository as repo
from services.notify.contracts import SERVICE

# Text that may name the resident in messages to other people.
_FREE_TEXT = (
    ("notify.inbox", "title_zh"),
    ("notify.inbox", "body_zh"),
    ("notify.inbox", "title_en"),
    ("notify.inbox", "body_en"),
    ("notify.deliveries", "subject"),
    ("notify.deliveries", "body"),
    ("notify.to_tell", "title_zh"),
    ("notify.to_tell", "body_zh"),
    ("notify.to_tell", "title_en"),
    ("notify.to_tell", "body_en"),
    ("notify.sms_outbox", "body"),
)


async def _addresses(conn: Connection, person_id: str) -> list[str]:
    """Where notify reached the person: numbers, e-mail, WeChat id."""
    rows = await conn.fetch(
        """
        SELECT unnest(ARRAY[phone, email, wechat_openid]) AS address
        FROM notify.preferences WHERE person_id = $1
        UNION SELECT address FROM notify.deliveries WHERE recipient_id = $1 AND channel <> 'webhook'
        """,
        person_id,
    )
    return [row["address"] for row in rows if row["address"]]


async def erase(conn: Connection, erasure: Erasure) -> int:
    """Rows deleted or changed."""
    rid = erasure.resident_id
    await repo.hold_person_for_erasure(conn, rid)
    known = erasure_of(rid, [*erasure.needles, *await _addresses(conn, rid)])
    erasure = replace(erasure, needles=known.needles)
    changed = 0
    for status in (
        await conn.execute(
            "INSERT INTO notify.erased_people (person_id) VALUES ($1) ON CONFLICT DO NOTHING", rid
        ),
        await conn.execute("DELETE FROM notify.inbox WHERE recipient_id = $1", rid),
        await conn.execute("DELETE FROM notify.deliveries WHERE recipient_id = $1", rid),
        await conn.execute("DELETE FROM notify.preferences WHERE person_id = $1", rid),
        await conn.execute("DELETE FROM notify.wechat_subscriptions WHERE person_id = $1", rid),
        await conn.execute("DELETE FROM notify.to_tell WHERE person_id = $1", rid),
        await conn.execute("DELETE FROM notify.told_in_person WHERE person_id = $1", rid),
        await conn.execute(
            "DELETE FROM notify.sms_outbox WHERE phone = ANY($1::text[])", list(erasure.needles)
        ),
        await conn.execute(
            "DELETE FROM notify.deliveries WHERE address = ANY($1::text[])", list(erasure.needles)
        ),
    ):
        changed += int(status.split()[-1])
    for table, column in _FREE_TEXT:
        changed += await scrub(conn, table, column, erasure.needles, erasure.pseudonym)
    return changed + await scrub_outbox(conn, SERVICE, erasure)


ERASE_COMMANDS = erase_commands(SERVICE, erase)
