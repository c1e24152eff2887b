"""The whole GraphQL schema: each service's part, merged. ``schema/schema.graphql`` is its SDL."""

from __future__ import annotations

import functools

import strawberry
from strawberry.extensions import ParserCache, ValidationCache

from services.gateway.activities import ActivitiesMutation, ActivitiesQuery
from services.gateway.audit import AuditQuery
from services.gateway.certificates import CertificatesMutation, CertificatesQuery
from services.gateway.council import CouncilMutation, CouncilQuery
from services.gateway.dashboard import DashboardQuery
from services.gateway.directory import DirectoryMutation, DirectoryQuery
from services.gateway.door import DoorMutation, DoorQuery
from services.gateway.elders import EldersMutation, EldersQuery
from services.gateway.identity import IdentityMutation, IdentityQuery
from services.gateway.inputs import apply_input_rules
from services.gateway.lists import ListsMutation, ListsQuery
from services.gateway.notify import NotifyMutation, NotifyQuery
from services.gateway.offline_door import OfflineDoorMutation, OfflineDoorQuery
from services.gateway.operations import GatewayOperation, LinliSchema
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

schema = LinliSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    # Plain JSON POSTs take the hot path (services.gateway.operations) with its own cache of
    # documents; strawberry's pipeline (GET, batches, subscriptions) parses and validates each
    # document once too (factories: strawberry keeps these caches at module level).
    extensions=[lambda: ParserCache(maxsize=512), lambda: ValidationCache(maxsize=512), GatewayOperation],
)


@functools.cache
def production_schema() -> LinliSchema:
    """The same schema with introspection refused and no "Did you mean …?" in error messages
    (fields, arguments, types, enum values); built only by a production gateway."""
    return LinliSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=schema.extensions,
        introspection=False,
        hide_suggestions=True,
    )


def sdl() -> str:
    return schema.as_str() + "\n"
