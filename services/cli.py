"""The `linli` command: up, migrate, gateway, worker, token, schema."""

from __future__ import annotations

import argparse
import asyncio
import sys

from pydantic import ValidationError

from services.common.actor import ROLES, Actor
from services.common.masking import install_log_masking
from services.common.observability import configure_logging
from services.common.settings import Settings, get_settings
from services.common.tokens import issue_token
from services.identity.domain import STAFF_ROLES


def _worker(name: str) -> int:
    from services.activities.worker import ACTIVITIES_WORKER
    from services.common.worker import build_worker
    from services.notify.worker import NOTIFY_WORKER
    from services.volunteers.worker import VOLUNTEERS_WORKER

    workers = {w.name: w for w in (ACTIVITIES_WORKER, VOLUNTEERS_WORKER, NOTIFY_WORKER)}
    build_worker(workers[name], get_settings()).run()
    return 0


def _gateway() -> int:
    import uvicorn

    from services.gateway.app import create_app

    settings = get_settings()
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


def _create_organiser(args: argparse.Namespace, settings: Settings) -> int:
    """Create a staff account as the platform (whoever can run this can reach the database)."""
    from services.common.actor import PLATFORM_ADMIN
    from services.common.db import create_pool
    from services.common.errors import Refusal
    from services.common.migrations import migrate
    from services.common.queue import create_redis
    from services.identity.service import Identity
    from services.launcher import resolve

    password = _read_password(args.password_stdin)
    resolved, servers = resolve(settings)
    operator = Actor("cli-admin", frozenset({PLATFORM_ADMIN}), frozenset())

    async def create() -> str:
        assert resolved.database_url and resolved.redis_url
        await migrate(resolved.direct_database_url)
        pool = await create_pool(resolved.database_url, 1, 2)
        redis = await create_redis(resolved.redis_url)
        try:
            row, _ = await Identity(pool, redis, resolved).create_organiser(
                operator, args.community, args.role, args.username, password, args.name
            )
            return str(row["id"])
        finally:
            await redis.aclose()
            await pool.close()

    try:
        account_id = asyncio.run(create())
    except Refusal as refusal:
        print(f"refused ({refusal.code}): {refusal}", file=sys.stderr)
        return 1
    finally:
        servers.stop()
    print(f"created {args.role} account {args.username} for {args.community}: {account_id}")
    return 0


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
    admin = sub.add_parser("admin", help="administer accounts")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    create = admin_sub.add_parser("create-organiser", help="create a staff account for one community")
    create.add_argument("--community", required=True)
    create.add_argument("--role", choices=sorted(STAFF_ROLES), required=True)
    create.add_argument("--username", required=True)
    create.add_argument("--name", default="", help="display name")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    args = parser.parse_args(argv)

    try:
        settings = get_settings()
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
        return _gateway()
    if args.command == "worker":
        return _worker(args.service)
    if args.command == "token":
        actor = Actor(
            user_id=args.user or f"{args.role[0]}-dev",
            roles=frozenset(args.role),
            communities=frozenset(args.community),
        )
        print(issue_token(actor, settings.secret, settings.dev_token_ttl_s))
        return 0
    if args.command == "admin":
        return _create_organiser(args, settings)
    if args.command == "schema":
        from services.gateway.schema import sdl

        sys.stdout.write(sdl())
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
