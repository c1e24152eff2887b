"""Who volunteers are: profiles, party members' 双报到 and partner organisations (共建单位).

Pure rules, no I/O. A volunteer keeps their own profile (availability as free text and/or weekday
slots). An in-service party member (在职党员) reports to the community where they live with their
work unit (单位) and party branch; the work unit later receives the 双报告 report, so work units
are compared by a key that ignores spacing and letter case. Partner organisations belong to a
community, whose organisers add their members.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, time, timedelta
from enum import StrEnum

from services.common.errors import Refusal, bad_input
from services.volunteers.domain import check_text

MAX_SLOTS = 21
MAX_REPORT_PERIOD = timedelta(days=366)


@dataclass(frozen=True)
class Slot:
    """A weekly stretch a volunteer is usually free: weekday 1 (Monday) .. 7 (Sunday)."""

    weekday: int
    start: time
    end: time

    def as_json(self) -> dict[str, object]:
        return {
            "weekday": self.weekday,
            "from": self.start.strftime("%H:%M"),
            "to": self.end.strftime("%H:%M"),
        }


@dataclass(frozen=True)
class Profile:
    community_id: str
    display_name: str | None
    availability: str | None
    slots: tuple[Slot, ...]


class PartyMemberStatus(StrEnum):
    """A 双报到 registration as the community reviewed it."""

    PENDING = "PENDING"  # the member registered themself: the community has yet to review it
    APPROVED = "APPROVED"  # reviewed (or registered by the community's organiser)
    DECLINED = "DECLINED"  # not accepted, with a reason; the member may register again


class PartyMemberReview(StrEnum):
    APPROVE = "APPROVE"
    DECLINE = "DECLINE"


@dataclass(frozen=True)
class PartyMember:
    name: str
    work_unit: str
    party_branch: str
    community_id: str
    reported_on: date


def unit_key(name: str) -> str:
    """Work units and organisations as compared: NFKC, case-folded, without any spacing."""
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())


def _clock(field: str, raw: str) -> time:
    try:
        hours, minutes = raw.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise bad_input(field, "时间格式应为 HH:MM（24小时制）", "Times are HH:MM, 24-hour clock") from exc


def check_slot(weekday: int, start: str, end: str) -> Slot:
    if not 1 <= weekday <= 7:
        raise bad_input("weekday", "星期须为1（周一）到7（周日）", "Weekday is 1 (Monday) to 7 (Sunday)")
    slot = Slot(weekday, _clock("from", start), _clock("to", end))
    if slot.end <= slot.start:
        raise bad_input("to", "结束时间须晚于开始时间", "A slot must end after it starts")
    return slot


def check_profile(
    community_id: str, display_name: str | None, availability: str | None, slots: list[Slot]
) -> Profile:
    if len(slots) > MAX_SLOTS:
        raise bad_input("slots", f"空闲时段最多{MAX_SLOTS}个", f"At most {MAX_SLOTS} slots")
    ordered = tuple(sorted(set(slots), key=lambda s: (s.weekday, s.start, s.end)))
    return Profile(
        community_id=check_text("communityId", community_id, 100),
        display_name=check_text("displayName", display_name, 50) if display_name else None,
        availability=check_text("availability", availability, 500) if availability else None,
        slots=ordered,
    )


def check_party_member(
    name: str, work_unit: str, party_branch: str, community_id: str, reported_on: date, today: date
) -> PartyMember:
    if reported_on > today:
        raise bad_input("reportedOn", "报到日期不能晚于今天", "The date reported cannot be in the future")
    return PartyMember(
        name=check_text("name", name, 50),
        work_unit=check_text("workUnit", work_unit, 200),
        party_branch=check_text("partyBranch", party_branch, 200),
        community_id=check_text("communityId", community_id, 100),
        reported_on=reported_on,
    )


def status_after_registering(
    themself: bool, before: PartyMemberStatus | None, same_registration: bool
) -> PartyMemberStatus:
    """A member's own registration waits for the community's review, unless it repeats one
    already approved; one made by the community's organiser is approved as it is made."""
    if not themself:
        return PartyMemberStatus.APPROVED
    if before is PartyMemberStatus.APPROVED and same_registration:
        return PartyMemberStatus.APPROVED
    return PartyMemberStatus.PENDING


def review_outcome(review: PartyMemberReview, reason: str | None) -> tuple[PartyMemberStatus, str | None]:
    """The state a review leaves a registration in, and the reason (a decline must give one)."""
    if review is PartyMemberReview.APPROVE:
        return PartyMemberStatus.APPROVED, None
    return PartyMemberStatus.DECLINED, check_text("reason", reason or "", 200)


def approved_work_unit(status: str | None, work_unit: str | None, reason: str | None = None) -> str:
    """The work unit a party member's claim counts for: only an approved registration's.
    Anyone else is told, as 您, where they stand and whom to ask."""
    if status is None or work_unit is None:
        raise not_a_party_member()
    if status == PartyMemberStatus.PENDING:
        raise registration_pending()
    if status == PartyMemberStatus.DECLINED:
        raise registration_declined(reason)
    return work_unit


def check_period(start: date, end: date) -> tuple[date, date]:
    """A report's period: whole local days, ``start`` to ``end`` inclusive, at most a year."""
    if end < start:
        raise bad_input("to", "结束日期须不早于开始日期", "The period must end on or after its start")
    if end - start > MAX_REPORT_PERIOD:
        raise bad_input("to", "报告期最长一年", "A report covers a year at most")
    return start, end


def organisation_not_found() -> Refusal:
    return Refusal("ORGANISATION_NOT_FOUND", "找不到该共建单位", "No such partner organisation")


def not_a_party_member() -> Refusal:
    return Refusal(
        "NOT_A_PARTY_MEMBER",
        "您还没有在社区登记双报到，请先登记，或联系社区工作人员",
        "You have not registered with the community as a party member (双报到) yet: "
        "register first, or ask the community's staff",
    )


def registration_pending() -> Refusal:
    return Refusal(
        "PARTY_MEMBER_PENDING",
        "您的双报到登记正在等待社区审核，通过后即可以在职党员身份认领；着急的话请联系社区工作人员",
        "Your party member registration (双报到) is waiting for the community's review; once it is "
        "approved you can take wishes up as a party member. If it is urgent, ask the community's staff",
    )


def registration_declined(reason: str | None) -> Refusal:
    why_zh = f"（原因：{reason}）" if reason else ""
    why_en = f" (reason: {reason})" if reason else ""
    return Refusal(
        "PARTY_MEMBER_DECLINED",
        f"您的双报到登记未通过社区审核{why_zh}，请修改后重新登记，或联系社区工作人员",
        f"The community did not accept your party member registration{why_en}: correct it and "
        "register again, or ask the community's staff",
    )


def registration_not_found() -> Refusal:
    return Refusal("PARTY_MEMBER_NOT_FOUND", "找不到这份双报到登记", "No such party member registration")


def registration_reviewed(status: str) -> Refusal:
    words = {"APPROVED": ("已通过", "approved"), "DECLINED": ("未通过", "declined")}
    zh, en = words.get(status, (status, status))
    return Refusal(
        "PARTY_MEMBER_REVIEWED",
        f"这份双报到登记已审核（{zh}），请刷新后再看",
        f"This registration was already reviewed ({en}); refresh to see it",
        {"status": status},
    )


def organisation_exists() -> Refusal:
    return Refusal(
        "ORGANISATION_EXISTS", "本社区已有同名的共建单位", "This community already has a partner of that name"
    )


def registered_elsewhere() -> Refusal:
    return Refusal(
        "REGISTERED_ELSEWHERE",
        "该党员已向其他社区报到，只有本人可以更改报到社区",
        "This party member reported to another community; only they can move their registration",
    )
