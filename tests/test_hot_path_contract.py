"""The gateway's hot path answers exactly as strawberry's view does (issue 17).

Each operation of the table goes to one gateway twice, the same request: once taken by the hot
path (a plain JSON POST: ``LinliSchema.execute_cached``) and once by strawberry's own view and
pipeline (``LinliGraphQL.hot_path`` off). Both must give the same status, data, errors and
extensions, count the same metrics, and (for staff) leave the same audit rows — in development
and in production, where introspection is refused and no message suggests a name.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from graphql import GraphQLSchema

from services.common.observability import GRAPHQL_REQUESTS
from services.common.settings import Settings
from services.gateway.app import LinliGraphQL, create_app
from services.gateway.documents import DOCUMENT_CACHE, DocumentCache
from services.gateway.limits import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS
from services.gateway.schema import production_schema, schema
from tests.conftest import COMMUNITY, OTHER_COMMUNITY, SIGN_UP, GraphQLClient, open_session, token_for


@dataclass
class Gateway:
    http: httpx.AsyncClient
    view: LinliGraphQL
    settings: Settings
    production: bool


@pytest.fixture(scope="module", params=["development", "production"])
async def gateway(
    request: pytest.FixtureRequest, settings: Settings, workers: None
) -> AsyncIterator[Gateway]:
    chosen = settings.model_copy(update={"env": request.param})
    app = create_app(chosen)
    async with app.router.lifespan_context(app):
        view = next(r.app for r in app.routes if isinstance(getattr(r, "app", None), LinliGraphQL))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://linli.test") as http:
            yield Gateway(http, view, chosen, request.param == "production")


def who(settings: Settings, kind: str | None) -> dict[str, str]:
    tokens = {
        "organiser": lambda: token_for(settings, "organiser-contract", {"organiser"}, {COMMUNITY}),
        "admin": lambda: token_for(settings, "admin-contract", {"community_admin"}, {COMMUNITY}),
        "other-admin": lambda: token_for(settings, "admin-elsewhere", {"community_admin"}, {OTHER_COMMUNITY}),
        "resident": lambda: token_for(settings, "resident-contract", {"resident"}, {COMMUNITY}),
        "forged": lambda: "not.a.token",
    }
    return {"Authorization": f"Bearer {tokens[kind]()}"} if kind else {}


def requests_counted() -> dict[tuple[str, str], float]:
    return {
        (sample.labels["operation"], sample.labels["outcome"]): sample.value
        for metric in GRAPHQL_REQUESTS.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    }


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    counted: dict[tuple[str, str], float]


async def send(gateway: Gateway, body: dict[str, Any], headers: dict[str, str], hot: bool) -> Answer:
    before = requests_counted()
    gateway.view.hot_path = hot
    try:
        response = await gateway.http.post("/graphql", json=body, headers=headers)
    finally:
        gateway.view.hot_path = True
    after = requests_counted()
    counted = {key: value - before.get(key, 0) for key, value in after.items() if value != before.get(key, 0)}
    return Answer(response.status_code, response.json(), counted)


DEEP = "{ festivals " + "{ activities { sessions { activity " * 3 + "{ id }" + " } } }" * 3 + " }"
ALIASES = "{ " + " ".join(f"a{i}: festivals {{ id }}" for i in range(MAX_ALIASES + 1)) + " }"
TOO_MANY_TOKENS = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(MAX_TOKENS // 5)) + " }"
SESSION = "query($id: ID!) { session(id: $id) { id seatsLeft } }"
AUDIT_LOG = "query($c: String!, $l: Int) { auditLog(communityId: $c, limit: $l) { action } }"
TWO = "query A { festivals { id } } query B { me { id } }"
FRAGMENTS = "{ ...F } fragment F on Query { x: festivals { ...G } } fragment G on Festival { id }"
SKIP = "query($s: Boolean!) { ... on Query { festivals @skip(if: $s) { id } } me @include(if: $s) { id } }"
CANCEL = "mutation($i: CancelSessionInput!) { cancelSession(input: $i) { id } }"
MISTYPED_INPUT = {"i": {"sessionId": "1", "reasn": "r", "idempotencyKey": "k"}}
SUBSCRIPTION = 'subscription { sessionCounts(sessionId: "1") { seatsLeft } }'
CANCEL_INLINE = 'mutation { cancelSession(input: {sessionId: "1", reason: "r", idempotencyKey: "k"}) { id } }'

# (name, request body, who asks): read-only, so both paths may be sent the very same request.
READS: list[tuple[str, dict[str, Any], str | None]] = [
    ("public query", {"query": "{ festivals { id name communityIds } }"}, None),
    ("aliases", {"query": "{ a: festivals { id } b: festivals { name } }"}, None),
    ("fragments", {"query": FRAGMENTS}, None),
    ("inline fragment, skip and include", {"query": SKIP, "variables": {"s": True}}, "resident"),
    ("variables", {"query": SESSION, "variables": {"id": str(uuid.UUID(int=7))}}, None),
    ("variable missing", {"query": SESSION, "variables": {}}, None),
    ("variable of the wrong type", {"query": AUDIT_LOG, "variables": {"c": COMMUNITY, "l": "many"}}, "admin"),
    ("variable input with an unknown field", {"query": CANCEL, "variables": MISTYPED_INPUT}, "organiser"),
    ("bad input (a refusal)", {"query": AUDIT_LOG, "variables": {"c": COMMUNITY, "l": 0}}, "admin"),
    ("bad id", {"query": SESSION, "variables": {"id": "not-an-id"}}, None),
    ("forbidden", {"query": AUDIT_LOG, "variables": {"c": COMMUNITY}}, "other-admin"),
    ("not logged in", {"query": "{ me { id } }"}, None),
    ("a forged token", {"query": "{ me { id } festivals { id } }"}, "forged"),
    ("unknown field", {"query": '{ auditLogs(communityId: "x") { action } }'}, None),
    ("unknown argument", {"query": '{ auditLog(communityID: "x") { action } }'}, "admin"),
    ("unknown type", {"query": "query($r: StaffRol) { festivals { id } }"}, None),
    ("syntax error", {"query": "{ festivals { id }"}, None),
    ("empty query", {"query": ""}, None),
    ("too deep", {"query": DEEP}, None),
    ("too many aliases", {"query": ALIASES}, None),
    ("too many tokens", {"query": TOO_MANY_TOKENS}, None),
    ("introspection", {"query": "{ __schema { queryType { name } } }"}, None),
    ("typename", {"query": "{ __typename festivals { __typename id } }"}, None),
    ("operation named", {"query": TWO, "operationName": "B"}, "resident"),
    ("no name, two operations (strawberry runs the first)", {"query": TWO}, None),
    ("no operation of that name", {"query": TWO, "operationName": "C"}, None),
    ("a subscription over POST", {"query": SUBSCRIPTION}, None),
    ("operation extensions", {"query": "{ festivals { id } }", "extensions": {"trace": {"v": 1}}}, None),
    ("mutation refused: not staff", {"query": CANCEL_INLINE}, "resident"),
]


@pytest.mark.parametrize(("name", "body", "asker"), READS, ids=[case[0] for case in READS])
async def test_reads_and_refusals_answer_alike(
    gateway: Gateway, name: str, body: dict[str, Any], asker: str | None
) -> None:
    headers = who(gateway.settings, asker)
    for _ in range(2):  # the second time the hot path's document comes from its cache
        hot = await send(gateway, body, headers, hot=True)
        plain = await send(gateway, body, headers, hot=False)
        assert hot == plain, name


def test_the_table_covers_what_it_claims() -> None:
    """Spot checks that the table's cases are what their names say (else "alike" proves little)."""
    assert MAX_DEPTH < DEEP.count("{")
    assert schema.validation_rules != production_schema().validation_rules


# Staff and resident mutations change things, so each path gets its own fresh session and
# actor; answers and audit rows are compared with those ids (and any uuid) put back as names.
Mutation = Callable[[str], tuple[str, dict[str, Any]]]


def cancel(session_id: str) -> tuple[str, dict[str, Any]]:
    return (
        "mutation($i: CancelSessionInput!) { cancelSession(input: $i) { id status } }",
        {"i": {"sessionId": session_id, "reason": "场地漏水", "idempotencyKey": f"k-{session_id}"}},
    )


def cancel_aliased_in_a_fragment(session_id: str) -> tuple[str, dict[str, Any]]:
    return (
        "mutation($i: CancelSessionInput!) { ...F } "
        "fragment F on Mutation { logOut: cancelSession(input: $i) { id } }",
        {"i": {"sessionId": session_id, "reason": "r", "idempotencyKey": f"k-{session_id}"}},
    )


def cancel_then_fail(session_id: str) -> tuple[str, dict[str, Any]]:
    return (
        "mutation($i: CancelSessionInput!, $j: CancelSessionInput!) "
        "{ a: cancelSession(input: $i) { id } b: cancelSession(input: $j) { id } }",
        {
            "i": {"sessionId": session_id, "reason": "r", "idempotencyKey": f"a-{session_id}"},
            "j": {"sessionId": str(uuid.UUID(int=9)), "reason": "r", "idempotencyKey": f"b-{session_id}"},
        },
    )


def cancel_with_a_bad_variable(session_id: str) -> tuple[str, dict[str, Any]]:
    return (
        "mutation($i: CancelSessionInput!) { cancelSession(input: $i) { id } }",
        {"i": {"sessionId": session_id, "reason": 5}},
    )


def sign_up(session_id: str) -> tuple[str, dict[str, Any]]:
    query = SIGN_UP.replace("id status partySize waitlistPosition", "id partySize")  # no status: timing
    return query, {"input": {"sessionId": session_id, "idempotencyKey": f"k-{session_id}"}}


MUTATIONS: list[tuple[str, Mutation, str]] = [
    ("a staff mutation", cancel, "organiser"),
    ("aliased in a fragment", cancel_aliased_in_a_fragment, "organiser"),
    ("a failing second field", cancel_then_fail, "organiser"),
    ("a bad variable", cancel_with_a_bad_variable, "organiser"),
    ("a resident's sign-up", sign_up, "resident"),
]

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def named(value: Any, names: dict[str, str]) -> Any:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    for id_, name in names.items():
        text = text.replace(id_, name)
    return json.loads(_UUID.sub("<uuid>", text))


@pytest.mark.parametrize(("name", "mutation", "role"), MUTATIONS, ids=[case[0] for case in MUTATIONS])
async def test_mutations_answer_alike_and_leave_the_same_audit_rows(
    gateway: Gateway, pool: Any, organiser_token: str, name: str, mutation: Mutation, role: str
) -> None:
    seen = []
    for hot in (True, False):
        session_id = await open_session(
            GraphQLClient(gateway.http), organiser_token, capacity=5, title="义诊", category="health"
        )
        actor = f"{role}-{uuid.uuid4().hex[:8]}"
        token = token_for(gateway.settings, actor, {role}, {COMMUNITY})
        query, variables = mutation(session_id)
        answer = await send(
            gateway, {"query": query, "variables": variables}, {"Authorization": f"Bearer {token}"}, hot
        )
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT action, subject, actor_id, client_ip, details, community_id "
                "FROM identity.audit_log WHERE actor_id = $1 ORDER BY at, action",
                actor,
            )
        names = {session_id: "<session>", actor: "<actor>"}
        seen.append(
            (named(answer.body, names), answer.status, answer.counted, named([dict(r) for r in rows], names))
        )
    assert seen[0] == seen[1], name
    if role == "organiser" and name != "a bad variable":
        assert seen[0][3], "a staff mutation that ran is on record"


def test_the_hot_path_adds_nothing_strawberry_would_run_around_resolvers() -> None:
    """The hot path calls graphql-core's executor without strawberry's middleware manager and
    directives extension: right only while no extension wraps resolvers and the schema has no
    operation directives. A new extension or directive must come with a second look."""
    for chosen in (schema, production_schema()):
        assert not chosen.directives
        assert not [extension for extension in chosen.get_extensions() if extension._implements_resolve()]


def test_the_cache_is_bounded_by_entries_and_text() -> None:
    graphql_schema: GraphQLSchema = schema._schema
    cache = DocumentCache(graphql_schema, schema.validation_rules, MAX_TOKENS, 3, 200, 400)
    for i in range(10):
        cache.prepared(f"{{ a{i}: festivals {{ id }} }}")
    assert len(cache) == 3
    long = "{ festivals { id } }" + " " * 300
    assert cache.prepared(long).errors == () and len(cache) == 3  # read, but too long to keep
    for i in range(3):
        cache.prepared("{ festivals { id } }" + " " * 150 + "#" * i)
    assert cache.chars <= 400 and len(cache) == 2
    # Counted in three series whatever the text: hits, misses, too long to keep.
    outcomes = {sample.labels["outcome"] for metric in DOCUMENT_CACHE.collect() for sample in metric.samples}
    assert outcomes == {"hit", "miss", "too_long"}


def test_a_refused_document_is_refused_every_time() -> None:
    cache = DocumentCache(schema._schema, schema.validation_rules, MAX_TOKENS)
    first, again = cache.prepared(DEEP), cache.prepared(DEEP)
    assert again is first and first.errors
    assert [e.extensions["code"] for e in first.errors if e.extensions] == ["QUERY_TOO_DEEP"]
