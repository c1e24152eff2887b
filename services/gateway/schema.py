"""The whole GraphQL schema: each service's part, merged. ``schema/schema.graphql`` is its SDL."""

from __future__ import annotations

import strawberry

from services.gateway.activities import ActivitiesMutation, ActivitiesQuery
from services.gateway.errors import TypedErrors
from services.gateway.notify import NotifyQuery


@strawberry.type
class Query(ActivitiesQuery, NotifyQuery):
    pass


@strawberry.type
class Mutation(ActivitiesMutation):
    pass


schema = strawberry.Schema(query=Query, mutation=Mutation, extensions=[TypedErrors])


def sdl() -> str:
    return schema.as_str() + "\n"
