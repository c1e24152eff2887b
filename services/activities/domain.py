"""The rules of festivals, sessions and sign-ups: pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from services.common.errors import Refusal, bad_input
from services.common.rules import MAX_COUNT, check_characters, check_count, check_new_days, check_new_span

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


class VenueKind(StrEnum):
    STATION = "STATION"  # 邻里驿家
    SQUARE = "SQUARE"
    ROOM = "ROOM"


class AgeBand(StrEnum):
    """The same bands identity records for household members."""

    CHILD = "CHILD"
    TEEN = "TEEN"
    ADULT = "ADULT"
    SENIOR = "SENIOR"
    ELDER = "ELDER"


@dataclass(frozen=True)
class FestivalPlan:
    name: str
    community_ids: tuple[str, ...]
    starts_on: date
    ends_on: date
    max_sessions_per_resident: int | None = None


@dataclass(frozen=True)
class VenuePlan:
    community_id: str
    name: str
    kind: VenueKind
    capacity: int
    address: str = ""


MAX_ADDRESS_LENGTH = 100


@dataclass(frozen=True)
class ActivityPlan:
    title: str
    category: str
    description: str
    age_bands: tuple[AgeBand, ...] = ()
    children_need_adult: bool = False


@dataclass(frozen=True)
class SessionPlan:
    venue: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    max_party_size: int = MAX_PARTY_SIZE
    cancellation_deadline: datetime | None = None


def check_name(field: str, value: str) -> str:
    cleaned = check_characters(field, value).strip()
    if not cleaned:
        raise bad_input(field, "名称不能为空", "A name is required")
    if len(cleaned) > 200:
        raise bad_input(field, "名称太长（最多200字）", "Name too long (200 characters at most)")
    return cleaned


def check_festival(plan: FestivalPlan, today: date | None = None) -> FestivalPlan:
    """A festival's plan; given ``today`` (Beijing), a new one: not over, within the horizon."""
    name = check_name("name", plan.name)
    if not plan.community_ids:
        raise bad_input("communityIds", "请至少选择一个社区", "Choose at least one community")
    if plan.ends_on < plan.starts_on:
        raise bad_input("endsOn", "结束日期不能早于开始日期", "The end date is before the start date")
    if today is not None:
        check_new_days(plan.starts_on, plan.ends_on, today)
    limit = plan.max_sessions_per_resident
    if limit is not None and not 1 <= limit <= 100:
        raise bad_input(
            "maxSessionsPerResident", "每人可报场次须在1到100之间", "The limit per resident is 1 to 100"
        )
    return FestivalPlan(name, tuple(dict.fromkeys(plan.community_ids)), plan.starts_on, plan.ends_on, limit)


def check_venue(plan: VenuePlan) -> VenuePlan:
    name = check_name("name", plan.name)
    if not 1 <= plan.capacity <= MAX_COUNT:
        raise bad_input("capacity", "场地容量须在1到100000之间", "A venue holds 1 to 100,000 people")
    address = " ".join(check_characters("address", plan.address).split())
    if len(address) > MAX_ADDRESS_LENGTH:
        raise bad_input("address", "地址太长（最多100字）", "Address too long (100 characters at most)")
    return VenuePlan(plan.community_id, name, plan.kind, plan.capacity, address)


MAX_DESCRIPTION_LENGTH = 2000


def check_activity(plan: ActivityPlan) -> ActivityPlan:
    title = check_name("title", plan.title)
    category = check_characters("category", plan.category).strip()
    if len(category) > 50:
        raise bad_input("category", "类别太长（最多50字）", "Category too long (50 characters at most)")
    description = check_characters("description", plan.description, paragraph=True).strip()
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise bad_input(
            "description",
            f"介绍太长（最多{MAX_DESCRIPTION_LENGTH}字）",
            f"Description too long ({MAX_DESCRIPTION_LENGTH} characters at most)",
        )
    bands = tuple(dict.fromkeys(plan.age_bands))
    return ActivityPlan(title, category, description, bands, plan.children_need_adult)


def _aware(field: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise bad_input(field, "时间须包含时区", "Times must include a time zone")


def check_session(plan: SessionPlan, now: datetime | None = None) -> SessionPlan:
    """A session's plan; given ``now``, a new (or moved) one: not over, within the horizon."""
    venue = check_name("venue", plan.venue)
    _aware("startsAt", plan.starts_at)
    _aware("endsAt", plan.ends_at)
    _aware("registrationOpensAt", plan.registration_opens_at)
    _aware("registrationClosesAt", plan.registration_closes_at)
    _aware("cancellationDeadline", plan.cancellation_deadline)
    check_times(plan.starts_at, plan.ends_at)
    if now is not None:
        check_new_span(plan.starts_at, plan.ends_at, now)
    if plan.capacity < 1:
        raise bad_input("capacity", "名额至少为1", "Capacity must be at least 1")
    check_count("capacity", plan.capacity, zh="名额", en="Capacity")
    opens, closes = plan.registration_opens_at, plan.registration_closes_at
    if opens is not None and closes is not None and closes <= opens:
        raise bad_input(
            "registrationClosesAt", "报名截止须晚于报名开始", "Registration must close after it opens"
        )
    if opens is not None and opens >= plan.ends_at:
        raise bad_input(
            "registrationOpensAt", "报名须在活动结束前开始", "Registration must open before the session ends"
        )
    check_max_party_size(plan.max_party_size)
    return SessionPlan(
        venue,
        plan.starts_at,
        plan.ends_at,
        plan.capacity,
        opens,
        closes,
        plan.max_party_size,
        plan.cancellation_deadline,
    )


def check_times(starts_at: datetime, ends_at: datetime) -> None:
    _aware("startsAt", starts_at)
    _aware("endsAt", ends_at)
    if ends_at <= starts_at:
        raise bad_input("endsAt", "结束时间须晚于开始时间", "The session must end after it starts")


# --- venues: bookings never overlap, sessions fit the room ---------------------------------


@dataclass(frozen=True)
class Booking:
    """A session holding a venue from ``starts_at`` to ``ends_at`` (the end is free again)."""

    session_id: Any
    starts_at: datetime
    ends_at: datetime


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open intervals: one session may start the minute the previous one ends."""
    return a_start < b_end and b_start < a_end


def first_clash(
    starts_at: datetime, ends_at: datetime, bookings: Iterable[Booking], ignoring: Any = None
) -> Booking | None:
    """The earliest booking that overlaps the wanted time (``ignoring`` a session being moved)."""
    clashes = [
        b
        for b in bookings
        if b.session_id != ignoring and overlaps(starts_at, ends_at, b.starts_at, b.ends_at)
    ]
    return min(clashes, key=lambda b: (b.starts_at, str(b.session_id)), default=None)


def venue_clash(booking: Booking, venue_name: str) -> Refusal:
    return Refusal(
        "VENUE_CLASH",
        f"{venue_name}在该时段已被其他场次占用",
        f"{venue_name} is already booked at an overlapping time",
        {
            "sessionId": str(booking.session_id),
            "startsAt": booking.starts_at.isoformat(),
            "endsAt": booking.ends_at.isoformat(),
        },
    )


def fits_venue(capacity: int, venue_capacity: int, venue_name: str) -> None:
    if capacity > venue_capacity:
        raise Refusal(
            "OVER_VENUE_CAPACITY",
            f"{venue_name}最多容纳{venue_capacity}人",
            f"{venue_name} holds {venue_capacity} people at most",
            {"venueCapacity": venue_capacity},
        )


def check_new_capacity(capacity: int, taken: int) -> int:
    if capacity < 1:
        raise bad_input("capacity", "名额至少为1", "Capacity must be at least 1")
    check_count("capacity", capacity, zh="名额", en="Capacity")
    if capacity < taken:
        raise Refusal(
            "CAPACITY_BELOW_TAKEN",
            f"已有{taken}人报名成功，名额不能少于此数",
            f"{taken} places are already taken; capacity cannot go below that",
            {"taken": taken},
        )
    return capacity


# --- sign-up rules ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SignupTerms:
    """What a session asks of a sign-up."""

    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    max_party_size: int
    max_sessions_per_resident: int | None
    ends_at: datetime | None = None


def signup_refusal(
    terms: SignupTerms, party_size: int, at: datetime, festival_signups_held: int
) -> Refusal | None:
    """Why this sign-up may not be made now, or None; ``festival_signups_held`` counts the
    resident's live sign-ups in the session's festival, those accepted earlier in a batch included."""
    if terms.ends_at is not None and at >= terms.ends_at:
        return Refusal("SESSION_ENDED", "该场次已经结束，无法报名", "This session has already ended")
    if terms.registration_opens_at is not None and at < terms.registration_opens_at:
        return Refusal(
            "REGISTRATION_NOT_OPEN",
            "报名尚未开始",
            "Registration has not opened yet",
            {"opensAt": terms.registration_opens_at.isoformat()},
        )
    if terms.registration_closes_at is not None and at >= terms.registration_closes_at:
        return Refusal(
            "REGISTRATION_CLOSED",
            "报名已截止",
            "Registration has closed",
            {"closedAt": terms.registration_closes_at.isoformat()},
        )
    if party_size > terms.max_party_size:
        return Refusal(
            "PARTY_TOO_LARGE",
            f"该场次每次报名最多{terms.max_party_size}人",
            f"One sign-up may bring {terms.max_party_size} people at most",
            {"maxPartySize": terms.max_party_size},
        )
    limit = terms.max_sessions_per_resident
    if limit is not None and festival_signups_held >= limit:
        return Refusal(
            "FESTIVAL_LIMIT_REACHED",
            f"本届活动节每人最多报名{limit}场",
            f"You may sign up for {limit} sessions of this festival at most",
            {"limit": limit},
        )
    return None


def cancellation_refusal(
    deadline: datetime | None, at: datetime, free_cancel: bool, checked_in_at: datetime | None = None
) -> Refusal | None:
    """A sign-up may be withdrawn until the deadline; after a move, at any time; once its
    party has checked in at the door, never (its seat was used, and must not go to the
    waitlist after the fact)."""
    if checked_in_at is not None:
        return Refusal(
            "ALREADY_CHECKED_IN",
            "您已签到入场，不能再取消报名",
            "You have already checked in; this sign-up can no longer be cancelled",
            {"checkedInAt": checked_in_at.isoformat()},
        )
    if deadline is None or free_cancel or at < deadline:
        return None
    return Refusal(
        "CANCELLATION_DEADLINE_PASSED",
        "已过取消截止时间，无法取消",
        "The cancellation deadline has passed",
        {"deadline": deadline.isoformat()},
    )


def party_with(attendee_ids: Sequence[str], party_size: int | None, include_me: bool = True) -> int:
    """How many a sign-up brings: the resident (unless only sending family) and the named
    household members; with nobody named, ``party_size`` as given (1 by default)."""
    if len(set(attendee_ids)) != len(attendee_ids):
        raise bad_input("attendeeIds", "同一家庭成员不能重复", "A household member is named twice")
    if not attendee_ids:
        if not include_me:
            raise bad_input("attendeeIds", "请选择参加的家庭成员", "Name who of your household comes")
        return check_party_size(1 if party_size is None else party_size)
    size = check_party_size(len(attendee_ids) + (1 if include_me else 0))
    if party_size is not None and party_size != size:
        raise bad_input(
            "partySize",
            "人数须等于参加的本人与所选家庭成员之和",
            "Party size must be the people named (and you, if you come)",
        )
    return size


_GROWN_UPS = frozenset({AgeBand.ADULT, AgeBand.SENIOR, AgeBand.ELDER})


def attendance_refusal(
    age_bands: Sequence[str], children_need_adult: bool, attendee_bands: Sequence[str], include_me: bool
) -> Refusal | None:
    """Whether the household members named suit the activity. The resident's own age is not
    known here; a resident who comes along is the adult a child needs."""
    outside = [band for band in attendee_bands if age_bands and band not in age_bands]
    if outside:
        return Refusal(
            "AGE_BAND_MISMATCH",
            "所选家庭成员的年龄段不适合该活动",
            "A household member named is outside the activity's age bands",
            {"ageBand": outside[0], "ageBands": list(age_bands)},
        )
    child_alone = AgeBand.CHILD in attendee_bands and not any(b in _GROWN_UPS for b in attendee_bands)
    if children_need_adult and child_alone and not include_me:
        return Refusal(
            "CHILD_NEEDS_ADULT",
            "儿童须由成人陪同参加",
            "Children must come with an adult",
        )
    return None


@dataclass(frozen=True)
class Move:
    """A session's place in time and space, before or after a move."""

    starts_at: datetime
    ends_at: datetime
    venue_id: Any
    venue: str


def reschedule_notice(before: Move, after: Move) -> dict[str, Any] | None:
    """What residents are told of a move, or None when nothing changed (a replayed move)."""
    if before == after:
        return None
    return {
        "old_starts_at": before.starts_at.isoformat(),
        "old_ends_at": before.ends_at.isoformat(),
        "old_venue": before.venue,
        "starts_at": after.starts_at.isoformat(),
        "ends_at": after.ends_at.isoformat(),
        "venue": after.venue,
    }


@dataclass(frozen=True)
class PartyCut:
    """A party after some of it withdrew: who still goes, and who no longer does."""

    attendees: tuple[dict[str, str], ...]  # household members still going
    include_me: bool  # the resident still goes
    party_size: int
    dropped: tuple[dict[str, str], ...]
    dropped_me: bool


def cut_party(
    attendees: Sequence[dict[str, str]],
    party_size: int,
    drop_ids: Sequence[str],
    drop_me: bool,
) -> PartyCut:
    """Take the named household members (and, with ``drop_me``, the resident) off a party.
    Whoever of the party is not a named household member is the resident themself. Someone
    must remain: withdrawing everyone is a cancellation of the whole sign-up."""
    if len(set(drop_ids)) != len(drop_ids):
        raise bad_input("attendeeIds", "同一家庭成员不能重复", "A household member is named twice")
    if not drop_ids and not drop_me:
        raise bad_input("attendeeIds", "请选择要取消的人", "Name who no longer comes")
    named = {a["id"]: a for a in attendees}
    if any(i not in named for i in drop_ids):
        raise Refusal("NOT_IN_PARTY", "所选的人不在这次报名中", "That person is not part of this sign-up")
    include_me = party_size > len(attendees)
    if drop_me and not include_me:
        raise Refusal("NOT_IN_PARTY", "您本人不在这次报名中", "You are not part of this sign-up")
    kept = tuple(a for a in attendees if a["id"] not in drop_ids)
    size = party_size - len(drop_ids) - (1 if drop_me else 0)
    if size < 1:
        raise Refusal(
            "PARTY_WOULD_BE_EMPTY",
            "这样就没有人参加了；如都不去，请直接取消整个报名",
            "Nobody would be left; to withdraw everyone, cancel the whole sign-up",
        )
    dropped = tuple(named[i] for i in drop_ids)
    return PartyCut(kept, include_me and not drop_me, size, dropped, drop_me)


def check_party_size(party_size: int, field: str = "partySize") -> int:
    """How many one sign-up brings (or, at the door, how many of a party come in now)."""
    if not 1 <= party_size <= MAX_PARTY_SIZE:
        raise bad_input(
            field,
            f"每次报名人数须在1到{MAX_PARTY_SIZE}人之间",
            f"A sign-up brings 1 to {MAX_PARTY_SIZE} people",
        )
    return party_size


def check_max_party_size(max_party_size: int) -> int:
    """The most one sign-up of a session may bring: a party size itself."""
    if not 1 <= max_party_size <= MAX_PARTY_SIZE:
        raise bad_input(
            "maxPartySize",
            f"每次报名人数上限须在1到{MAX_PARTY_SIZE}之间",
            f"The most one sign-up may bring is 1 to {MAX_PARTY_SIZE}",
        )
    return max_party_size


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
    cleaned = check_characters("reason", reason, paragraph=True).strip()
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


def unknown_venue() -> Refusal:
    return Refusal("VENUE_NOT_FOUND", "找不到该场地", "No such venue")


def venue_name_taken() -> Refusal:
    return Refusal(
        "VENUE_NAME_TAKEN", "本社区已有同名场地", "This community already has a venue by that name"
    )


def festival_not_published() -> Refusal:
    return Refusal("FESTIVAL_NOT_PUBLISHED", "该活动节尚未发布", "This festival is not published")


def not_household_member() -> Refusal:
    return Refusal(
        "NOT_HOUSEHOLD_MEMBER", "所选成员不在您的家庭成员中", "That person is not in your household"
    )


def dashboard_facts(session: Any) -> dict[str, str]:
    """What the dashboard's session projection keeps of a session (notify's dashboard_sessions):
    when it runs, its activity's category, its 邻里驿家 station ("" elsewhere), and the version
    of these facts (moved sessions are newer), so events handled out of order keep the newest."""
    version = session["rescheduled_at"] or session["created_at"]
    return {
        "starts_at": session["starts_at"].isoformat(),
        "ends_at": session["ends_at"].isoformat(),
        "category": session["activity_category"] or "",
        "station": session["station"] or "",
        "version": version.isoformat(),
    }
