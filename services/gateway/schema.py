"""The whole GraphQL schema: each service's part, merged. ``schema/schema.graphql`` is its SDL."""

from __future__ import annotations

import functools
import re
from typing import Any

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import DisableIntrospection, ParserCache, ValidationCache

from services.gateway.activities import ActivitiesMutation, ActivitiesQuery
from services.gateway.audit import AuditQuery, StaffAudit
from services.gateway.certificates import CertificatesMutation, CertificatesQuery
from services.gateway.council import CouncilMutation, CouncilQuery
from services.gateway.dashboard import DashboardQuery
from services.gateway.directory import DirectoryMutation, DirectoryQuery
from services.gateway.door import DoorMutation, DoorQuery
from services.gateway.elders import EldersMutation, EldersQuery
from services.gateway.errors import log_unexpected
from services.gateway.identity import IdentityMutation, IdentityQuery
from services.gateway.inputs import apply_input_rules
from services.gateway.limits import query_limits
from services.gateway.lists import ListsMutation, ListsQuery
from services.gateway.notify import NotifyMutation, NotifyQuery
from services.gateway.observability import OperationMetrics
from services.gateway.offline_door import OfflineDoorMutation, OfflineDoorQuery
from services.gateway.privacy import PrivacyMutation, PrivacyQuery
from services.gateway.proxy import ProxyMutation, ProxyQuery
from services.gateway.tickets import TicketsMutation, TicketsQuery, TicketsSubscription
from services.gateway.volunteer_reports import VolunteerReportsMutation, VolunteerReportsQuery
from services.gateway.volunteers import VolunteersMutation, VolunteersQuery
from services.gateway.wishes import WishesMutation, WishesQuery


@strawberry.type
class Query(
    DirectoryQuery,
    IdentityQuery,
    ActivitiesQuery,
    NotifyQuery,
    VolunteersQuery,
    TicketsQuery,
    WishesQuery,
    AuditQuery,
    ProxyQuery,
    VolunteerReportsQuery,
    EldersQuery,
    DoorQuery,
    PrivacyQuery,
    CertificatesQuery,
    OfflineDoorQuery,
    CouncilQuery,
    ListsQuery,
    DashboardQuery,
):
    pass


@strawberry.type
class Mutation(
    DirectoryMutation,
    IdentityMutation,
    ActivitiesMutation,
    NotifyMutation,
    VolunteersMutation,
    TicketsMutation,
    WishesMutation,
    ProxyMutation,
    VolunteerReportsMutation,
    EldersMutation,
    DoorMutation,
    PrivacyMutation,
    CertificatesMutation,
    OfflineDoorMutation,
    CouncilMutation,
    ListsMutation,
):
    pass


@strawberry.type
class Subscription(TicketsSubscription):
    pass


# Every argument of every query and mutation meets the same scalar rules at the door.
apply_input_rules(Query, Mutation)

_SUGGESTION = re.compile(r"\s*Did you mean\b[^?]*\?")


class LinliSchema(strawberry.Schema):
    def __init__(self, *args: Any, hide_suggestions: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hide_suggestions = hide_suggestions

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        if self.hide_suggestions:  # "Did you mean 'auditLog'?" maps the schema for a stranger
            for error in errors:
                error.message = _SUGGESTION.sub("", error.message)
        log_unexpected(errors)  # refusals and bad requests are answers, not incidents


schema = LinliSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    # Clients send the same few documents over and over: parse and validate each only once.
    # (Factories: strawberry keeps the caches at module level, shared by every request.)
    extensions=[
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        OperationMetrics,
        StaffAudit,
        *query_limits(),
    ],
)


@functools.cache
def production_schema() -> strawberry.Schema:
    """The same schema with introspection refused and no "Did you mean …?" in error messages
    (fields, arguments, types, enum values); built only by a production gateway."""
    return LinliSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[*schema.extensions, DisableIntrospection],
        hide_suggestions=True,
    )


def sdl() -> str:
    return schema.as_str() + "\n"
