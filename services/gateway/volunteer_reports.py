"""Volunteer profiles, party members (双报到), partner organisations, attendance watch and the
双报告 report, in GraphQL and as files.

- ``GET /exports/volunteers/party-report.csv?communityId=&workUnit=&startsOn=&endsOn=`` — the
  report of one work unit's party members as CSV (UTF-8 with a BOM so Excel shows the Chinese);
  organisers and community admins of the community (Bearer token or cookie).
- ``GET /reports/volunteers/party-report.html?…`` — the same as a printable page.
- ``GET /reports/volunteers/{volunteerId}/certificate.html?startsOn=&endsOn=`` — a party member's
  certificate of hours: for themself, or the organisers of the community they reported to.

Pages are rendered here with every value escaped; they carry no script.
"""

from __future__ import annotations

import csv
import html
import io
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.activities import queries as activity_queries
from services.common import clock
from services.common.actor import RESIDENT, VOLUNTEER, Actor
from services.common.clock import LOCAL_TZ
from services.common.errors import Refusal, bad_input, forbidden, not_found, unauthenticated
from services.common.paging import DEFAULT_LIMIT, after_text, after_uuid, checked_limit
from services.gateway import commands
from services.gateway.context import Info, Resources, authenticate
from services.gateway.exports import refused
from services.gateway.inputs import check_key, parse_id
from services.gateway.names import community_name
from services.gateway.paging import After, Limit
from services.gateway.volunteers import volunteers_named
from services.identity import domain as identity_domain
from services.identity import queries as identity_queries
from services.volunteers import contracts, reports
from services.volunteers import queries as volunteer_queries
from services.volunteers.profiles import (
    PartyMemberReview,
    PartyMemberStatus,
    check_period,
    not_a_party_member,
)

# A spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_REPORT_HEADER = (
    "姓名 Name",
    "党支部 Party branch",
    "报到社区 Community reported to",
    "报到日期 Reported on",
    "班次开始 Shift starts",
    "班次结束 Shift ends",
    "岗位 Role",
    "地点 Venue",
    "活动 Festival",
    "到岗 Attended",
    "服务分钟 Minutes",
    "服务小时 Hours",
    "微心愿 Wishes met",
    "证明编号 Certificate numbers",
)
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def hours(minutes: int) -> str:
    return f"{minutes / 60:.2f}"


def _local(at: datetime) -> str:
    return at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


# --- GraphQL types ------------------------------------------------------------------------------


@strawberry.type
class AvailabilitySlot:
    weekday: int = strawberry.field(description="1 Monday .. 7 Sunday")
    starts: str = strawberry.field(description="HH:MM")
    ends: str = strawberry.field(description="HH:MM")


strawberry.enum(
    PartyMemberStatus,
    name="PartyMemberStatus",
    description="双报到 as the community reviewed it: PENDING, APPROVED, or DECLINED with a reason.",
)
strawberry.enum(PartyMemberReview, name="PartyMemberReview", description="Approve, or decline with a reason.")


@strawberry.type(description="An in-service party member (在职党员) who reported to a community (双报到).")
class PartyMember:
    volunteer_id: str
    name: str
    work_unit: str
    party_branch: str
    community_id: str
    reported_on: date
    status: PartyMemberStatus = strawberry.field(
        default=PartyMemberStatus.APPROVED,
        description="A member's own registration waits for the community's review (PENDING); only an "
        "APPROVED one claims wishes as a party member.",
    )
    decline_reason: str | None = None
    registered_at: datetime | None = None
    reviewed_at: datetime | None = None

    @strawberry.field(description="The community they reported to, by name: 朔方社区.")
    async def community_name(self, info: Info) -> str:
        return await community_name(info, self.community_id)

    @classmethod
    def of(cls, member: contracts.PartyMember) -> PartyMember:
        return cls(
            status=PartyMemberStatus(member.status or PartyMemberStatus.APPROVED),
            decline_reason=member.decline_reason,
            registered_at=member.registered_at,
            reviewed_at=member.reviewed_at,
            volunteer_id=member.volunteer_id,
            name=member.name,
            work_unit=member.work_unit,
            party_branch=member.party_branch,
            community_id=member.community_id,
            reported_on=member.reported_on,
        )


@strawberry.type(description="A partner organisation (共建单位) of a community, with its members.")
class PartnerOrganisation:
    id: strawberry.ID
    community_id: str
    name: str
    member_ids: list[str]

    @strawberry.field(description="The community's name, e.g. 朔方社区.")
    async def community_name(self, info: Info) -> str:
        return await community_name(info, self.community_id)


@strawberry.type
class VolunteerProfile:
    volunteer_id: str
    community_id: str | None
    display_name: str | None
    availability: str | None
    slots: list[AvailabilitySlot]
    skills: list[str]
    party_member: PartyMember | None
    organisations: list[PartnerOrganisation]
    total_minutes: int

    @strawberry.field(description="Their community's name (朔方社区); null while they have none.")
    async def community_name(self, info: Info) -> str | None:
        return await community_name(info, self.community_id) if self.community_id else None


@strawberry.type(description="A volunteer who signed up for shifts that ended and never checked in.")
class VolunteerNoShows:
    volunteer_id: str
    no_shows: int
    shift_ids: list[strawberry.ID]
    latest_shift_ended_at: datetime
    name: str | None = strawberry.field(default=None, description="The name they gave; null if none.")
    phone: str | None = strawberry.field(default=None, description="Masked, e.g. 138****5678.")


@strawberry.type(description="A check-in nobody closed: the service closed it at the shift's end.")
class ForgottenCheckOut:
    check_in_id: strawberry.ID
    shift_id: strawberry.ID
    volunteer_id: str
    venue: str
    role: str
    checked_in_at: datetime
    closed_at: datetime
    minutes_credited: int
    name: str | None = strawberry.field(default=None, description="The name they gave; null if none.")
    phone: str | None = strawberry.field(default=None, description="Masked, e.g. 138****5678.")


@strawberry.type
class ReportShift:
    shift_id: strawberry.ID
    festival_id: str | None
    community_id: str
    role: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    attended: bool
    auto_closed: bool = strawberry.field(description="Closed at the shift's end: nobody checked out.")
    minutes: int

    @strawberry.field(description="The shift's community, by name.")
    async def community_name(self, info: Info) -> str:
        return await community_name(info, self.community_id)


@strawberry.type
class MemberReport:
    volunteer_id: str
    name: str
    party_branch: str
    community_id: str = strawberry.field(description="The community they reported to.")
    reported_on: date
    total_minutes: int
    hours: float
    activities: list[str]
    wishes_met: int = strawberry.field(
        description="微心愿 they claimed that were confirmed met in the period."
    )
    shifts: list[ReportShift]
    certificate_numbers: list[str] = strawberry.field(
        default_factory=list,
        description="Valid 志愿服务记录证明 the community issued them for periods overlapping the report's: "
        "the work unit checks each at /v/<number>.",
    )

    @strawberry.field(description="The community they reported to, by name.")
    async def community_name(self, info: Info) -> str:
        return await community_name(info, self.community_id)

    @classmethod
    def of(cls, member: reports.MemberReport) -> MemberReport:
        return cls(
            volunteer_id=member.volunteer_id,
            name=member.name,
            party_branch=member.party_branch,
            community_id=member.community_id,
            reported_on=member.reported_on,
            total_minutes=member.total_minutes,
            hours=round(member.total_minutes / 60, 2),
            activities=member.activities,
            wishes_met=member.wishes_met,
            certificate_numbers=member.certificate_numbers,
            shifts=[
                ReportShift(
                    shift_id=strawberry.ID(str(line.shift_id)),
                    festival_id=line.festival_id,
                    community_id=line.community_id,
                    role=line.role,
                    venue=line.venue,
                    starts_at=line.starts_at,
                    ends_at=line.ends_at,
                    attended=line.attended,
                    auto_closed=line.auto_closed,
                    minutes=line.minutes,
                )
                for line in member.shifts
            ],
        )


@strawberry.type(description="双报告: a work unit's party members and what they did in a period.")
class PartyMemberReport:
    community_id: str
    work_unit: str
    starts_on: date
    ends_on: date
    total_minutes: int
    hours: float
    members: list[MemberReport]

    @strawberry.field(description="The community's name, e.g. 朔方社区.")
    async def community_name(self, info: Info) -> str:
        return await community_name(info, self.community_id)


@strawberry.type
class HoursTotal:
    key: str | None
    label: str | None
    minutes: int
    hours: float
    volunteers: int


@strawberry.type
class ServiceHoursTotals:
    by_volunteer: list[HoursTotal]
    by_festival: list[HoursTotal]
    by_partner_organisation: list[HoursTotal]
    by_work_unit: list[HoursTotal]


@strawberry.input
class AvailabilitySlotInput:
    weekday: int
    starts: str
    ends: str


@strawberry.input
class UpdateVolunteerProfileInput:
    community_id: str
    display_name: str | None = None
    availability: str | None = None
    slots: list[AvailabilitySlotInput] | None = None


@strawberry.input
class RegisterPartyMemberInput:
    community_id: str
    name: str
    work_unit: str
    party_branch: str
    reported_on: date
    volunteer_id: str | None = strawberry.field(
        default=None, description="Organisers registering someone else; yourself when left out."
    )


@strawberry.input
class ReviewPartyMemberInput:
    volunteer_id: str = strawberry.field(description="As listed by partyMembersToReview.")
    review: PartyMemberReview
    reason: str | None = strawberry.field(
        default=None, description="Required to decline: the member sees it."
    )


@strawberry.input
class CreatePartnerOrganisationInput:
    community_id: str
    name: str
    idempotency_key: str


@strawberry.input
class AddPartnerMemberInput:
    organisation_id: strawberry.ID
    volunteer_id: str


# --- reading ------------------------------------------------------------------------------------


def _require_organiser(actor: Actor, community_id: str) -> None:
    if not actor.may_organise(community_id):
        raise forbidden()


async def _organisations(conn: Any, rows: list[Any]) -> list[PartnerOrganisation]:
    members = await reports.partner_members(conn, [row["id"] for row in rows])
    by_org: dict[uuid.UUID, list[str]] = {}
    for member in members:
        by_org.setdefault(member["organisation_id"], []).append(member["volunteer_id"])
    return [
        PartnerOrganisation(
            id=strawberry.ID(str(row["id"])),
            community_id=row["community_id"],
            name=row["name"],
            member_ids=by_org.get(row["id"], []),
        )
        for row in rows
    ]


async def _profile(conn: Any, volunteer_id: str) -> VolunteerProfile:
    row = await reports.profile(conn, volunteer_id)
    member = await reports.party_member(conn, volunteer_id)
    slots = row["availability_slots"] if row else []
    return VolunteerProfile(
        volunteer_id=volunteer_id,
        community_id=row["community_id"] if row else None,
        display_name=row["display_name"] if row else None,
        availability=row["availability"] if row else None,
        slots=[AvailabilitySlot(weekday=s["weekday"], starts=s["from"], ends=s["to"]) for s in slots],
        skills=await reports.skills_of(conn, volunteer_id),
        party_member=PartyMember.of(contracts.PartyMember.of(member)) if member else None,
        organisations=await _organisations(conn, await reports.organisations_of(conn, volunteer_id)),
        total_minutes=await reports.credited_total(conn, volunteer_id),
    )


def _totals(rows: list[Any]) -> list[HoursTotal]:
    return [
        HoursTotal(
            key=row["key"],
            label=row["label"],
            minutes=int(row["minutes"]),
            hours=round(int(row["minutes"]) / 60, 2),
            volunteers=int(row["volunteers"]),
        )
        for row in rows
    ]


async def party_report(
    pool: Any, actor: Actor, community_id: str, work_unit: str, starts_on: date, ends_on: date
) -> reports.UnitReport:
    """The 双报告 for organisers and community admins of the community the members reported to."""
    _require_organiser(actor, community_id)
    if not work_unit.strip() or len(work_unit) > 200:
        raise bad_input("workUnit", "请填写单位名称", "Name the work unit")
    start, end = check_period(starts_on, ends_on)
    async with pool.acquire() as conn:
        return await reports.unit_report(conn, community_id, work_unit, start, end)


async def certificate_of(
    pool: Any, actor: Actor, volunteer_id: str, starts_on: date, ends_on: date
) -> reports.MemberReport:
    start, end = check_period(starts_on, ends_on)
    async with pool.acquire() as conn:
        member = await reports.member_report(conn, volunteer_id, start, end)
        if member is None:
            raise not_a_party_member() if volunteer_id == actor.user_id else forbidden()
        if volunteer_id != actor.user_id and not (
            actor.may_organise(member.community_id)
            and member.community_id in await reports.communities_of(conn, volunteer_id)
        ):
            raise forbidden()  # the community they reported to, if they tied themself to it
    return member


@strawberry.type
class VolunteerReportsQuery:
    @strawberry.field(description="My volunteer profile.")
    async def my_volunteer_profile(self, info: Info) -> VolunteerProfile:
        actor = info.context.require_actor()
        async with info.context.pool.acquire() as conn:
            return await _profile(conn, actor.user_id)

    @strawberry.field(description="Organisers: a volunteer's profile, skills, party membership.")
    async def volunteer_profile(self, info: Info, volunteer_id: str) -> VolunteerProfile:
        actor = info.context.require_actor()
        async with info.context.pool.acquire() as conn:
            if volunteer_id != actor.user_id:
                communities = await reports.communities_of(conn, volunteer_id)
                if not any(actor.may_organise(community) for community in communities):
                    raise forbidden()
            return await _profile(conn, volunteer_id)

    @strawberry.field(description="Organisers: party members who reported to the community (双报到).")
    async def party_members(
        self,
        info: Info,
        community_id: str,
        work_unit: str | None = None,
        limit: Limit = DEFAULT_LIMIT,
        after: After = None,
    ) -> list[PartyMember]:
        _require_organiser(info.context.require_actor(), community_id)
        limit, start = checked_limit(limit), after_text(after)
        async with info.context.pool.acquire() as conn:
            rows = await reports.party_members(conn, community_id, work_unit, False, limit, start)
        return [PartyMember.of(contracts.PartyMember.of(row)) for row in rows]

    @strawberry.field(description="Organisers: party members' own 双报到 registrations waiting for review.")
    async def party_members_to_review(
        self,
        info: Info,
        community_id: str,
        limit: Limit = DEFAULT_LIMIT,
        after: After = None,
    ) -> list[PartyMember]:
        _require_organiser(info.context.require_actor(), community_id)
        limit, start = checked_limit(limit), after_text(after)
        async with info.context.pool.acquire() as conn:
            rows = await reports.party_members_to_review(conn, community_id, limit, start)
        return [PartyMember.of(contracts.PartyMember.of(row)) for row in rows]

    @strawberry.field(description="Organisers: the community's partner organisations (共建单位).")
    async def partner_organisations(
        self, info: Info, community_id: str, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[PartnerOrganisation]:
        _require_organiser(info.context.require_actor(), community_id)
        limit, start = checked_limit(limit), after_uuid(after)
        async with info.context.pool.acquire() as conn:
            return await _organisations(
                conn, await reports.partner_organisations(conn, community_id, limit, start)
            )

    @strawberry.field(description="Organisers: volunteers who did not come to shifts they signed up for.")
    async def volunteer_no_shows(
        self,
        info: Info,
        community_id: str,
        limit: Limit = DEFAULT_LIMIT,
        after: After = None,
    ) -> list[VolunteerNoShows]:
        _require_organiser(info.context.require_actor(), community_id)
        limit, start = checked_limit(limit), after_text(after)
        async with info.context.pool.acquire() as conn:
            rows = await reports.no_shows(conn, community_id, clock.now(), None, limit, start)
            named = await volunteers_named(conn, [row["volunteer_id"] for row in rows])
        return [
            VolunteerNoShows(
                name=named[row["volunteer_id"]][0],
                phone=named[row["volunteer_id"]][1],
                volunteer_id=row["volunteer_id"],
                no_shows=row["no_shows"],
                shift_ids=[strawberry.ID(str(shift_id)) for shift_id in row["shift_ids"]],
                latest_shift_ended_at=row["latest"],
            )
            for row in rows
        ]

    @strawberry.field(description="Organisers: check-ins closed at shift end because nobody checked out.")
    async def forgotten_check_outs(
        self, info: Info, community_id: str, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[ForgottenCheckOut]:
        _require_organiser(info.context.require_actor(), community_id)
        limit, start = checked_limit(limit), after_uuid(after)
        async with info.context.pool.acquire() as conn:
            rows = await reports.forgotten_check_outs(conn, community_id, limit, start)
            named = await volunteers_named(conn, [row["volunteer_id"] for row in rows])
        return [
            ForgottenCheckOut(
                name=named[row["volunteer_id"]][0],
                phone=named[row["volunteer_id"]][1],
                check_in_id=strawberry.ID(str(row["id"])),
                shift_id=strawberry.ID(str(row["shift_id"])),
                volunteer_id=row["volunteer_id"],
                venue=row["venue"],
                role=row["role"],
                checked_in_at=row["checked_in_at"],
                closed_at=row["checked_out_at"],
                minutes_credited=row["minutes_credited"],
            )
            for row in rows
        ]

    @strawberry.field(description="双报告: a work unit's party members, their shifts and hours in a period.")
    async def party_member_report(
        self, info: Info, community_id: str, work_unit: str, starts_on: date, ends_on: date
    ) -> PartyMemberReport:
        actor = info.context.require_actor()
        report = await party_report(info.context.pool, actor, community_id, work_unit, starts_on, ends_on)
        return PartyMemberReport(
            community_id=report.community_id,
            work_unit=report.work_unit,
            starts_on=report.start,
            ends_on=report.end,
            total_minutes=report.total_minutes,
            hours=round(report.total_minutes / 60, 2),
            members=[MemberReport.of(member) for member in report.members],
        )

    @strawberry.field(
        description="Organisers: minutes credited for the community's shifts in a period, per volunteer, "
        "festival, partner organisation and work unit."
    )
    async def service_hours_totals(
        self, info: Info, community_id: str, starts_on: date, ends_on: date
    ) -> ServiceHoursTotals:
        _require_organiser(info.context.require_actor(), community_id)
        start, end = check_period(starts_on, ends_on)
        async with info.context.pool.acquire() as conn:
            found = await reports.totals(conn, community_id, start, end)
        return ServiceHoursTotals(
            by_volunteer=_totals(found["volunteer"]),
            by_festival=_totals(found["festival"]),
            by_partner_organisation=_totals(found["organisation"]),
            by_work_unit=_totals(found["unit"]),
        )


async def _volunteer_version(info: Info, volunteer_id: str) -> str:
    async with info.context.pool.acquire() as conn:
        return await volunteer_queries.volunteer_version(conn, volunteer_id)


@strawberry.type
class VolunteerReportsMutation:
    @strawberry.mutation(description="Set my availability (free text and/or weekly slots) and name.")
    async def update_volunteer_profile(
        self, info: Info, input: UpdateVolunteerProfileInput
    ) -> VolunteerProfile:
        actor = info.context.require_role(RESIDENT, VOLUNTEER)
        args = {
            "community_id": input.community_id,
            "display_name": input.display_name,
            "availability": input.availability,
            "slots": [{"weekday": s.weekday, "from": s.starts, "to": s.ends} for s in input.slots or []],
        }
        key = commands.derived_key(args, await _volunteer_version(info, actor.user_id))
        await commands.perform(info, contracts.SERVICE, contracts.UPDATE_VOLUNTEER_PROFILE, actor, args, key)
        async with info.context.pool.acquire() as conn:
            return await _profile(conn, actor.user_id)

    @strawberry.mutation(description="双报到: a party member reports to the community where they live.")
    async def register_party_member(self, info: Info, input: RegisterPartyMemberInput) -> PartyMember:
        actor = info.context.require_actor()
        args = {
            "community_id": input.community_id,
            "volunteer_id": input.volunteer_id,
            "name": input.name,
            "work_unit": input.work_unit,
            "party_branch": input.party_branch,
            "reported_on": input.reported_on.isoformat(),
        }
        key = commands.derived_key(args, await _volunteer_version(info, input.volunteer_id or actor.user_id))
        return PartyMember.of(
            await commands.answer(
                info,
                contracts.SERVICE,
                contracts.REGISTER_PARTY_MEMBER,
                actor,
                args,
                key,
                contracts.PartyMember.of,
            )
        )

    @strawberry.mutation(
        description="Organisers: approve a party member's 双报到, or decline it with a reason they see."
    )
    async def review_party_member(self, info: Info, input: ReviewPartyMemberInput) -> PartyMember:
        actor = info.context.require_actor()
        args = {"volunteer_id": input.volunteer_id, "review": input.review.value, "reason": input.reason}
        key = commands.derived_key(args, await _volunteer_version(info, input.volunteer_id))
        return PartyMember.of(
            await commands.answer(
                info,
                contracts.SERVICE,
                contracts.REVIEW_PARTY_MEMBER,
                actor,
                args,
                key,
                contracts.PartyMember.of,
            )
        )

    @strawberry.mutation(description="Organisers: add a partner organisation (共建单位) to the community.")
    async def create_partner_organisation(
        self, info: Info, input: CreatePartnerOrganisationInput
    ) -> PartnerOrganisation:
        actor = info.context.require_actor()
        _require_organiser(actor, input.community_id)
        key = check_key(input.idempotency_key)
        args = {
            "id": str(contracts.id_for("partner-organisation", actor.user_id, key)),
            "community_id": input.community_id,
            "name": input.name,
        }
        made = await commands.answer(
            info,
            contracts.SERVICE,
            contracts.CREATE_PARTNER_ORGANISATION,
            actor,
            args,
            key,
            contracts.Created.of,
        )
        async with info.context.pool.acquire() as conn:
            found = await reports.partner_organisation(conn, uuid.UUID(made.id))
            assert found is not None
            return (await _organisations(conn, [found]))[0]

    @strawberry.mutation(description="Organisers: record a volunteer as a member of a partner organisation.")
    async def add_partner_member(self, info: Info, input: AddPartnerMemberInput) -> PartnerOrganisation:
        actor = info.context.require_actor()
        organisation_id = parse_id("organisationId", input.organisation_id)
        args = {"organisation_id": str(organisation_id), "volunteer_id": input.volunteer_id}
        # A member added stays a member: the arguments name the command.
        key = commands.derived_key(args)
        await commands.perform(info, contracts.SERVICE, contracts.ADD_PARTNER_MEMBER, actor, args, key)
        async with info.context.pool.acquire() as conn:
            found = await reports.partner_organisation(conn, organisation_id)
            if found is None:
                raise not_found("organisation", "共建单位")
            return (await _organisations(conn, [found]))[0]


# --- files --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportNames:
    """What a work unit reads instead of ids: each community's and festival's name."""

    communities: dict[str, str] = field(default_factory=dict)
    festivals: dict[str, str] = field(default_factory=dict)

    def community(self, community_id: str) -> str:
        return self.communities.get(community_id) or identity_domain.name_from_id(community_id)

    def festival(self, festival_id: str | None) -> str:
        return self.festivals.get(festival_id, "") if festival_id else ""


async def report_names(pool: Any, members: list[reports.MemberReport]) -> ReportNames:
    """The names of the communities and festivals a report (or certificate) mentions."""
    festival_ids = {line.festival_id for member in members for line in member.shifts if line.festival_id}
    async with pool.acquire() as conn:
        communities = await identity_queries.community_names(conn)
        festivals: dict[str, str] = {}
        for festival_id in festival_ids:
            try:
                row = await activity_queries.festival(conn, uuid.UUID(festival_id))
            except ValueError:
                row = None
            if row is not None:
                festivals[festival_id] = row["name"]
    return ReportNames(communities, festivals)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def report_csv(report: reports.UnitReport, names: ReportNames | None = None) -> bytes:
    """One row per member and shift (a member without shifts gets one row), then their total."""
    names = names or ReportNames()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["单位 Work unit", report.work_unit, "报告期 Period", f"{report.start} ~ {report.end}"])
    writer.writerow(_REPORT_HEADER)
    for member in report.members:
        community = names.community(member.community_id)
        head = (member.name, member.party_branch, community, member.reported_on.isoformat())
        for line in member.shifts:
            writer.writerow(
                [
                    _cell(value)
                    for value in (
                        *head,
                        _local(line.starts_at),
                        _local(line.ends_at),
                        line.role,
                        line.venue,
                        names.festival(line.festival_id),
                        "是 Yes" if line.attended else "否 No",
                        line.minutes,
                        hours(line.minutes),
                    )
                ]
            )
        if not member.shifts:
            writer.writerow([_cell(value) for value in (*head, "", "", "", "", "", "", 0, hours(0))])
        writer.writerow(
            [_cell(value) for value in (*head, "合计 Total", "", "", "", "", "", member.total_minutes)]
            + [hours(member.total_minutes), member.wishes_met, "；".join(member.certificate_numbers)]
        )
    writer.writerow(
        ["总计 Total", "", "", "", "", "", "", "", "", "", report.total_minutes, hours(report.total_minutes)]
    )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


_STYLE = """
body { font-family: "PingFang SC", "Noto Sans CJK SC", sans-serif; margin: 2em; color: #111; }
h1 { font-size: 1.4em; } table { border-collapse: collapse; width: 100%; margin: 1em 0; }
th, td { border: 1px solid #999; padding: 4px 6px; text-align: left; font-size: 0.9em; }
td.num { text-align: right; } .member { page-break-inside: avoid; margin-top: 1.5em; }
.seal { margin-top: 3em; text-align: right; } @media print { body { margin: 0; } }
"""


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def _shift_table(member: reports.MemberReport) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(_local(line.starts_at))}</td><td>{e(_local(line.ends_at))}</td><td>{e(line.role)}</td>"
        f"<td>{e(line.venue)}</td><td>{'是' if line.attended else '否'}</td>"
        f'<td class="num">{line.minutes}</td><td class="num">{hours(line.minutes)}</td></tr>'
        for line in member.shifts
    )
    return (
        "<table><thead><tr><th>开始 Starts</th><th>结束 Ends</th><th>岗位 Role</th><th>地点 Venue</th>"
        "<th>到岗 Attended</th><th>分钟 Minutes</th><th>小时 Hours</th></tr></thead>"
        f"<tbody>{rows}</tbody><tfoot><tr><th colspan=5>合计 Total</th>"
        f'<th class="num">{member.total_minutes}</th><th class="num">{hours(member.total_minutes)}</th>'
        "</tr></tfoot></table>"
    )


def report_html(report: reports.UnitReport, names: ReportNames | None = None) -> str:
    names = names or ReportNames()
    e = html.escape
    members = "".join(
        f'<section class="member"><h2>{e(member.name)}</h2>'
        f"<p>党支部 {e(member.party_branch)} · 报到社区 {e(names.community(member.community_id))} · "
        f"报到日期 {e(member.reported_on.isoformat())}</p>"
        f"<p>服务内容 Activities: {e('、'.join(member.activities) or '—')} · "
        f"完成微心愿 Wishes met: {member.wishes_met}</p>"
        f"<p>志愿服务记录证明 Certificates: {e('、'.join(member.certificate_numbers) or '—')}</p>"
        f"{_shift_table(member)}</section>"
        for member in report.members
    )
    body = (
        f"<h1>在职党员双报到服务情况报告（双报告）</h1><p>单位 Work unit: {e(report.work_unit)}</p>"
        f"<p>报告期 Period: {e(report.start.isoformat())} ~ {e(report.end.isoformat())} · "
        f"党员 {len(report.members)} 人 · 服务合计 {hours(report.total_minutes)} 小时 "
        f"({report.total_minutes} min)</p>{members}"
        f'<p class="seal">社区（盖章）：{e(names.community(report.community_id))}</p>'
    )
    return _page(f"双报告 {report.work_unit}", body)


def certificate_html(
    member: reports.MemberReport, start: date, end: date, issued: date, names: ReportNames | None = None
) -> str:
    names = names or ReportNames()
    community = names.community(member.community_id)
    e = html.escape
    body = (
        "<h1>志愿服务时长证明</h1>"
        f"<p>兹证明 <strong>{e(member.name)}</strong> 同志（{e(member.work_unit)}，{e(member.party_branch)}）"
        f"于 {e(member.reported_on.isoformat())} 向{e(community)}报到，"
        f"在 {e(start.isoformat())} 至 {e(end.isoformat())} 期间参加社区志愿服务，"
        f"累计服务 <strong>{hours(member.total_minutes)}</strong> 小时（{member.total_minutes} 分钟），"
        f"完成微心愿 {member.wishes_met} 个。</p>"
        f"<p>Certificate of volunteer service: {hours(member.total_minutes)} hours.</p>"
        f"{_shift_table(member)}"
        f'<p class="seal">{e(community)}（盖章）<br>{e(issued.isoformat())}</p>'
    )
    return _page(f"志愿服务时长证明 {member.name}", body)


def _date_param(request: Request, name: str) -> date:
    raw = request.query_params.get(name, "")
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise bad_input(name, "日期格式应为 YYYY-MM-DD", "Dates are YYYY-MM-DD") from exc


def _text_param(request: Request, name: str) -> str:
    raw = request.query_params.get(name, "").strip()
    if not raw or len(raw) > 200:
        raise bad_input(name, "此项不能为空", "This field is required")
    return raw


def _html(body: str) -> Response:
    return Response(body, media_type="text/html; charset=utf-8", headers=_PAGE_HEADERS)


def volunteer_report_routes(resources: dict[str, Resources]) -> list[Route]:
    """The report routes; ``resources["live"]`` is filled in by the app's lifespan."""

    async def actor_of(request: Request) -> Actor:
        claims = await authenticate(request, resources["live"])
        if claims is None:
            raise unauthenticated()
        return claims.actor

    async def unit(request: Request) -> reports.UnitReport:
        actor = await actor_of(request)
        return await party_report(
            resources["live"].pool,
            actor,
            _text_param(request, "communityId"),
            _text_param(request, "workUnit"),
            _date_param(request, "startsOn"),
            _date_param(request, "endsOn"),
        )

    async def report_as_csv(request: Request) -> Response:
        try:
            report = await unit(request)
        except Refusal as refusal:
            return refused(refusal)
        names = await report_names(resources["live"].pool, report.members)
        return Response(
            report_csv(report, names),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="party-report-{report.start}-{report.end}.csv"',
                "Cache-Control": "no-store",
            },
        )

    async def report_as_html(request: Request) -> Response:
        try:
            report = await unit(request)
        except Refusal as refusal:
            return refused(refusal)
        names = await report_names(resources["live"].pool, report.members)
        return _html(report_html(report, names))

    async def certificate(request: Request) -> Response:
        try:
            actor = await actor_of(request)
            start, end = _date_param(request, "startsOn"), _date_param(request, "endsOn")
            member = await certificate_of(
                resources["live"].pool, actor, request.path_params["volunteer_id"], start, end
            )
        except Refusal as refusal:
            return refused(refusal)
        names = await report_names(resources["live"].pool, [member])
        issued = clock.now().astimezone(LOCAL_TZ).date()
        return _html(certificate_html(member, start, end, issued, names))

    return [
        Route("/exports/volunteers/party-report.csv", report_as_csv),
        Route("/reports/volunteers/party-report.html", report_as_html),
        Route("/reports/volunteers/{volunteer_id}/certificate.html", certificate),
    ]
