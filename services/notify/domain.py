"""Turning events into messages: templates in Chinese (default) and English, which messages
are urgent, and the reminders before a session. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.common.clock import LOCAL_TZ


@dataclass(frozen=True)
class Message:
    recipient_id: str
    kind: str
    title_zh: str
    body_zh: str
    title_en: str
    body_en: str


def _local(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(LOCAL_TZ)


def _when_zh(iso: str) -> str:
    t = _local(iso)
    return f"{t.month}月{t.day}日 {t:%H:%M}"


def _when_en(iso: str) -> str:
    return _local(iso).strftime("%d %b %H:%M")


def messages_for(event_type: str, payload: dict[str, Any]) -> list[Message]:
    """The messages one event causes; an event nobody needs to hear about yields none."""
    if event_type == "signup.confirmed":
        return [
            Message(
                recipient_id=payload["resident_id"],
                kind=event_type,
                title_zh="报名成功",
                body_zh=(
                    f"您已成功报名「{payload['activity_title']}」，时间：{_when_zh(payload['starts_at'])}，"
                    f"地点：{payload['venue']}，共{payload['party_size']}人。"
                ),
                title_en="You are signed up",
                body_en=(
                    f'You are confirmed for "{payload["activity_title"]}" on '
                    f"{_when_en(payload['starts_at'])} at {payload['venue']} "
                    f"({payload['party_size']} people)."
                ),
            )
        ]
    if event_type == "signup.waitlisted":
        return [
            Message(
                recipient_id=payload["resident_id"],
                kind=event_type,
                title_zh="已进入候补",
                body_zh=(
                    f"「{payload['activity_title']}」（{_when_zh(payload['starts_at'])}）名额已满，"
                    "您已进入候补名单，有空位时将按顺序为您递补并通知您。"
                ),
                title_en="You are on the waiting list",
                body_en=(
                    f'"{payload["activity_title"]}" on {_when_en(payload["starts_at"])} is full. '
                    "You are on the waiting list and will be told if a place frees up."
                ),
            )
        ]
    if event_type == "signup.cancelled":
        return [
            Message(
                recipient_id=payload["resident_id"],
                kind=event_type,
                title_zh="已取消报名",
                body_zh=(
                    f"您已取消「{payload['activity_title']}」（{_when_zh(payload['starts_at'])}，"
                    f"{payload['venue']}）的报名，名额已释放给其他居民。"
                ),
                title_en="Your sign-up is cancelled",
                body_en=(
                    f'You have cancelled your sign-up for "{payload["activity_title"]}" on '
                    f"{_when_en(payload['starts_at'])} at {payload['venue']}; "
                    "your places go to other residents."
                ),
            )
        ]
    if event_type == "waitlist.promoted":
        return [
            Message(
                recipient_id=payload["resident_id"],
                kind=event_type,
                title_zh="候补成功",
                body_zh=(
                    f"「{payload['activity_title']}」有了空位，您已从候补转为报名成功。"
                    f"时间：{_when_zh(payload['starts_at'])}，地点：{payload['venue']}，"
                    f"共{payload['party_size']}人。"
                ),
                title_en="A place opened up for you",
                body_en=(
                    f'A place opened up in "{payload["activity_title"]}": you are now confirmed for '
                    f"{_when_en(payload['starts_at'])} at {payload['venue']} "
                    f"({payload['party_size']} people)."
                ),
            )
        ]
    if event_type == "session.cancelled":
        return [
            Message(
                recipient_id=payload["resident_id"],
                kind=event_type,
                title_zh="活动取消通知",
                body_zh=(
                    f"很抱歉，「{payload['activity_title']}」（{_when_zh(payload['starts_at'])}，"
                    f"{payload['venue']}）已取消，原因：{payload['reason']}。您的报名已自动取消。"
                ),
                title_en="Session cancelled",
                body_en=(
                    f'Sorry, "{payload["activity_title"]}" on {_when_en(payload["starts_at"])} at '
                    f"{payload['venue']} has been cancelled. Reason: {payload['reason']}. "
                    "Your sign-up has been cancelled."
                ),
            )
        ]
    if event_type == "session.rescheduled":
        return [
            Message(
                recipient_id=payload["resident_id"],
                kind=event_type,
                title_zh="活动时间地点变更",
                body_zh=(
                    f"「{payload['activity_title']}」由{_when_zh(payload['old_starts_at'])}"
                    f"（{payload['old_venue']}）改为{_when_zh(payload['starts_at'])}"
                    f"（{payload['venue']}）。如不便参加，可随时免责取消报名。"
                ),
                title_en="Session moved",
                body_en=(
                    f'"{payload["activity_title"]}" has moved from '
                    f"{_when_en(payload['old_starts_at'])} at {payload['old_venue']} to "
                    f"{_when_en(payload['starts_at'])} at {payload['venue']}. If that no longer "
                    "suits you, you may cancel at any time without penalty."
                ),
            )
        ]
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
            )
        ]
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
            )
        ]
    if event_type.startswith("wish."):
        from services.notify.wishes import wish_messages  # it builds on Message, defined here

        return wish_messages(event_type, payload)
    return []


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
    )


def reminder_message(recipient_id: str, payload: dict[str, Any], lead_minutes: int) -> Message:
    """The reminder some time before a session (``payload`` as in sign-up events)."""
    lead_zh, lead_en = _lead(lead_minutes)
    return Message(
        recipient_id=recipient_id,
        kind="signup.reminder",
        title_zh="活动提醒",
        body_zh=(
            f"您报名的「{payload['activity_title']}」将于{lead_zh}后开始。"
            f"时间：{_when_zh(payload['starts_at'])}，地点：{payload['venue']}。"
        ),
        title_en="Reminder",
        body_en=(
            f'"{payload["activity_title"]}" starts in {lead_en}: '
            f"{_when_en(payload['starts_at'])} at {payload['venue']}."
        ),
    )
