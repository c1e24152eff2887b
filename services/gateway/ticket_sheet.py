"""The printed ticket: what an elder needs on paper besides the QR — the activity, the day with
上午/下午 and the time, the venue, their name, who of the household comes, when to arrive, the
community's desk and a six-digit number the door can find them by. One sheet feeds the page
(``Ticket.sheet``, printed by the residents' page and the grid workers' desk alike) and the PDF
download (``GET /exports/tickets/{signupId}.pdf``, drawn with reportlab in the STSong-Light CID
font, which every PDF reader has, so no font file is shipped).
"""

from __future__ import annotations

import io
import uuid
from datetime import datetime

import asyncpg
import segno
import strawberry
from reportlab.lib.pagesizes import A6
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.activities import attendance, domain, queries, ticket_keys, tickets
from services.common.clock import LOCAL_TZ
from services.common.db import Connection
from services.common.errors import Refusal, bad_input, forbidden, unauthenticated
from services.common.replies import as_list
from services.gateway.context import Resources, authenticate
from services.identity import queries as identity_queries
from services.identity.directory import community_contact
from services.identity.service import Identity

_WEEKDAYS = "一二三四五六日"
FONT = "STSong-Light"


def day_label(at: datetime) -> str:
    """12月5日（星期六）, Beijing time."""
    local = at.astimezone(LOCAL_TZ)
    return f"{local.month}月{local.day}日（星期{_WEEKDAYS[local.weekday()]}）"


def clock_label(at: datetime) -> str:
    """上午 9:00, 下午 2:30, 晚上 7:00: the way elders read a time, Beijing time."""
    local = at.astimezone(LOCAL_TZ)
    if local.hour < 12:
        part, hour = "上午", local.hour
    elif local.hour < 18:
        part, hour = "下午", local.hour - 12 if local.hour > 12 else 12
    else:
        part, hour = "晚上", local.hour - 12
    return f"{part} {hour}:{local.minute:02d}"


def time_label(starts_at: datetime, ends_at: datetime) -> str:
    """上午 9:00 – 11:00; 上午 10:00 – 下午 1:00 when it runs past noon."""
    start, end = clock_label(starts_at), clock_label(ends_at)
    if start.split(" ")[0] == end.split(" ")[0]:
        end = end.split(" ", 1)[1]
    return f"{start} – {end}"


def holder_label(name: str, phone: str | None) -> str:
    """The name on the ticket; with none on file, the phone's last four digits say whose it is."""
    if name.strip():
        return name.strip()
    return f"手机尾号 {phone[-4:]} 的居民" if phone else "居民"


@strawberry.type(description="What a printed ticket says besides its QR code (Chinese, Beijing time).")
class TicketSheet:
    activity: str
    festival: str
    date_label: str = strawberry.field(description="e.g. 12月5日（星期六）")
    time_label: str = strawberry.field(description="e.g. 上午 9:00 – 11:00")
    starts_at: datetime
    ends_at: datetime
    venue: str
    venue_address: str | None = strawberry.field(description="The booked venue's address, if it has one.")
    holder: str = strawberry.field(description="The resident's name, in full: it is their ticket.")
    party_size: int
    party_names: list[str] = strawberry.field(description="Who comes, by name (the resident first).")
    arrive_by: str = strawberry.field(description="e.g. 请提前 15 分钟到场（上午 8:45 前）")
    community: str | None
    desk_phone: str | None = strawberry.field(description="The community desk's phone, where known.")
    short_code: str = strawberry.field(description="Six digits the door can find the ticket by.")


async def ticket_sheet(conn: Connection, secret: str, signup: asyncpg.Record) -> TicketSheet:
    """The sheet of a confirmed sign-up (a row of ``queries.signup``)."""
    session = await attendance.session_for_calendar(conn, signup["session_id"])
    if session is None:
        raise domain.unknown_session()
    profile = None
    try:
        profile = await identity_queries.resident(conn, uuid.UUID(signup["resident_id"]))
    except ValueError:
        pass  # not a resident's account: no name to print
    holder = holder_label(profile["name"] if profile else "", profile["phone"] if profile else None)
    members = [str(a["name"]) for a in as_list(signup["attendees"])]
    contact = await community_contact(conn, session["community_id"])
    starts_at, ends_at = session["starts_at"], session["ends_at"]
    arrive = int(tickets.ARRIVE_BEFORE.total_seconds() // 60)
    return TicketSheet(
        activity=session["activity_title"],
        festival=session["festival_name"],
        date_label=day_label(starts_at),
        time_label=time_label(starts_at, ends_at),
        starts_at=starts_at,
        ends_at=ends_at,
        venue=session["venue"],
        venue_address=session["venue_address"] or None,
        holder=holder,
        party_size=signup["party_size"],
        party_names=tickets.party_names(holder, signup["party_size"], members),
        arrive_by=f"请提前 {arrive} 分钟到场（{clock_label(starts_at - tickets.ARRIVE_BEFORE)} 前）",
        community=contact.name,
        desk_phone=contact.desk_phone or None,
        short_code=tickets.short_code(secret, signup["id"]),
    )


def sheet_lines(sheet: TicketSheet) -> list[tuple[str, str]]:
    """The sheet as labelled lines, in the order paper shows them (the PDF's text)."""
    names = "、".join(sheet.party_names)
    lines = [
        ("日期", sheet.date_label),
        ("时间", sheet.time_label),
        ("地点", sheet.venue + (f"（{sheet.venue_address}）" if sheet.venue_address else "")),
        ("姓名", sheet.holder),
        ("人数", f"共 {sheet.party_size} 人" + (f"：{names}" if names else "")),
        ("到场", sheet.arrive_by),
    ]
    phone = f"电话 {sheet.desk_phone}" if sheet.desk_phone else None
    desk = " ".join(part for part in (sheet.community, phone) if part)
    if desk:
        lines.append(("咨询", desk))
    return lines


def _wrapped(text: str, width: float, size: float) -> list[str]:
    """``text`` broken into lines no wider than ``width`` (CJK breaks anywhere)."""
    lines: list[str] = []
    current = ""
    for char in text:
        if current and pdfmetrics.stringWidth(current + char, FONT, size) > width:
            lines.append(current)
            current = char
        else:
            current += char
    return [*lines, current] if current else lines


def ticket_pdf(sheet: TicketSheet, code: str) -> bytes:
    """One A6 page: title, the lines at 16 pt, the QR (5 cm) and the six-digit number."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    out = io.BytesIO()
    page_width, page_height = A6
    margin = 8 * mm
    pdf = canvas.Canvas(out, pagesize=A6, pageCompression=1)
    pdf.setTitle(f"{sheet.activity} 入场券")
    y = page_height - margin - 20
    pdf.setFont(FONT, 20)
    for line in _wrapped(sheet.activity, page_width - 2 * margin, 20):
        pdf.drawString(margin, y, line)
        y -= 24
    pdf.setFont(FONT, 16)
    label_width = pdfmetrics.stringWidth("日期  ", FONT, 16)
    for label, value in sheet_lines(sheet):
        pdf.drawString(margin, y, label)
        for part in _wrapped(value, page_width - 2 * margin - label_width, 16):
            pdf.drawString(margin + label_width, y, part)
            y -= 19
    qr = segno.make_qr(code, mode="alphanumeric", error="m", boost_error=False)
    size = 50 * mm
    rows = list(qr.matrix_iter(border=2))
    module = size / len(rows)
    left = (page_width - size) / 2
    top = max(y - 4, size + margin + 20)
    for r, row in enumerate(rows):
        for c, dark in enumerate(row):
            if dark:
                pdf.rect(left + c * module, top - (r + 1) * module, module, module, stroke=0, fill=1)
    pdf.setFont(FONT, 16)
    pdf.drawCentredString(page_width / 2, top - size - 18, f"票号 {sheet.short_code}")
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def ticket_routes(resources: dict[str, Resources]) -> list[Route]:
    """``GET /exports/tickets/{signup_id}.pdf``: the holder's own, or one a grid worker of their
    community prints for them (recorded in the audit log like the printed page)."""
    from services.gateway.exports import refused  # here: exports imports gateway.tickets, which imports us

    async def pdf(request: Request) -> Response:
        live = resources["live"]
        try:
            try:
                signup_id = uuid.UUID(request.path_params["signup_id"])
            except ValueError as exc:
                raise bad_input("signupId", "编号格式不正确", "Malformed id") from exc
            claims = await authenticate(request, live)
            if claims is None:
                raise unauthenticated()
            actor = claims.actor
            async with live.pool.acquire() as conn:
                row = await queries.signup(conn, signup_id)
            if row is None:
                raise domain.unknown_signup()
            if row["resident_id"] != actor.user_id:
                try:
                    resident_id = uuid.UUID(row["resident_id"])
                except ValueError as exc:
                    raise forbidden() from exc
                service = Identity(live.pool, live.redis, live.settings, revoked=live.revoked)
                resident = await service.resident_for(actor, resident_id)
                await service.record_proxy_action(
                    actor, resident, "ticket.printed_by_proxy", {"signup": str(row["id"]), "as": "pdf"}
                )
            if row["status"] != domain.SignupStatus.CONFIRMED:
                raise tickets.not_confirmed()
            async with live.pool.acquire() as conn:
                sheet = await ticket_sheet(conn, live.settings.secret, row)
                code = await ticket_keys.ticket_code(conn, live.settings.secret, row["id"])
        except Refusal as refusal:
            return refused(refusal)
        body = ticket_pdf(sheet, code)
        day = sheet.starts_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d-%H%M")
        return Response(
            body,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="ticket-{day}.pdf"',
                "Cache-Control": "no-store",
            },
        )

    return [Route("/exports/tickets/{signup_id}.pdf", pdf)]
