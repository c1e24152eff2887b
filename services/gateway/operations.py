"""Running a GraphQL operation the gateway's way — limits, metrics, audit — on either of two paths:

- the hot path (``LinliSchema.execute_cached``), for the plain JSON POST nearly every request
  is: the document comes parsed and validated from ``services.gateway.documents`` and goes
  straight to graphql-core's executor, without strawberry's per-request pipeline;
- strawberry's own pipeline (GET, batches, subscriptions, ``schema.execute``), with the same
  limits, metrics and audit as one extension, ``GatewayOperation``.

Both must answer alike, field for field and error for error, and leave the same audit rows:
``tests/test_hot_path_contract.py`` holds them to it.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from inspect import isawaitable
from typing import Any

import strawberry
from graphql import DocumentNode, GraphQLError, execute
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.utils.operation import get_first_operation, get_operation_type

from services.common import tracing
from services.gateway.audit import audit_staff_mutation
from services.gateway.documents import DocumentCache
from services.gateway.errors import log_unexpected
from services.gateway.limits import MAX_TOKENS, validation_rules
from services.gateway.observability import count_operation, observed_operation

_SUGGESTION = re.compile(r"\s*Did you mean\b[^?]*\?")
_QUERY_OR_MUTATION = frozenset({OperationType.QUERY, OperationType.MUTATION})


class LinliSchema(strawberry.Schema):
    """The schema with its rules (``introspection``: allowed or not; ``hide_suggestions``: no
    "Did you mean …?" in messages) and its cache of documents read with them."""

    def __init__(
        self, *args: Any, introspection: bool = True, hide_suggestions: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.hide_suggestions = hide_suggestions
        self.validation_rules = validation_rules(introspection)
        self.documents = DocumentCache(self._schema, self.validation_rules, MAX_TOKENS)

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        if self.hide_suggestions:  # "Did you mean 'auditLog'?" maps the schema for a stranger
            for error in errors:
                error.message = _SUGGESTION.sub("", error.message)
        log_unexpected(errors)  # refusals and bad requests are answers, not incidents

    async def execute_cached(
        self,
        query: str,
        variable_values: dict[str, Any] | None,
        context_value: Any,
        operation_name: str | None,
        operation_extensions: dict[str, Any] | None,
    ) -> ExecutionResult | None:
        """A query or mutation answered as ``execute`` answers it (root value None), its document
        read once for all requests. None: not a query or mutation, or no operation of that name —
        strawberry's view says what is wrong."""
        if not query:  # strawberry's "No GraphQL query found in the request"
            return None
        prepared = self.documents.prepared(query)
        document = prepared.document
        if document is None:  # a syntax error: refused before anything is counted, as strawberry does
            syntax = list(prepared.errors)
            self._process_errors(syntax)
            return ExecutionResult(data=None, errors=syntax, extensions={})
        if operation_name is None:  # strawberry runs the first operation when none is named
            first = get_first_operation(document)
            operation_name = first.name.value if first is not None and first.name else None
        try:
            kind = get_operation_type(document, operation_name)
        except RuntimeError:
            return None
        if kind not in _QUERY_OR_MUTATION:
            return None
        started = time.perf_counter()
        try:
            with tracing.span("graphql", "gateway") as span:
                data, errors = await self._run(
                    prepared.errors,
                    document,
                    variable_values,
                    context_value,
                    operation_name,
                    operation_extensions,
                )
                if kind is OperationType.MUTATION:
                    await audit_staff_mutation(
                        self._schema, document, operation_name, context_value, variable_values, data, errors
                    )
                operation = observed_operation(span, self._schema, document, operation_name, bool(errors))
        except Exception as exc:  # graphql-core answers with errors, never raises; were it to, as strawberry
            raised = [GraphQLError(str(exc), original_error=exc)]
            self._process_errors(raised)
            return ExecutionResult(data=None, errors=raised, extensions={})
        count_operation(operation, bool(errors), started)
        return ExecutionResult(data=data, errors=errors, extensions={})

    async def _run(
        self,
        refused: tuple[GraphQLError, ...],
        document: DocumentNode,
        variable_values: dict[str, Any] | None,
        context_value: Any,
        operation_name: str | None,
        operation_extensions: dict[str, Any] | None,
    ) -> tuple[dict[str, Any] | None, list[GraphQLError] | None]:
        if refused:
            errors = list(refused)
            self._process_errors(errors)
            return None, errors
        # What strawberry's ``_execute_operation`` passes, less its middleware manager: no
        # extension of this schema wraps resolvers (the contract test checks it stays so).
        result = execute(
            self._schema,
            document,
            root_value=None,
            context_value=context_value,
            variable_values=variable_values,
            operation_name=operation_name,
            executor_class=self.execution_context_class,
            is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]  # as strawberry passes it
            operation_extensions=operation_extensions,
        )
        if isawaitable(result):
            result = await result
        if result.errors:
            self._process_errors(result.errors)
        return result.data, result.errors


class GatewayOperation(SchemaExtension):
    """Limits, metrics and audit on strawberry's pipeline, in one hook: the token limit and the
    schema's validation rules before parsing; after the operation, the audit of a staff
    mutation, then its count and time (and span) by its first root field's schema name."""

    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context
        schema, graphql_schema = context.schema, context.schema._schema
        context.parse_options["max_tokens"] = MAX_TOKENS
        if isinstance(schema, LinliSchema):
            context.validation_rules = schema.validation_rules
        started = time.perf_counter()
        with tracing.span("graphql", "gateway") as span:
            yield  # a document that does not parse raises here: not counted, as on the hot path
            document, name, result = context.graphql_document, context.operation_name, context.result
            data: dict[str, Any] | None = getattr(result, "data", None)
            errors: list[GraphQLError] | None = getattr(result, "errors", None)
            if document is not None and result is not None and _is_mutation(document, name):
                await audit_staff_mutation(
                    graphql_schema, document, name, context.context, context.variables, data, errors
                )
            operation = observed_operation(span, graphql_schema, document, name, bool(errors))
        count_operation(operation, bool(errors), started)


def _is_mutation(document: DocumentNode, operation_name: str | None) -> bool:
    try:
        return get_operation_type(document, operation_name) is OperationType.MUTATION
    except RuntimeError:
        return False
