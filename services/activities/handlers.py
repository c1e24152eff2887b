"""Activities commands: load, decide with the domain, save and record events in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

import asyncpg

from services.activities import attendance, contracts, domain
from services.activities import repository as repo
from services.common import tracing
from services.common.actor import RESIDENT, Actor
from services.common.clock import LOCAL_TZ, now
from services.common.commands import Envelope, Reply, batch_command, command, key_reused
from services.common.db import Connection
from services.common.errors import Refusal, forbidden
from services.common.observability import SIGNUPS, correlation_id
from services.common.outbox import record_event, record_events
from services.common.rules import check_new_span

SCHEMA = contracts.SERVICE
_T = TypeVar("_T")


def _pool(ctx: dict[str, Any]) -> asyncpg.Pool:
    pool: asyncpg.Pool = ctx["pool"]
    return pool


def _optional_time(args: dict[str, Any], name: str) -> datetime | None:
    value = args.get(name)
    return None if value is None else datetime.fromisoformat(value)


def _optional_int(args: dict[str, Any], name: str, default: int) -> int:
    value = args.get(name)
    return default if value is None else int(value)


async def create_festival(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    limit = args.get("max_sessions_per_resident")
    plan = domain.check_festival(
        domain.FestivalPlan(
            name=args["name"],
            community_ids=tuple(args["community_ids"]),
            starts_on=date.fromisoformat(args["starts_on"]),
            ends_on=date.fromisoformat(args["ends_on"]),
            max_sessions_per_resident=None if limit is None else int(limit),
        ),
        today=now().astimezone(LOCAL_TZ).date(),
    )
    if not all(actor.may_organise(community) for community in plan.community_ids):
        raise forbidden()
    published = bool(args.get("published", True))
    async with _pool(ctx).acquire() as conn:
        row = await repo.insert_festival(conn, uuid.UUID(args["id"]), plan, actor.user_id, published)
    return repo.as_dict(row)


async def publish_festival(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """Show a festival to residents, or hide it again; setting the same state twice is harmless."""
    festival_id = uuid.UUID(args["festival_id"])
    async with _pool(ctx).acquire() as conn:
        festival = await repo.get_festival(conn, festival_id)
        if festival is None:
            raise domain.unknown_festival()
        if not all(actor.may_organise(c) for c in festival["community_ids"]):
            raise forbidden()
        row = await repo.set_festival_published(conn, festival_id, bool(args["published"]))
    assert row is not None
    return repo.as_dict(row)


async def create_venue(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    plan = domain.check_venue(
        domain.VenuePlan(
            community_id=args["community_id"],
            name=args["name"],
            kind=domain.VenueKind(args["kind"]),
            capacity=int(args["capacity"]),
            address=str(args.get("address") or ""),
        )
    )
    if not actor.may_organise(plan.community_id):
        raise forbidden()
    async with _pool(ctx).acquire() as conn:
        row = await repo.insert_venue(conn, uuid.UUID(args["id"]), plan, actor.user_id)
    if row is None:
        raise domain.venue_name_taken()
    return repo.as_dict(row)


async def create_activity(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    plan = domain.check_activity(
        domain.ActivityPlan(
            title=args["title"],
            category=args.get("category", ""),
            description=args.get("description", ""),
            age_bands=tuple(domain.AgeBand(band) for band in args.get("age_bands", ())),
            children_need_adult=bool(args.get("children_need_adult", False)),
        )
    )
    community_id = args["community_id"]
    if not actor.may_organise(community_id):
        raise forbidden()
    async with _pool(ctx).acquire() as conn:
        festival = await repo.get_festival(conn, uuid.UUID(args["festival_id"]))
        if festival is None:
            raise domain.unknown_festival()
        if community_id not in festival["community_ids"]:
            raise domain.community_outside_festival()
        row = await repo.insert_activity(conn, uuid.UUID(args["id"]), festival["id"], community_id, plan)
    return repo.as_dict(row)


async def schedule_session(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """Book a session; in a venue, only where it fits the room and no other session overlaps.

    The venue row is locked while the clash is decided, so two organisers booking the same
    room at once are served one after the other (the exclusion constraint stays as a backstop).
    A free-text ``venue`` (no venue id) books nothing and is checked against nothing.
    """
    venue_id = uuid.UUID(args["venue_id"]) if args.get("venue_id") else None
    session_id = uuid.UUID(args["id"])
    async with _pool(ctx).acquire() as conn, conn.transaction():
        activity = await repo.get_activity(conn, uuid.UUID(args["activity_id"]))
        if activity is None:
            raise domain.unknown_activity()
        if not actor.may_organise(activity["community_id"]):
            raise forbidden()
        venue = await repo.lock_venue(conn, venue_id) if venue_id else None
        if venue_id and (venue is None or venue["community_id"] != activity["community_id"]):
            raise domain.unknown_venue()
        plan = domain.check_session(
            domain.SessionPlan(
                venue=venue["name"] if venue else args.get("venue") or "",
                starts_at=datetime.fromisoformat(args["starts_at"]),
                ends_at=datetime.fromisoformat(args["ends_at"]),
                capacity=int(args["capacity"]),
                registration_opens_at=_optional_time(args, "registration_opens_at"),
                registration_closes_at=_optional_time(args, "registration_closes_at"),
                # 0 is refused as it is, not taken for "the default"
                max_party_size=_optional_int(args, "max_party_size", domain.MAX_PARTY_SIZE),
                cancellation_deadline=_optional_time(args, "cancellation_deadline"),
            ),
            now=now(),
        )
        if venue is not None:
            existing = await repo.get_session(conn, session_id)
            if existing is not None:  # the same request again: the same answer
                return repo.as_dict(existing)
            await _check_venue(conn, venue, plan.starts_at, plan.ends_at, plan.capacity, None)
        row = await _clash_checked(
            venue,
            repo.insert_session(conn, session_id, activity["id"], activity["community_id"], plan, venue_id),
        )
    return repo.as_dict(row)


async def _check_venue(
    conn: Connection,
    venue: asyncpg.Record,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
    moving: uuid.UUID | None,
) -> None:
    """Refuse a booking above the room's capacity or overlapping another (venue locked)."""
    domain.fits_venue(capacity, venue["capacity"], venue["name"])
    bookings = [
        domain.Booking(row["id"], row["starts_at"], row["ends_at"])
        for row in await repo.bookings_between(conn, venue["id"], starts_at, ends_at)
    ]
    clash = domain.first_clash(starts_at, ends_at, bookings, ignoring=moving)
    if clash is not None:
        raise domain.venue_clash(clash, venue["name"])


async def _clash_checked(venue: asyncpg.Record | None, write: Awaitable[_T]) -> _T:
    """Run a write that books a venue; should the constraint catch a clash the lock missed,
    answer with the same refusal rather than an error."""
    try:
        return await write
    except asyncpg.exceptions.ExclusionViolationError as exc:
        name = venue["name"] if venue else ""
        raise Refusal(
            "VENUE_CLASH",
            f"{name}在该时段已被其他场次占用",
            f"{name} is already booked at an overlapping time",
        ) from exc


@dataclass
class _Arrival:
    """One sign-up command of a batch, with its answer once decided."""

    envelope: Envelope
    signup_id: uuid.UUID
    session_id: uuid.UUID
    party_size: int
    attendees: tuple[dict[str, str], ...] = ()
    include_me: bool = True
    reply: Reply | None = None

    @property
    def resident_id(self) -> str:
        return self.envelope.actor.user_id


def _arrival(envelope: Envelope) -> _Arrival:
    """Check one sign-up on its own; a refused one carries its answer already."""
    args = envelope.args
    arrival = _Arrival(envelope, uuid.UUID(args["id"]), uuid.UUID(args["session_id"]), 1)
    try:
        if not envelope.actor.has_role(RESIDENT):
            raise forbidden()
        # Household members were checked against identity's records by the gateway.
        attendees = tuple(
            {"id": str(a["id"]), "name": str(a["name"]), "age_band": str(a["age_band"])}
            for a in args.get("attendees", ())
        )
        party_size = args.get("party_size")
        arrival.include_me = bool(args.get("include_me", True))
        arrival.party_size = domain.party_with(
            [a["id"] for a in attendees],
            None if party_size is None else int(party_size),
            arrival.include_me,
        )
        arrival.attendees = attendees
    except Refusal as refusal:
        arrival.reply = Reply(refusal=refusal)
    return arrival


async def sign_up(ctx: dict[str, Any], envelopes: Sequence[Envelope]) -> list[Reply]:
    """Sign-ups arriving together, decided in one transaction, first come first served.

    The sessions are locked (in id order) while the domain checks each arrival (window, party
    size, festival limit, who comes along) and places every party; seat counts, sign-ups and
    their events are then written with one statement each. Where a festival limits sessions per
    resident, that resident's sign-ups in it are serialised by an advisory lock, so batches for
    different sessions cannot both take the last one. A repeated request (same id) gets the
    sign-up it made before.
    """
    arrivals = [_arrival(envelope) for envelope in envelopes]
    open_ = [a for a in arrivals if a.reply is None]
    async with _pool(ctx).acquire() as conn, conn.transaction():
        before = await repo.get_signups(conn, [a.signup_id for a in open_])
        for arrival in open_:
            earlier = before.get(arrival.signup_id)
            if earlier is not None and earlier["session_id"] != arrival.session_id:
                # the same key for another session (after the bus forgot the key): a mistake
                arrival.reply = Reply(refusal=key_reused())
            elif earlier is not None:  # the same request again: same answer, no second seat
                arrival.reply = Reply(value=repo.as_dict(earlier))
        open_ = [a for a in open_ if a.reply is None]
        sessions = await repo.lock_sessions_for_signup(conn, [a.session_id for a in open_])
        live = await repo.live_signups_among(
            conn, [a.session_id for a in open_], [a.resident_id for a in open_]
        )
        limited = sorted(
            {
                (sessions[a.session_id]["festival_id"], a.resident_id)
                for a in open_
                if a.session_id in sessions and sessions[a.session_id]["max_sessions_per_resident"]
            }
        )
        if limited:
            await repo.lock_festival_residents(conn, limited)
        held = await repo.festival_signups_held(conn, limited)
        at = now()
        by_session: dict[uuid.UUID, list[_Arrival]] = {}
        for arrival in open_:
            session = sessions.get(arrival.session_id)
            refusal = _refusal_for(arrival, session, live, held, at)
            if refusal is not None:
                arrival.reply = Reply(refusal=refusal)
                continue
            assert session is not None
            live.add((arrival.session_id, arrival.resident_id))
            festival_resident = (session["festival_id"], arrival.resident_id)
            held[festival_resident] = held.get(festival_resident, 0) + 1
            by_session.setdefault(arrival.session_id, []).append(arrival)

        new_signups: list[repo.NewSignup] = []
        positions: dict[uuid.UUID, int | None] = {}
        taken: dict[uuid.UUID, int] = {}
        for session_id, group in by_session.items():
            session = sessions[session_id]
            placements, taken[session_id] = domain.place_arrivals(
                session["capacity"], session["taken"], session["waiting"], [a.party_size for a in group]
            )
            for arrival, placement in zip(group, placements, strict=True):
                positions[arrival.signup_id] = placement.waitlist_position
                new_signups.append(
                    repo.NewSignup(
                        arrival.signup_id,
                        session_id,
                        arrival.resident_id,
                        arrival.party_size,
                        placement.status,
                        arrival.envelope.args["key"],
                        arrival.attendees,
                        # the grid worker who signed the resident up (the gateway checked them)
                        arrival.envelope.args.get("on_behalf_of"),
                    )
                )
        if new_signups:
            await repo.set_seats_taken(conn, taken)
            rows = await repo.insert_signups(conn, new_signups)
            # each event continues its own request: its correlation id and trace
            origin = {a.signup_id: (a.envelope.correlation_id, a.envelope.traceparent) for a in open_}
            events = []
            for row in rows:
                event = (
                    contracts.SIGNUP_CONFIRMED
                    if row["status"] == domain.SignupStatus.CONFIRMED
                    else contracts.SIGNUP_WAITLISTED
                )
                events.append((event, _signup_event(sessions[row["session_id"]], row), *origin[row["id"]]))
            await record_events(conn, SCHEMA, events)
            made = {row["id"]: row for row in rows}
            for arrival in open_:
                if arrival.reply is None:
                    value = {**repo.as_dict(made[arrival.signup_id])}
                    value["waitlist_position"] = positions[arrival.signup_id]
                    arrival.reply = Reply(value=value)
    replies = [a.reply for a in arrivals if a.reply is not None]
    assert len(replies) == len(arrivals), "every sign-up gets an answer"
    for reply in replies:
        SIGNUPS.labels(reply.refusal.code if reply.refusal else reply.unwrap()["status"]).inc()
    return replies


def _refusal_for(
    arrival: _Arrival,
    session: asyncpg.Record | None,
    live: set[tuple[uuid.UUID, str]],
    held: dict[tuple[uuid.UUID, str], int],
    at: datetime,
) -> Refusal | None:
    """Why this arrival may not sign up, given what the batch has accepted so far."""
    if session is None:
        return domain.unknown_session()
    if session["status"] == domain.SessionStatus.CANCELLED:
        return domain.session_cancelled()
    if not session["festival_published"]:
        return domain.festival_not_published()
    if (arrival.session_id, arrival.resident_id) in live:
        return domain.already_signed_up()
    held_in_festival = held.get((session["festival_id"], arrival.resident_id), 0)
    return domain.signup_refusal(
        _terms(session), arrival.party_size, at, held_in_festival
    ) or domain.attendance_refusal(
        session["age_bands"],
        session["children_need_adult"],
        [a["age_band"] for a in arrival.attendees],
        arrival.include_me,
    )


def _terms(session: asyncpg.Record) -> domain.SignupTerms:
    return domain.SignupTerms(
        registration_opens_at=session["registration_opens_at"],
        registration_closes_at=session["registration_closes_at"],
        max_party_size=session["max_party_size"],
        max_sessions_per_resident=session["max_sessions_per_resident"],
        ends_at=session["ends_at"],
    )


async def _lock_own_signup(
    conn: Connection, signup_id: uuid.UUID, actor: Actor
) -> tuple[asyncpg.Record, asyncpg.Record]:
    """The actor's own sign-up and its session, locked (session first, as every writer does)."""
    found = await repo.get_signup(conn, signup_id)
    if found is None:
        raise domain.unknown_signup()
    if found["resident_id"] != actor.user_id:
        raise forbidden()
    session = await repo.lock_session(conn, found["session_id"])
    signup = await repo.lock_signup(conn, signup_id)
    assert session is not None and signup is not None
    return session, signup


async def cancel_signup(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """A resident withdraws; freed seats go to the waitlist in the same transaction."""
    signup_id = uuid.UUID(args["signup_id"])
    key = args["key"]
    async with _pool(ctx).acquire() as conn, conn.transaction():
        session, signup = await _lock_own_signup(conn, signup_id, actor)
        if signup["status"] == domain.SignupStatus.CANCELLED:
            if signup["cancel_key"] == key:  # this very request again: the same answer
                return repo.as_dict(signup)
            raise domain.already_cancelled()
        at = now()
        # The sign-up's lock makes a check-in at the door and this cancellation take turns.
        checked_in = await attendance.checked_in_at(conn, signup_id)
        refusal = domain.cancellation_refusal(
            session["cancellation_deadline"], at, signup["free_cancel"], checked_in
        )
        if refusal is not None:
            raise refusal
        cancelled = await withdraw(conn, session, signup, key, at)
        if args.get("on_behalf_of"):  # a grid worker withdrew it for the resident (checked by the gateway)
            await repo.mark_cancelled_by_proxy(conn, signup_id, str(args["on_behalf_of"]))
    return repo.as_dict(cancelled)


async def withdraw(
    conn: Connection,
    session: asyncpg.Record,
    signup: asyncpg.Record,
    key: str,
    at: datetime,
    event_extra: dict[str, Any] | None = None,
) -> asyncpg.Record:
    """Cancel a live sign-up (the caller locked its session, then it): its seats are freed,
    the waitlist is promoted in the same transaction and ``signup.cancelled`` recorded (with
    ``event_extra``). The one way a sign-up is withdrawn, by its resident or by their erasure."""
    [cancelled] = await repo.cancel_signups(conn, [signup["id"]], key, at)
    taken = session["taken"]
    freed = domain.seats_held(signup["status"], signup["party_size"])
    if freed:
        released = await repo.release_seats(conn, session["id"], freed)
        if released is None:
            raise RuntimeError(f"session {session['id']} holds fewer seats than it sold")
        taken = released
    await _promote_from_waitlist(conn, session, taken)
    payload = {**_signup_event(session, signup), "seats_freed": freed, **(event_extra or {})}
    await record_event(conn, SCHEMA, contracts.SIGNUP_CANCELLED, payload)
    return cancelled


async def cancel_party_members(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """Some of a party no longer come (one of a couple fell ill): they are taken off, the rest
    keep the sign-up and its ticket, and the seats freed go to the waitlist at once, by the same
    rules and in the same transaction as a whole cancellation."""
    signup_id = uuid.UUID(args["signup_id"])
    key = str(args["key"])
    async with _pool(ctx).acquire() as conn, conn.transaction():
        session, signup = await _lock_own_signup(conn, signup_id, actor)
        if await repo.party_change_made(conn, signup_id, key):  # this very request again
            return repo.as_dict(signup)
        if signup["status"] == domain.SignupStatus.CANCELLED:
            raise domain.already_cancelled()
        at = now()
        checked_in = await attendance.checked_in_at(conn, signup_id)
        refusal = domain.cancellation_refusal(
            session["cancellation_deadline"], at, signup["free_cancel"], checked_in
        )
        if refusal is not None:
            raise refusal
        cut = domain.cut_party(
            repo.attendees_of(signup),
            signup["party_size"],
            [str(i) for i in args.get("attendee_ids", ())],
            bool(args.get("me", False)),
        )
        dropped = [{"id": a["id"], "name": a["name"]} for a in cut.dropped]
        change = {
            "key": key,
            "dropped": dropped + ([{"id": "me", "name": ""}] if cut.dropped_me else []),
            "party_before": signup["party_size"],
            "asked_by": str(args.get("on_behalf_of") or actor.user_id),
            "at": at,
        }
        await repo.reduce_party(conn, signup_id, cut.attendees, cut.party_size, change)
        taken = session["taken"]
        freed = domain.seats_held(signup["status"], signup["party_size"] - cut.party_size)
        if freed:
            released = await repo.release_seats(conn, session["id"], freed)
            if released is None:
                raise RuntimeError(f"session {session['id']} holds fewer seats than it sold")
            taken = released
        # A waiting party that shrank may fit now, as may those behind it: the same walk.
        await _promote_from_waitlist(conn, session, taken)
        reduced = await repo.get_signup(conn, signup_id)  # promoted itself, perhaps, if it waited
        assert reduced is not None
        payload = {
            **_signup_event(session, reduced),
            "status": reduced["status"],
            "dropped": [a["name"] for a in cut.dropped],
            "dropped_me": cut.dropped_me,
            "kept": [a["name"] for a in cut.attendees],
            "kept_me": cut.include_me,
            # for the dashboard: the seats given back and the age bands of who no longer comes
            "seats_freed": freed,
            "freed_bands": [a["age_band"] for a in cut.dropped],
        }
        await record_event(conn, SCHEMA, contracts.SIGNUP_PARTY_REDUCED, payload)
    return repo.as_dict(reduced)


async def _promote_from_waitlist(conn: Connection, session: asyncpg.Record, taken: int) -> None:
    """Confirm the waiting parties that now fit (the domain decides who), reserve their seats
    and tell each of them. The caller holds the session lock, so ``taken`` is current."""
    waitlist = await repo.lock_waitlist(conn, session["id"])
    chosen = set(
        domain.promotions(session["capacity"], taken, [(row["id"], row["party_size"]) for row in waitlist])
    )
    if not chosen:
        return
    promoted = [row for row in waitlist if row["id"] in chosen]
    seats = sum(row["party_size"] for row in promoted)
    if not await repo.reserve_seats(conn, session["id"], seats):
        raise RuntimeError(f"seats of session {session['id']} moved under its lock")
    await repo.confirm_signups(conn, [row["id"] for row in promoted])
    for row in promoted:
        await record_event(conn, SCHEMA, contracts.WAITLIST_PROMOTED, _signup_event(session, row))


async def cancel_session(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """An organiser calls a session off: every live sign-up is cancelled and its resident told."""
    reason = domain.check_reason(args["reason"])
    session_id = uuid.UUID(args["session_id"])
    key = args["key"]
    async with _pool(ctx).acquire() as conn, conn.transaction():
        session = await repo.lock_session(conn, session_id)
        if session is None:
            raise domain.unknown_session()
        if not actor.may_organise(session["community_id"]):
            raise forbidden()
        if session["status"] == domain.SessionStatus.CANCELLED:
            if session["cancel_key"] == key:  # this very request again: the same answer
                return repo.as_dict(session)
            raise domain.already_cancelled()
        live = await repo.lock_live_signups(conn, session_id)
        # No cancel key on the sign-ups: it names the organiser's request, not a resident's.
        await repo.cancel_signups(conn, [row["id"] for row in live], None, now())
        freed = sum(domain.seats_held(row["status"], row["party_size"]) for row in live)
        if freed and await repo.release_seats(conn, session_id, freed) is None:
            raise RuntimeError(f"session {session_id} holds fewer seats than it sold")
        row = await repo.mark_session_cancelled(conn, session_id, reason, key, now())
        for signup in live:
            freed_here = domain.seats_held(signup["status"], signup["party_size"])
            payload = {**_signup_event(session, signup), "reason": reason, "seats_freed": freed_here}
            await record_event(conn, SCHEMA, contracts.SESSION_CANCELLED, payload)
    return repo.as_dict(row)


async def _standing_session_to_change(
    conn: Connection, actor: Actor, session_id: uuid.UUID
) -> asyncpg.Record:
    """The session, locked, if it still stands and the actor organises its community."""
    session = await repo.lock_session(conn, session_id)
    if session is None:
        raise domain.unknown_session()
    if not actor.may_organise(session["community_id"]):
        raise forbidden()
    if session["status"] == domain.SessionStatus.CANCELLED:
        raise domain.session_cancelled()
    return session


async def _applied_before(conn: Connection, args: dict[str, Any], session: asyncpg.Record) -> bool:
    """True if this very change request was applied before (its command is being run again):
    the caller then answers with the session as it is, changing nothing. (Commands sent before
    requests carried a ``change_key`` are taken as new.)"""
    key = args.get("change_key")
    return key is not None and not await repo.first_change(conn, str(key), session["id"])


async def change_session_capacity(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """More (or fewer) places; added places go to the head of the waitlist at once."""
    session_id = uuid.UUID(args["session_id"])
    async with _pool(ctx).acquire() as conn, conn.transaction():
        session = await _standing_session_to_change(conn, actor, session_id)
        if await _applied_before(conn, args, session):
            return repo.as_dict(session)
        capacity = domain.check_new_capacity(int(args["capacity"]), session["taken"])
        if session["venue_capacity"] is not None:
            domain.fits_venue(capacity, session["venue_capacity"], session["venue"])
        if capacity == session["capacity"]:  # nothing changes (a replayed request)
            return repo.as_dict(session)
        await repo.set_capacity(conn, session_id, capacity)
        # seat counts on screens follow events; promotions below tell the promoted themselves
        change = {"session_id": str(session_id), "capacity": capacity, "old_capacity": session["capacity"]}
        await record_event(conn, SCHEMA, contracts.SESSION_CAPACITY_CHANGED, change)
        resized = await repo.lock_session(conn, session_id)
        assert resized is not None
        await _promote_from_waitlist(conn, resized, resized["taken"])
        row = await repo.get_session(conn, session_id)
    assert row is not None
    return repo.as_dict(row)


async def move_session(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """A new time and/or venue (checked like a new booking); everyone signed up or waiting is
    told, and may then withdraw even past the cancellation deadline."""
    session_id = uuid.UUID(args["session_id"])
    async with _pool(ctx).acquire() as conn, conn.transaction():
        session = await _standing_session_to_change(conn, actor, session_id)
        if await _applied_before(conn, args, session):
            return repo.as_dict(session)
        starts_at = _optional_time(args, "starts_at") or session["starts_at"]
        ends_at = _optional_time(args, "ends_at") or session["ends_at"]
        domain.check_times(starts_at, ends_at)
        if (starts_at, ends_at) != (session["starts_at"], session["ends_at"]):
            check_new_span(starts_at, ends_at, now())
        venue_id = uuid.UUID(args["venue_id"]) if args.get("venue_id") else session["venue_id"]
        venue = await repo.lock_venue(conn, venue_id) if venue_id else None
        if venue_id and (venue is None or venue["community_id"] != session["community_id"]):
            raise domain.unknown_venue()
        before = domain.Move(session["starts_at"], session["ends_at"], session["venue_id"], session["venue"])
        after = domain.Move(starts_at, ends_at, venue_id, venue["name"] if venue else session["venue"])
        notice = domain.reschedule_notice(before, after)
        if notice is None:  # nothing changes (a replayed move): no second notice
            return repo.as_dict(session)
        if venue is not None:
            await _check_venue(conn, venue, starts_at, ends_at, session["capacity"], session_id)
        at = now()
        await _clash_checked(
            venue, repo.move_session(conn, session_id, starts_at, ends_at, venue_id, after.venue, at)
        )
        live = await repo.lock_live_signups(conn, session_id)
        await repo.free_cancellation(conn, [row["id"] for row in live])
        moved = await repo.lock_session(conn, session_id)  # already ours: as it is now, for the dashboard
        assert moved is not None
        facts = {"session_facts": domain.dashboard_facts(moved)}
        cid, parent = correlation_id.get(), tracing.current_traceparent()
        await record_events(
            conn,
            SCHEMA,
            [
                (
                    contracts.SESSION_RESCHEDULED,
                    {**_signup_event(session, row), **notice, **facts},
                    cid,
                    parent,
                )
                for row in live
            ],
        )
        row = await repo.get_session(conn, session_id)
    assert row is not None
    return repo.as_dict(row)


def _signup_event(session: asyncpg.Record, signup: asyncpg.Record) -> dict[str, Any]:
    """What every sign-up event tells its consumers."""
    return {
        "signup_id": str(signup["id"]),
        "session_id": str(session["id"]),
        "resident_id": signup["resident_id"],
        "party_size": signup["party_size"],
        "activity_title": session["activity_title"],
        "venue": session["venue"],
        "starts_at": session["starts_at"].isoformat(),
        "festival_id": str(session["festival_id"]),
        "community_id": session["community_id"],
        # for the dashboard: age bands of the household members along (never their names;
        # the one who signed up, if going, is counted with an unknown age), and the session
        "attendee_bands": [a["age_band"] for a in repo.attendees_of(signup)],
        "session_facts": domain.dashboard_facts(session),
    }


COMMANDS = [
    command(contracts.CREATE_FESTIVAL, create_festival),
    command(contracts.PUBLISH_FESTIVAL, publish_festival),
    command(contracts.CREATE_VENUE, create_venue),
    command(contracts.CHANGE_SESSION_CAPACITY, change_session_capacity),
    command(contracts.MOVE_SESSION, move_session),
    command(contracts.CREATE_ACTIVITY, create_activity),
    command(contracts.SCHEDULE_SESSION, schedule_session),
    batch_command(contracts.SIGN_UP, sign_up),
    command(contracts.CANCEL_SIGNUP, cancel_signup),
    command(contracts.CANCEL_PARTY_MEMBERS, cancel_party_members),
    command(contracts.CANCEL_SESSION, cancel_session),
]
