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
from services.common.masking import mask_name, mask_phone, mask_phones_in
from services.common.paging import DEFAULT_LIMIT, after_uuid, checked_limit
from services.gateway import commands
from services.gateway.context import Info
from services.gateway.inputs import check_key, parse_id
from services.gateway.names import community_name
from services.gateway.paging import After, Limit
from services.identity import queries as identity_queries
from services.identity.directory import community_contact
from services.volunteers import contracts, queries, wishes
from services.volunteers.queries import volunteer_names
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
    resident_id: strawberry.Private[str | None] = None
    posted_by: strawberry.Private[str | None] = None
    claim_id: strawberry.Private[str | None] = None
    claimant_id: strawberry.Private[str | None] = None

    @strawberry.field(
        description="Who took the wish on and when they plan to come: for the resident, the grid "
        "worker who posted it, the community's staff and the claimant. Null for anyone else."
    )
    async def claimant(self, info: Info) -> WishClaimant | None:
        actor = info.context.require_actor()
        if self.claim_id is None or not (
            actor.user_id in (self.resident_id, self.posted_by, self.claimant_id)
            or actor.may_organise(self.community_id)
            or wishes.is_grid_worker_of(actor, self.community_id)
        ):
            return None
        async with info.context.pool.acquire() as conn:
            claim = await queries.wish_claim(conn, uuid.UUID(self.claim_id))
            if claim is None:
                return None
            name = await _claimant_name(conn, claim["claimant_id"])
        return WishClaimant(
            name=name,
            kind=ClaimantKind(claim["claimant_kind"]),
            organisation=claim["organisation"],
            claimed_at=claim["claimed_at"],
            planned_visit_at=claim["planned_visit_at"],
        )

    @strawberry.field(
        description="For its claimant while the wish is theirs: where to go and how to reach the "
        "resident without her number (masked; ask the community to pass a message on)."
    )
    async def contact(self, info: Info) -> WishContact | None:
        actor = info.context.require_actor()
        if (
            self.claim_id is None
            or self.claimant_id != actor.user_id
            or self.status not in (WishStatus.CLAIMED, WishStatus.DONE)
        ):
            return None
        async with info.context.pool.acquire() as conn:
            resident = await _resident(conn, self.resident_id)
            call_back = await queries.call_back_of_claim(conn, uuid.UUID(self.claim_id))
            desk = await community_contact(conn, self.community_id)
        phone = resident["phone"] if resident else ""
        return WishContact(
            building=self.building,
            unit=(resident["unit"] or None) if resident else None,
            resident_name=mask_name(resident["name"]) if resident and resident["name"] else None,
            resident_phone_masked=mask_phone(phone) if phone else None,
            posted_by_grid_worker=bool(self.posted_by and self.posted_by != self.resident_id),
            call_back_requested_at=call_back["requested_at"] if call_back else None,
            call_back_handled_at=call_back["handled_at"] if call_back else None,
            community_name=desk.name,
            desk_phone=desk.desk_phone or None,
        )

    @strawberry.field(description="The community's name, e.g. 朔方社区.")
    async def community_name(self, info: Info) -> str:
        return await community_name(info, self.community_id)

    @classmethod
    def of(cls, wish: contracts.Wish) -> Wish:
        return cls(
            resident_id=wish.resident_id,
            posted_by=wish.posted_by,
            claim_id=wish.claim_id,
            claimant_id=wish.claimant_id,
            id=strawberry.ID(wish.id),
            community_id=wish.community_id,
            festival_id=wish.festival_id,
            category=wish.category,
            description=mask_phones_in(wish.description),
            building=wish.building,
            status=WishStatus(wish.status),
            merged_into=strawberry.ID(wish.merged_into) if wish.merged_into else None,
            decline_reason=wish.decline_reason,
            claim_expires_at=wish.claim_expires_at,
            started_at=wish.started_at,
            done_note=wish.done_note,
            photo_url=wish.photo_url,
            met_at=wish.met_at,
        )


@strawberry.type(description="Who took a wish on: their name, or the unit or partner they claimed for.")
class WishClaimant:
    name: str | None = strawberry.field(description="The name they gave (双报到 or profile); null if none.")
    kind: ClaimantKind
    organisation: str | None = strawberry.field(description="The party member's work unit, or the partner.")
    claimed_at: datetime
    planned_visit_at: datetime | None


@strawberry.type(description="How a claimant reaches the resident: never her full number.")
class WishContact:
    building: str
    unit: str | None = strawberry.field(description="Her unit/door, from her profile, when she gave it.")
    resident_name: str | None = strawberry.field(description="Masked: 赵** for 赵淑兰.")
    resident_phone_masked: str | None = strawberry.field(description="Masked: 139****5678.")
    posted_by_grid_worker: bool = strawberry.field(description="A grid worker posted it for her.")
    call_back_requested_at: datetime | None = strawberry.field(
        description="When the claimant asked the community to pass a message on (requestWishCallBack)."
    )
    call_back_handled_at: datetime | None = strawberry.field(description="When staff ticked it off.")
    community_name: str = strawberry.field(description="The wish's community, e.g. 朔方社区.")
    desk_phone: str | None = strawberry.field(
        description="The community service desk's phone (from the directory), to call about the wish; "
        "null when the community has not listed one."
    )


@strawberry.type(description="Staff: a claimant asked the community to reach a resident for them.")
class WishCallBack:
    id: strawberry.ID
    wish_id: strawberry.ID
    category: str
    building: str
    unit: str | None
    resident_name: str | None
    resident_phone: str | None = strawberry.field(description="In full: staff call her back.")
    claimant_name: str | None
    organisation: str | None
    planned_visit_at: datetime | None
    note: str | None
    requested_at: datetime
    handled_at: datetime | None


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
    planned_visit_at: datetime | None = strawberry.field(
        default=None, description="When I plan to come: the resident sees it."
    )


@strawberry.input
class GiveBackWishInput:
    wish_id: strawberry.ID
    reason: str = strawberry.field(description="Why: the resident is told.")
    idempotency_key: str


@strawberry.input
class PlanWishVisitInput:
    wish_id: strawberry.ID
    planned_visit_at: datetime


@strawberry.input
class RequestWishCallBackInput:
    wish_id: strawberry.ID
    note: str | None = strawberry.field(default=None, description="What the community should pass on.")


@strawberry.input
class FinishWishInput:
    wish_id: strawberry.ID
    note: str
    photo_url: str | None = None


async def _wish_state(info: Info, wish_id: uuid.UUID) -> str | None:
    """The wish's version: what a command about it changes, so a key derived from it joins a
    double click or a retry, never a later request (the same plan again after another)."""
    async with info.context.pool.acquire() as conn:
        found = await queries.wish(conn, wish_id)
    return None if found is None else str(found["version"])


async def _wish_command(info: Info, name: str, wish_id: strawberry.ID, **args: Any) -> Wish:
    """A command about one wish; the service decides who may."""
    actor = info.context.require_actor()
    parsed = parse_id("wishId", wish_id)
    args = {"wish_id": str(parsed), **args}
    key = commands.derived_key(args, await _wish_state(info, parsed))
    return Wish.of(await commands.answer(info, contracts.SERVICE, name, actor, args, key, contracts.Wish.of))


async def _resident(conn: Any, resident_id: str | None) -> asyncpg.Record | None:
    """The resident's identity record, if she has one (a wish's resident is an identity id)."""
    try:
        parsed = uuid.UUID(resident_id or "")
    except ValueError:
        return None
    return await identity_queries.resident(conn, parsed)


async def _claimant_name(conn: Any, claimant_id: str) -> str | None:
    """The name a claimant gave: their 双报到 or volunteer profile's, else their own profile's."""
    named = (await volunteer_names(conn, [claimant_id])).get(claimant_id)
    if named:
        return named
    resident = await _resident(conn, claimant_id)
    return (resident["name"] or None) if resident else None


def _staff_of(info: Info, community_id: str) -> Actor:
    """Organisers, and grid workers or desk staff, of the community."""
    actor = info.context.require_actor()
    if not (actor.may_organise(community_id) or wishes.is_grid_worker_of(actor, community_id)):
        raise forbidden()
    return actor


async def _call_back(conn: Any, row: asyncpg.Record) -> WishCallBack:
    resident = await _resident(conn, row["resident_id"])
    claimant_name = await _claimant_name(conn, row["claimant_id"])
    return WishCallBack(
        id=strawberry.ID(str(row["id"])),
        wish_id=strawberry.ID(str(row["wish_id"])),
        category=row["category"],
        building=row["building"],
        unit=(resident["unit"] or None) if resident else None,
        resident_name=(resident["name"] or None) if resident else None,
        resident_phone=resident["phone"] if resident else None,
        claimant_name=claimant_name,
        organisation=row["organisation"],
        planned_visit_at=row["planned_visit_at"],
        note=row["note"],
        requested_at=row["requested_at"],
        handled_at=row["handled_at"],
    )


def _organiser_of(info: Info, community_id: str) -> Actor:
    actor = info.context.require_actor()
    if not actor.may_organise(community_id):
        raise forbidden()
    return actor


@strawberry.type
class WishesQuery:
    @strawberry.field(description="The community's wish wall: published wishes and how far each has come.")
    async def wish_wall(
        self, info: Info, community_id: str, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[Wish]:
        info.context.require_actor()
        limit, start = checked_limit(limit), after_uuid(after)
        async with info.context.pool.acquire() as conn:
            rows = await queries.wall(conn, community_id, clock.now(), limit, start)
        return [Wish.of(contracts.Wish.of(row)) for row in rows]

    @strawberry.field(description="Wishes I made, or (grid workers) posted for a resident: to confirm them.")
    async def my_wishes(self, info: Info, limit: Limit = DEFAULT_LIMIT, after: After = None) -> list[Wish]:
        actor = info.context.require_actor()
        limit, start = checked_limit(limit), after_uuid(after)
        async with info.context.pool.acquire() as conn:
            rows = await queries.wishes_of(conn, actor.user_id, limit, start)
        return [Wish.of(contracts.Wish.of(row)) for row in rows]

    @strawberry.field(description="Wishes I have claimed: to start them and mark them done.")
    async def my_claimed_wishes(
        self, info: Info, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[Wish]:
        actor = info.context.require_actor()
        limit, start = checked_limit(limit), after_uuid(after)
        async with info.context.pool.acquire() as conn:
            rows = await queries.wishes_claimed_by(conn, actor.user_id, limit, start)
        return [Wish.of(contracts.Wish.of(row)) for row in rows]

    @strawberry.field(description="Organisers: posted wishes waiting for review, and approved ones.")
    async def wishes_to_review(
        self, info: Info, community_id: str, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[Wish]:
        _organiser_of(info, community_id)
        limit, start = checked_limit(limit), after_uuid(after)
        async with info.context.pool.acquire() as conn:
            rows = await queries.wishes_to_review(conn, community_id, limit, start)
        return [Wish.of(contracts.Wish.of(row)) for row in rows]

    @strawberry.field(description="Staff: claimants' requests to reach a resident for them, open ones first.")
    async def wish_call_backs(
        self, info: Info, community_id: str, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[WishCallBack]:
        _staff_of(info, community_id)
        limit, start = checked_limit(limit), after_uuid(after)
        async with info.context.pool.acquire() as conn:
            rows = await queries.call_backs_of_community(conn, community_id, limit, start)
            return [await _call_back(conn, row) for row in rows]

    @strawberry.field(description="Organisers: wishes posted, claimed and met in [since, until).")
    async def wish_counts(
        self, info: Info, community_id: str, since: date, until: date, festival_id: str | None = None
    ) -> WishCounts:
        _organiser_of(info, community_id)
        if until <= since or (until - since).days > 366:
            raise bad_input("until", "统计区间须为1到366天", "The period is 1 to 366 days")
        async with info.context.pool.acquire() as conn:
            found = await queries.counts(conn, community_id, festival_id, since, until)
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
        return Wish.of(
            await commands.answer(
                info, contracts.SERVICE, wishes.POST_WISH, actor, args, key, contracts.Wish.of
            )
        )

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
            "planned_visit_at": input.planned_visit_at.isoformat() if input.planned_visit_at else None,
        }
        return Wish.of(
            await commands.answer(
                info, contracts.SERVICE, wishes.CLAIM_WISH, actor, args, key, contracts.Wish.of
            )
        )

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

    @strawberry.mutation(
        description="The claimant gives the wish back with a reason: it returns to the wall and the "
        "resident is told."
    )
    async def give_back_wish(self, info: Info, input: GiveBackWishInput) -> Wish:
        actor = info.context.require_actor()
        key = check_key(input.idempotency_key)
        wish_id = parse_id("wishId", input.wish_id)
        args = {"wish_id": str(wish_id), "reason": input.reason}
        return Wish.of(
            await commands.answer(
                info, contracts.SERVICE, wishes.GIVE_BACK_WISH, actor, args, key, contracts.Wish.of
            )
        )

    @strawberry.mutation(description="The claimant says when they plan to come; the resident sees it.")
    async def plan_wish_visit(self, info: Info, input: PlanWishVisitInput) -> Wish:
        return await _wish_command(
            info, wishes.PLAN_WISH_VISIT, input.wish_id, planned_visit_at=input.planned_visit_at.isoformat()
        )

    @strawberry.mutation(
        description="The claimant asks the community to reach the resident for them (her number "
        "stays hidden); staff see it in wishCallBacks. Once per claim."
    )
    async def request_wish_call_back(self, info: Info, input: RequestWishCallBackInput) -> Wish:
        actor = info.context.require_actor()
        wish_id = parse_id("wishId", input.wish_id)
        args = {"wish_id": str(wish_id), "note": input.note}
        key = commands.derived_key(args, await _wish_state(info, wish_id))  # once per claim
        await commands.perform(info, contracts.SERVICE, wishes.REQUEST_WISH_CALL_BACK, actor, args, key)
        async with info.context.pool.acquire() as conn:
            row = await queries.wish(conn, wish_id)
        if row is None:
            raise wishes.unknown_wish()
        return Wish.of(contracts.Wish.of(row))

    @strawberry.mutation(description="Staff: the message was passed on (or she called back).")
    async def mark_wish_call_back_done(self, info: Info, id: strawberry.ID) -> WishCallBack:
        actor = info.context.require_actor()
        call_back_id = parse_id("id", id)
        args = {"id": str(call_back_id)}  # handled stays handled: the call-back names the command
        key = commands.derived_key(args)
        await commands.perform(info, contracts.SERVICE, wishes.HANDLE_WISH_CALL_BACK, actor, args, key)
        async with info.context.pool.acquire() as conn:
            found = await queries.call_back_for_staff(conn, call_back_id)
            if found is None:
                raise wishes.call_back_not_found()
            return await _call_back(conn, found)

    @strawberry.mutation(description="Organisers: return wishes whose claims lapsed to the wall; how many.")
    async def expire_wish_claims(self, info: Info, community_id: str) -> int:
        actor = _organiser_of(info, community_id)
        args = {"community_id": community_id}
        async with info.context.pool.acquire() as conn:
            lapsed = await queries.lapsed_claims(conn, community_id, clock.now())
        key = commands.derived_key(args, lapsed)  # the claims it returns to the wall
        answer = await commands.answer(
            info, contracts.SERVICE, wishes.EXPIRE_WISH_CLAIMS, actor, args, key, contracts.ClaimsExpired.of
        )
        return answer.expired
