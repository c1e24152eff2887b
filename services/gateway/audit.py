"""The audit trail of staff actions: every mutation an organiser, admin, scanner or grid worker
carries out is recorded (who, when, what was asked, what it produced), and a community's admins
can read their community's trail.

Recorded in the gateway, after the operation, from the request and its result, so each service
needs no audit code of its own. Each action is named by its schema field, read from the
operation's syntax tree (a client's alias neither hides nor renames it), with that field's own
arguments only, and every argument the schema marks ``@secret`` redacted
(``services.gateway.marks``). "Before" is not recorded: the gateway does not read a service's
state before it changes (the services' events carry what changed).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionNode,
    SelectionSetNode,
    get_nullable_type,
    get_operation_ast,
    value_from_ast_untyped,
)

from services.common.actor import COMMUNITY_ADMIN, PLATFORM_ADMIN, RESIDENT, VOLUNTEER, Actor
from services.common.errors import forbidden
from services.common.masking import mask_phones_in
from services.common.paging import after_uuid, checked_limit
from services.gateway.context import Context, Info
from services.gateway.marks import is_secret
from services.gateway.paging import After, Limit
from services.identity import queries
from services.identity.service import AuditRecord, Identity

log = logging.getLogger("linli.audit")

# Log-ins, log-outs and account creation are audited by identity itself.
_AUDITED_ELSEWHERE = frozenset(
    {"requestLoginCode", "logIn", "organiserLogIn", "refreshToken", "logOut", "createOrganiser"}
    | {"logOutEverywhere", "changeMyPassword"}
    # The directory's changes and street staff: by services.identity.directory.
    | {"addStreet", "addCommunity", "updateCommunity", "addStation", "updateStation", "addGrid"}
    | {"createStreetStaff"}
)


def _subject(field: str, produced: Any) -> str:
    """What the action changed: the id of what it produced, else the field's name."""
    return str(produced.get("id", field)) if isinstance(produced, dict) else field


def is_staff(actor: Actor) -> bool:
    return bool(actor.roles - {RESIDENT, VOLUNTEER})


def community_of(actor: Actor, produced: Any) -> str | None:
    """The community an action belongs to: the one its result names, else the actor's only one."""
    if isinstance(produced, dict):
        named = produced.get("communityId")
        if isinstance(named, str):
            return named
    return next(iter(actor.communities)) if len(actor.communities) == 1 else None


async def audit_staff_mutation(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    context: object,
    variables: dict[str, Any] | None,
    data: dict[str, Any] | None,
    errors: list[GraphQLError] | None,
) -> None:
    """Record in ``identity.audit_log`` what a mutation that ran carried out, when its actor is
    staff. Called by ``services.gateway.operations`` after every mutation, on either path."""
    if not isinstance(context, Context) or context.actor is None or not is_staff(context.actor):
        return
    actor = context.actor
    actions = carried_out(schema, document, operation_name, variables or {}, data, errors or [])
    entries = [
        AuditRecord(
            action.field,
            _subject(action.field, action.produced),
            actor.user_id,
            context.client_ip,
            {"input": action.arguments, "result": action.produced},
            community_of(actor, action.produced),
        )
        for action in actions
        if action.field not in _AUDITED_ELSEWHERE
    ]
    if not entries:
        return
    try:
        resources = context.resources
        await Identity(resources.pool, resources.redis, resources.settings).record_staff_actions(entries)
    except Exception:  # the action itself succeeded; a missing audit line must be seen
        log.exception("could not audit %s by %s", [a.field for a in actions], actor.user_id)


REDACTED = "[redacted]"


@dataclass(frozen=True)
class Action:
    """One root field of a mutation that ran: its schema name (never the client's alias), its
    own arguments (secrets redacted, phones masked) and what it answered."""

    field: str
    arguments: dict[str, Any]
    produced: Any


def carried_out(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any],
    data: dict[str, Any] | None,
    errors: list[GraphQLError],
) -> list[Action]:
    """The mutation's root fields that took effect, read from the operation's syntax tree.

    Mutation fields run one after another. A field counts as done unless its own resolver
    refused (an error at its own path): an error further down (in what it answered) came after
    it took effect. When ``data`` is null, a field's error nulled the whole answer and ended the
    operation: that field is the one of the last error, and it and the fields before it ran.
    """
    operation = get_operation_ast(document, operation_name)
    mutation_type = schema.mutation_type
    if operation is None or mutation_type is None:
        return []
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    values = {
        definition.variable.name.value: value_from_ast_untyped(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    } | variables
    refused = {error.path[0] for error in errors if error.path and len(error.path) == 1}
    last_failed = next((error.path[0] for error in reversed(errors) if error.path), None)
    if data is None and last_failed is None:
        return []  # nothing ran: the request was refused before execution
    actions = []
    for node in _root_fields(operation.selection_set, fragments, values):
        key = node.alias.value if node.alias else node.name.value
        if data is not None and key not in data:
            continue
        field = mutation_type.fields.get(node.name.value)
        if field is None or key in refused:
            if data is None and key == last_failed:
                break
            continue
        produced = data[key] if data is not None else None
        arguments = {
            argument.name.value: _redacted(
                value_from_ast_untyped(argument.value, values),
                field.args.get(argument.name.value),
            )
            for argument in node.arguments or ()
        }
        masked = mask_phones_in(json.dumps(arguments, ensure_ascii=False, default=str))
        actions.append(Action(node.name.value, json.loads(masked), produced))
        if data is None and key == last_failed:
            break
    return actions


def _root_fields(
    selections: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    values: dict[str, Any],
    seen: frozenset[str] = frozenset(),
) -> Iterator[FieldNode]:
    """The fields of a selection set in document order, fragments spread, skipped ones left out.
    (Several nodes with one response key run once: the executor merges them.)"""
    keys: set[str] = set()
    for node in _flattened(selections, fragments, values, seen):
        key = node.alias.value if node.alias else node.name.value
        if key not in keys:
            keys.add(key)
            yield node


def _flattened(
    selections: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    values: dict[str, Any],
    seen: frozenset[str],
) -> Iterator[FieldNode]:
    for selection in selections.selections:
        if not _included(selection, values):
            continue
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _flattened(selection.selection_set, fragments, values, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen:
                yield from _flattened(fragments[name].selection_set, fragments, values, seen | {name})


def _included(node: SelectionNode, values: dict[str, Any]) -> bool:
    for directive in node.directives or ():
        if directive.name.value not in ("skip", "include"):
            continue
        condition = next((a.value for a in directive.arguments or () if a.name.value == "if"), None)
        flag = value_from_ast_untyped(condition, values) if condition is not None else None
        if (directive.name.value == "skip") == bool(flag):
            return False
    return True


def _redacted(value: Any, definition: GraphQLArgument | GraphQLInputField | None) -> Any:
    """``value`` with every argument or input field marked ``@secret`` replaced."""
    if definition is None:
        return value
    if is_secret(definition):
        return REDACTED if value is not None else None
    return _redacted_of_type(value, definition.type)


def _redacted_of_type(value: Any, type_: Any) -> Any:
    type_ = get_nullable_type(type_)
    if isinstance(type_, GraphQLList):
        items = value if isinstance(value, list) else [value]
        redacted = [_redacted_of_type(item, type_.of_type) for item in items]
        return redacted if isinstance(value, list) else redacted[0]
    if isinstance(type_, GraphQLInputObjectType) and isinstance(value, dict):
        return {name: _redacted(item, type_.fields.get(name)) for name, item in value.items()}
    return value


@strawberry.type
class AuditEntry:
    id: strawberry.ID
    at: datetime
    action: str
    actor_id: str | None
    subject: str
    details: strawberry.scalars.JSON


@strawberry.type
class AuditQuery:
    @strawberry.field(description="Staff actions in a community, newest first (its admins only).")
    async def audit_log(
        self, info: Info, community_id: str, limit: Limit = 100, after: After = None
    ) -> list[AuditEntry]:
        actor = info.context.require_actor()
        if not (
            PLATFORM_ADMIN in actor.roles
            or (COMMUNITY_ADMIN in actor.roles and community_id in actor.communities)
        ):
            raise forbidden()
        limit, start = checked_limit(limit), after_uuid(after)
        async with info.context.pool.acquire() as conn:
            rows = await queries.community_audit_trail(conn, community_id, limit, start)
        return [
            AuditEntry(
                id=strawberry.ID(str(row["id"])),
                at=row["at"],
                action=row["action"],
                actor_id=row["actor_id"],
                subject=row["subject"],
                details=row["details"],
            )
            for row in rows
        ]
