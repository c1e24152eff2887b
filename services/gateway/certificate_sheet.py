"""The certificate on paper and its public check.

- ``GET /certificates/{number}.html`` — the printable 志愿服务记录证明 (A4, seal area, QR and
  short URL); ``GET /certificates/{number}.pdf`` — the same as a PDF (reportlab, the STSong-Light
  CID font every PDF reader has, so no font file ships). The holder, or organisers of the issuer.
- ``GET /v/{number}`` — the verification page a work unit opens from the QR, no login: number,
  masked name, period, hours, issuer, valid or revoked, and nothing else personal.
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.common.errors import Refusal, forbidden, unauthenticated
from services.gateway.certificates import (
    Certificate,
    CertificateVerification,
    verification,
    verification_path,
)
from services.gateway.context import Resources, authenticate
from services.gateway.ticket_sheet import FONT, _wrapped
from services.volunteers import certificate_repository as certs
from services.volunteers.certificates import certificate_not_found, check_number

_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}
_STYLE = """
body { font-family: "PingFang SC", "Noto Sans CJK SC", sans-serif; margin: 1.5em; color: #111; }
body { max-width: 46em; }
h1 { font-size: 1.5em; text-align: center; } table { border-collapse: collapse; width: 100%; margin: 1em 0; }
th, td { border: 1px solid #999; padding: 4px 6px; text-align: left; font-size: 0.95em; }
td.num { text-align: right; } .seal { display: flex; justify-content: space-between; margin-top: 2em; }
.seal-box { width: 42mm; height: 42mm; border: 1px dashed #999; text-align: center; }
.seal-box { line-height: 42mm; color: #999; }
.qr img { width: 32mm; height: 32mm; } .verdict { font-size: 1.4em; font-weight: bold; }
.valid { color: #1a7f37; } .revoked { color: #b42318; } dt { color: #555; } dd { margin: 0 0 0.6em 0; }
@page { size: A4; margin: 15mm; } @media print { body { margin: 0; } }
"""


def hours_text(minutes: int) -> str:
    return f"{minutes / 60:.2f}"


def verification_url(base: str, number: str) -> str:
    return base.rstrip("/") + verification_path(number)


def certificate_lines(cert: Certificate) -> list[tuple[str, str]]:
    """What the certificate says, label and value, as the page and the PDF print it."""
    activities = "、".join(dict.fromkeys(a.content for a in cert.activities))
    return [
        ("证明编号", cert.number),
        ("志愿者姓名", cert.volunteer_name),
        ("身份信息", cert.volunteer_identity or "—"),
        ("服务期间", f"{cert.starts_on.isoformat()} 至 {cert.ends_on.isoformat()}"),
        ("服务时长", f"{hours_text(cert.minutes)} 小时（{cert.minutes} 分钟）"),
        ("服务内容", activities or "—"),
        ("出具单位", cert.issuer_name),
        ("负责人", cert.person_in_charge or "—"),
        ("经办人", cert.handler or "—"),
        ("联系方式", cert.contact or "—"),
        ("出具日期", cert.issued_on.isoformat()),
    ]


def statement(cert: Certificate) -> str:
    return (
        f"兹证明 {cert.volunteer_name} 于 {cert.starts_on.isoformat()} 至 {cert.ends_on.isoformat()} 期间在"
        f"{cert.issuer_name}参加志愿服务，累计服务时长 {hours_text(cert.minutes)} 小时"
        "（不含往返时间）。特此证明。"
    )


def _qr_svg(url: str) -> str:
    out = io.BytesIO()
    segno.make_qr(url, error="m").save(out, kind="svg", scale=4, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def certificate_html(cert: Certificate, url: str) -> str:
    e = html.escape
    lines = "".join(
        f"<tr><th>{e(label)}</th><td>{e(value)}</td></tr>" for label, value in certificate_lines(cert)
    )
    rows = "".join(
        f"<tr><td>{e(a.on.isoformat())}</td><td>{e(a.content)}</td><td>{e(a.place)}</td>"
        f'<td class="num">{a.minutes}</td><td class="num">{hours_text(a.minutes)}</td></tr>'
        for a in cert.activities
    )
    revoked = (
        f'<p class="verdict revoked">本证明已作废：{e(cert.revoke_reason or "")}</p>'
        if cert.revoke_reason
        else ""
    )
    body = (
        f"<h1>志愿服务记录证明</h1>{revoked}"
        f"<p>{e(statement(cert))}</p>"
        f"<table>{lines}</table>"
        "<table><thead><tr><th>日期</th><th>服务内容</th><th>服务地点</th><th>分钟</th><th>小时</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        f'<div class="seal"><div class="qr"><img alt="核验二维码" src="{_qr_svg(url)}">'
        f"<p>扫码或访问核验：<br>{e(url)}</p></div>"
        f'<div><p>出具单位（盖章）：{e(cert.issuer_name)}</p><div class="seal-box">盖章处</div></div></div>'
    )
    return _page(f"志愿服务记录证明 {cert.number}", body)


def certificate_pdf(cert: Certificate, url: str) -> bytes:
    """One A4 page: title, the certificate's lines, its activities, the QR with the short URL
    and the seal area."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    out = io.BytesIO()
    width, height = A4
    margin = 20 * mm
    pdf = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"志愿服务记录证明 {cert.number}")
    pdf.setFont(FONT, 22)
    pdf.drawCentredString(width / 2, height - margin - 10, "志愿服务记录证明")
    y = height - margin - 50
    if cert.revoke_reason:
        pdf.setFont(FONT, 14)
        pdf.drawString(margin, y, f"本证明已作废：{cert.revoke_reason}")
        y -= 24
    pdf.setFont(FONT, 12)
    for part in _wrapped(statement(cert), width - 2 * margin, 12):
        pdf.drawString(margin, y, part)
        y -= 18
    y -= 8
    label_width = pdfmetrics.stringWidth("志愿者姓名  ", FONT, 12)
    for label, value in certificate_lines(cert):
        pdf.drawString(margin, y, label)
        for part in _wrapped(value, width - 2 * margin - label_width, 12):
            pdf.drawString(margin + label_width, y, part)
            y -= 18
    y -= 6
    pdf.setFont(FONT, 10)
    pdf.drawString(margin, y, "服务记录（日期 / 服务内容 / 地点 / 分钟）")
    y -= 15
    shown = cert.activities[:20]  # the page has room for 20; the rest are in the register
    for a in shown:
        line = f"{a.on.isoformat()}  {a.content}  {a.place}  {a.minutes}"
        pdf.drawString(margin, y, _wrapped(line, width - 2 * margin, 10)[0])
        y -= 13
    if len(cert.activities) > len(shown):
        pdf.drawString(margin, y, f"……共 {len(cert.activities)} 项，详见出具单位存档")
    # The QR as an image (what a phone's camera or a work unit's scanner reads off a scan).
    png = io.BytesIO()
    segno.make_qr(url, error="m").save(png, kind="png", scale=8, border=2)
    png.seek(0)
    size = 35 * mm
    pdf.drawImage(ImageReader(png), margin, margin + 20, size, size)
    pdf.setFont(FONT, 9)
    pdf.drawString(margin, margin + 8, f"扫码核验：{url}")
    seal = 42 * mm
    pdf.setDash(3, 3)
    pdf.rect(width - margin - seal, margin + 8, seal, seal, stroke=1, fill=0)
    pdf.setDash()
    pdf.setFont(FONT, 11)
    pdf.drawCentredString(width - margin - seal / 2, margin + 8 + seal / 2, "盖章处")
    pdf.drawRightString(width - margin, margin + seal + 16, f"出具单位（盖章）：{cert.issuer_name}")
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def verification_html(found: CertificateVerification | None, number: str) -> str:
    e = html.escape
    if found is None:
        body = (
            "<h1>志愿服务记录证明核验</h1>"
            '<p class="verdict revoked">查无此证明</p>'
            f"<p>编号 {e(number)} 不是本平台出具的证明编号，请核对。</p>"
        )
        return _page("证明核验", body)
    verdict = (
        '<p class="verdict valid">✓ 有效 Valid</p>'
        if found.valid
        else f'<p class="verdict revoked">✗ 已作废 Revoked（{e(str(found.revoked_on or ""))}）</p>'
    )
    facts = [
        ("证明编号", found.number),
        ("志愿者", found.masked_name),
        ("服务期间", f"{found.starts_on.isoformat()} 至 {found.ends_on.isoformat()}"),
        ("服务时长", f"{found.hours:.2f} 小时"),
        ("出具单位", found.issuer_name),
        ("出具日期", found.issued_on.isoformat()),
    ]
    rows = "".join(f"<dt>{e(label)}</dt><dd>{e(value)}</dd>" for label, value in facts)
    body = f"<h1>志愿服务记录证明核验</h1>{verdict}<dl>{rows}</dl><p>本页由出具单位的记录生成，无需登录。</p>"
    return _page(f"证明核验 {found.number}", body)


def _html(body: str, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type="text/html; charset=utf-8", headers=_PAGE_HEADERS)


def certificate_routes(resources: dict[str, Resources]) -> list[Route]:
    from services.gateway.exports import refused  # here: exports imports the gateway's GraphQL modules

    def base_url(request: Request) -> str:
        return resources["live"].settings.public_url or str(request.base_url)

    async def held(request: Request) -> Any:
        """The certificate, for its holder or organisers of its issuer."""
        live = resources["live"]
        claims = await authenticate(request, live)
        if claims is None:
            raise unauthenticated()
        async with live.pool.acquire() as conn:
            row = await certs.certificate_by_number(conn, check_number(request.path_params["number"]))
        if row is None:
            raise certificate_not_found()
        if row["volunteer_id"] != claims.actor.user_id and not claims.actor.may_organise(row["issuer_id"]):
            raise forbidden()
        return row

    async def as_html(request: Request) -> Response:
        try:
            cert = Certificate.from_row(await held(request))
        except Refusal as refusal:
            return refused(refusal)
        return _html(certificate_html(cert, verification_url(base_url(request), cert.number)))

    async def as_pdf(request: Request) -> Response:
        try:
            cert = Certificate.from_row(await held(request))
        except Refusal as refusal:
            return refused(refusal)
        body = certificate_pdf(cert, verification_url(base_url(request), cert.number))
        return Response(
            body,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="certificate-{cert.number}.pdf"',
                "Cache-Control": "no-store",
            },
        )

    async def verify(request: Request) -> Response:
        number = request.path_params["number"][:40]
        try:
            cleaned = check_number(number)
        except Refusal:
            return _html(verification_html(None, number), status=404)
        async with resources["live"].pool.acquire() as conn:
            row = await certs.certificate_by_number(conn, cleaned)
        if row is None:
            return _html(verification_html(None, number), status=404)
        return _html(verification_html(verification(row), cleaned))

    return [
        Route("/certificates/{number}.html", as_html),
        Route("/certificates/{number}.pdf", as_pdf),
        Route("/v/{number}", verify),
    ]
