"""Message templates: the default texts of each kind of message about a sign-up, the named
placeholders each kind offers, and organisers' per-festival overrides — checked before they are
stored and rendered without ever evaluating anything a template says. No I/O.

A template is a ``str.format`` string restricted to bare named fields: ``{activity}`` is a
placeholder, ``{{`` a literal brace. Attribute and index access (``{a.b}``, ``{a[0]}``),
conversions (``{a!r}``) and format specs (``{a:>9}``) are refused, so rendering with
``format_map`` over a dict holding only the kind's placeholders, all plain strings, can do
nothing but substitute text.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass

from services.common.errors import Refusal, bad_input


@dataclass(frozen=True)
class Template:
    title_zh: str
    body_zh: str
    title_en: str
    body_en: str


# (festival id, community id, kind) -> the organisers' text for messages of that festival's
# sessions in that community.
Overrides = Mapping[tuple[str, str, str], Template]

DEFAULT_TEMPLATES: dict[str, Template] = {
    "signup.confirmed": Template(
        "报名成功",
        "您已成功报名「{activity}」，时间：{time}，地点：{venue}，共{party_size}人。",
        "You are signed up",
        'You are confirmed for "{activity}" on {time} at {venue} ({party_size} people).',
    ),
    "signup.waitlisted": Template(
        "已进入候补",
        "「{activity}」（{time}）名额已满，您已进入候补名单，有空位时将按顺序为您递补并通知您。",
        "You are on the waiting list",
        '"{activity}" on {time} is full. You are on the waiting list and will be told if a place frees up.',
    ),
    "signup.cancelled": Template(
        "已取消报名",
        "您已取消「{activity}」（{time}，{venue}）的报名，名额已释放给其他居民。",
        "Your sign-up is cancelled",
        'You have cancelled your sign-up for "{activity}" on {time} at {venue}; '
        "your places go to other residents.",
    ),
    "waitlist.promoted": Template(
        "候补成功",
        "「{activity}」有了空位，您已从候补转为报名成功。时间：{time}，地点：{venue}，共{party_size}人。",
        "A place opened up for you",
        'A place opened up in "{activity}": you are now confirmed for {time} at {venue} '
        "({party_size} people).",
    ),
    "session.cancelled": Template(
        "活动取消通知",
        "很抱歉，「{activity}」（{time}，{venue}）已取消，原因：{reason}。您的报名已自动取消。",
        "Session cancelled",
        'Sorry, "{activity}" on {time} at {venue} has been cancelled. Reason: {reason}. '
        "Your sign-up has been cancelled.",
    ),
    "session.rescheduled": Template(
        "活动时间地点变更",
        "「{activity}」由{old_time}（{old_venue}）改为{time}（{venue}）。如不便参加，可随时免责取消报名。",
        "Session moved",
        '"{activity}" has moved from {old_time} at {old_venue} to {time} at {venue}. '
        "If that no longer suits you, you may cancel at any time without penalty.",
    ),
    "signup.reminder": Template(
        "活动提醒",
        "您报名的「{activity}」将于{lead}后开始。时间：{time}，地点：{venue}。",
        "Reminder",
        '"{activity}" starts in {lead}: {time} at {venue}.',
    ),
}

# Field names as the API spells them, for refusals that name the field.
_FIELDS = (
    ("title_zh", "titleZh", 60),
    ("body_zh", "bodyZh", 500),
    ("title_en", "titleEn", 120),
    ("body_en", "bodyEn", 1000),
)


def _fields_of(text: str) -> list[tuple[str, str, str | None]]:
    """(name, format spec, conversion) of each replacement field; ValueError if malformed."""
    return [
        (name, spec or "", conversion)
        for _, name, spec, conversion in string.Formatter().parse(text)
        if name is not None
    ]


def _placeholders(template: Template) -> frozenset[str]:
    texts = (template.title_zh, template.body_zh, template.title_en, template.body_en)
    return frozenset(name for text in texts for name, _, _ in _fields_of(text))


PLACEHOLDERS: dict[str, frozenset[str]] = {kind: _placeholders(t) for kind, t in DEFAULT_TEMPLATES.items()}


def unknown_kind() -> Refusal:
    kinds = "、".join(sorted(DEFAULT_TEMPLATES))
    return bad_input("kind", f"没有这种消息模板，可选：{kinds}", f"No such message kind; one of: {kinds}")


def check_kind(kind: str) -> str:
    if kind not in DEFAULT_TEMPLATES:
        raise unknown_kind()
    return kind


def check_template(kind: str, title_zh: str, body_zh: str, title_en: str, body_en: str) -> Template:
    """An organiser's override, refused (naming the field) unless every text is present, not too
    long, and uses only bare placeholders that messages of this kind offer."""
    allowed = PLACEHOLDERS[check_kind(kind)]
    given = {"title_zh": title_zh, "body_zh": body_zh, "title_en": title_en, "body_en": body_en}
    checked: dict[str, str] = {}
    for attr, field, limit in _FIELDS:
        text = given[attr].strip()
        if not text:
            raise bad_input(field, "模板内容不能为空", "The text may not be empty")
        if len(text) > limit:
            raise bad_input(field, f"模板内容最多{limit}个字符", f"At most {limit} characters")
        try:
            fields = _fields_of(text)
        except ValueError as exc:
            raise bad_input(
                field, "花括号不成对；字面的花括号请写成 {{ 或 }}", "Unmatched brace; write {{ or }} for one"
            ) from exc
        for name, spec, conversion in fields:
            if name not in allowed or spec or conversion:
                names = "、".join("{" + n + "}" for n in sorted(allowed))
                shown = "{" + name + "}"
                raise Refusal(
                    "BAD_USER_INPUT",
                    f"占位符 {shown} 不可用，此类消息可用：{names}",
                    f"Placeholder {shown} is not available; messages of this kind offer {names}",
                    {"field": field, "placeholder": name},
                )
        checked[attr] = text
    return Template(**checked)


def template_for(
    kind: str, festival_id: object, community_id: object, overrides: Overrides | None
) -> Template:
    """The override for this festival's messages in this community, else the default."""
    if overrides and festival_id is not None and community_id is not None:
        found = overrides.get((str(festival_id), str(community_id), kind))
        if found is not None:
            return found
    return DEFAULT_TEMPLATES[kind]


# A value that ends a sentence itself ("原因：天气原因。" + "。") must not double the full stop.
_DOUBLED_ZH = re.compile(r"([。！？])[。.]+")
_DOUBLED_EN = re.compile(r"(?<![.])([.!?])\.(?![.])")


def tidy(text: str) -> str:
    """The text with a sentence's end said once: "。。" and ".." (not "...") become one."""
    return _DOUBLED_EN.sub(r"\1", _DOUBLED_ZH.sub(r"\1", text))


def render(template: Template, values_zh: Mapping[str, str], values_en: Mapping[str, str]) -> Template:
    """The texts with their placeholders filled in (the values are plain strings)."""
    return Template(
        tidy(template.title_zh.format_map(values_zh)),
        tidy(template.body_zh.format_map(values_zh)),
        tidy(template.title_en.format_map(values_en)),
        tidy(template.body_en.format_map(values_en)),
    )
