"""A community's service records as CSV, laid out for the national volunteer information system
(全国志愿服务信息系统) or a province's, whose batch import of service hours takes one row per
volunteer and service: ``GET /exports/volunteers/service-records.csv?communityId=&startsOn=&endsOn=``
(organisers and community admins of the community; Bearer token or cookie).

Which column maps where, and what is left for the user, is in ``docs/national-export.md``: Linli
keeps no ID numbers, so 证件类型 and 证件号码 are empty for the user to fill in (or to match by the
platform's volunteer number); phones are masked as everywhere staff see them.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.activities import queries as activity_queries
from services.common.clock import LOCAL_TZ
from services.common.errors import Refusal, forbidden, unauthenticated
from services.gateway.context import Resources, authenticate
from services.gateway.exports import refused
from services.gateway.volunteer_reports import _cell, _date_param, _text_param
from services.gateway.volunteers import volunteers_named
from services.identity import queries as identity_queries
from services.identity.directory import community_contact
from services.volunteers import records
from services.volunteers.profiles import check_period
from services.volunteers.reports import period_bounds

HEADER = (
    "序号",
    "姓名",
    "证件类型",
    "证件号码",
    "手机号码",
    "平台志愿者编号",
    "服务项目",
    "服务内容",
    "服务地点",
    "服务开始时间",
    "服务结束时间",
    "服务时长（小时）",
    "服务时长（分钟）",
    "记录单位",
    "记录确认人",
    "确认时间",
    "证明编号",
)


def _local(at: datetime | None) -> str:
    return at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if at else ""


def covering(certificates: list[tuple[date, date, str]], day: date) -> str:
    """The numbers of the certificates whose period holds ``day``."""
    return "；".join(number for start, end, number in certificates if start <= day <= end)


def records_csv(rows: list[Any], context: dict[str, Any]) -> bytes:
    """``context``: names (volunteer id → (name, masked phone)), festivals (id → name), issuer
    (the community's name), staff (id → name) and certificates (volunteer id → periods)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for n, row in enumerate(rows, start=1):
        name, phone = context["names"].get(row["volunteer_id"], (None, None))
        minutes = int(row["minutes"])
        day = row["starts_at"].astimezone(LOCAL_TZ).date()
        confirmed_by = row["confirmed_by"]
        values = (
            n,
            name or "",
            "",
            "",
            phone or "",
            row["volunteer_id"],
            context["festivals"].get(row["festival_id"]) or row["role"],
            row["role"],
            row["venue"],
            _local(row["arrived_at"] or row["starts_at"]),
            _local(row["left_at"] or row["ends_at"]),
            f"{minutes / 60:.2f}",
            minutes,
            context["issuer"],
            context["staff"].get(confirmed_by, confirmed_by) if confirmed_by else "",
            _local(row["confirmed_at"]),
            covering(context["certificates"].get(row["volunteer_id"], []), day),
        )
        writer.writerow([_cell(value) for value in values])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


async def _staff_names(conn: Any, ids: set[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for staff_id in ids:
        try:
            row = await identity_queries.staff_account(conn, uuid.UUID(staff_id))
        except ValueError:
            row = None
        if row is not None:
            names[staff_id] = row["display_name"] or row["username"]
    return names


async def _festival_names(conn: Any, ids: set[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for festival_id in ids:
        try:
            row = await activity_queries.festival(conn, uuid.UUID(festival_id))
        except ValueError:
            row = None
        if row is not None:
            names[festival_id] = row["name"]
    return names


def record_export_routes(resources: dict[str, Resources]) -> list[Route]:
    async def export(request: Request) -> Response:
        live = resources["live"]
        try:
            claims = await authenticate(request, live)
            if claims is None:
                raise unauthenticated()
            community_id = _text_param(request, "communityId")
            if not claims.actor.may_organise(community_id):
                raise forbidden()
            start, end = check_period(_date_param(request, "startsOn"), _date_param(request, "endsOn"))
            since, until = period_bounds(start, end)
            async with live.pool.acquire() as conn:
                rows = await records.service_records(conn, community_id, since, until)
                people = sorted({row["volunteer_id"] for row in rows})
                context = {
                    "names": await volunteers_named(conn, people),
                    "festivals": await _festival_names(
                        conn, {r["festival_id"] for r in rows if r["festival_id"]}
                    ),
                    "issuer": (await community_contact(conn, community_id)).name,
                    "staff": await _staff_names(conn, {r["confirmed_by"] for r in rows if r["confirmed_by"]}),
                    "certificates": await records.valid_certificates(conn, community_id, people),
                }
        except Refusal as refusal:
            return refused(refusal)
        return Response(
            records_csv(rows, context),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="service-records-{start}-{end}.csv"',
                "Cache-Control": "no-store",
            },
        )

    return [Route("/exports/volunteers/service-records.csv", export)]
