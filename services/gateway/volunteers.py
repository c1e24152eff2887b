"""The volunteers part of the GraphQL API: shifts, sign-ups, station codes, check-ins, hours."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

import strawberry

import services.volunteers.domain as shift_rules  # the domain's rules, applied at the door too
from services.common import clock
from services.common.actor import RESIDENT, VOLUNTEER
from services.common.errors import Refusal, bad_input, forbidden, not_found
from services.common.paging import DEFAULT_LIMIT, after_text, after_uuid, checked_limit
from services.common.replies import Row, as_datetime
from services.gateway import commands
from services.gateway.context import Info
from services.gateway.inputs import check_key, parse_id
from services.gateway.marks import Secret
from services.gateway.names import community_name
from services.gateway.paging import After, Limit
from services.gateway.tickets import NO_NAME, NamedPerson, named_people
from services.identity import throttle
from services.volunteers import codes, contracts, queries
from services.volunteers.certificates import record_locked
from services.volunteers.domain import Span, credit_if_checked_out, may_scan_cards, withdrawal_closes_at
from services.volunteers.queries import volunteer_names

MAX_CODE_LENGTH = 200


@strawberry.enum
class CheckInMethod(Enum):
    STATION = "STATION"
    CARD = "CARD"


@strawberry.enum
class LedgerKind(Enum):
    ATTENDANCE = "ATTENDANCE"
    CORRECTION = "CORRECTION"


@strawberry.type
class Shift:
    id: strawberry.ID
    community_id: str
    festival_id: str | None
    venue: str
    role: str
    starts_at: datetime
    ends_at: datetime
    headcount: int
    places_taken: int
    places_left: int
    required_skill: str | None
    contact_phone: str | None = strawberry.field(
        default=None,
        description="Whom volunteers call about the shift (the organiser's or the desk's phone).",
    )

    @strawberry.field(
        description="Until when a volunteer may withdraw online (LINLI_VOLUNTEER_WITHDRAW_CUTOFF_MIN "
        "before the start); later, they call the contact phone."
    )
    def withdrawable_until(self, info: Info) -> datetime:
        cutoff = timedelta(minutes=info.context.resources.settings.volunteer_withdraw_cutoff_min)
        return withdrawal_closes_at(Span(self.starts_at, self.ends_at), cutoff)

    @strawberry.field(description="The community's name, e.g. 朔方社区.")
    async def community_name(self, info: Info) -> str:
        return await community_name(info, self.community_id)

    @classmethod
    def of(cls, shift: contracts.Shift) -> Shift:
        return cls(
            contact_phone=shift.contact_phone,
            id=strawberry.ID(shift.id),
            community_id=shift.community_id,
            festival_id=shift.festival_id,
            venue=shift.venue,
            role=shift.role,
            starts_at=shift.starts_at,
            ends_at=shift.ends_at,
            headcount=shift.headcount,
            places_taken=shift.taken,
            places_left=shift.headcount - shift.taken,
            required_skill=shift.required_skill,
        )


@strawberry.type
class ShiftSignup:
    id: strawberry.ID
    shift_id: strawberry.ID
    volunteer_id: str

    @strawberry.field
    async def shift(self, info: Info) -> Shift | None:
        async with info.context.pool.acquire() as conn:
            row = await queries.shift(conn, uuid.UUID(self.shift_id))
        return Shift.of(contracts.Shift.of(row)) if row else None

    @classmethod
    def of(cls, signup: contracts.ShiftSignup) -> ShiftSignup:
        return cls(
            id=strawberry.ID(signup.id),
            shift_id=strawberry.ID(signup.shift_id),
            volunteer_id=signup.volunteer_id,
        )


@strawberry.type
class CheckIn:
    id: strawberry.ID
    shift_id: strawberry.ID
    volunteer_id: str
    method: CheckInMethod
    checked_in_at: datetime
    checked_out_at: datetime | None
    minutes_credited: int | None = strawberry.field(
        default=None, description="What this visit added to the volunteer's service hours."
    )
    first_scan: bool | None = strawberry.field(
        default=None,
        description="In a check-in's answer: false when the volunteer was already checked in "
        "(a repeated scan changed nothing). Null elsewhere.",
    )

    @classmethod
    def of(cls, check_in: contracts.CheckIn) -> CheckIn:
        return cls(
            id=strawberry.ID(check_in.id),
            shift_id=strawberry.ID(check_in.shift_id),
            volunteer_id=check_in.volunteer_id,
            method=CheckInMethod(check_in.method),
            checked_in_at=check_in.checked_in_at,
            checked_out_at=check_in.checked_out_at,
            minutes_credited=check_in.minutes_credited,
            first_scan=check_in.first_scan,
        )


@strawberry.type
class ScannableCode:
    """A code as text and as a QR image (a PNG data URL and an SVG document)."""

    code: str
    png_data_url: str
    svg: str
    valid_until: datetime | None = strawberry.field(
        default=None, description="When a station code stops being accepted; cards do not expire."
    )
    digits: str | None = strawberry.field(
        default=None,
        description="A station code's six digits, to type by hand; they rotate with the QR. Null for cards.",
    )

    @classmethod
    def of(cls, text: str, valid_until: datetime | None = None, digits: str | None = None) -> ScannableCode:
        rendered = codes.render(text)
        return cls(
            code=rendered.text,
            png_data_url=rendered.png_data_url,
            svg=rendered.svg,
            valid_until=valid_until,
            digits=digits,
        )


@strawberry.type
class LedgerEntry:
    id: strawberry.ID
    shift_id: strawberry.ID | None
    kind: LedgerKind
    minutes: int
    reason: str | None
    recorded_by: str
    created_at: datetime
    content: str | None = strawberry.field(default=None, description="What was done: the shift's role.")
    place: str | None = strawberry.field(default=None, description="Where: the shift's venue.")
    shift_starts_at: datetime | None = None
    confirmed_by: str | None = strawberry.field(default=None, description="The organiser who confirmed it.")
    confirmed_at: datetime | None = None

    @strawberry.field(
        description="Locked LINLI_VOLUNTEER_RECORD_LOCK_DAYS after its shift: changed only by an accepted "
        "correction request (requestRecordCorrection) from then on."
    )
    def locked(self, info: Info) -> bool:
        ends = self._shift_ends_at
        days = info.context.resources.settings.volunteer_record_lock_days
        return ends is not None and record_locked(ends, clock.now(), days)

    _shift_ends_at: strawberry.Private[datetime | None] = None

    @classmethod
    def of(cls, entry: contracts.LedgerEntry) -> LedgerEntry:
        return cls(
            id=strawberry.ID(entry.id),
            shift_id=strawberry.ID(entry.shift_id) if entry.shift_id else None,
            kind=LedgerKind(entry.kind),
            minutes=entry.minutes,
            reason=entry.reason,
            recorded_by=entry.recorded_by,
            created_at=entry.created_at,
            content=entry.content,
            place=entry.place,
            shift_starts_at=entry.shift_starts_at,
            confirmed_by=entry.confirmed_by,
            confirmed_at=entry.confirmed_at,
            _shift_ends_at=entry.shift_ends_at,
        )


@strawberry.type
class RosterEntry:
    """One signed-up volunteer of a shift, as the organiser's console shows them."""

    volunteer_id: str
    signed_up_at: datetime
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    method: CheckInMethod | None
    minutes_credited: int
    name: str | None = strawberry.field(
        default=None,
        description="The name they gave (双报到, volunteer profile or their own profile); null if none.",
    )
    phone: str | None = strawberry.field(default=None, description="Masked, e.g. 138****5678.")

    @classmethod
    def from_row(cls, row: Row, name: str | None = None, phone: str | None = None) -> RosterEntry:
        return cls(
            name=name,
            phone=phone,
            volunteer_id=row["volunteer_id"],
            signed_up_at=as_datetime(row["signed_up_at"]),
            checked_in_at=row["checked_in_at"],
            checked_out_at=row["checked_out_at"],
            method=CheckInMethod(row["method"]) if row["method"] else None,
            minutes_credited=row["minutes_credited"],
        )


async def volunteers_named(conn: Any, volunteer_ids: list[str]) -> dict[str, tuple[str | None, str | None]]:
    """Each volunteer as staff see them: the name they gave (双报到, volunteer profile, else their
    own profile; None if none) and their phone masked (None without one)."""
    given = await volunteer_names(conn, volunteer_ids)
    people = await named_people(conn, volunteer_ids)
    return {
        volunteer_id: (given.get(volunteer_id) or _named(people[volunteer_id]), people[volunteer_id].phone)
        for volunteer_id in volunteer_ids
    }


def _named(person: NamedPerson) -> str | None:
    return None if person.name == NO_NAME else person.name


@strawberry.type
class ServiceHours:
    total_minutes: int
    hours: float
    volunteer_id: strawberry.Private[str]

    @strawberry.field(description="A page of the ledger, oldest first.")
    async def entries(
        self, info: Info, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[LedgerEntry]:
        async with info.context.pool.acquire() as conn:
            rows = await queries.ledger_of(conn, self.volunteer_id, checked_limit(limit), after_uuid(after))
        return [LedgerEntry.of(contracts.LedgerEntry.of(row)) for row in rows]


@strawberry.input
class CreateShiftInput:
    community_id: str
    venue: str
    role: str
    starts_at: datetime
    ends_at: datetime
    headcount: int
    required_skill: str | None = None
    festival_id: strawberry.ID | None = None
    idempotency_key: str | None = None
    contact_phone: str | None = strawberry.field(
        default=None, description="Whom volunteers call about the shift: shown when too late to withdraw."
    )


@strawberry.input
class SignUpForShiftInput:
    shift_id: strawberry.ID
    idempotency_key: str


@strawberry.input
class WithdrawFromShiftInput:
    shift_id: strawberry.ID
    idempotency_key: str
    reason: str | None = strawberry.field(default=None, description="Optional: the organiser sees it.")


@strawberry.type(description="A volunteer's withdrawal from a shift: the place is free again.")
class ShiftWithdrawal:
    shift_id: strawberry.ID
    withdrawn_at: datetime

    @strawberry.field
    async def shift(self, info: Info) -> Shift | None:
        async with info.context.pool.acquire() as conn:
            row = await queries.shift(conn, uuid.UUID(self.shift_id))
        return Shift.of(contracts.Shift.of(row)) if row else None


@strawberry.input
class CheckInInput:
    shift_id: strawberry.ID
    code: str = strawberry.field(
        description="A station code, or a volunteer's card scanned by staff.", directives=[Secret()]
    )
    idempotency_key: str | None = None


@strawberry.input
class CheckOutInput:
    shift_id: strawberry.ID
    card: str | None = strawberry.field(
        default=None, description="Staff only: the card of the volunteer to check out."
    )
    idempotency_key: str | None = None


@strawberry.input
class UndoCheckOutInput:
    shift_id: strawberry.ID
    volunteer_id: str = strawberry.field(description="As the shift's roster names them.")
    idempotency_key: str | None = None


@strawberry.input
class CorrectServiceHoursInput:
    volunteer_id: str
    shift_id: strawberry.ID
    minutes: int
    reason: str
    idempotency_key: str


@strawberry.input
class RecordVolunteerSkillInput:
    community_id: str
    volunteer_id: str
    skill: str


def _check_code(code: str) -> str:
    if not code.strip() or len(code) > MAX_CODE_LENGTH:
        raise bad_input("code", "二维码内容无效", "The scanned code is empty or too long")
    return code.strip()


async def _attendance_key(info: Info, client_key: str | None, args: dict[str, Any]) -> str:
    """A check-in's, check-out's or undo's key: the client's, else one from the shift's attendance."""
    if client_key is not None:
        return check_key(client_key)
    async with info.context.pool.acquire() as conn:
        version = await queries.attendance_version(conn, uuid.UUID(args["shift_id"]))
    return commands.derived_key(args, version)


@strawberry.type
class VolunteersQuery:
    @strawberry.field
    async def shift(self, info: Info, id: strawberry.ID) -> Shift | None:
        async with info.context.pool.acquire() as conn:
            row = await queries.shift(conn, parse_id("id", id))
        return Shift.of(contracts.Shift.of(row)) if row else None

    @strawberry.field(description="A community's volunteer shifts, earliest first.")
    async def shifts(
        self, info: Info, community_id: str, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[Shift]:
        async with info.context.pool.acquire() as conn:
            rows = await queries.shifts_of_community(
                conn, community_id, checked_limit(limit), after_uuid(after)
            )
        return [Shift.of(contracts.Shift.of(row)) for row in rows]

    @strawberry.field(
        description="Staff: who signed up for a shift and who is here, in the order they signed up; "
        "after = the last entry's volunteerId."
    )
    async def shift_roster(
        self, info: Info, shift_id: strawberry.ID, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[RosterEntry]:
        actor = info.context.require_actor()
        limit = checked_limit(limit)
        async with info.context.pool.acquire() as conn:
            found = await queries.shift(conn, parse_id("shiftId", shift_id))
            if found is None:
                raise not_found("shift", "班次")
            if not may_scan_cards(actor, found["community_id"]):
                raise forbidden()
            rows = await queries.roster(conn, found["id"], limit, after_text(after))
            named = await volunteers_named(conn, [row["volunteer_id"] for row in rows])
        return [RosterEntry.from_row(row, *named[row["volunteer_id"]]) for row in rows]

    @strawberry.field(description="The venue's current station code, for its check-in screen.")
    async def station_code(self, info: Info, venue: str) -> ScannableCode:
        actor = info.context.require_actor()
        if len(venue) > MAX_CODE_LENGTH:
            raise bad_input("venue", "地点名称太长", "Venue name too long")
        async with info.context.pool.acquire() as conn:
            communities = await queries.communities_at_venue(conn, codes.venue_key(venue))
        if not communities:
            raise not_found("venue", "服务地点")
        # The code is for one community's venue: the one whose staff shows it.
        ours = [community for community in communities if may_scan_cards(actor, community)]
        if not ours:
            raise forbidden()
        if len(ours) > 1:
            raise Refusal(
                "AMBIGUOUS_VENUE",
                "您所在的多个社区都有同名的服务地点，请用所属社区的账号显示站点码",
                "Several of your communities have a venue of this name: "
                "show its code from one community's account",
            )
        now = clock.now()
        step = codes.step_of(now.timestamp())
        valid_until = datetime.fromtimestamp(
            (step + 1 + codes.GRACE_STEPS_BEHIND) * codes.STEP_S, tz=now.tzinfo
        )
        secret = info.context.resources.settings.secret
        code = codes.mint_station_code(secret, ours[0], venue, now.timestamp())
        digits = codes.station_digits(secret, ours[0], venue, now.timestamp())
        return ScannableCode.of(code, valid_until, digits)

    @strawberry.field(description="My personal volunteer card, for staff to scan.")
    async def my_volunteer_card(self, info: Info) -> ScannableCode:
        actor = info.context.require_role(RESIDENT, VOLUNTEER)
        return ScannableCode.of(codes.issue_card(info.context.resources.settings.secret, actor.user_id))

    @strawberry.field(description="My shift sign-ups, earliest shift first.")
    async def my_shift_signups(
        self, info: Info, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[ShiftSignup]:
        actor = info.context.require_actor()
        async with info.context.pool.acquire() as conn:
            rows = await queries.signups_of_volunteer(
                conn, actor.user_id, checked_limit(limit), after_uuid(after)
            )
        return [ShiftSignup.of(contracts.ShiftSignup.of(row)) for row in rows]

    @strawberry.field(description="My latest check-in for a shift, if any.")
    async def my_check_in(self, info: Info, shift_id: strawberry.ID) -> CheckIn | None:
        actor = info.context.require_actor()
        async with info.context.pool.acquire() as conn:
            row = await queries.latest_check_in(conn, parse_id("shiftId", shift_id), actor.user_id)
        return CheckIn.of(contracts.CheckIn.of(row)) if row else None

    @strawberry.field(
        description="The minutes checking out of the shift now would add to my service hours, to "
        "show before I confirm; null when I am not checked in."
    )
    async def my_check_out_preview(self, info: Info, shift_id: strawberry.ID) -> int | None:
        actor = info.context.require_actor()
        async with info.context.pool.acquire() as conn:
            shift = await queries.shift(conn, parse_id("shiftId", shift_id))
            if shift is None:
                raise not_found("shift", "班次")
            visit = await queries.open_check_in(conn, shift["id"], actor.user_id)
            if visit is None:
                return None
            earlier = await queries.completed_attendance(conn, actor.user_id)
        return credit_if_checked_out(
            [
                (row["checked_in_at"], row["checked_out_at"], Span(row["starts_at"], row["ends_at"]))
                for row in earlier
            ],
            visit["checked_in_at"],
            clock.now(),
            Span(shift["starts_at"], shift["ends_at"]),
        )

    @strawberry.field(description="My service hours: the ledger and its total.")
    async def my_service_hours(self, info: Info) -> ServiceHours:
        actor = info.context.require_actor()
        async with info.context.pool.acquire() as conn:
            total = await queries.minutes_of(conn, actor.user_id)
        return ServiceHours(total_minutes=total, hours=round(total / 60, 2), volunteer_id=actor.user_id)


@strawberry.type
class VolunteersMutation:
    @strawberry.mutation
    async def create_shift(self, info: Info, input: CreateShiftInput) -> Shift:
        actor = info.context.require_actor()
        if not actor.may_organise(input.community_id):
            raise forbidden()
        shift_rules.check_shift(
            shift_rules.ShiftPlan(
                community_id=input.community_id,
                venue=input.venue,
                role=input.role,
                starts_at=input.starts_at,
                ends_at=input.ends_at,
                headcount=input.headcount,
                required_skill=input.required_skill,
                contact_phone=input.contact_phone,
            ),
            now=clock.now(),
        )
        args: dict[str, Any] = {
            "community_id": input.community_id,
            "festival_id": str(input.festival_id) if input.festival_id else None,
            "venue": input.venue,
            "role": input.role,
            "starts_at": input.starts_at.isoformat(),
            "ends_at": input.ends_at.isoformat(),
            "headcount": input.headcount,
            "required_skill": input.required_skill,
            "contact_phone": input.contact_phone,
        }
        key = commands.command_key(input.idempotency_key, args)
        args["id"] = str(contracts.id_for("shift", actor.user_id, key))
        return Shift.of(
            await commands.answer(
                info, contracts.SERVICE, contracts.CREATE_SHIFT, actor, args, key, contracts.Shift.of
            )
        )

    @strawberry.mutation(description="Record a skill a volunteer has, for shifts that need it.")
    async def record_volunteer_skill(self, info: Info, input: RecordVolunteerSkillInput) -> bool:
        actor = info.context.require_actor()
        if not actor.may_organise(input.community_id):
            raise forbidden()
        args = {
            "community_id": input.community_id,
            "volunteer_id": input.volunteer_id,
            "skill": input.skill,
        }
        # A skill recorded stays recorded: the arguments name the command.
        key = commands.derived_key(args)
        await commands.perform(info, contracts.SERVICE, contracts.RECORD_SKILL, actor, args, key)
        return True

    @strawberry.mutation(description="Sign up for a volunteer shift; retry with the same key is safe.")
    async def sign_up_for_shift(self, info: Info, input: SignUpForShiftInput) -> ShiftSignup:
        actor = info.context.require_role(RESIDENT, VOLUNTEER)
        key = check_key(input.idempotency_key)
        args = {
            "id": str(contracts.id_for("shift-signup", actor.user_id, key)),
            "shift_id": str(parse_id("shiftId", input.shift_id)),
            "key": key,
        }
        return ShiftSignup.of(
            await commands.answer(
                info,
                contracts.SERVICE,
                contracts.SIGN_UP_FOR_SHIFT,
                actor,
                args,
                key,
                contracts.ShiftSignup.of,
            )
        )

    @strawberry.mutation(
        description="Withdraw from a shift before it starts; the organiser is told. Within "
        "LINLI_VOLUNTEER_WITHDRAW_CUTOFF_MIN of the start it is refused (WITHDRAWAL_CLOSED, with "
        "extensions.details.contactPhone to call)."
    )
    async def withdraw_from_shift(self, info: Info, input: WithdrawFromShiftInput) -> ShiftWithdrawal:
        actor = info.context.require_role(RESIDENT, VOLUNTEER)
        key = check_key(input.idempotency_key)
        args = {"shift_id": str(parse_id("shiftId", input.shift_id)), "reason": input.reason}
        name, typed = contracts.WITHDRAW_FROM_SHIFT, contracts.ShiftWithdrawal.of
        withdrawn = await commands.answer(info, contracts.SERVICE, name, actor, args, key, typed)
        return ShiftWithdrawal(
            shift_id=strawberry.ID(withdrawn.shift_id), withdrawn_at=withdrawn.withdrawn_at
        )

    @strawberry.mutation(
        description="Check in to a shift with the venue's station code, or (staff) a volunteer's card."
    )
    async def check_in(self, info: Info, input: CheckInInput) -> CheckIn:
        actor = info.context.require_actor()
        args = {
            "shift_id": str(parse_id("shiftId", input.shift_id)),
            "code": _check_code(input.code),
        }
        key = await _attendance_key(info, input.idempotency_key, args)
        if not codes.is_station_digits(args["code"]):
            return CheckIn.of(
                await commands.answer(
                    info, contracts.SERVICE, contracts.CHECK_IN, actor, args, key, contracts.CheckIn.of
                )
            )
        # Six digits are guessable: wrong ones are counted per volunteer, and refused past a limit.
        redis = info.context.resources.redis
        wrong = f"{info.context.resources.settings.namespace}:station-digits-wrong:{actor.user_id}"
        if int(await redis.get(wrong) or 0) >= codes.WRONG_DIGITS_LIMIT:
            raise codes.too_many_wrong_digits(max(1, int(await redis.ttl(wrong))))
        try:
            return CheckIn.of(
                await commands.answer(
                    info, contracts.SERVICE, contracts.CHECK_IN, actor, args, key, contracts.CheckIn.of
                )
            )
        except Refusal as refusal:
            if refusal.code == "WRONG_STATION_DIGITS":
                await throttle.count(redis, wrong, codes.WRONG_DIGITS_LIMIT, codes.WRONG_DIGITS_WINDOW_S)
            raise

    @strawberry.mutation(description="Check out of a shift; the time served is credited.")
    async def check_out(self, info: Info, input: CheckOutInput) -> CheckIn:
        actor = info.context.require_actor()
        args = {
            "shift_id": str(parse_id("shiftId", input.shift_id)),
            "card": _check_code(input.card) if input.card is not None else None,
        }
        key = await _attendance_key(info, input.idempotency_key, args)
        return CheckIn.of(
            await commands.answer(
                info, contracts.SERVICE, contracts.CHECK_OUT, actor, args, key, contracts.CheckIn.of
            )
        )

    @strawberry.mutation(
        description="Organisers: undo a volunteer's mistaken check-out while the shift lasts; they "
        "are on duty again from the same arrival and what it credited is taken back (audited)."
    )
    async def undo_check_out(self, info: Info, input: UndoCheckOutInput) -> CheckIn:
        actor = info.context.require_actor()
        if not input.volunteer_id.strip() or len(input.volunteer_id) > 64:
            raise bad_input("volunteerId", "请选择志愿者", "Choose a volunteer")
        args = {"shift_id": str(parse_id("shiftId", input.shift_id)), "volunteer_id": input.volunteer_id}
        key = await _attendance_key(info, input.idempotency_key, args)
        return CheckIn.of(
            await commands.answer(
                info, contracts.SERVICE, contracts.UNDO_CHECK_OUT, actor, args, key, contracts.CheckIn.of
            )
        )

    @strawberry.mutation(description="Correct a volunteer's hours with a reason; history is kept.")
    async def correct_service_hours(self, info: Info, input: CorrectServiceHoursInput) -> LedgerEntry:
        actor = info.context.require_actor()
        key = check_key(input.idempotency_key)
        args = {
            "id": str(contracts.id_for("correction", actor.user_id, key)),
            "volunteer_id": input.volunteer_id,
            "shift_id": str(parse_id("shiftId", input.shift_id)),
            "minutes": input.minutes,
            "reason": input.reason,
        }
        return LedgerEntry.of(
            await commands.answer(
                info,
                contracts.SERVICE,
                contracts.CORRECT_SERVICE_HOURS,
                actor,
                args,
                key,
                contracts.LedgerEntry.of,
            )
        )
