"""Small leaks (issue 16): production error messages suggest no names, and a grid worker's
look-up cannot tell a number of another community's resident from an unknown one."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.common.settings import Settings
from services.gateway.app import create_app
from services.gateway.schema import production_schema, schema
from tests.conftest import COMMUNITY, OTHER_COMMUNITY, GraphQLClient
from tests.test_proxy_signup import FIND, elder, grid_worker, new_phone

MISTAKES = [
    '{ auditLogs(communityId: "x") { action } }',  # a field
    '{ auditLog(communityID: "x") { action } }',  # an argument
    "query($r: StaffRol) { festivals { id } }",  # a type
    'mutation { createOrganiser(communityId: "x", role: ORGANISERS, username: "u", password: "p") { id } }',
]


@pytest.mark.parametrize("query", MISTAKES)
async def test_production_errors_suggest_nothing(query: str) -> None:
    told = await schema.execute(query)
    assert told.errors and any("Did you mean" in e.message for e in told.errors)  # development helps

    answered = await production_schema().execute(query)
    assert answered.errors
    assert not any("Did you mean" in e.message for e in answered.errors), answered.errors


async def test_production_variables_suggest_no_input_field() -> None:
    query = "mutation($i: CancelSessionInput!) { cancelSession(input: $i) { id } }"
    variables = {"i": {"sessionId": "1", "reasn": "r", "idempotencyKey": "k"}}
    answered = await production_schema().execute(query, variable_values=variables)
    assert answered.errors and not any("Did you mean" in e.message for e in answered.errors)


def look_up(phone: str, community: str = COMMUNITY) -> dict[str, Any]:
    asked = elder(phone, community)
    asked["input"]["register"] = False
    return asked


async def residents_with(pool: Any, phone: str) -> int:
    async with pool.acquire() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM identity.residents WHERE phone = $1", phone))


async def test_a_look_up_answers_alike_for_another_community_s_resident_and_a_stranger(
    gql: GraphQLClient, settings: Settings, pool: Any
) -> None:
    _, ours = grid_worker(settings, COMMUNITY)
    _, theirs = grid_worker(settings, OTHER_COMMUNITY)
    elsewhere, unknown = new_phone(), new_phone()
    await gql.ok(FIND, elder(elsewhere, OTHER_COMMUNITY), theirs)  # registered in the other community

    answers = [await gql.raw(FIND, look_up(phone), ours) for phone in (elsewhere, unknown)]

    def said(body: dict[str, Any]) -> Any:
        [error] = body["errors"]
        return body["data"], error["message"], error["extensions"]

    assert said(answers[0]) == said(answers[1])
    assert answers[0]["errors"][0]["extensions"]["code"] == "RESIDENT_NOT_FOUND"
    # A look-up makes nobody: the stranger's number is still nobody's, the other one still theirs.
    assert await residents_with(pool, unknown) == 0
    assert await residents_with(pool, elsewhere) == 1
    async with pool.acquire() as conn:
        audited = await conn.fetch(
            "SELECT action, subject FROM identity.audit_log WHERE community_id = $1 "
            "AND action = 'resident.not_found_by_proxy' AND details->>'phone' = ANY($2::text[])",
            COMMUNITY,
            [f"{p[:3]}****{p[-4:]}" for p in (elsewhere, unknown)],
        )
    assert len(audited) == 2  # both attempts are on the community's record, alike


async def test_a_resident_is_registered_only_when_asked_and_then_found(
    gql: GraphQLClient, settings: Settings, pool: Any
) -> None:
    _, ours = grid_worker(settings, COMMUNITY)
    phone = new_phone()
    assert await gql.error_code(FIND, look_up(phone), ours) == "RESIDENT_NOT_FOUND"
    made = (await gql.ok(FIND, elder(phone), ours))["residentByPhone"]  # register: true
    assert made["created"]
    found = (await gql.ok(FIND, look_up(phone), ours))["residentByPhone"]
    assert found["id"] == made["id"] and not found["created"]
    assert await residents_with(pool, phone) == 1


async def test_a_production_gateway_answers_a_mistyped_field_without_naming_the_right_one(
    gql: GraphQLClient, settings: Settings
) -> None:
    query = '{ auditLogs(communityId: "x") { action } }'
    assert "Did you mean 'auditLog'?" in (await gql.raw(query))["errors"][0]["message"]

    app = create_app(settings.model_copy(update={"env": "production"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://linli.test") as http:
            fast = await GraphQLClient(http).raw(query)  # the plain-JSON path
            viewed = (await http.get("/graphql", params={"query": query})).json()  # strawberry's view

    for body in (fast, viewed):
        [error] = body["errors"]
        assert error["message"] == "Cannot query field 'auditLogs' on type 'Query'."
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
