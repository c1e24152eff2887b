"""微心愿 — residents' small wishes, met by party members, volunteers and partner organisations.

Pure rules, no I/O. Wishes live in the volunteers service because its people are the
claimants and its 双报告 report of party members counts what they met.

A wish moves POSTED -> APPROVED (or DECLINED with a reason, or MERGED into a duplicate) ->
PUBLISHED on the community's wish wall -> CLAIMED by one claimant -> DONE (the claimant's note)
-> MET (the resident, or a grid worker for them, confirms). A claim not started within
``Policy.claim_start_within`` expires and the wish returns to the wall: the claim command
takes over an expired claim with the same conditional update that admits one claimant at a
time, and an hourly sweep (an arq cron job; organisers may also run it for their community)
returns the rest, telling each former claimant; the wall shows a lapsed claim's wish as open.

The wall shows category, description (phone numbers masked) and building only: never who
wished it. A claimant says how they claim — as a party member (their work unit comes from their
双报到 registration), as a member of a partner organisation (one they were added to), or as a
volunteer — and counts per work unit and partner organisation follow from the claims.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.common.actor import Actor
from services.common.errors import Refusal, bad_input
from services.volunteers.profiles import not_a_party_member, unit_key

# commands (on the volunteers command stream)
POST_WISH = "post_wish"
REVIEW_WISH = "review_wish"
PUBLISH_WISH = "publish_wish"
CLAIM_WISH = "claim_wish"
START_WISH = "start_wish"
FINISH_WISH = "finish_wish"
CONFIRM_WISH = "confirm_wish"
EXPIRE_WISH_CLAIMS = "expire_wish_claims"
GIVE_BACK_WISH = "give_back_wish"
PLAN_WISH_VISIT = "plan_wish_visit"
REQUEST_WISH_CALL_BACK = "request_wish_call_back"
HANDLE_WISH_CALL_BACK = "handle_wish_call_back"

# events (outbox types; notify consumes them)
WISH_POSTED = "wish.posted"
WISH_REVIEWED = "wish.reviewed"  # declined or merged: the resident hears why
WISH_PUBLISHED = "wish.published"
WISH_CLAIMED = "wish.claimed"
WISH_DONE = "wish.done"
WISH_MET = "wish.met"
WISH_CLAIM_EXPIRED = "wish.claim_expired"
WISH_GIVEN_BACK = "wish.given_back"  # the claimant returned it to the wall, with a reason
WISH_VISIT_PLANNED = "wish.visit_planned"  # the claimant said (again) when they will come

CATEGORIES = ("REPAIR", "VISIT", "SUPPLIES", "HEALTH", "ERRAND", "OTHER")
MAX_DESCRIPTION = 200
MAX_NOTE = 500
MAX_REASON = 200
# A visit is planned for the coming weeks; a few minutes in the past is a clock's slack.
PLAN_AHEAD = timedelta(days=60)
PLAN_SLACK = timedelta(minutes=10)


class WishStatus(StrEnum):
    POSTED = "POSTED"
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    MERGED = "MERGED"
    PUBLISHED = "PUBLISHED"
    CLAIMED = "CLAIMED"
    DONE = "DONE"
    MET = "MET"


class Review(StrEnum):
    APPROVE = "APPROVE"
    DECLINE = "DECLINE"
    MERGE = "MERGE"


class ClaimantKind(StrEnum):
    PARTY_MEMBER = "PARTY_MEMBER"  # an in-service party member; organisation = their work unit
    PARTNER = "PARTNER"  # a member of a partner organisation (共建单位); organisation = its name
    VOLUNTEER = "VOLUNTEER"  # a volunteer or kind-hearted resident; no organisation


@dataclass(frozen=True)
class Policy:
    claim_start_within: timedelta = timedelta(days=3)


DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class WishDraft:
    community_id: str
    category: str
    description: str
    building: str
    festival_id: str | None = None


def check_text(field: str, raw: str | None, longest: int) -> str:
    text = (raw or "").strip()
    if not 1 <= len(text) <= longest:
        raise bad_input(field, f"{field}须为1到{longest}个字符", f"{field} must be 1 to {longest} characters")
    return text


def check_draft(draft: WishDraft) -> WishDraft:
    if draft.category not in CATEGORIES:
        raise bad_input("category", "心愿类别不正确", f"Category must be one of {', '.join(CATEGORIES)}")
    return WishDraft(
        community_id=check_text("communityId", draft.community_id, 64),
        category=draft.category,
        description=check_text("description", draft.description, MAX_DESCRIPTION),
        building=check_text("building", draft.building, 20),
        festival_id=draft.festival_id or None,
    )


def claimed_for(
    kind: ClaimantKind,
    work_unit: str | None,
    partners: Sequence[tuple[str, str]],
    named: str | None,
) -> str | None:
    """The organisation a claim counts for: the party member's registered work unit, or the
    partner organisation (of those the claimant belongs to, as ``(name, key)``, best first) they
    name — or their first when they name none; none for a volunteer."""
    if kind is ClaimantKind.VOLUNTEER:
        return None
    if kind is ClaimantKind.PARTY_MEMBER:
        if work_unit is None:
            raise not_a_party_member()
        return work_unit
    if named and named.strip():
        wanted = unit_key(named)
        partners = [p for p in partners if p[1] == wanted]
    if not partners:
        raise not_a_partner_member()
    return partners[0][0]


def is_grid_worker_of(actor: Actor, community_id: str) -> bool:
    """Grid workers (网格员) and desk staff act for residents of their own community only."""
    return actor.acts_for_residents_of(community_id)


def claim_expires_at(claimed_at: datetime, policy: Policy = DEFAULT_POLICY) -> datetime:
    return claimed_at + policy.claim_start_within


def claim_lapsed(
    status: str, started_at: datetime | None, expires_at: datetime | None, now: datetime
) -> bool:
    """A claim nobody started in time no longer holds the wish."""
    return (
        status == WishStatus.CLAIMED and started_at is None and expires_at is not None and expires_at <= now
    )


def check_planned_visit(at: datetime | None, now: datetime) -> datetime | None:
    """When the claimant plans to come: with a time zone, not in the past, within the weeks ahead."""
    if at is None:
        return None
    if at.tzinfo is None:
        raise bad_input("plannedVisitAt", "时间须包含时区", "Times must include a time zone")
    if at < now - PLAN_SLACK:
        raise bad_input("plannedVisitAt", "上门时间不能早于现在", "The visit cannot be in the past")
    if at > now + PLAN_AHEAD:
        raise bad_input("plannedVisitAt", "上门时间须在60天之内", "Plan the visit within the next 60 days")
    return at


def check_reason(raw: str | None) -> str:
    text = " ".join((raw or "").split())
    if not 1 <= len(text) <= MAX_REASON:
        raise bad_input(
            "reason", f"请写下原因（1到{MAX_REASON}个字）", f"Give a reason (1 to {MAX_REASON} characters)"
        )
    return text


# Why a wish is back on the wall when its claimant deleted their account (the resident reads it).
CLAIMANT_GONE = "认领人已注销账号"


def may_give_back(status: str) -> bool:
    """A claim is given back before it is done: once done, the resident confirms it instead."""
    return status == WishStatus.CLAIMED


def review_outcome(review: Review) -> WishStatus:
    return {
        Review.APPROVE: WishStatus.APPROVED,
        Review.DECLINE: WishStatus.DECLINED,
        Review.MERGE: WishStatus.MERGED,
    }[review]


# --- refusals ----------------------------------------------------------------------------


def unknown_wish() -> Refusal:
    return Refusal("WISH_NOT_FOUND", "找不到该心愿", "No such wish")


def wrong_state(status: str, wanted: str) -> Refusal:
    return Refusal(
        "WISH_WRONG_STATE",
        f"该心愿当前状态为{status}，无法进行此操作",
        f"The wish is {status}; this needs it {wanted}",
        {"status": status},
    )


def already_claimed() -> Refusal:
    return Refusal("WISH_ALREADY_CLAIMED", "该心愿已被他人认领", "Someone else has already claimed this wish")


def not_your_claim() -> Refusal:
    return Refusal("NOT_YOUR_CLAIM", "只有认领人可以进行此操作", "Only the wish's claimant may do this")


def own_wish() -> Refusal:
    return Refusal("OWN_WISH", "不能认领自己的心愿", "You cannot claim your own wish")


def bad_merge() -> Refusal:
    return Refusal(
        "BAD_MERGE",
        "只能合并到同一社区中另一个未完成的心愿",
        "A wish merges only into another open wish of the same community",
        {"field": "mergeInto"},
    )


def call_back_not_found() -> Refusal:
    return Refusal("CALL_BACK_NOT_FOUND", "找不到这条回电请求", "No such call-back request")


def not_a_partner_member() -> Refusal:
    return Refusal(
        "NOT_A_PARTNER_MEMBER",
        "您不是该共建单位的成员",
        "You are not a member of that partner organisation",
        {"field": "organisation"},
    )
