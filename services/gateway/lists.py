"""三张清单 in the GraphQL API: a community's resources, needs (its own, plus residents' concerns
sent to the council and wishes on the wall) and projects; partner units' claims; the quarterly
report for the 党建联席会议 (CSV text too) and closing items (销号). Thin: commands go to the
volunteers service as in wishes.py."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime
from typing import Any

import asyncpg
import strawberry

from services.common import clock
from services.common.errors import forbidden
from services.common.masking import mask_phones_in
from services.common.paging import DEFAULT_LIMIT, MAX_LIMIT, after_uuid, checked_limit
from services.gateway import commands
from services.gateway.context import Info
from services.gateway.inputs import check_key, parse_id
from services.gateway.paging import After, Limit
from services.volunteers import contracts, council, lists, queries
from services.volunteers import council_repository as council_repo
from services.volunteers import list_repository as repo
from services.volunteers.lists import ClaimLine, ItemStatus, ListKind

strawberry.enum(ListKind, name="ListKind")
strawberry.enum(ItemStatus, name="ListItemStatus")

_ITEM_WORDS = {"OPEN": "待认领", "CLAIMED": "已认领", "DONE": "已完成", "CLOSED": "已销号"}


@strawberry.type
class ItemClaim:
    partner_name: str
    part: str
    claimed_at: datetime
    done_note: str | None
    done_at: datetime | None


@strawberry.type(description="One entry of a community's resource, needs or project list.")
class ListItem:
    id: strawberry.ID
    community_id: str
    kind: ListKind
    title: str
    details: str
    due_on: date | None
    status: ItemStatus
    status_words: str
    claims: list[ItemClaim]


@strawberry.type(description="A need residents raised elsewhere: a concern sent to the council or a wish.")
class NeedEntry:
    source: str = strawberry.field(description="议事会 or 微心愿.")
    building: str
    words: str
    status_words: str


@strawberry.type
class CommunityLists:
    community_id: strawberry.Private[str]
    residents_needs: list[NeedEntry] = strawberry.field(
        description="The latest 200 concerns sent to the council and the wall's latest 200 wishes."
    )

    async def _page(self, info: Info, kind: ListKind, limit: int, after: str | None) -> list[ListItem]:
        limit, start = checked_limit(limit), after_uuid(after)
        async with info.context.pool.acquire() as conn:
            return await _items(conn, await repo.items_of(conn, self.community_id, kind.value, limit, start))

    @strawberry.field(description="A page of the resources list, newest first.")
    async def resources(
        self, info: Info, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[ListItem]:
        return await self._page(info, ListKind.RESOURCE, limit, after)

    @strawberry.field(description="A page of the needs list, newest first.")
    async def needs(self, info: Info, limit: Limit = DEFAULT_LIMIT, after: After = None) -> list[ListItem]:
        return await self._page(info, ListKind.NEED, limit, after)

    @strawberry.field(description="A page of the projects list, newest first.")
    async def projects(self, info: Info, limit: Limit = DEFAULT_LIMIT, after: After = None) -> list[ListItem]:
        return await self._page(info, ListKind.PROJECT, limit, after)


@strawberry.type
class ReportLine:
    partner: str
    claimed: int
    done: int
    overdue: int
    closed: int


@strawberry.type(description="Claims made in a quarter, per partner unit; the last line (全部) is the total.")
class QuarterlyReport:
    community_id: str
    year: int
    quarter: int
    lines: list[ReportLine]
    csv: str = strawberry.field(description="The same as CSV (UTF-8), for the joint meeting's papers.")


@strawberry.input
class PublishListItemInput:
    community_id: str
    kind: ListKind
    title: str
    idempotency_key: str
    details: str = ""
    due_on: date | None = None
    partner_id: strawberry.ID | None = None


@strawberry.input
class ClaimProjectItemInput:
    item_id: strawberry.ID
    part: str = strawberry.field(default="", description="A shared claim: the part my unit takes on.")
    partner_id: strawberry.ID | None = None


async def _items(conn: Any, rows: list[asyncpg.Record]) -> list[ListItem]:
    claims = await repo.claims_of(conn, [r["id"] for r in rows])
    return [
        ListItem(
            id=strawberry.ID(str(r["id"])),
            community_id=r["community_id"],
            kind=ListKind(r["kind"]),
            title=r["title"],
            details=r["details"],
            due_on=r["due_on"],
            status=ItemStatus(r["status"]),
            status_words=_ITEM_WORDS[r["status"]],
            claims=[
                ItemClaim(
                    partner_name=c["partner_name"],
                    part=c["part"],
                    claimed_at=c["claimed_at"],
                    done_note=c["done_note"],
                    done_at=c["done_at"],
                )
                for c in claims
                if c["item_id"] == r["id"]
            ],
        )
        for r in rows
    ]


async def _item_answer(info: Info, item_id: str) -> ListItem:
    async with info.context.pool.acquire() as conn:
        row = await repo.get_item(conn, uuid.UUID(item_id))
        assert row is not None
        return (await _items(conn, [row]))[0]


@strawberry.type
class ListsQuery:
    @strawberry.field(
        description="三张清单: the community's resources, needs and projects (no resident named)."
    )
    async def community_lists(self, info: Info, community_id: str) -> CommunityLists:
        actor = info.context.require_actor()
        if not (community_id in actor.communities or actor.may_organise(community_id)):
            raise forbidden()
        async with info.context.pool.acquire() as conn:
            concerns = await council_repo.concerns_of_community(conn, community_id, MAX_LIMIT)
            wall = await queries.wall(conn, community_id, clock.now(), MAX_LIMIT)
        residents = [
            NeedEntry(
                source="议事会",
                building=c["building"],
                words=mask_phones_in(c["words"]),
                status_words=council.words_for(council.ConcernStatus(c["status"]))[0],
            )
            for c in concerns
            if c["status"] in ("TO_COUNCIL", "DECIDED", "IN_PROGRESS")
        ] + [
            NeedEntry(
                source="微心愿",
                building=w["building"],
                words=mask_phones_in(w["description"]),
                status_words="等待认领" if w["status"] == "PUBLISHED" else "已有人认领",
            )
            for w in wall
            if w["status"] in ("PUBLISHED", "CLAIMED")
        ]
        return CommunityLists(community_id=community_id, residents_needs=residents)

    @strawberry.field(description="Organisers: the quarter's claims per partner unit, for the joint meeting.")
    async def quarterly_report(
        self, info: Info, community_id: str, year: int, quarter: int, partner_id: strawberry.ID | None = None
    ) -> QuarterlyReport:
        actor = info.context.require_actor()
        if not actor.may_organise(community_id):
            raise forbidden()
        lists.quarter_bounds(year, quarter)
        partner = parse_id("partnerId", partner_id) if partner_id else None
        async with info.context.pool.acquire() as conn:
            rows = await repo.claim_lines(conn, community_id, partner)
        today = council.local_day(clock.now())
        found = lists.quarterly_report(
            [
                ClaimLine(
                    partner=r["partner"],
                    claimed_on=council.local_day(r["claimed_at"]),
                    due_on=r["due_on"],
                    done_on=council.local_day(r["done_at"]) if r["done_at"] else None,
                    closed=r["closed"],
                )
                for r in rows
            ],
            year,
            quarter,
            today,
        )
        text = io.StringIO()
        csv.writer(text).writerows(lists.report_csv_rows(found))
        return QuarterlyReport(
            community_id=community_id,
            year=year,
            quarter=quarter,
            lines=[
                ReportLine(
                    partner=r.partner, claimed=r.claimed, done=r.done, overdue=r.overdue, closed=r.closed
                )
                for r in found
            ],
            csv=text.getvalue(),
        )


@strawberry.type
class ListsMutation:
    @strawberry.mutation(
        description="Organisers: a need or a project; a partner unit's member: a resource it offers."
    )
    async def publish_list_item(self, info: Info, input: PublishListItemInput) -> ListItem:
        actor = info.context.require_actor()
        key = check_key(input.idempotency_key)
        args = {
            "id": str(contracts.id_for("list-item", actor.user_id, key)),
            "community_id": input.community_id,
            "kind": input.kind.value,
            "title": input.title,
            "details": input.details,
            "due_on": input.due_on.isoformat() if input.due_on else None,
            "partner_id": str(parse_id("partnerId", input.partner_id)) if input.partner_id else None,
        }
        made = await commands.answer(
            info, contracts.SERVICE, lists.PUBLISH_LIST_ITEM, actor, args, key, commands.created_id
        )
        return await _item_answer(info, made)

    @strawberry.mutation(
        description="A partner unit's member: claim a project item for the unit (or a part)."
    )
    async def claim_project_item(self, info: Info, input: ClaimProjectItemInput) -> ListItem:
        actor = info.context.require_actor()
        item_id = parse_id("itemId", input.item_id)
        args = {
            "item_id": str(item_id),
            "part": input.part,
            "partner_id": str(parse_id("partnerId", input.partner_id)) if input.partner_id else None,
        }
        await commands.perform(
            info, contracts.SERVICE, lists.CLAIM_PROJECT_ITEM, actor, args, commands.derived_key(args)
        )
        return await _item_answer(info, str(item_id))

    @strawberry.mutation(description="A partner unit's member: our claim is done, with a note.")
    async def complete_claim(self, info: Info, item_id: strawberry.ID, note: str) -> ListItem:
        actor = info.context.require_actor()
        parsed = parse_id("itemId", item_id)
        args = {"item_id": str(parsed), "note": note}
        await commands.perform(
            info, contracts.SERVICE, lists.COMPLETE_CLAIM, actor, args, commands.derived_key(args)
        )
        return await _item_answer(info, str(parsed))

    @strawberry.mutation(description="Organisers: close (销号) a done item at the joint meeting.")
    async def close_list_item(self, info: Info, item_id: strawberry.ID) -> ListItem:
        actor = info.context.require_actor()
        parsed = parse_id("itemId", item_id)
        args = {"item_id": str(parsed)}
        await commands.perform(
            info, contracts.SERVICE, lists.CLOSE_LIST_ITEM, actor, args, commands.derived_key(args)
        )
        return await _item_answer(info, str(parsed))
