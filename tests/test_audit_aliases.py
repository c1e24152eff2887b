"""The audit trail cannot be dodged or falsified with GraphQL aliases, fragments or a failing
second field, and keeps no secret (issue 16)."""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Any

from graphql import GraphQLError, GraphQLInputObjectType, parse

from services.common.settings import Settings
from services.gateway.audit import REDACTED, carried_out
from services.gateway.marks import is_secret
from services.gateway.schema import schema
from services.identity.service import Identity
from tests.conftest import COMMUNITY, GraphQLClient, token_for
from tests.identity_steps import identity, staff_account, staff_logs_in

__all__ = ["identity"]  # a fixture, used by name

AUDIT = "query($c: String!) { auditLog(communityId: $c, limit: 200) { action subject details } }"


async def trail(gql: GraphQLClient, settings: Settings) -> list[dict[str, Any]]:
    admin = token_for(settings, "admin-shuofang", {"community_admin"}, {COMMUNITY})
    entries: list[dict[str, Any]] = (await gql.ok(AUDIT, {"c": COMMUNITY}, admin))["auditLog"]
    return entries


class _Any:
    """Equal to anything: for a value the test does not pin."""

    def __eq__(self, other: object) -> bool:
        return True


ANY = _Any()


def cancel(session_id: str) -> dict[str, Any]:
    return {"sessionId": session_id, "reason": "场地漏水", "idempotencyKey": uuid.uuid4().hex}


async def test_a_cancellation_aliased_as_log_out_is_audited_as_what_it_is(
    gql: GraphQLClient, schedule: Any, settings: Settings, organiser_token: str
) -> None:
    session_id = await schedule(capacity=5)
    done = await gql.ok(
        "mutation($i: CancelSessionInput!) { logOut: cancelSession(input: $i) { id } }",
        {"i": cancel(session_id)},
        organiser_token,
    )
    assert done["logOut"]["id"] == session_id

    entries = [e for e in await trail(gql, settings) if e["subject"] == session_id]
    assert [e["action"] for e in entries if e["action"] != "scheduleSession"] == ["cancelSession"]
    assert entries[0]["details"]["input"] == {"input": {**cancel(session_id), "idempotencyKey": ANY}}


async def test_an_alias_cannot_rename_an_action_nor_a_fragment_hide_it(
    gql: GraphQLClient, schedule: Any, settings: Settings, organiser_token: str
) -> None:
    session_id = await schedule(capacity=5)
    await gql.ok(
        """
        mutation($i: CancelSessionInput!) { ...F }
        fragment F on Mutation { publishedFestival: cancelSession(input: $i) { id } }
        """,
        {"i": cancel(session_id)},
        organiser_token,
    )
    actions = {e["action"] for e in await trail(gql, settings) if e["subject"] == session_id}
    assert actions == {"scheduleSession", "cancelSession"}


async def test_a_failing_second_field_does_not_erase_the_first(
    gql: GraphQLClient, schedule: Any, settings: Settings, organiser_token: str
) -> None:
    session_id = await schedule(capacity=5)
    body = await gql.raw(
        """
        mutation($i: CancelSessionInput!, $j: CancelSessionInput!) {
          a: cancelSession(input: $i) { id }
          b: cancelSession(input: $j) { id }
        }
        """,
        {"i": cancel(session_id), "j": cancel(str(uuid.uuid4()))},
        organiser_token,
    )
    assert body["errors"] and body["data"] is None  # the whole answer is null...
    cancelled = [
        e
        for e in await trail(gql, settings)
        if e["action"] == "cancelSession" and e["details"]["input"]["input"]["sessionId"] == session_id
    ]
    assert len(cancelled) == 1  # ...but the first cancellation happened, and is on record


async def test_an_aliased_create_organiser_leaves_no_password_in_any_audit_row(
    gql: GraphQLClient, identity: Identity, pool: Any
) -> None:
    admin = await staff_logs_in(gql, *await staff_account(identity, "community_admin", COMMUNITY))
    password = f"pw-{secrets.token_urlsafe(12)}"
    username = f"zhao-li-{secrets.token_hex(3)}"
    made = await gql.ok(
        """
        mutation($c: String!, $u: String!, $p: String!) {
          note: createOrganiser(communityId: $c, role: ORGANISER, username: $u, password: $p) { id }
        }
        """,
        {"c": COMMUNITY, "u": username, "p": password},
        admin["accessToken"],
    )
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT action, subject, details::text AS details FROM identity.audit_log")
    assert not [row for row in rows if password in row["details"] or password in row["subject"]]
    ours = [row["action"] for row in rows if row["subject"] == made["note"]["id"]]
    assert ours == ["staff.created"]  # recorded once, by identity, under its own name
    assert "note" not in {row["action"] for row in rows}


def test_secret_arguments_are_redacted_where_the_schema_marks_them() -> None:
    document = parse(
        """
        mutation($i: CheckInInput!, $p: String!) {
          shown: checkIn(input: $i) { id }
          createStreetStaff(streetId: "s", role: ORGANISER, username: "u", password: $p) { id }
        }
        """
    )
    variables = {"i": {"shiftId": "1", "code": "CARD-SECRET"}, "p": "hunter2"}
    data = {"shown": {"id": "c1"}, "createStreetStaff": {"id": "a1"}}
    actions = carried_out(schema._schema, document, None, variables, data, [])

    assert [a.field for a in actions] == ["checkIn", "createStreetStaff"]
    assert actions[0].arguments == {"input": {"shiftId": "1", "code": REDACTED}}
    assert actions[1].arguments["password"] == REDACTED
    assert actions[1].arguments["username"] == "u"
    assert "CARD-SECRET" not in repr(actions) and "hunter2" not in repr(actions)


def test_every_password_code_and_token_argument_is_marked_secret() -> None:
    """A guard for the next mutation: secrets are found by their marking, so they must have it."""
    looks_secret = re.compile(r"(password|token|^code)$", re.IGNORECASE)
    unmarked = []
    for type_ in schema._schema.type_map.values():
        if isinstance(type_, GraphQLInputObjectType):
            for name, field in type_.fields.items():
                if looks_secret.search(name) and not is_secret(field):
                    unmarked.append(f"{type_.name}.{name}")
    mutation = schema._schema.mutation_type
    assert mutation is not None
    for field_name, field in mutation.fields.items():
        for name, argument in field.args.items():
            if looks_secret.search(name) and not is_secret(argument):
                unmarked.append(f"{field_name}({name})")
    assert unmarked == []


def test_a_field_that_took_effect_is_audited_whatever_failed_after_it() -> None:
    document = parse(
        """
        mutation($i: CancelSessionInput!, $j: CancelSessionInput!, $k: CancelSessionInput!) {
          a: cancelSession(input: $i) { id }
          b: cancelSession(input: $j) { id }
          c: cancelSession(input: $k) { id }
        }
        """
    )
    variables = {n: {"sessionId": n, "reason": "r", "idempotencyKey": n} for n in "ijk"}

    def done(errors: list[GraphQLError], data: dict[str, Any] | None = None) -> list[str]:
        actions = carried_out(schema._schema, document, None, variables, data, errors)
        return [a.arguments["input"]["sessionId"] for a in actions]

    # b's answer failed below it (it took effect) and nulled everything: a and b ran, c never did.
    assert done([GraphQLError("x", path=["b", "id"])]) == ["i", "j"]
    # a's answer failed harmlessly, then b's resolver refused and nulled everything.
    assert done([GraphQLError("x", path=["a", "id"]), GraphQLError("no", path=["b"])]) == ["i"]
    # With an answer: a refused field is left out, the rest are in.
    assert done([GraphQLError("no", path=["b"])], {"a": {"id": "1"}, "b": None, "c": {"id": "3"}}) == [
        "i",
        "k",
    ]
    # Refused before execution (validation, variables): nothing ran.
    assert done([GraphQLError("bad variables")]) == []
