"""Files to take away: a session's roster as CSV for organisers, and iCalendar (.ics) files of
one session (public) and of a resident's confirmed sign-ups.

- ``GET /exports/sessions/{id}/roster.csv`` — organisers of the session's community (Bearer
  token or cookie); UTF-8 with a BOM so Excel shows the Chinese; full names and who of the
  household comes, phones masked; named ``<activity>-<date>-<time>.csv``.
- ``GET /exports/sessions/{id}.ics`` — anyone who may see the session (a draft festival's
  only its organisers): the session as one event.
- ``GET /exports/me/signups.ics`` — the resident's confirmed sessions (Bearer token or cookie).

The iCalendar text is written here by hand (RFC 5545: CRLF line ends, lines folded at 75
octets without splitting a character, text escaped, times in UTC), rather than pulling in a
library for one small format. An event's UID is the session's, so the session's own file and
a resident's calendar describe the same event.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.activities import attendance, domain
from services.common.actor import Actor
from services.common.clock import LOCAL_TZ, now
from services.common.errors import Refusal, bad_input, unauthenticated
from services.gateway.context import Resources, authenticate
from services.gateway.tickets import may_see, session_roster

_STATUS = {
    "CONFIRMED": ("已确认", "Confirmed"),
    "WAITLISTED": ("候补", "Waiting"),
    "CANCELLED": ("已取消", "Cancelled"),
}
_ROSTER_HEADER = (
    "序号 No.",
    "居民 Resident",
    "电话 Phone",
    "状态 Status",
    "人数 Party size",
    "已签到 Checked in",
    "签到时间 Checked in at",
    "同行人员 Who comes",
    "已入场人数 In so far",
)
# A spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str
    description: str
    cancelled: bool


def _ics_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _ics_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """A content line folded at 75 octets; a continuation starts with a space."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        width = len(char.encode())
        if size + width > 75:
            parts.append("".join(current))
            current, size = [" "], 1
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n".join(parts)


def calendar(name: str, events: Iterable[CalendarEvent], stamp: datetime) -> str:
    """An iCalendar document of ``events``; ``stamp`` is when it was made (DTSTAMP)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Linli//Neighbourhood festival//ZH",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_ics_text(name)}",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{_ics_time(stamp)}",
            f"DTSTART:{_ics_time(event.starts_at)}",
            f"DTEND:{_ics_time(event.ends_at)}",
            f"SUMMARY:{_ics_text(event.summary)}",
            f"LOCATION:{_ics_text(event.location)}",
            f"DESCRIPTION:{_ics_text(event.description)}",
            f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def session_event(row: asyncpg.Record, party_size: int | None = None) -> CalendarEvent:
    """A session (from ``attendance.session_for_calendar`` or ``confirmed_sessions_of``) as an event."""
    cancelled = row["status"] == domain.SessionStatus.CANCELLED
    description = [row["festival_name"]]
    if row["description"]:
        description.append(row["description"])
    if party_size is not None:
        description.append(f"报名人数 Party size: {party_size}")
    if cancelled:
        reason = row["cancel_reason"]
        description.append(f"已取消 Cancelled: {reason}" if reason else "已取消 Cancelled")
    return CalendarEvent(
        uid=f"session-{row['id']}@linli",
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        summary=row["activity_title"],
        location=row["venue"],
        description="\n".join(description),
        cancelled=cancelled,
    )


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def roster_csv(rows: Sequence[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)  # RFC 4180: CRLF line ends, quotes where needed
    writer.writerow(_ROSTER_HEADER)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


_HTTP_STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403, "SESSION_NOT_FOUND": 404}


def refused(refusal: Refusal) -> JSONResponse:
    return JSONResponse(
        {"code": refusal.code, "messageZh": refusal.zh, "messageEn": refusal.en},
        status_code=_HTTP_STATUS.get(refusal.code, 400),
    )


def _session_id(request: Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.path_params["session_id"])
    except ValueError as exc:
        raise bad_input("sessionId", "编号格式不正确", "Malformed id") from exc


def _attachment(body: bytes | str, media_type: str, filename: str, local_name: str | None = None) -> Response:
    """``local_name`` (Chinese, say) goes in ``filename*`` (RFC 6266); ``filename`` is the ASCII
    fallback for clients that know no better."""
    disposition = f'attachment; filename="{filename}"'
    if local_name:
        disposition += f"; filename*=UTF-8''{quote(local_name, safe='')}"
    return Response(
        body, media_type=media_type, headers={"Content-Disposition": disposition, "Cache-Control": "no-store"}
    )


_UNSAFE_IN_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def roster_filename(title: str, starts_at: datetime) -> str:
    """剪纸书法-2026-12-05-0900.csv: what the session is, in Beijing time, safe on every disk."""
    local = starts_at.astimezone(LOCAL_TZ)
    name = _UNSAFE_IN_FILENAME.sub("_", title).strip(" .") or "roster"
    return f"{name}-{local:%Y-%m-%d}-{local:%H%M}.csv"


def export_routes(resources: dict[str, Resources]) -> list[Route]:
    """The export routes; ``resources["live"]`` is filled in by the app's lifespan."""

    async def actor_of(request: Request) -> Actor:
        claims = await authenticate(request, resources["live"])
        if claims is None:
            raise unauthenticated()
        return claims.actor

    async def anyone(request: Request) -> Actor | None:
        """Who asks, on a public route: nobody in particular when the token is missing or bad."""
        try:
            claims = await authenticate(request, resources["live"])
        except Refusal:
            return None
        return claims.actor if claims else None

    async def roster(request: Request) -> Response:
        try:
            session_id = _session_id(request)
            actor = await actor_of(request)
            session, entries = await session_roster(resources["live"].pool, actor, session_id)
        except Refusal as refusal:
            return refused(refusal)
        rows = [
            (
                n,
                entry.resident,
                entry.phone or "",
                " ".join(_STATUS[entry.status.value]),
                entry.party_size,
                "是 Yes" if entry.checked_in else "否 No",
                entry.checked_in_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
                if entry.checked_in_at
                else "",
                "、".join(entry.party_names),
                entry.admitted,
            )
            for n, entry in enumerate(entries, start=1)
        ]
        async with resources["live"].pool.acquire() as conn:
            at_door = await attendance.session_at_door(conn, session_id)
        title = at_door["activity_title"] if at_door else ""
        local = session["starts_at"].astimezone(LOCAL_TZ)
        return _attachment(
            roster_csv(rows),
            "text/csv; charset=utf-8",
            f"roster-{local:%Y-%m-%d-%H%M}.csv",
            roster_filename(title, session["starts_at"]),
        )

    async def session_ics(request: Request) -> Response:
        try:
            session_id = _session_id(request)
            async with resources["live"].pool.acquire() as conn:
                row = await attendance.session_for_calendar(conn, session_id)
            if row is None or not may_see(await anyone(request), row):
                raise domain.unknown_session()
        except Refusal as refusal:
            return refused(refusal)
        body = calendar(str(row["activity_title"]), [session_event(row)], now())
        return _attachment(body, "text/calendar; charset=utf-8", f"session-{session_id}.ics")

    async def my_ics(request: Request) -> Response:
        try:
            actor = await actor_of(request)
        except Refusal as refusal:
            return refused(refusal)
        async with resources["live"].pool.acquire() as conn:
            rows = await attendance.confirmed_sessions_of(conn, actor.user_id)
        events = [session_event(row, row["party_size"]) for row in rows]
        return _attachment(
            calendar("我的邻里节活动", events, now()), "text/calendar; charset=utf-8", "linli.ics"
        )

    return [
        Route("/exports/sessions/{session_id}/roster.csv", roster),
        Route("/exports/sessions/{session_id}.ics", session_ics),
        Route("/exports/me/signups.ics", my_ics),
    ]
