"""The whole GraphQL schema: each service's part, merged. ``schema/schema.graphql`` is its SDL."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache

from services.gateway.activities import ActivitiesMutation, ActivitiesQuery
from services.gateway.errors import log_unexpected
from services.gateway.notify import NotifyQuery
from services.gateway.observability import OperationMetrics
from services.gateway.volunteers import VolunteersMutation, VolunteersQuery


@strawberry.type
class Query(ActivitiesQuery, NotifyQuery, VolunteersQuery):
    pass


@strawberry.type
class Mutation(ActivitiesMutation, VolunteersMutation):
    pass


class LinliSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        log_unexpected(errors)  # refusals and bad requests are answers, not incidents


schema = LinliSchema(
    query=Query,
    mutation=Mutation,
    # Clients send the same few documents over and over: parse and validate each only once.
    # (Factories: strawberry keeps the caches at module level, shared by every request.)
    extensions=[
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        OperationMetrics,
    ],
)


def sdl() -> str:
    return schema.as_str() + "\n"
