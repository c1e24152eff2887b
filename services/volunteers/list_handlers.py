"""Commands of the three lists (see lists.py): publish an item, a partner unit claims a project
item (or a part of it) and reports it done, an organiser closes it (销号)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from services.common.actor import Actor
from services.common.commands import command
from services.common.db import Connection, row_as_dict
from services.common.errors import forbidden
from services.common.outbox import record_event
from services.volunteers import list_repository as repo
from services.volunteers import lists
from services.volunteers.council_handlers import now_of, pool_of
from services.volunteers.lists import ItemStatus, ListKind

SCHEMA = "volunteers"


async def _partner_of(conn: Connection, actor: Actor, community_id: str, partner_id: str | None) -> Any:
    """The partner unit the actor acts for: the one named, if they are its member, else their first."""
    mine = await repo.member_partners(conn, actor.user_id, community_id)
    if partner_id:
        mine = [p for p in mine if str(p["id"]) == partner_id]
    if not mine:
        raise forbidden()
    return mine[0]


async def publish_list_item(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """Organisers publish needs and projects; a partner unit's member publishes what it offers."""
    community_id = args["community_id"]
    kind = ListKind(args["kind"])
    title = lists.check_text("title", args["title"], 80)
    details = (args.get("details") or "").strip()[:500]
    due_on = date.fromisoformat(args["due_on"]) if args.get("due_on") else None
    async with pool_of(ctx).acquire() as conn, conn.transaction():
        partner_id = None
        if kind is ListKind.RESOURCE and not actor.may_organise(community_id):
            partner_id = (await _partner_of(conn, actor, community_id, args.get("partner_id")))["id"]
        elif not actor.may_organise(community_id):
            raise forbidden()
        row = await repo.insert_item(
            conn, uuid.UUID(args["id"]), community_id, kind.value, title, details, partner_id, due_on,
            actor.user_id, now_of(ctx),
        )  # fmt: skip
    return row_as_dict(row)


async def claim_project_item(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """A partner unit claims a project item, or a part of a shared one."""
    item_id = uuid.UUID(args["item_id"])
    part = (args.get("part") or "").strip()[:80]
    async with pool_of(ctx).acquire() as conn, conn.transaction():
        item = await repo.get_item(conn, item_id, for_update=True)
        if item is None or item["kind"] != ListKind.PROJECT:
            raise lists.unknown_item()
        partner = await _partner_of(conn, actor, item["community_id"], args.get("partner_id"))
        if item["status"] not in (ItemStatus.OPEN, ItemStatus.CLAIMED):
            raise lists.wrong_item_state(ItemStatus(item["status"]))
        if await repo.insert_claim(conn, item_id, partner["id"], part, actor.user_id, now_of(ctx)):
            await repo.set_status(conn, item_id, ItemStatus.CLAIMED.value)
            await record_event(
                conn,
                SCHEMA,
                lists.ITEM_CLAIMED,
                {"item_id": str(item_id), "community_id": item["community_id"], "partner": partner["name"]},
            )
        row = await repo.get_item(conn, item_id)
    assert row is not None
    return row_as_dict(row)


async def complete_claim(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """The unit's part is done; the item is done once every claim on it is."""
    item_id = uuid.UUID(args["item_id"])
    note = lists.check_text("note", args["note"], 500)
    async with pool_of(ctx).acquire() as conn, conn.transaction():
        item = await repo.get_item(conn, item_id, for_update=True)
        if item is None:
            raise lists.unknown_item()
        partner = await _partner_of(conn, actor, item["community_id"], args.get("partner_id"))
        claims = [c for c in await repo.claims_of(conn, [item_id]) if c["partner_id"] == partner["id"]]
        if not claims:
            raise forbidden()
        await repo.finish_claim(conn, item_id, partner["id"], note, now_of(ctx))
        if item["status"] != ItemStatus.CLOSED:
            done = [c["done_at"] is not None for c in await repo.claims_of(conn, [item_id])]
            await repo.set_status(conn, item_id, lists.status_after_claims(done).value)
        row = await repo.get_item(conn, item_id)
    assert row is not None
    return row_as_dict(row)


async def close_list_item(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """销号 at the joint meeting: only a done item closes, once."""
    item_id = uuid.UUID(args["item_id"])
    async with pool_of(ctx).acquire() as conn, conn.transaction():
        item = await repo.get_item(conn, item_id, for_update=True)
        if item is None:
            raise lists.unknown_item()
        if not actor.may_organise(item["community_id"]):
            raise forbidden()
        if item["status"] == ItemStatus.CLOSED:
            return row_as_dict(item)
        if item["status"] != ItemStatus.DONE:
            raise lists.wrong_item_state(ItemStatus(item["status"]))
        await repo.close(conn, item_id, actor.user_id, now_of(ctx))
        # the units that carried it out, by name: the dashboard counts closed items per unit
        partners = sorted({c["partner_name"] for c in await repo.claims_of(conn, [item_id])})
        payload = {"item_id": str(item_id), "community_id": item["community_id"], "partners": partners}
        await record_event(conn, SCHEMA, lists.ITEM_CLOSED, payload)
        row = await repo.get_item(conn, item_id)
    assert row is not None
    return row_as_dict(row)


LIST_COMMANDS = [
    command(lists.PUBLISH_LIST_ITEM, publish_list_item),
    command(lists.CLAIM_PROJECT_ITEM, claim_project_item),
    command(lists.COMPLETE_CLAIM, complete_claim),
    command(lists.CLOSE_LIST_ITEM, close_list_item),
]
