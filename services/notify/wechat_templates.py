"""WeChat subscription messages (订阅通知): the operator's table mapping each kind of message to
a template of the official account, its page and its ``data`` fields, and fitting a message's
facts into those fields by their kind. No I/O.

A field's kind is its name without the number (``thing1`` is a ``thing``). WeChat refuses a
message whose field breaks its kind's rule, so each value is made to fit: ``thing`` at most
20 characters, ``phrase`` at most 5 Chinese characters, ``time`` as ``2026年12月5日 09:00``, a
``number`` digits only, and so on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.notify.sms_templates import TEXTABLE, trim

# Each field kind's longest value (WeChat's rules for subscription message fields).
FIELD_LIMITS: dict[str, int] = {
    "thing": 20,
    "name": 10,
    "phrase": 5,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "character_string": 32,
    "phone_number": 17,
    "car_number": 8,
    "amount": 11,
    "time": 30,
    "date": 20,
}
_FIELD = re.compile(r"([a-z_]+?)(\d+)")
_MONTH_DAY = re.compile(r"(\d{1,2})月(\d{1,2})日(?:\s*(\d{1,2}:\d{2}))?")


class WeChatTemplateError(ValueError):
    """The operator's table names a kind, parameter or field Linli cannot fill."""


@dataclass(frozen=True)
class WeChatTemplate:
    template_id: str
    page: str
    fields: tuple[tuple[str, str], ...]  # (data field, message parameter)


def field_kind(field: str) -> str:
    match = _FIELD.fullmatch(field)
    if match is None or match[1] not in FIELD_LIMITS:
        raise WeChatTemplateError(f"{field!r} is not a WeChat field (e.g. thing1, time2, phrase3)")
    return match[1]


def parse_templates(table: Mapping[str, Any]) -> dict[str, WeChatTemplate]:
    """``LINLI_NOTIFY_WECHAT_TEMPLATES``, checked: ``{"signup.confirmed": {"template_id": "…",
    "page": "/?tab=mine", "data": {"thing1": "activity", "time2": "time"}}}``."""
    templates: dict[str, WeChatTemplate] = {}
    for key, entry in table.items():
        if key not in TEXTABLE:
            raise WeChatTemplateError(f"no message kind {key!r}; kinds: {', '.join(sorted(TEXTABLE))}")
        if not isinstance(entry, Mapping) or not str(entry.get("template_id") or "").strip():
            raise WeChatTemplateError(f"{key}: needs the template_id the official account was given")
        fields = []
        for field, param in dict(entry.get("data") or {}).items():
            field_kind(field)
            if param not in TEXTABLE[key]:
                offered = ", ".join(TEXTABLE[key]) or "none"
                raise WeChatTemplateError(f"{key}: no parameter {param!r} for {field}; it offers {offered}")
            fields.append((str(field), str(param)))
        templates[key] = WeChatTemplate(
            str(entry["template_id"]).strip(), str(entry.get("page") or ""), tuple(fields)
        )
    return templates


def _year_of(month: int, day: int, today: date) -> int:
    """The year a month and day without one most likely mean: the nearest to today."""
    candidates = [today.year - 1, today.year, today.year + 1]
    return min(candidates, key=lambda y: abs((_safe_date(y, month, day) - today).days))


def _safe_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:  # 29 February of a common year
        return date(year, month, 28)


def fit(kind: str, value: str, today: date) -> str:
    """``value`` as a field of ``kind`` accepts it."""
    value = " ".join(str(value).split())
    limit = FIELD_LIMITS[kind]
    if kind in ("time", "date"):
        found = _MONTH_DAY.search(value)
        if found is not None:
            month, day = int(found[1]), int(found[2])
            shown = f"{_year_of(month, day, today)}年{month}月{day}日"
            if kind == "time" and found[3]:
                shown += f" {found[3]}"
            return shown
        return value[:limit]
    if kind == "phrase":  # Chinese characters only, no room for an ellipsis
        return "".join(c for c in value if "\u4e00" <= c <= "\u9fff")[:limit]
    if kind == "number":
        return "".join(c for c in value if c.isdigit() or c == ".")[:limit] or "0"
    if kind in ("letter",):
        return "".join(c for c in value if c.isascii() and c.isalpha())[:limit]
    if kind in ("character_string", "phone_number", "car_number", "symbol", "amount", "name"):
        return value[:limit]
    return trim(value, limit)  # thing: cut with an ellipsis


def fill(template: WeChatTemplate, params: Mapping[str, str], today: date) -> dict[str, dict[str, str]]:
    """The ``data`` of a subscription message: each field fitted to its kind."""
    return {
        field: {"value": fit(field_kind(field), params[param], today)} for field, param in template.fields
    }


# When the residents' page asks for one-time subscriptions (WeChat's dialogue, after the act
# that makes the messages likely), and which kinds' templates it asks for then.
ASKED_AFTER: dict[str, tuple[str, ...]] = {
    "SIGN_UP": (
        "signup.confirmed",
        "waitlist.promoted",
        "signup.reminder",
        "session.cancelled",
        "session.rescheduled",
    ),
    "WISH": ("wish.reviewed.declined", "wish.published", "wish.claimed", "wish.done", "wish.visit_planned"),
}


def templates_to_ask(templates: Mapping[str, WeChatTemplate], moment: str) -> list[str]:
    """The distinct template ids to offer at ``moment``, in the order of their kinds."""
    ids: list[str] = []
    for key in ASKED_AFTER[moment]:
        template = templates.get(key)
        if template is not None and template.template_id not in ids:
            ids.append(template.template_id)
    return ids
