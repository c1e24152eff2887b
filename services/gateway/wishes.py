"""微心愿 in the GraphQL API: posting, review, the community's wish wall, claims and the counts
organisers report upward. The wall and every answer show a wish's building, never its resident."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import asyncpg
import strawberry

from services.common import clock
from services.common.actor import Actor
from services.common.errors import bad_input, forbidden
from services.common.masking import mask_phones_in
from services.gateway.context import Info
from services.gateway.inputs import as_optional_datetime, check_key, parse_id
from services.gateway.names import community_name
from services.identity import queries as identity_queries
from services.volunteers import contracts, wishes
from services.volunteers import wish_repository as repo
from services.volunteers.wishes import ClaimantKind, Review, WishStatus

strawberry.enum(WishStatus, name="WishStatus")
strawberry.enum(Review, name="WishReview", description="Approve, decline (with a reason) or merge.")
strawberry.enum(
    ClaimantKind,
    name="ClaimantKind",
    description="Party member (work unit), partner organisation or volunteer.",
)


@strawberry.type(description="A wish as anyone may see it: no personal details beyond the building.")
class Wish:
    id: strawberry.ID
    community_id: str
    festival_id: str | None
    category: str
    description: str
    building: str
    status: WishStatus
    merged_into: strawberry.ID | None = None
    decline_reason: str | None = None
    claim_expires_at: datetime | None = None
    # When the claimant started (a started claim no longer lapses).
    started_at: datetime | None = None
    done_note: str | None = None
    photo_url: str | None = None
    met_at: datetime | None = None

    @strawberry.field(description="The community's name, e.g. 朔方社区.")
    async def community_name(self, info: Info) -> str:
        return await community_name(info, self.community_id)

    @classmethod
    def from_row(cls, row: asyncpg.Record | dict[str, Any]) -> Wish:
        get = row.get
        merged = get("merged_into")
        return cls(
            id=strawberry.ID(str(row["id"])),
            community_id=row["community_id"],
            festival_id=row["festival_id"],
            category=row["category"],
            description=mask_phones_in(row["description"]),
            building=row["building"],
            status=WishStatus(row["status"]),
            merged_into=strawberry.ID(str(merged)) if merged else None,
            decline_reason=get("decline_reason"),
            claim_expires_at=as_optional_datetime(get("claim_expires_at")),
            started_at=as_optional_datetime(get("started_at")),
            done_note=get("done_note"),
            photo_url=get("photo_url"),
            met_at=as_optional_datetime(get("met_at")),
        )


@strawberry.type
class OrganisationCount:
    organisation: str
    met: int


@strawberry.type(description="Wishes of a community (and festival) in a period, for reporting upward.")
class WishCounts:
    community_id: str
    festival_id: str | None
    since: date
    until: date
    posted: int
    claimed: int
    met: int
    met_by_partner: list[OrganisationCount]
    met_by_work_unit: list[OrganisationCount] = strawberry.field(
        description="Met by party members, by their work unit (for the 双报告 report)."
    )

    @strawberry.field(description="The community's name, e.g. 朔方社区.")
    async def community_name(self, info: Info) -> str:
        return await community_name(info, self.community_id)


@strawberry.input
class PostWishInput:
    community_id: str
    category: str = strawberry.field(description=f"One of {', '.join(wishes.CATEGORIES)}.")
    description: str
    building: str
    idempotency_key: str
    festival_id: str | None = None
    resident_id: strawberry.ID | None = strawberry.field(
        default=None, description="Grid workers: the resident the wish is for."
    )


@strawberry.input
class ReviewWishInput:
    wish_id: strawberry.ID
    review: Review
    reason: str | None = None
    merge_into: strawberry.ID | None = None


@strawberry.input
class ClaimWishInput:
    wish_id: strawberry.ID
    kind: ClaimantKind
    idempotency_key: str
    organisation: str | None = strawberry.field(
        default=None,
        description="PARTNER: which of my partner organisations (my first if left out). A party "
        "member's work unit is the one they registered with (双报到).",
    )


@strawberry.input
class FinishWishInput:
    wish_id: strawberry.ID
    note: str
    photo_url: str | None = None


async def _send(info: Info, actor: Actor, name: str, args: dict[str, Any], key: str) -> dict[str, Any]:
    return await info.context.answer(contracts.SERVICE, name, actor, args, f"{name}:{actor.user_id}:{key}")


async def _wish_command(info: Info, name: str, wish_id: strawberry.ID, **args: Any) -> Wish:
    """A command about one wish; the service decides who may (the key only joins retries)."""
    actor = info.context.require_actor()
    parsed = parse_id("wishId", wish_id)
    row = await _send(info, actor, name, {"wish_id": str(parsed), **args}, f"{parsed}:{uuid.uuid4().hex}")
    return Wish.from_row(row)


def _organiser_of(info: Info, community_id: str) -> Actor:
    actor = info.context.require_actor()
    if not actor.may_organise(community_id):
        raise forbidden()
    return actor


@strawberry.type
class WishesQuery:
    @strawberry.field(description="The community's wish wall: published wishes and how far each has come.")
    async def wish_wall(self, info: Info, community_id: str) -> list[Wish]:
        info.context.require_actor()
        async with info.context.pool.acquire() as conn:
            rows = await repo.wall(conn, community_id, clock.now())
        return [Wish.from_row(row) for row in rows]

    @strawberry.field(description="Wishes I made, or (grid workers) posted for a resident: to confirm them.")
    async def my_wishes(self, info: Info) -> list[Wish]:
        actor = info.context.require_actor()
        async with info.context.pool.acquire() as conn:
            rows = await repo.wishes_of(conn, actor.user_id)
        return [Wish.from_row(row) for row in rows]

    @strawberry.field(description="Wishes I have claimed: to start them and mark them done.")
    async def my_claimed_wishes(self, info: Info) -> list[Wish]:
        actor = info.context.require_actor()
        async with info.context.pool.acquire() as conn:
            rows = await repo.wishes_claimed_by(conn, actor.user_id)
        return [Wish.from_row(row) for row in rows]

    @strawberry.field(description="Organisers: posted wishes waiting for review, and approved ones.")
    async def wishes_to_review(self, info: Info, community_id: str) -> list[Wish]:
        _organiser_of(info, community_id)
        async with info.context.pool.acquire() as conn:
            rows = await repo.wishes_to_review(conn, community_id)
        return [Wish.from_row(row) for row in rows]

    @strawberry.field(description="Organisers: wishes posted, claimed and met in [since, until).")
    async def wish_counts(
        self, info: Info, community_id: str, since: date, until: date, festival_id: str | None = None
    ) -> WishCounts:
        _organiser_of(info, community_id)
        if until <= since or (until - since).days > 366:
            raise bad_input("until", "统计区间须为1到366天", "The period is 1 to 366 days")
        async with info.context.pool.acquire() as conn:
            found = await repo.counts(conn, community_id, festival_id, since, until)
        return WishCounts(
            community_id=community_id,
            festival_id=festival_id,
            since=since,
            until=until,
            posted=found["posted"],
            claimed=found["claimed"],
            met=found["met"],
            met_by_partner=[OrganisationCount(organisation=o, met=n) for o, n in found["by_partner"]],
            met_by_work_unit=[OrganisationCount(organisation=o, met=n) for o, n in found["by_work_unit"]],
        )


@strawberry.type
class WishesMutation:
    @strawberry.mutation(description="Post a wish: my own, or (grid workers) a resident's of my community.")
    async def post_wish(self, info: Info, input: PostWishInput) -> Wish:
        actor = info.context.require_actor()
        key = check_key(input.idempotency_key)
        args: dict[str, Any] = {
            "community_id": input.community_id,
            "category": input.category,
            "description": input.description,
            "building": input.building,
            "festival_id": input.festival_id,
        }
        if input.resident_id is not None and str(input.resident_id) != actor.user_id:
            if not wishes.is_grid_worker_of(actor, input.community_id):
                raise forbidden()
            resident_id = parse_id("residentId", input.resident_id)
            async with info.context.pool.acquire() as conn:
                resident = await identity_queries.resident(conn, resident_id)
            if resident is None or resident["community_id"] != input.community_id:
                raise forbidden()
            args["resident_id"] = str(resident_id)
        args["id"] = str(contracts.id_for("wish", actor.user_id, key))
        return Wish.from_row(await _send(info, actor, wishes.POST_WISH, args, key))

    @strawberry.mutation(description="Organisers: approve, decline (with a reason) or merge a posted wish.")
    async def review_wish(self, info: Info, input: ReviewWishInput) -> Wish:
        if input.review is Review.MERGE and input.merge_into is None:
            raise bad_input("mergeInto", "请选择要合并到的心愿", "Name the wish to merge into")
        merge_into = str(parse_id("mergeInto", input.merge_into)) if input.merge_into else None
        return await _wish_command(
            info,
            wishes.REVIEW_WISH,
            input.wish_id,
            review=input.review.value,
            reason=input.reason,
            merge_into=merge_into,
        )

    @strawberry.mutation(description="Organisers: put an approved wish on the community's wish wall.")
    async def publish_wish(self, info: Info, wish_id: strawberry.ID) -> Wish:
        return await _wish_command(info, wishes.PUBLISH_WISH, wish_id)

    @strawberry.mutation(description="Take a wish off the wall; one claimant at a time.")
    async def claim_wish(self, info: Info, input: ClaimWishInput) -> Wish:
        actor = info.context.require_actor()
        key = check_key(input.idempotency_key)
        wish_id = parse_id("wishId", input.wish_id)
        args = {
            "id": str(contracts.id_for("wish-claim", actor.user_id, key)),
            "wish_id": str(wish_id),
            "kind": input.kind.value,
            "organisation": input.organisation,
        }
        return Wish.from_row(await _send(info, actor, wishes.CLAIM_WISH, args, key))

    @strawberry.mutation(description="The claimant has begun: the claim no longer lapses.")
    async def start_wish(self, info: Info, wish_id: strawberry.ID) -> Wish:
        return await _wish_command(info, wishes.START_WISH, wish_id)

    @strawberry.mutation(description="The claimant marks the wish done, with a note.")
    async def finish_wish(self, info: Info, input: FinishWishInput) -> Wish:
        return await _wish_command(
            info, wishes.FINISH_WISH, input.wish_id, note=input.note, photo_url=input.photo_url
        )

    @strawberry.mutation(description="The resident (or their grid worker) confirms the wish was met.")
    async def confirm_wish(self, info: Info, wish_id: strawberry.ID) -> Wish:
        return await _wish_command(info, wishes.CONFIRM_WISH, wish_id)

    @strawberry.mutation(description="Organisers: return wishes whose claims lapsed to the wall; how many.")
    async def expire_wish_claims(self, info: Info, community_id: str) -> int:
        actor = _organiser_of(info, community_id)
        reply = await _send(
            info, actor, wishes.EXPIRE_WISH_CLAIMS, {"community_id": community_id}, uuid.uuid4().hex
        )
        return int(reply["expired"])
