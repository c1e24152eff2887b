"""Metrics cannot be grown by strangers, nor read through the public port (issue 16)."""

from __future__ import annotations

import httpx
from graphql import parse

from services.common.settings import Settings
from services.gateway.app import create_app
from services.gateway.observability import OTHER, operation_label
from services.gateway.schema import schema
from tests.test_launcher import free_port


def series(text: str) -> set[str]:
    """Every GraphQL series in a /metrics text (name and labels, without the value)."""
    return {line.rsplit(" ", 1)[0] for line in text.splitlines() if line.startswith("linli_graphql_")}


def invented(i: int) -> dict[str, str]:
    """Requests a stranger can vary without end: operation names, aliases, unknown fields."""
    return [
        {"query": f"query Probe{i} {{ festivals {{ id }} }}", "operationName": f"Probe{i}"},
        {"query": f"{{ alias{i}: festivals {{ id }} }}"},
        {"query": f"{{ noSuchField{i} }}"},
        {"query": f"mutation Grab{i} {{ logOut }}", "operationName": f"Grab{i}"},
    ][i % 4]


async def test_a_thousand_invented_operation_names_add_no_series(client: httpx.AsyncClient) -> None:
    for i in range(4):  # the labels these requests may honestly use, once each
        assert (await client.post("/graphql", json=invented(i))).status_code == 200
    before = series((await client.get("/metrics")).text)

    for i in range(1000):
        await client.post("/graphql", json=invented(i))

    text = (await client.get("/metrics")).text
    assert series(text) == before
    assert 'linli_graphql_requests_total{operation="festivals",outcome="ok"}' in text
    assert f'linli_graphql_requests_total{{operation="{OTHER}",outcome="error"}}' in text
    assert "Probe" not in text and "alias" not in text and "noSuchField" not in text


def test_labels_are_root_field_names_or_other() -> None:
    def label(query: str, name: str | None = None) -> str:
        return operation_label(schema._schema, parse(query), name)

    assert label("query Anything { x: festivals { id } }") == "festivals"
    assert label("mutation($i: SignUpInput!) { signUp(input: $i) { id } }") == "signUp"
    assert label("{ __schema { types { name } } }") == OTHER
    assert label("{ ...F } fragment F on Query { festivals { id } }") == OTHER
    assert label("query A { festivals { id } } query B { me { id } }", "B") == "me"
    assert label("query A { festivals { id } }", "Missing") == OTHER


async def test_given_a_port_of_its_own_metrics_leave_the_public_port(settings: Settings) -> None:
    port = free_port()
    app = create_app(settings.model_copy(update={"metrics_port": port}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://linli.test") as public:
            await public.post("/graphql", json={"query": "{ festivals { id } }"})
            assert (await public.get("/metrics")).status_code == 404
            assert (await public.get("/healthz")).status_code == 200
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as private:
            scraped = await private.get("/metrics")
            assert scraped.status_code == 200
            assert 'linli_graphql_requests_total{operation="festivals",outcome="ok"}' in scraped.text
            assert 'linli_queue_depth{queue="activities"}' in scraped.text
            assert (await private.get("/readyz")).json()["status"] == "ready"
