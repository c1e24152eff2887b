"""What every part of the GraphQL API does with its input: the scalar rules every argument
meets at the door, ids, idempotency keys, and the answer when a command is still in flight."""

from __future__ import annotations

import dataclasses
import uuid
from enum import Enum
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_camel_case

from services.common.errors import Refusal, bad_input
from services.common.rules import PARAGRAPH_LIMIT, SINGLE_LINE_LIMIT, clean_text

# Text where a paragraph (newlines, tabs) is allowed, up to PARAGRAPH_LIMIT characters.
PARAGRAPH_FIELDS = frozenset({"description", "bodyZh", "bodyEn", "note", "reason", "availability"})
# Single-line fields longer than SINGLE_LINE_LIMIT: signed codes, tokens, addresses on the web.
LONG_FIELDS = {
    "card": 1000,
    "code": 1000,
    "refreshToken": 2000,
    "photoUrl": 2000,
    "password": 256,
    "email": 320,
}
# Secrets are compared byte for byte: checked, never rewritten.
SECRET_FIELDS = frozenset({"password", "refreshToken", "code", "card"})
# Scanned codes: a hand scanner typing into a field may add a line break; it is not the code's.
SCANNED_FIELDS = frozenset({"code", "card"})


def clean_argument(field: str, value: Any) -> Any:
    """``value`` (a scalar, a list, an input object) with every text in it checked and
    NFC-normalised; the field a refusal names is the GraphQL one."""
    if isinstance(value, Enum):  # a StrEnum's member is a str too, but GraphQL already checked it
        return value
    if isinstance(value, str):
        if field in SCANNED_FIELDS:
            value = value.strip()
        paragraph = field in PARAGRAPH_FIELDS
        limit = PARAGRAPH_LIMIT if paragraph else LONG_FIELDS.get(field, SINGLE_LINE_LIMIT)
        return clean_text(
            field, value, limit=limit, paragraph=paragraph, normalise=field not in SECRET_FIELDS
        )
    if isinstance(value, list):
        return [clean_argument(field, item) for item in value]
    definition = getattr(type(value), "__strawberry_definition__", None)
    if definition is not None and definition.is_input and dataclasses.is_dataclass(value):
        for inner in definition.fields:
            name = inner.graphql_name or to_camel_case(inner.python_name)
            current = getattr(value, inner.python_name, None)
            cleaned = clean_argument(name, current)
            if cleaned is not current:
                setattr(value, inner.python_name, cleaned)
    return value


class InputRules(FieldExtension):
    """The scalar rules (services.common.rules) on every argument of a root field, applied
    once strawberry has converted them and before the resolver runs: no resolver sees a NUL
    byte, a terminal escape or a name of a million characters."""

    def apply(self, field: StrawberryField) -> None:
        self._names = {
            argument.python_name: argument.graphql_name or to_camel_case(argument.python_name)
            for argument in field.arguments
        }

    def map_arguments(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {name: clean_argument(self._names.get(name, name), value) for name, value in kwargs.items()}


def apply_input_rules(*root_types: type) -> None:
    """Give every field of these root types that takes arguments the InputRules."""
    for root in root_types:
        for field in root.__strawberry_definition__.fields:  # type: ignore[attr-defined]
            if field.arguments and not any(isinstance(e, InputRules) for e in field.extensions):
                field.extensions.append(InputRules())


def parse_id(field: str, value: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise bad_input(field, "编号格式不正确", "Malformed id") from exc


def check_key(key: str) -> str:
    if not 8 <= len(key) <= 128:
        raise bad_input("idempotencyKey", "幂等键须为8到128个字符", "Idempotency keys are 8 to 128 chars")
    return key


def still_processing() -> Refusal:
    return Refusal(
        "STILL_PROCESSING",
        "请求仍在处理中，请稍后使用相同的幂等键重试",
        "Still being processed; retry later with the same idempotency key",
    )
