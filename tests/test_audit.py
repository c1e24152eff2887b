"""Community admins can read what staff did in their community; nobody else can."""

from __future__ import annotations

from typing import Any

from services.common.settings import Settings
from tests.conftest import COMMUNITY, OTHER_COMMUNITY, GraphQLClient, token_for

AUDIT = """
query($c: String!) { auditLog(communityId: $c) { action actorId subject details } }
"""


async def test_a_community_admin_reads_who_scheduled_what(
    gql: GraphQLClient, schedule: Any, settings: Settings, organiser_token: str
) -> None:
    session_id = await schedule(capacity=7, title="亲子手工")
    admin = token_for(settings, "admin-shuofang", {"community_admin"}, {COMMUNITY})

    entries = (await gql.ok(AUDIT, {"c": COMMUNITY}, admin))["auditLog"]

    scheduled = [e for e in entries if e["action"] == "scheduleSession" and e["subject"] == session_id]
    assert len(scheduled) == 1
    assert scheduled[0]["actorId"].startswith("organiser-")
    assert scheduled[0]["details"]["input"]["input"]["capacity"] == 7
    assert {"createFestival", "createActivity"} <= {e["action"] for e in entries}


async def test_residents_actions_are_not_staff_actions(
    gql: GraphQLClient, schedule: Any, settings: Settings, new_resident: Any
) -> None:
    session_id = await schedule(capacity=3)
    _, token = new_resident()
    await gql.ok(
        "mutation($i: SignUpInput!) { signUp(input: $i) { id } }",
        {"i": {"sessionId": session_id, "idempotencyKey": "audit-resident-1"}},
        token,
    )
    admin = token_for(settings, "admin-shuofang", {"community_admin"}, {COMMUNITY})
    entries = (await gql.ok(AUDIT, {"c": COMMUNITY}, admin))["auditLog"]
    assert "signUp" not in {e["action"] for e in entries}


async def test_organisers_and_other_communities_admins_cannot_read_the_trail(
    gql: GraphQLClient, settings: Settings, organiser_token: str
) -> None:
    other_admin = token_for(settings, "admin-xiyuan", {"community_admin"}, {OTHER_COMMUNITY})
    assert await gql.error_code(AUDIT, {"c": COMMUNITY}, other_admin) == "FORBIDDEN"
    assert await gql.error_code(AUDIT, {"c": COMMUNITY}, organiser_token) == "FORBIDDEN"
