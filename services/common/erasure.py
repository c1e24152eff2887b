"""A resident's account deleted (PIPL): what each service is told, and how it scrubs text.

The gateway sends every service an ``erase_resident`` command naming the resident, the
pseudonym their kept records go on under, and the strings that identify them (their name,
phone numbers, household members' names). Each service erases its own rows of theirs and
replaces those strings wherever its free text or event payloads repeat them; identity erases
its own last, so a failure part-way can be retried with the same request. The identifying
strings travel only in the command (Redis, deleted once answered), never in a table.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from services.common.actor import Actor
from services.common.commands import Command, command
from services.common.db import Connection
from services.common.errors import forbidden

ERASE_RESIDENT = "erase_resident"  # the command every queued service answers
# Shorter strings (a one-character name) would match unrelated text: they are not scrubbed
# textually, only the rows that belong to the resident are.
MIN_NEEDLE = 2
# In the payload of an event an erasure caused (a sign-up it cancelled, a shift it released, a
# wish it gave back), the erased person's id: they are told nothing, the others as usual.
ACCOUNT_ERASED = "account_erased"


@dataclass(frozen=True)
class Erasure:
    resident_id: str
    pseudonym: str
    needles: tuple[str, ...]  # name, phones, household members' names: longest first

    def as_args(self) -> dict[str, Any]:
        return {"resident_id": self.resident_id, "pseudonym": self.pseudonym, "needles": list(self.needles)}

    @classmethod
    def from_args(cls, args: dict[str, Any]) -> Erasure:
        return cls(str(args["resident_id"]), str(args["pseudonym"]), tuple(str(n) for n in args["needles"]))


ERASED_RESIDENT = "已注销居民"


def pseudonym_for(resident_id: str) -> str:
    """What the kept records (sign-ups, hours, audit) call a deleted resident: stable, and
    meaningless without the account, which no longer names anyone."""
    return f"{ERASED_RESIDENT}-" + hashlib.sha256(resident_id.encode()).hexdigest()[:8]


def is_pseudonym(name: str) -> bool:
    return name.startswith(f"{ERASED_RESIDENT}-")


def erasure_of(resident_id: str, strings: Iterable[str | None]) -> Erasure:
    """The erasure of a resident, given every string that names or reaches them."""
    needles = {s.strip() for s in strings if s and len(s.strip()) >= MIN_NEEDLE}
    # Longest first: "王秀兰" is replaced before a household member called "秀兰" could split it.
    ordered = tuple(sorted(needles, key=lambda s: (-len(s), s)))
    return Erasure(resident_id, pseudonym_for(resident_id), ordered)


def erased_by(payload: dict[str, Any]) -> str | None:
    """The erased person whose erasure caused this event, or None for any other event."""
    person = payload.get(ACCOUNT_ERASED)
    return None if person is None else str(person)


def check_own(actor: Actor, erasure: Erasure) -> None:
    """Only the resident themself (or the platform) deletes an account."""
    if actor.user_id != erasure.resident_id and "platform_admin" not in actor.roles:
        raise forbidden()


def _json_text(value: str) -> str:
    """How ``value`` appears inside a jsonb's text (its escapes, without the quotes)."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


async def scrub(
    conn: Connection,
    table: str,
    column: str,
    needles: Sequence[str],
    replacement: str,
    *,
    jsonb: bool = False,
    where: str = "TRUE",
    args: Sequence[Any] = (),
) -> int:
    """Replace every needle in ``table.column`` (text or jsonb) by ``replacement``, in the rows
    ``where`` picks (its parameters from $3 on); rows changed."""
    changed = 0
    text = f"{column}::text" if jsonb else column
    new_value = f"replace({text}, $1, $2)" + ("::jsonb" if jsonb else "")
    for needle in needles:
        old, new = (_json_text(needle), _json_text(replacement)) if jsonb else (needle, replacement)
        status = await conn.execute(
            f"UPDATE {table} SET {column} = {new_value} WHERE strpos({text}, $1) > 0 AND ({where})",
            old,
            new,
            *args,
        )
        changed += int(status.split()[-1])
    return changed


async def scrub_outbox(conn: Connection, schema: str, erasure: Erasure) -> int:
    """The service's events still kept (relayed or not) no longer name the resident."""
    return await scrub(conn, f"{schema}.outbox", "payload", erasure.needles, erasure.pseudonym, jsonb=True)


def erase_commands(service: str, erase: Callable[[Connection, Erasure], Awaitable[int]]) -> list[Command]:
    """A service's ``erase_resident`` command: checks whose data it is, then ``erase`` in one
    transaction; answers how many rows changed."""

    async def erase_resident(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
        erasure = Erasure.from_args(args)
        check_own(actor, erasure)
        async with ctx["pool"].acquire() as conn, conn.transaction():
            changed = await erase(conn, erasure)
        return {"service": service, "changed": changed}

    return [command(ERASE_RESIDENT, erase_resident)]
