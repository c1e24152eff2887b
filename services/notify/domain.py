"""Turning events into messages: templates in Chinese (default) and English (organisers may
override those about sign-ups per festival, see templates.py), which messages are urgent, and
the reminders before a session. No I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.common.clock import LOCAL_TZ
from services.notify.templates import DEFAULT_TEMPLATES, PLACEHOLDERS, Overrides, render, template_for


@dataclass(frozen=True)
class Message:
    recipient_id: str
    kind: str
    title_zh: str
    body_zh: str
    title_en: str
    body_en: str
    # What an approved SMS template is filled with (services/notify/sms_templates.py): the
    # message's facts as short Chinese text, never its whole body.
    params: Mapping[str, str] = field(default_factory=dict)
    # Which approved template says it, where one kind has several wordings (its own name
    # otherwise): the organiser's and the volunteer's word of one withdrawal differ.
    variant: str = ""

    @property
    def template_key(self) -> str:
        return f"{self.kind}.{self.variant}" if self.variant else self.kind


def _local(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(LOCAL_TZ)


def _when_zh(iso: str) -> str:
    t = _local(iso)
    return f"{t.month}月{t.day}日 {t:%H:%M}"


def _when_en(iso: str) -> str:
    return _local(iso).strftime("%d %b %H:%M")


def _values(kind: str, payload: dict[str, Any], when: Callable[[str], str], lead: str) -> dict[str, str]:
    """What the placeholders of ``kind`` stand for, in one language; only those, as text."""
    sources: dict[str, Callable[[], Any]] = {
        "activity": lambda: payload["activity_title"],
        "time": lambda: when(payload["starts_at"]),
        "venue": lambda: payload["venue"],
        "party_size": lambda: payload["party_size"],
        "reason": lambda: payload["reason"],
        "old_time": lambda: when(payload["old_starts_at"]),
        "old_venue": lambda: payload["old_venue"],
        "lead": lambda: lead,
    }
    return {name: str(sources[name]()) for name in PLACEHOLDERS[kind]}


def _from_template(
    recipient_id: str,
    kind: str,
    payload: dict[str, Any],
    overrides: Overrides | None,
    lead: tuple[str, str] = ("", ""),
) -> Message:
    """A message of ``kind`` in the festival's own words where its organisers gave them."""
    values_zh = _values(kind, payload, _when_zh, lead[0])
    values_en = _values(kind, payload, _when_en, lead[1])
    chosen = template_for(kind, payload.get("festival_id"), payload.get("community_id"), overrides)
    try:
        texts = render(chosen, values_zh, values_en)
    except (KeyError, ValueError, IndexError):  # an override stored under older rules
        texts = render(DEFAULT_TEMPLATES[kind], values_zh, values_en)
    return Message(
        recipient_id, kind, texts.title_zh, texts.body_zh, texts.title_en, texts.body_en, values_zh
    )


def messages_for(
    event_type: str, payload: dict[str, Any], overrides: Overrides | None = None
) -> list[Message]:
    """The messages one event causes; an event nobody needs to hear about yields none.
    ``overrides``: organisers' templates, used where the event's festival and community match."""
    if event_type in DEFAULT_TEMPLATES:
        return [_from_template(payload["resident_id"], event_type, payload, overrides)]
    if event_type == "shift.signed_up":
        return [
            Message(
                recipient_id=payload["volunteer_id"],
                kind=event_type,
                title_zh="志愿班次报名成功",
                body_zh=(
                    f"您已报名「{payload['role']}」志愿服务，时间：{_when_zh(payload['starts_at'])}，"
                    f"地点：{payload['venue']}。请在班次开始前30分钟内到场扫码签到。"
                ),
                title_en="You are signed up to volunteer",
                body_en=(
                    f'You are signed up as "{payload["role"]}" on {_when_en(payload["starts_at"])} '
                    f"at {payload['venue']}. Check in by scanning the station code there, from "
                    "30 minutes before the shift starts."
                ),
                params=_shift_params(payload),
            )
        ]
    if event_type == "signup.party_reduced":
        return [party_reduced_message(payload)]
    if event_type == "volunteer.checked_out":
        minutes = int(payload["minutes_credited"])
        return [
            Message(
                recipient_id=payload["volunteer_id"],
                kind=event_type,
                title_zh="服务时长已记录",
                body_zh=f"感谢您在{payload['venue']}的志愿服务！本次记入服务时长{minutes}分钟。",
                title_en="Service hours recorded",
                body_en=(
                    f"Thank you for volunteering at {payload['venue']}! "
                    f"{minutes} minutes were added to your service hours."
                ),
                params={"venue": str(payload["venue"]), "minutes": str(minutes)},
            )
        ]
    if event_type == "shift.withdrawn":
        return _withdrawal_messages(payload)
    if event_type == "party_member.reviewed":
        return [_party_review_message(payload)]
    if event_type == "staff.log_in_burst":
        from services.notify.staff import log_in_burst_messages  # it builds on Message too

        return log_in_burst_messages(payload)
    if event_type in ("record_correction.decided", "certificate.revoked"):
        from services.notify.records import record_messages  # it builds on Message, defined here

        return record_messages(event_type, payload)
    if event_type.startswith("wish."):
        from services.notify.wishes import wish_messages  # it builds on Message, defined here

        return wish_messages(event_type, payload)
    if event_type.startswith(("concern.", "council.")):
        from services.notify.council import council_messages  # it builds on Message, defined here

        return council_messages(event_type, payload)
    return []


def _shift_params(p: dict[str, Any]) -> dict[str, str]:
    return {"role": str(p["role"]), "time": _when_zh(p["starts_at"]), "venue": str(p["venue"])}


def _session_params(p: dict[str, Any]) -> dict[str, str]:
    return {"activity": str(p["activity_title"]), "time": _when_zh(p["starts_at"]), "venue": str(p["venue"])}


def _people(names: list[str], me: bool, me_word: str, sep: str) -> str:
    return sep.join(([me_word] if me else []) + [str(n) for n in names])


def party_reduced_message(payload: dict[str, Any]) -> Message:
    """Some of a party no longer come: who was taken off, who still goes, and that the ticket
    stands for the smaller party (``payload`` as in sign-up events, with who was dropped and kept)."""
    dropped_zh = _people(payload["dropped"], payload["dropped_me"], "您本人", "、")
    kept_zh = _people(payload["kept"], payload["kept_me"], "您本人", "、")
    dropped_en = _people(payload["dropped"], payload["dropped_me"], "you", ", ")
    kept_en = _people(payload["kept"], payload["kept_me"], "you", ", ")
    n = int(payload["party_size"])
    return Message(
        recipient_id=payload["resident_id"],
        kind="signup.party_reduced",
        title_zh="已取消部分人员的报名",
        body_zh=(
            f"「{payload['activity_title']}」（{_when_zh(payload['starts_at'])}，{payload['venue']}）"
            f"已为{dropped_zh}取消报名，{kept_zh}的报名保留，共{n}人。原入场票券仍可使用，可入场{n}人。"
        ),
        title_en="Part of your party cancelled",
        body_en=(
            f'"{payload["activity_title"]}" on {_when_en(payload["starts_at"])} at {payload["venue"]}: '
            f"cancelled for {dropped_en}; {kept_en} still going, {n} "
            f"{'person' if n == 1 else 'people'}. The same ticket admits {n}."
        ),
        params={**_session_params(payload), "party_size": str(n)},
    )


def _withdrawal_messages(p: dict[str, Any]) -> list[Message]:
    """The shift's organiser hears a place came free (and why, if the volunteer said); the
    volunteer has it in writing that they are off the shift."""
    why_zh = f"原因：{p['reason']}。" if p.get("reason") else ""
    why_en = f" Reason: {p['reason']}." if p.get("reason") else ""
    shift_zh = f"「{p['role']}」（{_when_zh(p['starts_at'])}，{p['venue']}）"
    shift_en = f'"{p["role"]}" ({_when_en(p["starts_at"])}, {p["venue"]})'
    return [
        Message(
            recipient_id=p["organiser_id"],
            kind="shift.withdrawn",
            title_zh="有志愿者退出班次",
            body_zh=f"一位志愿者退出了{shift_zh}班次，现还差{p['places_left']}人。{why_zh}",
            title_en="A volunteer withdrew",
            body_en=f"A volunteer withdrew from {shift_en}; {p['places_left']} more needed now.{why_en}",
            params={**_shift_params(p), "places_left": str(p["places_left"])},
            variant="organiser",
        ),
        Message(
            recipient_id=p["volunteer_id"],
            kind="shift.withdrawn",
            title_zh="已退出志愿班次",
            body_zh=f"您已退出{shift_zh}班次，组织者已收到通知。感谢您告知！",
            title_en="You are off the shift",
            body_en=f"You withdrew from {shift_en}; the organiser has been told. Thank you for telling us!",
            params=_shift_params(p),
        ),
    ]


def _party_review_message(p: dict[str, Any]) -> Message:
    if p["status"] == "APPROVED":
        return Message(
            recipient_id=p["volunteer_id"],
            kind="party_member.reviewed",
            title_zh="双报到已通过",
            body_zh="社区已通过您的双报到登记，您现在可以以在职党员身份认领微心愿、参加志愿服务。",
            title_en="Registration approved",
            body_en="The community approved your party member registration (双报到): you can now take up "
            "wishes and serve as a party member.",
            variant="approved",
        )
    return Message(
        recipient_id=p["volunteer_id"],
        kind="party_member.reviewed",
        title_zh="双报到未通过",
        body_zh=f"很抱歉，社区未通过您的双报到登记，原因：{p['reason']}。请修改后重新登记，或联系社区工作人员。",
        title_en="Registration not accepted",
        body_en=f"Sorry, the community did not accept your party member registration. Reason: "
        f"{p['reason']}. Correct it and register again, or ask the community's staff.",
        params={"reason": str(p["reason"])},
        variant="declined",
    )


def is_urgent(event_type: str, payload: dict[str, Any], now: datetime) -> bool:
    """Urgent messages ignore quiet hours: a session called off or moved today must reach
    people before they set out."""
    today = now.astimezone(LOCAL_TZ).date()
    if event_type == "session.cancelled":
        return _local(payload["starts_at"]).date() <= today
    if event_type == "session.rescheduled":  # moved from or to today
        return min(_local(payload["old_starts_at"]).date(), _local(payload["starts_at"]).date()) <= today
    return False


def _lead(lead_minutes: int) -> tuple[str, str]:
    if lead_minutes % (24 * 60) == 0:
        return f"{lead_minutes // (24 * 60)}天", f"{lead_minutes // (24 * 60)} day(s)"
    if lead_minutes % 60 == 0:
        return f"{lead_minutes // 60}小时", f"{lead_minutes // 60} hour(s)"
    return f"{lead_minutes}分钟", f"{lead_minutes} minutes"


def shift_reminder_message(recipient_id: str, payload: dict[str, Any], lead_minutes: int) -> Message:
    """The reminder some time before a volunteer's shift (``payload`` as in shift.signed_up)."""
    lead_zh, lead_en = _lead(lead_minutes)
    return Message(
        recipient_id=recipient_id,
        kind="shift.reminder",
        title_zh="志愿班次提醒",
        body_zh=(
            f"您的「{payload['role']}」志愿班次将于{lead_zh}后开始。"
            f"时间：{_when_zh(payload['starts_at'])}，地点：{payload['venue']}，请到场扫码签到。"
        ),
        title_en="Shift reminder",
        body_en=(
            f'Your "{payload["role"]}" shift starts in {lead_en}: '
            f"{_when_en(payload['starts_at'])} at {payload['venue']}. Check in by scanning the station code."
        ),
        params={**_shift_params(payload), "lead": lead_zh},
    )


def reminder_message(
    recipient_id: str, payload: dict[str, Any], lead_minutes: int, overrides: Overrides | None = None
) -> Message:
    """The reminder some time before a session (``payload`` as in sign-up events)."""
    return _from_template(recipient_id, "signup.reminder", payload, overrides, _lead(lead_minutes))
