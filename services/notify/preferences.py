"""Who hears on which channel, and when: per-person preferences and quiet hours. No I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.common.clock import LOCAL_TZ
from services.common.errors import bad_input

SMS = "sms"
WECHAT = "wechat"
EMAIL = "email"
WEBHOOK = "webhook"
# The channels a person may choose; the in-app inbox is always on and the webhook is a partner's.
PERSONAL_CHANNELS = (SMS, WECHAT, EMAIL)

_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_OPENID = re.compile(r"[A-Za-z0-9_-]{6,64}")
_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True)
class Preferences:
    channels: frozenset[str]
    quiet_start: time
    quiet_end: time
    email: str | None = None
    phone: str | None = None
    wechat_openid: str | None = None

    def address(self, channel: str) -> str | None:
        """Where this person receives ``channel``; None if they did not choose it."""
        if channel not in self.channels:
            return None
        return {SMS: self.phone, WECHAT: self.wechat_openid, EMAIL: self.email}.get(channel)


def default_preferences(quiet_start: str, quiet_end: str) -> Preferences:
    """Someone who never said: the inbox only, and the deployment's quiet hours."""
    return Preferences(
        frozenset(), parse_clock("quietStart", quiet_start), parse_clock("quietEnd", quiet_end)
    )


def sms_by_default(phone: str, quiet_start: str, quiet_end: str) -> Preferences:
    """A resident who never chose: texts to the number they log in with (many elderly people
    read no app inbox), in the deployment's quiet hours. They can turn it off like any channel."""
    return Preferences(
        frozenset({SMS}),
        parse_clock("quietStart", quiet_start),
        parse_clock("quietEnd", quiet_end),
        phone=phone,
    )


def parse_clock(field: str, raw: str) -> time:
    match = _CLOCK.fullmatch(raw.strip())
    if not match:
        raise bad_input(field, "时间格式应为 HH:MM（24小时制）", "Times are HH:MM, 24-hour clock")
    return time(int(match[1]), int(match[2]))


def check_preferences(
    channels: list[str],
    quiet_start: str,
    quiet_end: str,
    email: str | None,
    phone: str | None,
    wechat_openid: str | None,
) -> Preferences:
    """What a person asked for, or a refusal naming the field that is wrong."""
    unknown = set(channels) - set(PERSONAL_CHANNELS)
    if unknown:
        raise bad_input("channels", "不支持的通知渠道", f"Unknown channels: {', '.join(sorted(unknown))}")
    email = (email or "").strip() or None
    phone = re.sub(r"[\s-]", "", phone or "").removeprefix("+86") or None
    wechat_openid = (wechat_openid or "").strip() or None
    if email is not None and (len(email) > 254 or not _EMAIL.fullmatch(email)):
        raise bad_input("email", "请输入正确的电子邮箱地址", "Please enter a valid e-mail address")
    if phone is not None and not _MOBILE.fullmatch(phone):
        raise bad_input(
            "phone", "请输入正确的11位手机号码", "Please enter a valid 11-digit mainland mobile number"
        )
    if wechat_openid is not None and not _OPENID.fullmatch(wechat_openid):
        raise bad_input("wechatOpenId", "微信账号格式不正确", "Malformed WeChat account (OpenID)")
    prefs = Preferences(
        frozenset(channels),
        parse_clock("quietStart", quiet_start),
        parse_clock("quietEnd", quiet_end),
        email,
        phone,
        wechat_openid,
    )
    for channel, field, zh in (
        (EMAIL, "email", "电子邮箱"),
        (SMS, "phone", "手机号码"),
        (WECHAT, "wechatOpenId", "接收通知的微信账号"),
    ):
        if channel in prefs.channels and prefs.address(channel) is None:
            raise bad_input(field, f"开启该渠道需要填写{zh}", f"The {channel} channel needs {field}")
    return prefs


def next_send_time(
    now: datetime, quiet_start: time, quiet_end: time, urgent: bool, tz: ZoneInfo = LOCAL_TZ
) -> datetime:
    """When a message due ``now`` may go: at once if urgent or outside quiet hours, else when
    the quiet hours end (local time). Equal start and end mean no quiet hours."""
    if urgent or quiet_start == quiet_end:
        return now
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    if quiet_start < quiet_end:  # within one day, e.g. 13:00-14:00
        quiet, end_day = quiet_start <= t < quiet_end, local.date()
    elif t >= quiet_start:  # across midnight, in the evening part
        quiet, end_day = True, local.date() + timedelta(days=1)
    else:  # across midnight, in the morning part (or not quiet at all)
        quiet, end_day = t < quiet_end, local.date()
    if not quiet:
        return now
    return datetime.combine(end_day, quiet_end, tzinfo=tz).astimezone(now.tzinfo)
