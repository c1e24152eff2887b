"""The `linli` command: up, migrate, gateway, worker, token, schema, admin, commands,
dashboard-rebuild."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

from services.common.actor import ROLES, Actor
from services.common.masking import install_log_masking
from services.common.observability import configure_logging
from services.common.settings import Settings
from services.common.tokens import issue_token
from services.common.tracing import configure_tracing
from services.identity.domain import STAFF_ROLES


def _worker(name: str, settings: Settings) -> int:
    from services.activities.worker import ACTIVITIES_WORKER
    from services.common.worker import build_worker
    from services.notify.worker import NOTIFY_WORKER
    from services.volunteers.worker import VOLUNTEERS_WORKER

    workers = {w.name: w for w in (ACTIVITIES_WORKER, VOLUNTEERS_WORKER, NOTIFY_WORKER)}
    configure_tracing(settings, name)
    build_worker(workers[name], settings).run()
    return 0


def _gateway(settings: Settings) -> int:
    import uvicorn

    from services.gateway.app import create_app

    configure_tracing(settings, "gateway")
    # No access log: a line per request costs more than the request's own work in a burst;
    # /metrics counts and times every operation instead.
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,  # uvicorn logs through our JSON handler like every other process
        access_log=False,
    )
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    password = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != password:
        raise SystemExit("the two passwords differ")
    return password


def _as_platform(settings: Settings, work: Callable[[Any, Any, Settings], Awaitable[str]]) -> int:
    """Run ``work(pool, redis, settings)`` as the platform (whoever can run this can reach the
    database), after migrating; print what it says, or why it was refused."""
    from services.common.db import create_pool
    from services.common.errors import Refusal
    from services.common.migrations import migrate
    from services.common.queue import create_redis
    from services.launcher import resolve

    resolved, servers = resolve(settings)

    async def run() -> str:
        assert resolved.database_url and resolved.redis_url
        await migrate(resolved.direct_database_url)
        pool = await create_pool(resolved.database_url, 1, 2)
        redis = await create_redis(resolved.redis_url)
        try:
            return await work(pool, redis, resolved)
        finally:
            await redis.aclose()
            await pool.close()

    try:
        said = asyncio.run(run())
    except Refusal as refusal:
        print(f"refused ({refusal.code}): {refusal}", file=sys.stderr)
        return 1
    finally:
        servers.stop()
    print(said)
    return 0


def _operator() -> Actor:
    from services.common.actor import PLATFORM_ADMIN

    return Actor("cli-admin", frozenset({PLATFORM_ADMIN}), frozenset())


def _create_organiser(args: argparse.Namespace, settings: Settings) -> int:
    """Create a staff account for one community, or for every community of a street."""
    from services.identity.directory import Directory
    from services.identity.service import Identity

    password = _read_password(args.password_stdin)

    async def create(pool: Any, redis: Any, resolved: Settings) -> str:
        if args.street:
            row, staff = await Directory(pool).create_street_staff(
                _operator(), args.street, args.role, args.username, password, args.name
            )
            where = f"street {args.street} ({', '.join(sorted(staff.communities)) or 'no communities yet'})"
        else:
            row, _ = await Identity(pool, redis, resolved).create_organiser(
                _operator(), args.community, args.role, args.username, password, args.name
            )
            where = args.community
        return f"created {args.role} account {args.username} for {where}: {row['id']}"

    return _as_platform(settings, create)


def _directory_command(args: argparse.Namespace, settings: Settings) -> int:
    """``linli admin add-street|add-community|add-station|add-grid|set-desk-phone|directory``."""
    from services.identity import queries
    from services.identity.directory import Directory

    async def run(pool: Any, redis: Any, resolved: Settings) -> str:
        directory, operator = Directory(pool), _operator()
        command = args.admin_command
        if command == "add-street":
            row = await directory.add_street(operator, args.name, args.district, args.id)
            return f"added street {row['name']} ({row['district']}): {row['id']}"
        if command == "add-community":
            row = await directory.add_community(
                operator, args.name, args.street, args.short_name, args.desk_phone, args.id
            )
            return f"added community {row['name']} to {args.street}: {row['id']}"
        if command == "set-desk-phone":
            row = await directory.update_community(operator, args.community, desk_phone=args.phone)
            return f"{row['name']}: desk phone {row['desk_phone'] or '(none)'}"
        if command == "add-station":
            row = await directory.add_station(operator, args.community, args.name, args.address, args.phone)
            return f"added station {row['name']} at {row['address']}: {row['id']}"
        if command == "add-grid":
            row = await directory.add_grid(operator, args.community, args.name, args.building)
            return f"added grid {row['name']} ({', '.join(row['buildings'])}): {row['id']}"
        lines = []
        async with pool.acquire() as conn:
            for c in await queries.directory(conn, None, 10_000):
                street = f"{c['district']} {c['street_name']}".strip() or "(no street)"
                phone = f", desk {c['desk_phone']}" if c["desk_phone"] else ""
                lines.append(f"{street} / {c['name']} [{c['id']}]{phone}")
                for station in await queries.stations_of(conn, c["id"]):
                    lines.append(f"    station {station['name']}: {station['address']}")
                for grid in await queries.grids_of(conn, c["id"]):
                    lines.append(f"    grid {grid['name']}: {', '.join(grid['buildings'])}")
        return "\n".join(lines) or "the directory is empty"

    return _as_platform(settings, run)


def _commands_command(args: argparse.Namespace, settings: Settings) -> int:
    """List the commands given up on (dead letters), or send one again."""
    from services.common.commands import dead_commands, replay_dead_command

    async def run(pool: Any, redis: Any, resolved: Settings) -> str:
        if args.commands_command == "replay":
            replayed = await replay_dead_command(redis, resolved, args.service, args.entry)
            return f"sent again: {replayed.name} {replayed.command_id}"
        lines = []
        for service in args.service or COMMAND_SERVICES:
            for dead in await dead_commands(redis, resolved, service, args.limit):
                lines.append(json.dumps(dataclasses.asdict(dead), ensure_ascii=False))
        return "\n".join(lines) or "no dead commands"

    return _as_platform(settings, run)


COMMAND_SERVICES = ("activities", "volunteers", "notify")


def _dashboard_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild the dashboard's read model from the services' tables (services/notify/dashboard_rebuild.py)."""
    from services.notify.dashboard_rebuild import rebuild

    async def run(pool: Any, redis: Any, resolved: Settings) -> str:
        async with pool.acquire() as conn, conn.transaction():
            written = await rebuild(conn, args.community or None)
        where = ", ".join(args.community) if args.community else "every community"
        return f"dashboard rebuilt for {where}: {written} daily counts"

    return _as_platform(settings, run)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="linli", description="Linli (邻里) platform")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="run the whole platform (gateway and workers)")
    up.add_argument("--demo", action="store_true", help="load the demo festival")
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("gateway", help="run one gateway process")
    worker = sub.add_parser("worker", help="run one service's worker")
    worker.add_argument("service", choices=("activities", "volunteers", "notify"))
    token = sub.add_parser("token", help="print a development token")
    token.add_argument("--role", action="append", choices=sorted(ROLES), required=True)
    token.add_argument("--community", action="append", default=[])
    token.add_argument("--user", default=None, help="user id (default: <role>-dev)")
    sub.add_parser("schema", help="print the GraphQL SDL")
    admin = sub.add_parser("admin", help="administer accounts and the directory of places")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    create = admin_sub.add_parser(
        "create-organiser", help="create a staff account for one community or a whole street"
    )
    where = create.add_mutually_exclusive_group(required=True)
    where.add_argument("--community", help="the community's id")
    where.add_argument("--street", help="a street's id: the account covers all its communities")
    create.add_argument("--role", choices=sorted(STAFF_ROLES), required=True)
    create.add_argument("--username", required=True)
    create.add_argument("--name", default="", help="display name")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    street = admin_sub.add_parser("add-street", help="add a street (街道) to the directory")
    street.add_argument("--name", required=True, help="e.g. 城区街道")
    street.add_argument("--district", default="", help="the city or district, e.g. 灵武市")
    street.add_argument("--id", default=None, help="its id (default: made up)")
    community = admin_sub.add_parser("add-community", help="add a community (社区) to a street")
    community.add_argument("--name", required=True, help="e.g. 朔方社区")
    community.add_argument("--street", required=True, help="the street's id")
    community.add_argument("--short-name", default="", help="e.g. 朔方")
    community.add_argument("--desk-phone", default="", help="the community desk's phone")
    community.add_argument("--id", default=None, help="its id (default: made up)")
    desk = admin_sub.add_parser("set-desk-phone", help="set a community desk's phone")
    desk.add_argument("--community", required=True)
    desk.add_argument("--phone", required=True, help="e.g. 0951-4012345")
    station = admin_sub.add_parser("add-station", help="add a 邻里驿家 station to a community")
    station.add_argument("--community", required=True)
    station.add_argument("--name", required=True, help="e.g. 朔方社区邻里驿家")
    station.add_argument("--address", required=True)
    station.add_argument("--phone", default="")
    grid = admin_sub.add_parser("add-grid", help="add a 小区/网格 with its buildings to a community")
    grid.add_argument("--community", required=True)
    grid.add_argument("--name", required=True, help="e.g. 第一网格")
    grid.add_argument("--building", action="append", default=[], help="a building (楼栋); repeat")
    admin_sub.add_parser("directory", help="print the directory: streets, communities, stations, grids")
    commands = sub.add_parser("commands", help="commands given up on (dead letters): list, replay")
    commands_sub = commands.add_subparsers(dest="commands_command", required=True)
    dead = commands_sub.add_parser("dead", help="list dead commands, oldest first (JSON lines)")
    dead.add_argument("--service", action="append", choices=COMMAND_SERVICES, help="default: all")
    dead.add_argument("--limit", type=int, default=100, help="at most this many per service")
    replay = commands_sub.add_parser("replay", help="send a dead command to its service again")
    replay.add_argument("service", choices=COMMAND_SERVICES)
    replay.add_argument("entry", help="its entry id, as `linli commands dead` prints it")
    rebuild = sub.add_parser(
        "dashboard-rebuild",
        help="rebuild the dashboard's counts from the services' tables (run with the workers stopped)",
    )
    rebuild.add_argument("--community", action="append", default=[], help="only this; repeat (default: all)")
    args = parser.parse_args(argv)

    try:  # the environment as it is now: main() may run more than once in one process (tests)
        settings = Settings()
    except ValidationError as refused:  # e.g. production with a weak LINLI_SECRET: say why, plainly
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in refused.errors())
        raise SystemExit(f"linli: refusing to start: {problems}") from None
    process_name = f"{args.service}-worker" if args.command == "worker" else args.command
    configure_logging(process_name, json_lines=settings.log_format == "json")

    install_log_masking()

    if args.command == "up":
        from services.launcher import up as run_up

        return run_up(settings, demo=args.demo)
    if args.command == "migrate":
        from services.common.migrations import migrate
        from services.launcher import resolve

        resolved, servers = resolve(settings)
        assert resolved.database_url
        applied = asyncio.run(migrate(resolved.direct_database_url))
        print("applied:", ", ".join(applied) or "nothing, already up to date")
        servers.stop()
        return 0
    if args.command == "gateway":
        return _gateway(settings)
    if args.command == "worker":
        return _worker(args.service, settings)
    if args.command == "token":
        actor = Actor(
            user_id=args.user or f"{args.role[0]}-dev",
            roles=frozenset(args.role),
            communities=frozenset(args.community),
        )
        print(issue_token(actor, settings.secret, settings.dev_token_ttl_s))
        return 0
    if args.command == "admin":
        if args.admin_command == "create-organiser":
            return _create_organiser(args, settings)
        return _directory_command(args, settings)
    if args.command == "commands":
        return _commands_command(args, settings)
    if args.command == "dashboard-rebuild":
        return _dashboard_rebuild(args, settings)
    if args.command == "schema":
        from services.gateway.schema import sdl

        sys.stdout.write(sdl())
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
