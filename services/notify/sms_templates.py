"""Approved SMS templates. Chinese SMS providers send only a template the operator registered
and had approved, under a registered signature (签名), filled with parameters no longer than the
template allows: never free text. This module knows which parameters each kind of message
offers, reads the operator's table (kind -> the provider's template code and the parameters it
takes, in order) and fits a message's values into a template. No I/O.

A message whose kind has no approved template is not texted: it stays in the inbox, and the
planner reports it to operators (see ``services.notify.delivery``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LOGIN_CODE = "login_code"

# Every template key a message can carry (a kind, or kind.variant where one kind has several
# wordings) and the parameters it offers, as Message.params spells them.
TEXTABLE: dict[str, tuple[str, ...]] = {
    LOGIN_CODE: ("code", "minutes"),
    "signup.confirmed": ("activity", "time", "venue", "party_size"),
    "signup.waitlisted": ("activity", "time"),
    "signup.cancelled": ("activity", "time", "venue"),
    "waitlist.promoted": ("activity", "time", "venue", "party_size"),
    "session.cancelled": ("activity", "time", "venue", "reason"),
    "session.rescheduled": ("activity", "old_time", "old_venue", "time", "venue"),
    "signup.reminder": ("activity", "lead", "time", "venue"),
    "signup.party_reduced": ("activity", "time", "venue", "party_size"),
    "shift.signed_up": ("role", "time", "venue"),
    "shift.reminder": ("role", "lead", "time", "venue"),
    "shift.withdrawn": ("role", "time", "venue"),
    "shift.withdrawn.organiser": ("role", "time", "venue", "places_left"),
    "volunteer.checked_out": ("venue", "minutes"),
    "party_member.reviewed.approved": (),
    "party_member.reviewed.declined": ("reason",),
    "wish.posted": ("category",),
    "wish.reviewed.merged": ("category",),
    "wish.reviewed.declined": ("category", "reason"),
    "wish.published": ("category",),
    "wish.claimed": ("category", "time"),
    "wish.claimed.claimant": ("building", "category"),
    "wish.done": ("category", "note"),
    "wish.met": ("building", "category"),
    "wish.given_back": ("category", "reason"),
    "wish.visit_planned": ("category", "time"),
    "wish.claim_expired": ("building", "category"),
}

ELLIPSIS = "…"


@dataclass(frozen=True)
class SmsTemplate:
    """One approved template: the provider's code and its parameters, in the order the
    template text uses them (Tencent's parameters are positional), each with its longest value."""

    code: str
    params: tuple[tuple[str, int], ...]


class SmsTemplateError(ValueError):
    """The operator's template table names a kind or a parameter Linli does not have."""


def parse_templates(table: Mapping[str, Any], default_limit: int) -> dict[str, SmsTemplate]:
    """The operator's table (``LINLI_NOTIFY_SMS_TEMPLATES``), checked: each entry is
    ``{"code": "SMS_123", "params": {"activity": 20, "time": 12}}`` (or ``"params": [names]``
    at the provider's default limit). A mistake stops the worker at start, naming it."""
    templates: dict[str, SmsTemplate] = {}
    for key, entry in table.items():
        if key not in TEXTABLE:
            raise SmsTemplateError(f"no message kind {key!r}; kinds: {', '.join(sorted(TEXTABLE))}")
        if not isinstance(entry, Mapping) or not str(entry.get("code") or "").strip():
            raise SmsTemplateError(f'{key}: needs the provider\'s template code, e.g. {{"code": "SMS_1"}}')
        raw = entry.get("params") or {}
        given = {name: default_limit for name in raw} if isinstance(raw, list) else dict(raw)
        params: list[tuple[str, int]] = []
        for name, limit in given.items():
            if name not in TEXTABLE[key]:
                offered = ", ".join(TEXTABLE[key]) or "none"
                raise SmsTemplateError(f"{key}: no parameter {name!r}; it offers {offered}")
            if not isinstance(limit, int) or limit < 1:
                raise SmsTemplateError(f"{key}: the limit of {name!r} must be a positive whole number")
            params.append((name, limit))
        templates[key] = SmsTemplate(str(entry["code"]).strip(), tuple(params))
    return templates


def trim(value: str, limit: int) -> str:
    """``value`` in at most ``limit`` characters, an ellipsis saying where it was cut."""
    value = " ".join(value.split())  # providers refuse line breaks in a parameter
    if len(value) <= limit:
        return value
    return value[: limit - 1] + ELLIPSIS if limit > 1 else value[:limit]


def fill(template: SmsTemplate, values: Mapping[str, str]) -> list[tuple[str, str]]:
    """The template's parameters, in its order, each trimmed to its limit. A value the message
    lacks is a bug in the caller, not something to send half-filled: KeyError."""
    return [(name, trim(str(values[name]), limit)) for name, limit in template.params]
