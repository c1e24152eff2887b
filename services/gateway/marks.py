"""Markings in the schema that the gateway acts on.

``@secret`` marks an argument or input field whose value must never be kept: passwords, log-in
codes, refresh tokens, QR and station codes. The audit trail records every other argument of a
staff mutation and replaces these with ``"[redacted]"`` (``services.gateway.audit``), so a new
secret argument is safe as soon as it carries the marking, whatever it is called.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.schema_directive import Location


@strawberry.schema_directive(
    locations=[Location.ARGUMENT_DEFINITION, Location.INPUT_FIELD_DEFINITION],
    description="A secret (password, code, token): never recorded, redacted from the audit trail.",
)
class Secret:
    pass


def secret_argument() -> Any:
    """``Annotated[str, secret_argument()]``: an argument carrying ``@secret``."""
    return strawberry.argument(directives=[Secret()])


def is_secret(definition: Any) -> bool:
    """Whether a graphql-core argument or input field carries ``@secret``."""
    extensions = getattr(definition, "extensions", None) or {}
    backref = extensions.get("strawberry-definition")
    return any(isinstance(mark, Secret) for mark in getattr(backref, "directives", ()) or ())
