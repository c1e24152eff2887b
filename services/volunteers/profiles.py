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
        "NOT_A_PARTY_MEMBER", "该志愿者未登记双报到", "This volunteer has not reported as a party member"
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
