"""How failures look to clients: a stable ``extensions.code`` and a message, never a traceback.

Applied to every result the GraphQL view sends (``LinliGraphQL.process_result``), so errors
raised anywhere — parsing, validation, an extension, a resolver — get the same treatment.
"""

from __future__ import annotations

import logging

import asyncpg
from graphql.error import GraphQLError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.common.errors import Refusal, service_unavailable

log = logging.getLogger("linli.gateway")

INTERNAL_ZH = "服务器内部错误，请稍后再试"
INTERNAL_EN = "Internal error, please try again later"


# A server we depend on is away (restarting, failing over): the client should simply retry.
OUTAGES = (
    RedisConnectionError,
    RedisTimeoutError,
    ConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
)


def _refusal_of(error: GraphQLError) -> Refusal | None:
    original = error.original_error
    if isinstance(original, GraphQLError):
        original = original.original_error
    if isinstance(original, OUTAGES):
        return service_unavailable()
    return original if isinstance(original, Refusal) else None


def _is_unexpected(error: GraphQLError) -> bool:
    """A resolver failed for a reason that is not a refusal: a bug or an outage."""
    return error.original_error is not None and error.path is not None and _refusal_of(error) is None


def _copy(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    return GraphQLError(
        message=message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


def typed_error(error: GraphQLError) -> GraphQLError:
    """Refusals keep their code and bilingual message; request errors (syntax, validation,
    bad variables) get ``BAD_USER_INPUT``; anything unexpected is masked as ``INTERNAL_ERROR``."""
    refusal = _refusal_of(error)
    if refusal is not None:
        extensions: dict[str, object] = {
            "code": refusal.code,
            "messageZh": refusal.zh,
            "messageEn": refusal.en,
        }
        if refusal.details:
            extensions["details"] = refusal.details
        return _copy(error, f"{refusal.zh} / {refusal.en}", extensions)
    if _is_unexpected(error):
        return _copy(
            error,
            f"{INTERNAL_ZH} / {INTERNAL_EN}",
            {"code": "INTERNAL_ERROR", "messageZh": INTERNAL_ZH, "messageEn": INTERNAL_EN},
        )
    if error.extensions and "code" in error.extensions:
        return error
    return _copy(error, error.message, {**(error.extensions or {}), "code": "BAD_USER_INPUT"})


def log_unexpected(errors: list[GraphQLError]) -> None:
    """Only the errors that are our fault go to the log, with their traceback."""
    for error in errors:
        if _is_unexpected(error):
            log.error("unexpected error at %s", error.path, exc_info=error.original_error)


def transport_refusal(status: int, reason: str) -> tuple[int, Refusal]:
    """What an HTTP-level refusal of strawberry's view (a body that is not JSON, a content type
    it does not take, a mutation over GET, an unknown operation...) says, with its status."""
    if status == 405 or "not allowed when using GET" in reason:
        return 405, Refusal(
            "METHOD_NOT_ALLOWED",
            "请求方式不正确：修改数据须用 POST",
            f"Method not allowed: send GraphQL with POST (mutations) or GET (queries) ({reason})",
        )
    if reason == "Unsupported content type":
        return 415, Refusal(
            "UNSUPPORTED_MEDIA_TYPE",
            "请求格式不支持，请以 JSON 发送（Content-Type: application/json）",
            "Unsupported content type: send JSON (Content-Type: application/json)",
        )
    if status == 404:
        return 404, Refusal("NOT_FOUND", "找不到该页面", "Not found")
    if reason.startswith("Unknown operation named"):
        return 400, Refusal("UNKNOWN_OPERATION", "请求中没有该名称的操作", reason)
    return 400, Refusal("BAD_REQUEST", "请求格式不正确，无法读取", f"Malformed request: {reason}")
