"""Messages about volunteers' service records and certificates (events from the volunteers
service), Chinese and English. No I/O."""

from __future__ import annotations

from typing import Any

from services.notify.domain import Message, _when_en, _when_zh


def record_messages(event_type: str, p: dict[str, Any]) -> list[Message]:
    if event_type == "record_correction.decided":
        return [_correction_message(p)]
    if event_type == "certificate.revoked":
        return [
            Message(
                recipient_id=p["volunteer_id"],
                kind=event_type,
                title_zh="志愿服务记录证明已作废",
                body_zh=f"社区已作废您的志愿服务记录证明（编号 {p['number']}），原因：{p['reason']}。"
                "如有疑问请联系社区工作人员。",
                title_en="Certificate revoked",
                body_en=f"The community revoked your certificate of volunteer service {p['number']}. "
                f"Reason: {p['reason']}. Ask the community's staff if anything is unclear.",
            )
        ]
    return []


def _correction_message(p: dict[str, Any]) -> Message:
    shift_zh = f"「{p['role']}」（{_when_zh(p['starts_at'])}，{p['venue']}）"
    shift_en = f'"{p["role"]}" ({_when_en(p["starts_at"])}, {p["venue"]})'
    if p["status"] == "ACCEPTED":
        return Message(
            recipient_id=p["volunteer_id"],
            kind="record_correction.decided",
            title_zh="服务记录已更正",
            body_zh=f"社区已同意您对{shift_zh}服务记录的更正申请，该班次现记为{p['asked_minutes']}分钟。",
            title_en="Service record corrected",
            body_en=f"The community accepted your correction of {shift_en}: it now counts "
            f"{p['asked_minutes']} minutes.",
        )
    return Message(
        recipient_id=p["volunteer_id"],
        kind="record_correction.decided",
        title_zh="服务记录更正申请未通过",
        body_zh=f"社区未同意您对{shift_zh}服务记录的更正申请，原因：{p['reason']}。记录保持不变。",
        title_en="Correction not accepted",
        body_en=f"The community did not accept your correction of {shift_en}. Reason: {p['reason']}. "
        "The record stays as it was.",
    )
