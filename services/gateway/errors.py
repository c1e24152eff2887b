"""How failures look to clients: a stable ``extensions.code`` and a message, never a traceback."""

from __future__ import annotations

import logging

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from services.common.errors import Refusal

log = logging.getLogger("linli.gateway")

INTERNAL_ZH = "服务器内部错误，请稍后再试"
INTERNAL_EN = "Internal error, please try again later"


def refusal_error(error: GraphQLError, refusal: Refusal) -> GraphQLError:
    return GraphQLError(
        message=f"{refusal.zh} / {refusal.en}",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={
            "code": refusal.code,
            "messageZh": refusal.zh,
            "messageEn": refusal.en,
            **({"details": refusal.details} if refusal.details else {}),
        },
    )


def with_code(error: GraphQLError, code: str) -> GraphQLError:
    return GraphQLError(
        message=error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), "code": code},
    )


class TypedErrors(MaskErrors):
    """Refusals keep their code and bilingual message; request errors (syntax, validation,
    bad variables) get ``BAD_USER_INPUT``; anything unexpected is logged and masked."""

    def __init__(self) -> None:
        super().__init__(error_message=f"{INTERNAL_ZH} / {INTERNAL_EN}")

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._typed(error) for error in errors]

    def _typed(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, Refusal):
            return refusal_error(error, original)
        if isinstance(original, GraphQLError) and isinstance(original.original_error, Refusal):
            return refusal_error(error, original.original_error)
        if original is None or error.path is None:
            if error.extensions and "code" in error.extensions:
                return error
            return with_code(error, "BAD_USER_INPUT")
        log.error("unexpected error in %s", error.path, exc_info=original)
        return with_code(self.anonymise_error(error), "INTERNAL_ERROR")
