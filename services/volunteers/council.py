"""邻里议事会 — from a resident's concern to a decision, the work, a rating and a public result.

Pure rules, no I/O. The council lives in the volunteers service beside 微心愿 and partner
organisations because the people it brings together are the ones that service already knows:
partner units (the property company is one) own and pay for decisions as wishes' claimants do,
grid workers act for residents there, and its worker already sends events to notify and runs
the hourly sweeps. Places (communities, buildings, stations) stay identity's directory.

A concern moves RAISED -> triaged as DUPLICATE (of another concern), HANDLED (directly by the
grid worker, with a note) or TO_COUNCIL -> DECIDED (minutes of a council meeting record a
decision for it) -> IN_PROGRESS (the first progress note of its task) -> DONE (every task of it
completed) -> RATED (the first resident of the building rated the work).

Decisions carry a cost in fen shared between named parties: the shares must add up to the total
exactly, or the minutes are refused. A show of hands counts one vote per household.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from services.common.clock import LOCAL_TZ
from services.common.errors import Refusal, bad_input
from services.common.masking import remove_phones_in

# commands (on the volunteers command stream)
RAISE_CONCERN = "raise_concern"
TRIAGE_CONCERN = "triage_concern"
CONVENE_COUNCIL_MEETING = "convene_council_meeting"
REPLY_TO_INVITATION = "reply_to_invitation"
RECORD_MINUTES = "record_minutes"
NOTE_TASK_PROGRESS = "note_task_progress"
COMPLETE_TASK = "complete_task"
RATE_TASK = "rate_task"

# events (outbox types; notify consumes them)
CONCERN_CHANGED = "concern.changed"  # raised or moved on: the resident is told the state in words
COUNCIL_INVITED = "council.invited"  # one per invitation
COUNCIL_REPLIED = "council.replied"  # the organiser hears each reply, once
TASK_ASSIGNED = "council.task_assigned"
TASK_OVERDUE = "council.task_overdue"  # its owner, once a day while it is overdue

MAX_WORDS = 500
MAX_NOTE = 500
MAX_COMMENT = 200
MAX_PARTIES = 10
MAX_COST_FEN = 100_000_000  # one million yuan: more is a typing slip


class ConcernStatus(StrEnum):
    RAISED = "RAISED"
    DUPLICATE = "DUPLICATE"
    HANDLED = "HANDLED"
    TO_COUNCIL = "TO_COUNCIL"
    DECIDED = "DECIDED"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    RATED = "RATED"


class Triage(StrEnum):
    DUPLICATE = "DUPLICATE"
    HANDLED = "HANDLED"
    TO_COUNCIL = "TO_COUNCIL"


class InviteeRole(StrEnum):
    GRID_WORKER = "GRID_WORKER"  # 网格员
    BUILDING_LEADER = "BUILDING_LEADER"  # 楼栋长
    PARTNER_UNIT = "PARTNER_UNIT"  # 共建单位
    PROPERTY_COMPANY = "PROPERTY_COMPANY"  # 物业公司
    OWNERS_COMMITTEE = "OWNERS_COMMITTEE"  # 业委会
    RESIDENT_REP = "RESIDENT_REP"  # 居民代表
    COMMITTEE = "COMMITTEE"  # 两委 / 党支部书记


class Reply(StrEnum):
    ACCEPT = "ACCEPT"
    DECLINE = "DECLINE"


class TaskStatus(StrEnum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"


class Vote(StrEnum):
    FOR = "FOR"
    AGAINST = "AGAINST"
    ABSTAIN = "ABSTAIN"


STATUS_WORDS: dict[ConcernStatus, tuple[str, str]] = {
    ConcernStatus.RAISED: ("已收到，等待网格员处理", "Received; the grid worker will look at it"),
    ConcernStatus.DUPLICATE: ("与已反映的同一问题合并处理", "Merged with the same concern raised before"),
    ConcernStatus.HANDLED: ("网格员已直接处理", "Handled directly by the grid worker"),
    ConcernStatus.TO_COUNCIL: ("已提交邻里议事会商议", "Sent to the neighbourhood council"),
    ConcernStatus.DECIDED: ("议事会已作出决定，等待办理", "The council decided; the work is due"),
    ConcernStatus.IN_PROGRESS: ("正在办理", "The work is under way"),
    ConcernStatus.DONE: ("已办结，请您评价", "Done; please rate the work"),
    ConcernStatus.RATED: ("已办结并获居民评价", "Done and rated by residents"),
}

ROLE_WORDS: dict[InviteeRole, tuple[str, str]] = {
    InviteeRole.GRID_WORKER: ("网格员", "grid worker"),
    InviteeRole.BUILDING_LEADER: ("楼栋长", "building representative"),
    InviteeRole.PARTNER_UNIT: ("共建单位", "partner unit"),
    InviteeRole.PROPERTY_COMPANY: ("物业公司", "property company"),
    InviteeRole.OWNERS_COMMITTEE: ("业委会", "owners' committee"),
    InviteeRole.RESIDENT_REP: ("居民代表", "residents' representative"),
    InviteeRole.COMMITTEE: ("社区两委", "community committee"),
}

# Which triage leads where, and from which states each later step may come.
_TRIAGED = {
    Triage.DUPLICATE: ConcernStatus.DUPLICATE,
    Triage.HANDLED: ConcernStatus.HANDLED,
    Triage.TO_COUNCIL: ConcernStatus.TO_COUNCIL,
}
_NEXT: dict[ConcernStatus, frozenset[ConcernStatus]] = {
    ConcernStatus.RAISED: frozenset(
        {ConcernStatus.DUPLICATE, ConcernStatus.HANDLED, ConcernStatus.TO_COUNCIL}
    ),
    ConcernStatus.TO_COUNCIL: frozenset({ConcernStatus.DECIDED}),
    ConcernStatus.DECIDED: frozenset({ConcernStatus.IN_PROGRESS, ConcernStatus.DONE}),
    ConcernStatus.IN_PROGRESS: frozenset({ConcernStatus.DONE}),
    ConcernStatus.DONE: frozenset({ConcernStatus.RATED}),
}


def may_move(current: ConcernStatus, to: ConcernStatus) -> bool:
    return to in _NEXT.get(current, frozenset())


def move(current: ConcernStatus, to: ConcernStatus) -> ConcernStatus:
    """The concern's next state, or a refusal saying which state it is in."""
    if not may_move(current, to):
        raise wrong_state(current)
    return to


def triaged(current: ConcernStatus, triage: Triage) -> ConcernStatus:
    return move(current, _TRIAGED[triage])


def words_for(status: ConcernStatus) -> tuple[str, str]:
    return STATUS_WORDS[status]


def check_text(field: str, raw: str | None, longest: int) -> str:
    text = (raw or "").strip()
    if not 1 <= len(text) <= longest:
        raise bad_input(field, f"请填写{longest}字以内的内容", f"{field} must be 1 to {longest} characters")
    return text


# --- cost split -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    party: str  # e.g. 物业公司, 居民（维修基金）
    fen: int


@dataclass(frozen=True)
class CostSplit:
    total_fen: int
    shares: tuple[Share, ...]


def check_cost_split(total_fen: int, shares: Sequence[Share]) -> CostSplit:
    """Who pays what: named parties, each a non-negative share in fen, adding up to the total
    exactly. No cost at all is a total of 0 with no shares."""
    if not 0 <= total_fen <= MAX_COST_FEN:
        raise bad_input("costTotalFen", "费用总额不正确", "The cost total must be 0 to 1,000,000 yuan")
    if total_fen == 0 and not shares:
        return CostSplit(0, ())
    if not 1 <= len(shares) <= MAX_PARTIES:
        raise bad_input("shares", "请写明由谁承担费用", f"Name 1 to {MAX_PARTIES} parties sharing the cost")
    cleaned: list[Share] = []
    for share in shares:
        party = check_text("party", share.party, 40)
        if share.fen < 0:
            raise bad_input("shares", "分摊金额不能为负数", "A share cannot be negative")
        if any(s.party == party for s in cleaned):
            raise bad_input("shares", f"「{party}」重复出现", f"{party} appears twice")
        cleaned.append(Share(party, share.fen))
    given = sum(s.fen for s in cleaned)
    if given != total_fen:
        raise split_does_not_add_up(total_fen, given)
    return CostSplit(total_fen, tuple(cleaned))


def halves(total_fen: int, first: str, second: str) -> tuple[Share, Share]:
    """Half each; an odd fen goes to the first party, so the halves always add up."""
    second_fen = total_fen // 2
    return Share(first, total_fen - second_fen), Share(second, second_fen)


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


# --- show of hands --------------------------------------------------------------------------


@dataclass(frozen=True)
class Hand:
    household: str  # building and door, e.g. 3号楼2单元301
    vote: Vote


@dataclass(frozen=True)
class Tally:
    votes_for: int
    against: int
    abstain: int
    households: tuple[str, ...]

    @property
    def carried(self) -> bool:
        return self.votes_for > self.against


def household_key(raw: str) -> str:
    """The same door written with or without spaces, in full- or half-width, counts once."""
    text = "".join((raw or "").split())
    return text.translate({0xFF10 + i: ord("0") + i for i in range(10)}).upper()


def tally(hands: Sequence[Hand]) -> Tally:
    """One household, one vote: a household raising its hand twice the same way counts once;
    two different votes from one household are refused (ask it again)."""
    chosen: dict[str, Vote] = {}
    for hand in hands:
        key = household_key(hand.household)
        if not 1 <= len(key) <= 40:
            raise bad_input("hands", "请写明户号（楼栋与门牌）", "Name each household (building and door)")
        if chosen.get(key, hand.vote) is not hand.vote:
            raise bad_input(
                "hands",
                f"{key}投了两种不同的票：一户只能投一票",
                f"{key} voted two different ways: one household, one vote",
            )
        chosen[key] = hand.vote
    counted = list(chosen.values())
    return Tally(
        votes_for=counted.count(Vote.FOR),
        against=counted.count(Vote.AGAINST),
        abstain=counted.count(Vote.ABSTAIN),
        households=tuple(sorted(chosen)),
    )


# --- a concern whose author deleted their account (PIPL) -----------------------------------

ERASED_CONCERN = "（该居民已注销账号，反映内容已删除）"
PHONE_REMOVED = "［电话已删除］"
# Once sent to the council a concern is the community's business (minutes, tasks, costs, the
# public board): its words stay for that record. Before, it was between the resident and her
# grid worker, and goes with her account.
ON_THE_RECORD = frozenset(
    {
        ConcernStatus.TO_COUNCIL,
        ConcernStatus.DECIDED,
        ConcernStatus.IN_PROGRESS,
        ConcernStatus.DONE,
        ConcernStatus.RATED,
    }
)


def words_kept_after_erasure(
    status: ConcernStatus, words: str, needles: Sequence[str], pseudonym: str
) -> str:
    """What a concern says once its author's account is deleted: on the record, its words
    with her name and numbers replaced by the pseudonym and every mobile number removed;
    otherwise nothing of them."""
    if status not in ON_THE_RECORD:
        return ERASED_CONCERN
    for needle in needles:  # longest first (see services.common.erasure)
        words = words.replace(needle, pseudonym)
    return remove_phones_in(words, PHONE_REMOVED)


# --- tasks ----------------------------------------------------------------------------------


def check_deadline(deadline: date, today: date) -> date:
    if deadline < today:
        raise bad_input("deadline", "办理期限不能早于今天", "The deadline cannot be before today")
    if (deadline - today).days > 366:
        raise bad_input("deadline", "办理期限须在一年之内", "The deadline must be within a year")
    return deadline


def is_overdue(status: TaskStatus, deadline: date, today: date) -> bool:
    return status is not TaskStatus.DONE and deadline < today


def due_a_reminder(status: TaskStatus, deadline: date, last_reminded_on: date | None, today: date) -> bool:
    """An overdue task reminds its owner once a local day, not once a sweep."""
    return is_overdue(status, deadline, today) and (last_reminded_on is None or last_reminded_on < today)


def check_stars(stars: int) -> int:
    if not 1 <= stars <= 5:
        raise bad_input("stars", "评分须为1到5星", "Rate 1 to 5 stars")
    return stars


def may_rate(
    resident_community: str | None, resident_building: str, community_id: str, building: str
) -> bool:
    """Residents of the affected building rate its work."""
    return resident_community == community_id and household_key(resident_building) == household_key(building)


def local_day(at: datetime) -> date:
    return at.astimezone(LOCAL_TZ).date()


# --- refusals -------------------------------------------------------------------------------


def split_does_not_add_up(total_fen: int, given: int) -> Refusal:
    return bad_input(
        "shares",
        f"分摊金额合计{yuan(given)}元，与总额{yuan(total_fen)}元不符",
        f"The shares add up to {yuan(given)} yuan, not the total of {yuan(total_fen)} yuan",
    )


def wrong_state(status: ConcernStatus) -> Refusal:
    zh, en = STATUS_WORDS[status]
    return Refusal(
        "CONCERN_WRONG_STATE",
        f"该事项当前状态为「{zh}」，无法进行此操作",
        f"The concern is at '{en}'; this cannot be done now",
        {"status": status.value},
    )


def unknown(what: str, zh: str) -> Refusal:
    return Refusal("NOT_FOUND", f"找不到该{zh}", f"No such {what}", {"what": what})


def not_invited() -> Refusal:
    return Refusal("NOT_INVITED", "您不在该议事会的邀请名单中", "You are not invited to this meeting")


def not_your_task() -> Refusal:
    return Refusal(
        "NOT_YOUR_TASK", "只有承办方或社区工作人员可以更新此事项", "Only the task's owner or staff may"
    )


def not_of_the_building() -> Refusal:
    return Refusal(
        "NOT_OF_THE_BUILDING",
        "只有该楼栋的居民可以评价",
        "Only residents of the building may rate this work",
    )
