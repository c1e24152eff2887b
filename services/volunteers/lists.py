"""三张清单 and 认领事项: each community's resource list (what partner units offer), needs list
(what residents need; concerns and wishes join it when read) and project list, whose items
partner units claim — alone, or a shared claim where each unit takes a part — report done, and
see closed (销号) at the quarterly 党建联席会议. Pure rules, no I/O; beside the council in the
volunteers service, whose partner organisations are the claimants.

An item moves OPEN -> CLAIMED (one claim or more) -> DONE (every claim done) -> CLOSED (销号, by an
organiser, at the joint meeting). The quarterly report counts claims made in the quarter per
community and per partner unit: claimed, done, overdue (not done by the item's due day, as of
the quarter's end or today if earlier) and closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from services.common.errors import Refusal, bad_input

# commands (on the volunteers command stream)
PUBLISH_LIST_ITEM = "publish_list_item"
CLAIM_PROJECT_ITEM = "claim_project_item"
COMPLETE_CLAIM = "complete_claim"
CLOSE_LIST_ITEM = "close_list_item"

# events
ITEM_CLAIMED = "project.claimed"
ITEM_CLOSED = "project.closed"


class ListKind(StrEnum):
    RESOURCE = "RESOURCE"
    NEED = "NEED"
    PROJECT = "PROJECT"


class ItemStatus(StrEnum):
    OPEN = "OPEN"
    CLAIMED = "CLAIMED"
    DONE = "DONE"
    CLOSED = "CLOSED"


def check_text(field: str, raw: str | None, longest: int) -> str:
    text = (raw or "").strip()
    if not 1 <= len(text) <= longest:
        raise bad_input(field, f"请填写{longest}字以内的内容", f"{field} must be 1 to {longest} characters")
    return text


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """[first day, first day of the next quarter)."""
    if not 1 <= quarter <= 4 or not 2000 <= year <= 2100:
        raise bad_input("quarter", "季度须为1到4", "The quarter is 1 to 4")
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return start, end


def status_after_claims(claims_done: Iterable[bool]) -> ItemStatus:
    done = list(claims_done)
    if not done:
        return ItemStatus.OPEN
    return ItemStatus.DONE if all(done) else ItemStatus.CLAIMED


@dataclass(frozen=True)
class ClaimLine:
    """One claim as the report sees it."""

    partner: str
    claimed_on: date
    due_on: date | None
    done_on: date | None
    closed: bool


@dataclass(frozen=True)
class ReportRow:
    partner: str
    claimed: int
    done: int
    overdue: int
    closed: int


def quarterly_report(lines: Iterable[ClaimLine], year: int, quarter: int, today: date) -> list[ReportRow]:
    """Per partner unit, claims made in the quarter; the community's total is the last row (全部)."""
    start, end = quarter_bounds(year, quarter)
    as_of = min(end - timedelta(days=1), today)
    rows: dict[str, list[int]] = {}
    for line in lines:
        if not start <= line.claimed_on < end:
            continue
        counts = rows.setdefault(line.partner, [0, 0, 0, 0])
        done = line.done_on is not None and line.done_on <= as_of
        counts[0] += 1
        counts[1] += done
        counts[2] += (not done) and line.due_on is not None and line.due_on < as_of
        counts[3] += line.closed
    out = [ReportRow(p, *c) for p, c in sorted(rows.items())]
    total = ReportRow("全部", *(sum(r[i] for r in rows.values()) for i in range(4)))
    return [*out, total]


def report_csv_rows(rows: list[ReportRow]) -> list[list[str]]:
    header = ["共建单位", "认领", "完成", "逾期", "销号"]
    return [header, *([r.partner, str(r.claimed), str(r.done), str(r.overdue), str(r.closed)] for r in rows)]


def wrong_item_state(status: ItemStatus) -> Refusal:
    words = {"OPEN": "待认领", "CLAIMED": "已认领", "DONE": "已完成", "CLOSED": "已销号"}[status.value]
    return Refusal(
        "ITEM_WRONG_STATE", f"该事项{words}，无法进行此操作", f"The item is {status.value.lower()}; not now"
    )


def unknown_item() -> Refusal:
    return Refusal("NOT_FOUND", "找不到该清单事项", "No such list item", {"what": "item"})


def already_claimed_by_you() -> Refusal:
    return Refusal("ALREADY_CLAIMED", "贵单位已认领该事项", "Your unit has claimed this item already")
