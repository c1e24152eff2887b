"""The rules of shifts, check-ins and service hours: pure functions, no I/O.

Service hours come from attendance: each check-in..check-out span is clipped to its shift,
a volunteer's spans are merged (their union) so overlapping records never count twice, and
the merged total is rounded by the policy's rule. The ledger records, at each check-out, only
the *increase* of that rounded total, so the ledger's attendance entries always add up to it.
Organiser corrections are further ledger entries with a reason; history is never edited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.common.actor import SCANNER, Actor
from services.common.errors import Refusal, bad_input
from services.common.rules import check_characters, check_new_span

MAX_HEADCOUNT = 1000
MAX_SHIFT = timedelta(hours=24)
MAX_CORRECTION_MINUTES = 24 * 60


class RoundingMode(StrEnum):
    DOWN = "DOWN"
    NEAREST = "NEAREST"
    UP = "UP"


@dataclass(frozen=True)
class Rounding:
    """How a total of served time becomes credited minutes: a multiple of ``step_minutes``."""

    step_minutes: int = 15
    mode: RoundingMode = RoundingMode.DOWN

    def __post_init__(self) -> None:
        if self.step_minutes < 1:
            raise ValueError("the rounding step is at least one minute")

    def credit(self, served: timedelta) -> int:
        step_s = self.step_minutes * 60
        seconds = int(served.total_seconds())
        whole, rest = divmod(seconds, step_s)
        if self.mode is RoundingMode.UP and rest:
            whole += 1
        elif self.mode is RoundingMode.NEAREST and rest * 2 >= step_s:
            whole += 1
        return whole * self.step_minutes


@dataclass(frozen=True)
class Policy:
    """The service's rules that a deployment may tune."""

    check_in_opens_before: timedelta = timedelta(minutes=30)
    rounding: Rounding = Rounding()


DEFAULT_POLICY = Policy()


class CheckInMethod(StrEnum):
    STATION = "STATION"  # the volunteer scanned the venue's rotating station code
    CARD = "CARD"  # an organiser or scanner scanned the volunteer's personal card


class LedgerKind(StrEnum):
    ATTENDANCE = "ATTENDANCE"
    CORRECTION = "CORRECTION"


@dataclass(frozen=True)
class ShiftPlan:
    community_id: str
    venue: str
    role: str
    starts_at: datetime
    ends_at: datetime
    headcount: int
    required_skill: str | None = None
    festival_id: str | None = None
    contact_phone: str | None = None  # whom volunteers call about the shift (organiser or desk)


@dataclass(frozen=True)
class Span:
    """A stretch of time, start inclusive, end exclusive."""

    start: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        return max(self.end - self.start, timedelta(0))

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def clip(self, to: Span) -> Span | None:
        start, end = max(self.start, to.start), min(self.end, to.end)
        return Span(start, end) if start < end else None


# --- refusals -------------------------------------------------------------------------------


def outside_window(opens_before: timedelta) -> Refusal:
    minutes = int(opens_before.total_seconds() // 60)
    return Refusal(
        "OUTSIDE_WINDOW",
        f"现在不在该班次的签到时间内（班次开始前{minutes}分钟至班次结束）",
        f"Check-in is open from {minutes} minutes before the shift starts until it ends",
    )


def not_signed_up() -> Refusal:
    return Refusal("NOT_SIGNED_UP", "您尚未报名该班次", "You have not signed up for this shift")


def not_checked_in() -> Refusal:
    return Refusal("NOT_CHECKED_IN", "您尚未签到该班次", "You have not checked in to this shift")


def already_checked_out() -> Refusal:
    return Refusal("ALREADY_CHECKED_OUT", "您已签退该班次", "You have already checked out of this shift")


def shift_not_found() -> Refusal:
    return Refusal("SHIFT_NOT_FOUND", "找不到该班次", "No such shift")


def shift_full() -> Refusal:
    return Refusal("SHIFT_FULL", "该班次人数已满", "This shift is full")


def already_signed_up() -> Refusal:
    return Refusal("ALREADY_SIGNED_UP", "您已报名该班次", "You have already signed up for this shift")


def overlapping_shift() -> Refusal:
    return Refusal(
        "SHIFT_OVERLAP",
        "您已报名的另一个班次与该班次时间重叠",
        "You are signed up for another shift at the same time",
    )


def missing_skill() -> Refusal:
    return Refusal("MISSING_SKILL", "该班次需要特定技能", "This shift needs a skill you have not recorded")


def ensure_serves_in(community_id: str, serving: set[str]) -> None:
    """A community records skills only for volunteers serving there (their profile, their own
    双报到 or a shift there): a skill is the community's word, and unlocks only its shifts."""
    if community_id not in serving:
        raise Refusal(
            "VOLUNTEER_NOT_IN_COMMUNITY",
            "这位志愿者不在本社区服务，不能为其登记技能",
            "This volunteer does not serve in your community: you cannot record a skill for them",
        )


def not_checked_out() -> Refusal:
    return Refusal(
        "NOT_CHECKED_OUT",
        "该志愿者本班次现在没有可撤销的签退（可能仍在服务中）",
        "This volunteer has no check-out of this shift to undo (they may still be on duty)",
    )


def shift_over() -> Refusal:
    return Refusal("SHIFT_OVER", "该班次已结束", "This shift is already over")


def _span_words(before: timedelta) -> tuple[str, str]:
    minutes = int(before.total_seconds() // 60)
    if minutes and minutes % 60 == 0:
        return f"{minutes // 60}小时", f"{minutes // 60} hour(s)"
    return f"{minutes}分钟", f"{minutes} minutes"


def withdrawal_closed(closes_before: timedelta, contact_phone: str | None) -> Refusal:
    """Too close to the start (or after it) to withdraw online: whom to call instead."""
    zh_span, en_span = _span_words(closes_before)
    if contact_phone:
        ask_zh, ask_en = f"请致电 {contact_phone} 告诉组织者", f"please call the organiser on {contact_phone}"
    else:
        ask_zh, ask_en = "请联系社区工作人员", "please tell the community's staff"
    return Refusal(
        "WITHDRAWAL_CLOSED",
        f"班次开始前{zh_span}内不能在网上退出，{ask_zh}",
        f"Within {en_span} of the start you cannot withdraw online: {ask_en}",
        {"contactPhone": contact_phone, "closesMinutesBefore": int(closes_before.total_seconds() // 60)},
    )


def already_checked_in() -> Refusal:
    return Refusal(
        "ALREADY_CHECKED_IN",
        "您已签到该班次，不能再退出；如需提前离开请签退",
        "You have checked in to this shift: check out if you must leave early",
    )


# --- checks ----------------------------------------------------------------------------------


def check_text(field: str, value: str, limit: int = 200) -> str:
    cleaned = " ".join(check_characters(field, value).split())
    if not cleaned:
        raise bad_input(field, "此项不能为空", "This field is required")
    if len(cleaned) > limit:
        raise bad_input(field, f"内容太长（最多{limit}字）", f"Too long ({limit} characters at most)")
    return cleaned


def check_shift(plan: ShiftPlan, now: datetime | None = None) -> ShiftPlan:
    """A shift's plan; given ``now``, a new one: not over, within the horizon."""
    if plan.starts_at.tzinfo is None or plan.ends_at.tzinfo is None:
        raise bad_input("startsAt", "时间须包含时区", "Times must include a time zone")
    if plan.ends_at <= plan.starts_at:
        raise bad_input("endsAt", "结束时间须晚于开始时间", "The shift must end after it starts")
    if now is not None:
        check_new_span(plan.starts_at, plan.ends_at, now)
    if plan.ends_at - plan.starts_at > MAX_SHIFT:
        raise bad_input("endsAt", "一个班次最长24小时", "A shift lasts 24 hours at most")
    if not 1 <= plan.headcount <= MAX_HEADCOUNT:
        raise bad_input(
            "headcount", f"人数须在1到{MAX_HEADCOUNT}之间", f"Headcount must be 1 to {MAX_HEADCOUNT}"
        )
    skill = plan.required_skill.strip() if plan.required_skill else None
    return ShiftPlan(
        community_id=check_text("communityId", plan.community_id, 100),
        venue=check_text("venue", plan.venue),
        role=check_text("role", plan.role),
        starts_at=plan.starts_at,
        ends_at=plan.ends_at,
        headcount=plan.headcount,
        required_skill=check_text("requiredSkill", skill, 100) if skill else None,
        festival_id=plan.festival_id,
        contact_phone=check_phone("contactPhone", plan.contact_phone),
    )


def may_scan_cards(actor: Actor, community_id: str) -> bool:
    """Organisers of the shift's community, and scanners of that community, scan cards and
    show station codes."""
    return actor.may_organise(community_id) or (actor.has_role(SCANNER) and community_id in actor.communities)


def check_in_window(shift: Span, policy: Policy = DEFAULT_POLICY) -> Span:
    return Span(shift.start - policy.check_in_opens_before, shift.end)


def ensure_may_check_in(now: datetime, shift: Span, policy: Policy = DEFAULT_POLICY) -> None:
    window = check_in_window(shift, policy)
    if not window.start <= now < window.end:
        raise outside_window(policy.check_in_opens_before)


def forgotten(now: datetime, shift: Span) -> bool:
    """A check-in still open once its shift has ended was forgotten: it is closed at the
    shift's end (so it credits no time after it) and flagged for organisers."""
    return now >= shift.end


def ensure_may_sign_up(now: datetime, shift: Span, others: Iterable[Span]) -> None:
    """A volunteer signs up for shifts that have not ended and do not overlap their others."""
    if now >= shift.end:
        raise shift_over()
    if any(shift.overlaps(other) for other in others):
        raise overlapping_shift()


def withdrawal_closes_at(shift: Span, closes_before: timedelta) -> datetime:
    """The last moment a volunteer may withdraw online: ``closes_before`` the shift starts."""
    return shift.start - closes_before


def ensure_may_withdraw(
    now: datetime, shift: Span, closes_before: timedelta, contact_phone: str | None
) -> None:
    if now >= withdrawal_closes_at(shift, closes_before):
        raise withdrawal_closed(closes_before, contact_phone)


def check_phone(field: str, raw: str | None) -> str | None:
    """A contact phone as people write it: digits, spaces, '-' and a leading '+' (a landline
    with its area code, or a mobile); none when left empty."""
    text = " ".join((raw or "").split())
    if not text:
        return None
    digits = sum(ch.isdigit() for ch in text)
    if not (7 <= digits <= 15) or any(not (ch.isdigit() or ch in " -+") for ch in text):
        raise bad_input(field, "请填写正确的联系电话", "Give a phone number people can call")
    return text


def check_correction(minutes: int, reason: str, credited_now: int) -> tuple[int, str]:
    """A correction moves a volunteer's total by ``minutes`` (either way), never below zero."""
    reason = check_text("reason", reason, 500)
    if minutes == 0 or abs(minutes) > MAX_CORRECTION_MINUTES:
        raise bad_input(
            "minutes",
            "更正分钟数须非零且不超过24小时",
            "A correction is non-zero and at most 24 hours either way",
        )
    if credited_now + minutes < 0:
        raise bad_input("minutes", "更正后服务时长不能为负", "A correction cannot make the total negative")
    return minutes, reason


# --- service hours -----------------------------------------------------------------------------


def attended(checked_in_at: datetime, checked_out_at: datetime, shift: Span) -> Span | None:
    """The part of one check-in..check-out that counts: the part inside its shift."""
    return Span(checked_in_at, checked_out_at).clip(shift)


def union(spans: Iterable[Span]) -> list[Span]:
    """The spans merged: sorted, disjoint, covering exactly the same time."""
    merged: list[Span] = []
    for span in sorted((s for s in spans if s.start < s.end), key=lambda s: s.start):
        if merged and span.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Span(last.start, max(last.end, span.end))
        else:
            merged.append(span)
    return merged


def served(spans: Iterable[Span]) -> timedelta:
    return sum((span.length for span in union(spans)), timedelta(0))


def credited_minutes(spans: Iterable[Span], rounding: Rounding = DEFAULT_POLICY.rounding) -> int:
    return rounding.credit(served(spans))


def attendance_credit(
    earlier: Iterable[Span], new: Span | None, rounding: Rounding = DEFAULT_POLICY.rounding
) -> int:
    """What one check-out adds to the ledger: how much the rounded total of the union grows."""
    before = list(earlier)
    if new is None:
        return 0
    return credited_minutes([*before, new], rounding) - credited_minutes(before, rounding)


def credit_if_checked_out(
    earlier: Iterable[tuple[datetime, datetime, Span]],
    checked_in_at: datetime,
    now: datetime,
    shift: Span,
    rounding: Rounding = DEFAULT_POLICY.rounding,
) -> int:
    """What checking out at ``now`` would add to the ledger, to say before the volunteer confirms:
    the same rule as the check-out itself (``attendance_credit``) over the same spans."""
    spans = [span for came, left, of in earlier if (span := attended(came, left, of))]
    return attendance_credit(spans, attended(checked_in_at, max(now, checked_in_at), shift), rounding)


UNDO_CHECK_OUT_REASON = "撤销误签退（组织者）"


def ensure_may_undo_check_out(now: datetime, shift: Span) -> None:
    """A mistaken check-out is undone within the shift; after it, a correction with a reason."""
    if now >= shift.end:
        raise shift_over()
