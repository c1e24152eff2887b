"""City-sized data: one city (50 communities, 37 stations, 200,000 residents, 20,000 sessions,
1,000,000 sign-ups, 2,000,000 ledger entries, 50,000 wishes) seeded with COPY into a database of
its own and kept for the next run; ``bench.city_reads`` then measures the main reads on it and
on an empty database.

Every row is made from its index (ids included), so a seed is the same each time. Both
databases also hold the same *probe*: the resident, sessions, work unit and community whose
reads are measured, so a read returns the same rows on both and only the rest of the city
differs. ``--scale 0.01`` seeds a hundredth of the city with the same shape.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from math import gcd
from typing import Any

import asyncpg

from services.common.clock import LOCAL_TZ
from services.common.migrations import migrate
from services.volunteers.codes import venue_key
from services.volunteers.profiles import unit_key

PROBE_COMMUNITY = "lingwu-shuofang"
PROBE_WORK_UNIT = "灵武市教育局"
MARKER = "public.linli_city_seed"

# Per entity, the same at every scale, so a hundredth of the city has the city's shape.
SIGNUPS_PER_SESSION = 50  # 40 confirmed (the capacity), 8 waiting, 2 cancelled
SESSION_CAPACITY = 40
SESSIONS_PER_ACTIVITY = 10
VOLUNTEERS_PER_SHIFT = 20  # each signed up, checked in and out, credited once
VOLUNTEER_SHARE = 10  # one resident in ten volunteers
WORK_UNITS = 200

# Kinds of rows, in the ids' top bits; the probe's are PROBE | kind
RESIDENT, FESTIVAL, ACTIVITY, SESSION, SIGNUP, AUDIT, ATTENDANCE = 1, 2, 3, 4, 5, 6, 7
SHIFT, SHIFT_SIGNUP, CHECK_IN, LEDGER, WISH, CLAIM, STATION = 8, 9, 10, 11, 12, 13, 14
PROBE = 0x100
PROBE_RESIDENTS = 100
PROBE_SESSIONS = 10
PROBE_SHIFTS = 30
PROBE_WISHES = 220  # more than the wall shows (200)
PROBE_AUDIT = 150  # more than the audit log shows by default (100)
OPEN_SESSION = 999  # the probe session sign-ups are measured on: room for everyone

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
_GIVEN = "淑兰建华秀英桂芳玉兰志强国庆海燕丽娟明辉德福永红春梅晓东文杰静怡子涵宇轩"
_PLACES = "朔方西苑东塔南门北关新华文昌光明团结胜利和平幸福长安育才振兴滨河金湖"


@dataclass(frozen=True)
class Counts:
    """What the city holds at a scale (1.0: the issue's city)."""

    communities: int = 50
    stations: int = 37
    residents: int = 200_000
    sessions: int = 20_000
    signups: int = 1_000_000
    ledger: int = 2_000_000
    wishes: int = 50_000
    audit_entries: int = 200_000

    @classmethod
    def at(cls, scale: float) -> Counts:
        full = cls()
        scaled = ("residents", "sessions", "ledger", "wishes", "audit_entries")
        sizes = {name: max(full.communities, round(getattr(full, name) * scale)) for name in scaled}
        sizes["ledger"] = max(
            VOLUNTEERS_PER_SHIFT, sizes["ledger"] // VOLUNTEERS_PER_SHIFT * VOLUNTEERS_PER_SHIFT
        )
        return cls(signups=sizes["sessions"] * SIGNUPS_PER_SESSION, **sizes)


def database_name(scale: float) -> str:
    return "linli_city" if scale == 1 else "linli_city_" + f"{scale:g}".replace(".", "_").replace("-", "_")


def _id(kind: int, index: int) -> uuid.UUID:
    return uuid.UUID(int=(kind << 96) | index)


def _name(i: int) -> str:
    given = (i // len(_SURNAMES)) % (len(_GIVEN) - 1)
    return _SURNAMES[i % len(_SURNAMES)] + _GIVEN[given : given + 2]


def _coprime(n: int, near: int) -> int:
    while gcd(near, n) != 1:
        near += 1
    return near


def community_ids(count: int) -> list[str]:
    """The three communities Linli already knows (migration 020), then the city's others."""
    known = ["lingwu-shuofang", "lingwu-xiyuan", "lingwu-dongta"]
    return known + [f"city-{k:02d}" for k in range(len(known), count)]


@dataclass(frozen=True)
class Table:
    name: str  # schema.table
    columns: tuple[str, ...]
    rows: Iterator[tuple[Any, ...]]


def _rows(*rows: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    return iter(rows)


# ---------------------------------------------------------------------------------------------
# The makers: one per group of tables, used for the city and (smaller) for the probe


def places(counts: Counts, today: datetime) -> list[Table]:
    ids = community_ids(counts.communities)
    streets = [(f"city-street-{s}", f"{_PLACES[2 * s : 2 * s + 2]}街道", "灵武市") for s in range(5)]
    communities = [
        (
            cid,
            f"{_PLACES[(2 * k) % len(_PLACES)]}{_PLACES[(2 * k + 5) % len(_PLACES)]}{k}社区",
            streets[k % 5][0],
        )
        for k, cid in enumerate(ids)
        if k >= 3
    ]
    stations = [
        (_id(STATION, k), ids[k], f"{ids[k]} 邻里驿家", f"{k + 1}号楼一层", today)
        for k in range(counts.stations)
    ]
    return [
        Table("identity.streets", ("id", "name", "district"), iter(streets)),
        Table("identity.communities", ("id", "name", "street_id"), iter(communities)),
        Table("identity.stations", ("id", "community_id", "name", "address", "created_at"), iter(stations)),
    ]


def residents(kind: int, count: int, communities: list[str], today: datetime) -> Table:
    phone_prefix = "139" if kind == RESIDENT else "138"
    joined = today - timedelta(days=400)
    columns = (
        "id",
        "phone",
        "name",
        "community_id",
        "building",
        "unit",
        "created_at",
        "last_login_at",
        "updated_at",
    )
    rows = (
        (
            _id(kind, i),
            f"{phone_prefix}{i:08d}",
            _name(i),
            communities[i % len(communities)],
            f"{i % 30 + 1}号楼",
            f"{i % 4 + 1}单元",
            joined,
            joined,
            joined,
        )
        for i in range(count)
    )
    return Table("identity.residents", columns, rows)


@dataclass(frozen=True)
class Activities:
    """Festivals (one per community), activities, sessions, sign-ups, their inbox messages and
    the door's scans of the sessions that are over."""

    kind: int  # 0 for the city, PROBE for the probe
    festivals: int
    sessions: int
    residents: int  # of kind | RESIDENT
    communities: list[str]
    first_day: datetime
    days_between: int
    today: datetime

    @property
    def activities(self) -> int:
        return max(1, self.sessions // SESSIONS_PER_ACTIVITY)

    def title_of(self, a: int) -> str:
        return ("剪纸书法", "义诊", "包饺子", "广场舞", "法律咨询")[a % 5] + f" {a}"

    def community_of_activity(self, a: int) -> str:
        return self.communities[(a % self.festivals) % len(self.communities)]

    def session_start(self, s: int) -> datetime:
        a = s % self.activities
        nth = s // self.activities
        day = self.first_day + timedelta(days=(a % self.festivals) * self.days_between + nth % 2)
        return day + timedelta(hours=8 + nth % 10)

    @cached_property
    def _step(self) -> int:
        return _coprime(self.residents, 4001)

    def signup_of(self, s: int, k: int) -> tuple[uuid.UUID, str, str]:
        """The k-th sign-up of session s: its id, resident and status (no resident twice)."""
        resident = (s * 53 + k * self._step) % self.residents
        status = "CONFIRMED" if k < SESSION_CAPACITY else "WAITLISTED" if k < 48 else "CANCELLED"
        return (
            _id(self.kind | SIGNUP, s * SIGNUPS_PER_SESSION + k),
            str(_id(self.kind | RESIDENT, resident)),
            status,
        )

    def tables(self) -> list[Table]:
        festivals = (
            (
                _id(self.kind | FESTIVAL, f),
                f"第{f + 4}届幸福邻里节"
                + ("" if self.kind else f"（{self.communities[f % len(self.communities)]}）"),
                [self.communities[f % len(self.communities)]],
                (self.first_day + timedelta(days=f * self.days_between)).date(),
                (self.first_day + timedelta(days=f * self.days_between + 1)).date(),
                "city-seed",
                True,
            )
            for f in range(self.festivals)
        )
        activities = (
            (
                _id(self.kind | ACTIVITY, a),
                _id(self.kind | FESTIVAL, a % self.festivals),
                self.community_of_activity(a),
                self.title_of(a),
                ("culture", "health", "food", "dance", "law")[a % 5],
            )
            for a in range(self.activities)
        )
        return [
            Table(
                "activities.festivals",
                ("id", "name", "community_ids", "starts_on", "ends_on", "created_by", "published"),
                festivals,
            ),
            Table(
                "activities.activities",
                ("id", "festival_id", "community_id", "title", "category"),
                activities,
            ),
            Table(
                "activities.sessions",
                ("id", "activity_id", "community_id", "venue", "starts_at", "ends_at", "capacity", "taken"),
                self._sessions(),
            ),
            Table(
                "activities.signups",
                ("id", "session_id", "resident_id", "party_size", "status", "idempotency_key", "created_at"),
                self._signups(),
            ),
            Table(
                "notify.inbox",
                (
                    "id",
                    "recipient_id",
                    "kind",
                    "title_zh",
                    "body_zh",
                    "title_en",
                    "body_en",
                    "event_id",
                    "created_at",
                ),
                self._inbox(),
            ),
            Table(
                "activities.attendance",
                ("signup_id", "id", "scanned_by", "checked_in_at", "admitted"),
                self._attendance(),
            ),
        ]

    def _sessions(self) -> Iterator[tuple[Any, ...]]:
        for s in range(self.sessions):
            a = s % self.activities
            community = self.community_of_activity(a)
            starts = self.session_start(s)
            yield (
                _id(self.kind | SESSION, s),
                _id(self.kind | ACTIVITY, a),
                community,
                f"{community} 文化广场",
                starts,
                starts + timedelta(hours=2),
                SESSION_CAPACITY,
                SESSION_CAPACITY,
            )

    def _each_signup(self) -> Iterator[tuple[int, int, uuid.UUID, str, str]]:
        for s in range(self.sessions):
            for k in range(SIGNUPS_PER_SESSION):
                yield (s, k, *self.signup_of(s, k))

    def _signups(self) -> Iterator[tuple[Any, ...]]:
        for s, _k, signup, resident, status in self._each_signup():
            made = self.session_start(s) - timedelta(days=10)
            yield (
                signup,
                _id(self.kind | SESSION, s),
                resident,
                1,
                status,
                f"city-{signup.int & 0xFFFFFFFF}",
                made,
            )

    def _inbox(self) -> Iterator[tuple[Any, ...]]:
        for s, _k, signup, resident, status in self._each_signup():
            title = "报名成功" if status == "CONFIRMED" else "已进入候补"
            body = f"您已报名第{s}场活动。"
            made = self.session_start(s) - timedelta(days=10)
            yield (signup, resident, "signup." + status.lower(), title, body, "Signed up", body, signup, made)

    def counted(self) -> Iterator[tuple[str, datetime, str, str, int]]:
        """What the events of these rows add to the dashboard's counts (community, when,
        figure, label, value): each session's confirmed sign-ups on the day they were made,
        and the people its door let in on its day (services/notify/dashboard.py)."""
        confirmed = sum(1 for k in range(SIGNUPS_PER_SESSION) if k < SESSION_CAPACITY)  # as signup_of
        admitted = sum(1 for k in range(SESSION_CAPACITY) if k % 5)  # as _attendance
        for s in range(self.sessions):
            a = s % self.activities
            community, title, starts = self.community_of_activity(a), self.title_of(a), self.session_start(s)
            yield community, starts - timedelta(days=10), "signups_confirmed", title, confirmed
            if starts < self.today:
                yield community, starts, "people_admitted", title, admitted

    def _attendance(self) -> Iterator[tuple[Any, ...]]:
        for s, k, signup, _resident, status in self._each_signup():
            starts = self.session_start(s)
            if status == "CONFIRMED" and starts < self.today and k % 5:
                yield (
                    signup,
                    _id(self.kind | ATTENDANCE, signup.int & 0xFFFFFFFF),
                    "city-scanner",
                    starts,
                    1,
                )


@dataclass(frozen=True)
class Volunteering:
    """Shifts with each volunteer's sign-up, check-in, check-out and credited minutes, party
    members (双报到, approved) and the wishes (微心愿) of the same communities."""

    kind: int
    shifts: int
    residents: int  # volunteer v is resident v * VOLUNTEER_SHARE
    communities: list[str]
    first_start: datetime
    hours_between: float
    wishes: int
    work_units: list[str]
    met_from: datetime  # wishes are met from here on, a day apart

    @property
    def volunteers(self) -> int:
        return max(1, self.residents // VOLUNTEER_SHARE)

    def volunteer_id(self, v: int) -> str:
        return str(_id(self.kind | RESIDENT, v * VOLUNTEER_SHARE))

    def shift_start(self, h: int) -> datetime:
        return self.first_start + timedelta(hours=h * self.hours_between)

    def members_of(self, h: int) -> list[int]:
        if self.volunteers <= VOLUNTEERS_PER_SHIFT:
            return list(range(self.volunteers))
        return [(h * 37 + k * self._step) % self.volunteers for k in range(VOLUNTEERS_PER_SHIFT)]

    @cached_property
    def _step(self) -> int:
        return _coprime(self.volunteers, 101)

    def tables(self) -> list[Table]:
        return [
            Table(
                "volunteers.shifts",
                (
                    "id",
                    "community_id",
                    "venue",
                    "venue_key",
                    "role",
                    "starts_at",
                    "ends_at",
                    "headcount",
                    "taken",
                    "created_by",
                ),
                self._shifts(),
            ),
            Table(
                "volunteers.shift_signups",
                ("id", "shift_id", "volunteer_id", "idempotency_key", "created_at"),
                self._each("signup"),
            ),
            Table(
                "volunteers.check_ins",
                ("id", "shift_id", "volunteer_id", "method", "scanned_by", "checked_in_at", "checked_out_at"),
                self._each("check_in"),
            ),
            Table(
                "volunteers.ledger",
                (
                    "id",
                    "volunteer_id",
                    "shift_id",
                    "check_in_id",
                    "kind",
                    "minutes",
                    "recorded_by",
                    "created_at",
                ),
                self._each("ledger"),
            ),
            Table(
                "volunteers.party_members",
                (
                    "volunteer_id",
                    "name",
                    "work_unit",
                    "work_unit_key",
                    "party_branch",
                    "community_id",
                    "reported_on",
                    "registered_by",
                    "status",
                ),
                self._party_members(),
            ),
            Table(
                "volunteers.wishes",
                (
                    "id",
                    "community_id",
                    "category",
                    "description",
                    "building",
                    "resident_id",
                    "posted_by",
                    "status",
                    "decline_reason",
                    "published_at",
                    "claim_id",
                    "claimant_id",
                    "started_at",
                    "done_at",
                    "confirmed_by",
                    "met_at",
                    "created_at",
                ),
                self._wishes(),
            ),
            Table(
                "volunteers.wish_claims",
                ("id", "wish_id", "claimant_id", "claimant_kind", "organisation", "status", "claimed_at"),
                self._claims(),
            ),
        ]

    def _shifts(self) -> Iterator[tuple[Any, ...]]:
        size = len(self.members_of(0))
        for h in range(self.shifts):
            community = self.communities[h % len(self.communities)]
            venue = f"{community} 邻里驿家"
            starts = self.shift_start(h)
            yield (
                _id(self.kind | SHIFT, h),
                community,
                venue,
                venue_key(venue),
                ("引导", "签到", "秩序维护", "助老")[h % 4],
                starts,
                starts + timedelta(hours=2),
                size,
                size,
                "city-seed",
            )

    def _each(self, what: str) -> Iterator[tuple[Any, ...]]:
        for h in range(self.shifts):
            shift = _id(self.kind | SHIFT, h)
            starts = self.shift_start(h)
            for k, v in enumerate(self.members_of(h)):
                index = h * VOLUNTEERS_PER_SHIFT + k
                volunteer = self.volunteer_id(v)
                check_in = _id(self.kind | CHECK_IN, index)
                out = starts + timedelta(minutes=110)
                if what == "signup":
                    yield (
                        _id(self.kind | SHIFT_SIGNUP, index),
                        shift,
                        volunteer,
                        f"city-{index}",
                        starts - timedelta(days=3),
                    )
                elif what == "check_in":
                    yield (check_in, shift, volunteer, "STATION", volunteer, starts, out)
                else:
                    yield (
                        _id(self.kind | LEDGER, index),
                        volunteer,
                        shift,
                        check_in,
                        "ATTENDANCE",
                        110,
                        volunteer,
                        out,
                    )

    def counted(self) -> Iterator[tuple[str, datetime, str, str, int]]:
        """What the events of these rows add to the dashboard's counts: each shift's credited
        minutes on the day of its check-outs, each wish posted, claimed and met on its day."""
        size = len(self.members_of(0))
        for h in range(self.shifts):
            out = self.shift_start(h) + timedelta(minutes=110)
            yield self.communities[h % len(self.communities)], out, "volunteer_minutes", "", 110 * size
        for row in self._wishes():
            community, category, status, met, posted = row[1], row[2], row[7], row[15], row[16]
            yield community, posted, "wishes_posted", category, 1
            if status in ("CLAIMED", "DONE", "MET"):
                yield community, self.claimed_at, "wishes_claimed", category, 1
            if met is not None:
                yield community, met, "wishes_met", category, 1

    @property
    def claimed_at(self) -> datetime:
        return self.met_from - timedelta(days=5)

    def _party_members(self) -> Iterator[tuple[Any, ...]]:
        for v in range(0, self.volunteers, 1 if self.kind else 10):  # one volunteer in ten in the city
            unit = self.work_units[(v // 10) % len(self.work_units)]
            community = self.communities[(v * VOLUNTEER_SHARE) % len(self.communities)]
            yield (
                self.volunteer_id(v),
                _name(v * VOLUNTEER_SHARE),
                unit,
                unit_key(unit),
                f"第{v % 9 + 1}党支部",
                community,
                self.first_start.date(),
                self.volunteer_id(v),
                "APPROVED",
            )

    _STATUS = (
        ("PUBLISHED",) * 8 + ("CLAIMED",) * 2 + ("DONE",) + ("MET",) * 6 + ("POSTED", "DECLINED", "APPROVED")
    )

    def wish_status(self, i: int) -> str:
        # the probe: a wall of published wishes, and some met by its party members
        if self.kind:
            return "MET" if i < 20 else "PUBLISHED"
        return self._STATUS[i % len(self._STATUS)]

    def claimant(self, i: int) -> str:
        return self.volunteer_id(i % self.volunteers)

    def _wishes(self) -> Iterator[tuple[Any, ...]]:
        for i in range(self.wishes):
            status = self.wish_status(i)
            community = self.communities[i % len(self.communities)]
            resident = str(_id(self.kind | RESIDENT, (i * 7) % self.residents))
            posted = self.met_from - timedelta(days=30 - i % 20)
            published = (
                posted + timedelta(hours=5) if status not in ("POSTED", "DECLINED", "APPROVED") else None
            )
            claimed = status in ("CLAIMED", "DONE", "MET")
            met = self.met_from + timedelta(days=i % 25) if status == "MET" else None
            yield (
                _id(self.kind | WISH, i),
                community,
                ("陪同就医", "代买药品", "维修家电")[i % 3],
                f"心愿 {i}：请帮忙",
                f"{i % 30 + 1}号楼",
                resident,
                resident,
                status,
                "重复" if status == "DECLINED" else None,
                published,
                _id(self.kind | CLAIM, i) if claimed else None,
                self.claimant(i) if claimed else None,
                published + timedelta(days=1) if claimed and published else None,
                met,
                resident if met else None,
                met,
                posted,
            )

    def _claims(self) -> Iterator[tuple[Any, ...]]:
        for i in range(self.wishes):
            status = self.wish_status(i)
            if status not in ("CLAIMED", "DONE", "MET"):
                continue
            v = i % self.volunteers
            yield (
                _id(self.kind | CLAIM, i),
                _id(self.kind | WISH, i),
                self.claimant(i),
                "PARTY_MEMBER",
                self.work_units[v % len(self.work_units)],
                "MET" if status == "MET" else "ACTIVE",
                self.claimed_at,
            )


def audit_entries(kind: int, count: int, communities: list[str], today: datetime) -> Table:
    columns = ("id", "at", "action", "actor_id", "subject", "client_ip", "details", "community_id")
    rows = (
        (
            _id(kind | AUDIT, i),
            today - timedelta(minutes=37 * (count - i)),
            ("signup.proxy", "wish.approve", "session.cancel", "party_member.approve")[i % 4],
            f"staff-{i % 300}",
            f"resident-{i % 5000}",
            "10.0.0.1",
            json.dumps({"n": i}),
            communities[i % len(communities)],
        )
        for i in range(count)
    )
    return Table("identity.audit_log", columns, rows)


# ---------------------------------------------------------------------------------------------
# The city, the probe, and the database they go in


@dataclass(frozen=True)
class Probe:
    """What the measured reads name: the same on both databases."""

    resident_id: str
    festival_id: str
    roster_session_id: str
    open_session_id: str  # sign-ups are measured here: room for every one
    community_id: str
    work_unit: str
    report_starts_on: str
    report_ends_on: str
    seed_day: str  # the day the seed was made: every date above follows from it


def probe_makers(today: datetime) -> tuple[Activities, Volunteering]:
    communities = [PROBE_COMMUNITY]
    festival_day = today + timedelta(days=7)
    activities = Activities(PROBE, 1, PROBE_SESSIONS, PROBE_RESIDENTS, communities, festival_day, 1, today)
    report_from = today - timedelta(days=31)
    volunteering = Volunteering(
        PROBE,
        PROBE_SHIFTS,
        PROBE_RESIDENTS,
        communities,
        report_from + timedelta(hours=9),
        24,
        PROBE_WISHES,
        [PROBE_WORK_UNIT],
        report_from + timedelta(days=1),
    )
    return activities, volunteering


def probe_plan(today: datetime) -> tuple[list[Table], Probe]:
    activities, volunteering = probe_makers(today)
    festival_day = today + timedelta(days=7)
    report_from = today - timedelta(days=31)
    opens = festival_day + timedelta(hours=15)
    open_session = Table(
        "activities.sessions",
        ("id", "activity_id", "community_id", "venue", "starts_at", "ends_at", "capacity", "taken"),
        _rows(
            (
                _id(PROBE | SESSION, OPEN_SESSION),
                _id(PROBE | ACTIVITY, 0),
                PROBE_COMMUNITY,
                "朔方社区文化广场",
                opens,
                opens + timedelta(hours=2),
                1_000_000,
                0,
            )
        ),
    )
    tables = [
        residents(PROBE | RESIDENT, PROBE_RESIDENTS, [PROBE_COMMUNITY], today),
        *activities.tables(),
        open_session,
        *volunteering.tables(),
        audit_entries(PROBE, PROBE_AUDIT, [PROBE_COMMUNITY], today),
    ]
    probe = Probe(
        resident_id=str(_id(PROBE | RESIDENT, 0)),
        festival_id=str(_id(PROBE | FESTIVAL, 0)),
        roster_session_id=str(_id(PROBE | SESSION, 0)),
        open_session_id=str(_id(PROBE | SESSION, OPEN_SESSION)),
        community_id=PROBE_COMMUNITY,
        work_unit=PROBE_WORK_UNIT,
        report_starts_on=report_from.date().isoformat(),
        report_ends_on=(today - timedelta(days=1)).date().isoformat(),
        seed_day=today.date().isoformat(),
    )
    return tables, probe


def city_makers(counts: Counts, today: datetime) -> tuple[Activities, Volunteering]:
    communities = community_ids(counts.communities)
    shifts = counts.ledger // VOLUNTEERS_PER_SHIFT
    activities = Activities(
        0,
        counts.communities,
        counts.sessions,
        counts.residents,
        communities,
        today - timedelta(days=700),
        14,
        today,
    )
    volunteering = Volunteering(
        0,
        shifts,
        counts.residents,
        communities,
        today - timedelta(days=730),
        730 * 24 / shifts,
        counts.wishes,
        [f"城市单位{u}" for u in range(WORK_UNITS)],
        today - timedelta(days=60),
    )
    return activities, volunteering


def city_plan(counts: Counts, today: datetime) -> list[Table]:
    communities = community_ids(counts.communities)
    activities, volunteering = city_makers(counts, today)
    return [
        *places(counts, today),
        residents(RESIDENT, counts.residents, communities, today),
        *activities.tables(),
        *volunteering.tables(),
        audit_entries(0, counts.audit_entries, communities, today),
    ]


def dashboard_tables(makers: list[Activities | Volunteering]) -> list[Table]:
    """notify's dashboard counts (daily, and rolled up per month) as the events of all these
    rows would have left them: summed per community, Beijing day, figure and label, so the
    dashboard of the seeded city agrees with its tables (tests/test_dashboard_seed.py)."""
    days: dict[tuple[str, date, str, str], int] = defaultdict(int)
    for maker in makers:
        for community, when, figure, label, value in maker.counted():
            days[(community, when.astimezone(LOCAL_TZ).date(), figure, label)] += value
    months: dict[tuple[str, date, str, str], int] = defaultdict(int)
    for (community, day, figure, label), value in days.items():
        months[(community, day.replace(day=1), figure, label)] += value
    return [
        Table(
            "notify.dashboard_counts",
            ("community_id", "day", "figure", "label", "value"),
            ((*key, value) for key, value in sorted(days.items())),
        ),
        Table(
            "notify.dashboard_months",
            ("community_id", "month", "figure", "label", "value"),
            ((*key, value) for key, value in sorted(months.items())),
        ),
    ]


_MARKER_TABLE = f"""
CREATE TABLE IF NOT EXISTS {MARKER} (
    scale     double precision NOT NULL,
    counts    jsonb NOT NULL,
    probe     jsonb NOT NULL,
    seeded_at timestamptz NOT NULL,
    seconds   double precision NOT NULL
)
"""


async def set_aside_indexes(conn: asyncpg.Connection, tables: list[str]) -> list[str]:
    """Drop the indexes of ``tables`` that back no constraint (inside the caller's transaction);
    returns their definitions, to be run again."""
    rows = await conn.fetch(
        """
        SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
        FROM pg_index i
        WHERE i.indrelid = ANY($1::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        tables,
    )
    for row in rows:
        await conn.execute(f"DROP INDEX {row['name']}")
    return [row["definition"] for row in rows]


async def seeded(database_url: str) -> dict[str, Any] | None:
    """The marker of a finished seed, if this database has one."""
    conn = await asyncpg.connect(database_url)
    try:
        if await conn.fetchval("SELECT to_regclass($1)", MARKER) is None:
            return None
        row = await conn.fetchrow(f"SELECT scale, counts, probe, seeded_at, seconds FROM {MARKER}")
        if row is None:
            return None
        return {**dict(row), "counts": json.loads(row["counts"]), "probe": json.loads(row["probe"])}
    finally:
        await conn.close()


async def seed(
    database_url: str, today: datetime, counts: Counts | None = None, scale: float = 0.0, log: Any = None
) -> dict[str, Any]:
    """Migrate, then COPY the probe and the city of ``counts`` (none: the probe alone) in one
    transaction that ends by writing the marker; then VACUUM ANALYZE, as a live database's
    autovacuum would have. ``log`` is told each table's rows and time. Returns the marker."""
    await migrate(database_url)
    tables, probe = probe_plan(today)
    makers: list[Activities | Volunteering] = [*probe_makers(today)]
    if counts is not None:
        tables = city_plan(counts, today) + tables
        makers += city_makers(counts, today)
    tables += dashboard_tables(makers)
    started = time.perf_counter()
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            # Indexes no constraint needs are built once after the rows are in (a sort), not
            # kept up to date row by row: what made the first whole-city seed take 18 minutes.
            rebuilt = await set_aside_indexes(conn, sorted({t.name for t in tables}))
            # Nor is each row's foreign key looked up: the rows are made to match (a superuser's
            # setting; the seed only runs slower without it).
            with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
                async with conn.transaction():  # a savepoint: a refusal leaves the seed going
                    await conn.execute("SET LOCAL session_replication_role = replica")
            for table in tables:
                schema, name = table.name.split(".")
                began = time.perf_counter()
                result = await conn.copy_records_to_table(
                    name, schema_name=schema, columns=list(table.columns), records=table.rows
                )
                if log is not None:
                    rows, took = result.split()[-1], time.perf_counter() - began
                    log(f"  {table.name:<28} {rows:>10} rows  {took:6.1f} s")
            began = time.perf_counter()
            for definition in rebuilt:
                await conn.execute(definition)
            if log is not None:
                log(f"  {len(rebuilt)} indexes built again in {time.perf_counter() - began:.1f} s")
            await conn.execute(_MARKER_TABLE)
            await conn.execute(
                f"INSERT INTO {MARKER} VALUES ($1, $2, $3, $4, $5)",
                scale,
                json.dumps(asdict(counts) if counts else {}),
                json.dumps(asdict(probe)),
                datetime.now(UTC),
                round(time.perf_counter() - started, 1),
            )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    marker = await seeded(database_url)
    assert marker is not None
    return marker
