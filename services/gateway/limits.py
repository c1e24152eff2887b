"""Limits on what one GraphQL request may ask, checked before any resolver (or the database)
runs: body size, token count, depth and aliases; introspection is off in production.

Strawberry's depth and alias limiters report plain validation errors; here each is wrapped
so its error carries a stable ``extensions.code`` like every other refusal.
"""

from __future__ import annotations

import json
from typing import Any

from graphql import (
    ASTValidationRule,
    GraphQLError,
    NoSchemaIntrospectionCustomRule,
    ValidationContext,
    ValidationRule,
    specified_rules,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter

# The deepest honest query (festivals → activities → sessions → fields) is 4 levels.
MAX_DEPTH = 8
MAX_ALIASES = 15
MAX_TOKENS = 2000


def _coded(rules: list[type[Any]], code: str, zh: str, en: str) -> list[type[ASTValidationRule]]:
    """The rules, reporting their errors with ``code``. Only for rules that do their checking
    when constructed, as strawberry's depth and alias limiters do."""

    def wrap(rule: type[ASTValidationRule]) -> type[ASTValidationRule]:
        class Coded(ValidationRule):
            def __init__(self, context: ValidationContext) -> None:
                report = context.report_error

                def coded(error: GraphQLError) -> None:
                    report(
                        GraphQLError(
                            f"{zh} / {en} ({error.message})",
                            error.nodes,
                            extensions={"code": code, "messageZh": zh, "messageEn": en},
                        )
                    )

                context.report_error = coded  # type: ignore[method-assign]
                try:
                    rule(context)
                finally:
                    context.report_error = report  # type: ignore[method-assign]
                super().__init__(context)

        return Coded

    return [wrap(rule) for rule in rules]


# Built once: the document caches key on the rule classes, so they must not change from one
# request to the next.
_DEPTH_RULES = _coded(
    QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    "QUERY_TOO_DEEP",
    f"查询嵌套过深（最多{MAX_DEPTH}层）",
    f"Query nested too deeply (at most {MAX_DEPTH} levels)",
)
_ALIAS_RULES = _coded(
    MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    "TOO_MANY_ALIASES",
    f"查询中的别名过多（最多{MAX_ALIASES}个）",
    f"Too many aliases in the query (at most {MAX_ALIASES})",
)


def validation_rules(introspection: bool) -> tuple[type[ASTValidationRule], ...]:
    """GraphQL's own rules, then depth and aliases, then (in production) no introspection: the
    rules every document is validated with (``services.gateway.operations``)."""
    refused = (NoSchemaIntrospectionCustomRule,) if not introspection else ()
    return (*specified_rules, *_DEPTH_RULES, *_ALIAS_RULES, *refused)


class BodySizeLimit:
    """Refuse a request body over ``max_bytes`` with 413 and a JSON error, whether or not it
    declared its length, without reading more of it than the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        zh, en = "请求内容过大", f"Request body too large (at most {self.max_bytes} bytes)"
        body = json.dumps(
            {
                "data": None,
                "errors": [
                    {
                        "message": f"{zh} / {en}",
                        "extensions": {"code": "REQUEST_TOO_LARGE", "messageZh": zh, "messageEn": en},
                    }
                ],
            },
            ensure_ascii=False,
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
