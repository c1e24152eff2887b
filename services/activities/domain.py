"""The rules of festivals, sessions and sign-ups: pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TypeVar

from services.common.errors import Refusal, bad_input

MAX_PARTY_SIZE = 10
MAX_REASON_LENGTH = 500

SignupId = TypeVar("SignupId", bound=Hashable)


class SignupStatus(StrEnum):
    CONFIRMED = "CONFIRMED"
    WAITLISTED = "WAITLISTED"
    CANCELLED = "CANCELLED"


LIVE_SIGNUP = frozenset({SignupStatus.CONFIRMED, SignupStatus.WAITLISTED})


class SessionStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class FestivalPlan:
    name: str
    community_ids: tuple[str, ...]
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class SessionPlan:
    venue: str
    starts_at: datetime
    ends_at: datetime
    capacity: int


def check_name(field: str, value: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise bad_input(field, "名称不能为空", "A name is required")
    if len(cleaned) > 200:
        raise bad_input(field, "名称太长（最多200字）", "Name too long (200 characters at most)")
    return cleaned


def check_festival(plan: FestivalPlan) -> FestivalPlan:
    name = check_name("name", plan.name)
    if not plan.community_ids:
        raise bad_input("communityIds", "请至少选择一个社区", "Choose at least one community")
    if plan.ends_on < plan.starts_on:
        raise bad_input("endsOn", "结束日期不能早于开始日期", "The end date is before the start date")
    return FestivalPlan(name, tuple(dict.fromkeys(plan.community_ids)), plan.starts_on, plan.ends_on)


def check_session(plan: SessionPlan) -> SessionPlan:
    venue = check_name("venue", plan.venue)
    if plan.starts_at.tzinfo is None or plan.ends_at.tzinfo is None:
        raise bad_input("startsAt", "时间须包含时区", "Times must include a time zone")
    if plan.ends_at <= plan.starts_at:
        raise bad_input("endsAt", "结束时间须晚于开始时间", "The session must end after it starts")
    if plan.capacity < 1:
        raise bad_input("capacity", "名额至少为1", "Capacity must be at least 1")
    return SessionPlan(venue, plan.starts_at, plan.ends_at, plan.capacity)


def check_party_size(party_size: int) -> int:
    if not 1 <= party_size <= MAX_PARTY_SIZE:
        raise bad_input(
            "partySize",
            f"每次报名人数须在1到{MAX_PARTY_SIZE}人之间",
            f"A sign-up brings 1 to {MAX_PARTY_SIZE} people",
        )
    return party_size


def place(capacity: int, taken: int, party_size: int) -> SignupStatus:
    """Where a party lands: confirmed while the whole party fits, else on the waitlist."""
    return SignupStatus.CONFIRMED if taken + party_size <= capacity else SignupStatus.WAITLISTED


@dataclass(frozen=True)
class Placement:
    """Where one arriving party landed, and its place in the queue if it waits."""

    status: SignupStatus
    waitlist_position: int | None


def place_arrivals(
    capacity: int, taken: int, waiting: int, party_sizes: Iterable[int]
) -> tuple[list[Placement], int]:
    """Place parties arriving together, first come first served; also the seats then taken.

    ``waiting`` is how many parties already wait: a newcomer that must wait joins behind them.
    """
    placements: list[Placement] = []
    for party_size in party_sizes:
        if place(capacity, taken, party_size) == SignupStatus.CONFIRMED:
            taken += party_size
            placements.append(Placement(SignupStatus.CONFIRMED, None))
        else:
            waiting += 1
            placements.append(Placement(SignupStatus.WAITLISTED, waiting))
    return placements, taken


def promotions(capacity: int, taken: int, waitlist: Iterable[tuple[SignupId, int]]) -> list[SignupId]:
    """Who leaves the waitlist now: ``waitlist`` is (sign-up id, party size) in arrival order.

    Walk from the head and promote every party that fits in the seats still free; a party
    that does not fit is skipped, never split, and the walk goes on to smaller parties behind it.
    """
    free = capacity - taken
    promoted: list[SignupId] = []
    for signup_id, party_size in waitlist:
        if free <= 0:
            break
        if party_size <= free:
            promoted.append(signup_id)
            free -= party_size
    return promoted


def seats_held(status: str, party_size: int) -> int:
    """Seats a sign-up occupies: a confirmed party's size, nothing while waiting or cancelled."""
    return party_size if status == SignupStatus.CONFIRMED else 0


def check_reason(reason: str) -> str:
    cleaned = reason.strip()
    if not cleaned:
        raise bad_input("reason", "请填写取消原因", "Please give a reason for the cancellation")
    if len(cleaned) > MAX_REASON_LENGTH:
        raise bad_input(
            "reason",
            f"取消原因太长（最多{MAX_REASON_LENGTH}字）",
            f"Reason too long ({MAX_REASON_LENGTH} characters at most)",
        )
    return cleaned


def already_signed_up() -> Refusal:
    return Refusal("ALREADY_SIGNED_UP", "您已报名该场次", "You have already signed up for this session")


def unknown_session() -> Refusal:
    return Refusal("SESSION_NOT_FOUND", "找不到该场次", "No such session")


def unknown_signup() -> Refusal:
    return Refusal("SIGNUP_NOT_FOUND", "找不到该报名", "No such sign-up")


def already_cancelled() -> Refusal:
    return Refusal("ALREADY_CANCELLED", "已经取消过了", "This has already been cancelled")


def session_cancelled() -> Refusal:
    return Refusal("SESSION_CANCELLED", "该场次已取消，无法报名", "This session has been cancelled")


def unknown_activity() -> Refusal:
    return Refusal("ACTIVITY_NOT_FOUND", "找不到该活动", "No such activity")


def unknown_festival() -> Refusal:
    return Refusal("FESTIVAL_NOT_FOUND", "找不到该活动节", "No such festival")


def community_outside_festival() -> Refusal:
    return Refusal(
        "COMMUNITY_NOT_IN_FESTIVAL",
        "该社区不在本届活动节中",
        "That community does not take part in this festival",
    )
