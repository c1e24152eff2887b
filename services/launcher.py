"""`linli up`: resolve servers, migrate, run the gateway and one worker per service as child
processes, and stop them all on Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from services.common.commands import CommandBus
from services.common.db import ensure_database
from services.common.embedded import Servers, ensure_servers
from services.common.migrations import migrate
from services.common.queue import create_redis
from services.common.settings import QUEUED_SERVICES, Settings

log = logging.getLogger("linli")

EMBEDDED_DATABASE = "linli"


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the launcher dies, even by SIGKILL (Linux), so no orphans."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@dataclass
class Child:
    name: str
    argv: list[str]
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self, env: dict[str, str]) -> None:
        # A session of its own: the terminal's Ctrl-C reaches only the launcher, which then
        # stops the children in order.
        self.process = subprocess.Popen(
            self.argv,
            env={**env, **self.extra_env},
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )


def resolve(settings: Settings) -> tuple[Settings, Servers]:
    """Settings with real server URLs, starting embedded servers for what is not configured."""
    servers = ensure_servers(settings)
    database_url = servers.database_url
    if not settings.database_url:  # embedded: our own database beside the default one
        try:
            database_url = asyncio.run(ensure_database(database_url, EMBEDDED_DATABASE))
        except BaseException:
            servers.stop()
            raise
    resolved = settings.model_copy(update={"database_url": database_url, "redis_url": servers.redis_url})
    return resolved, servers


async def _load_demo(settings: Settings) -> str:
    from services.common.db import create_pool
    from services.demo import load_demo, load_directory
    from services.identity.service import Identity

    assert settings.database_url and settings.redis_url
    redis = await create_redis(settings.redis_url)
    pool = await create_pool(settings.database_url, 1, 2)
    bus = CommandBus(redis, settings)
    await bus.start()
    try:
        await load_directory(Identity(pool, redis, settings))
        return await load_demo(bus)
    finally:
        await bus.stop()
        await pool.close()
        await redis.aclose()


def up(settings: Settings, demo: bool) -> int:
    # Ctrl-C or SIGTERM from the very start only asks to stop, so that whatever has been started
    # by then (embedded servers included: Valkey runs as a daemon outside our process group and
    # would outlive us) is stopped below.
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    servers: Servers | None = None
    try:
        settings, servers = resolve(settings)
        return _run(settings, demo, lambda: stopping)
    except Exception:
        if not stopping:
            raise
        log.info("stopped during start-up")  # e.g. PostgreSQL went with the Ctrl-C first
        return 0
    finally:
        if servers is not None:
            servers.stop()


def _run(settings: Settings, demo: bool, stopping: Callable[[], bool]) -> int:
    """Migrate, start the children and keep them running until asked to stop."""
    assert settings.database_url and settings.redis_url
    if stopping():
        return 0
    applied = asyncio.run(migrate(settings.direct_database_url))
    log.info("migrations: %s", ", ".join(applied) or "up to date")

    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url}
    me = [sys.executable, "-m", "services.cli"]
    children = [Child("gateway", [*me, "gateway"])]
    metrics_ports = {name: settings.port + 1 + i for i, name in enumerate(QUEUED_SERVICES)}
    children += [
        Child(
            f"{name}-worker",
            [*me, "worker", name],
            extra_env={"LINLI_METRICS_PORT": str(metrics_ports[name])},
        )
        for name in QUEUED_SERVICES
    ]

    if stopping():
        return 0
    for child in children:
        child.start(env)
    try:
        base = f"http://{settings.host}:{settings.port}"
        if demo:
            festival_id = asyncio.run(_load_demo(settings))
            log.info("demo festival 第四届幸福邻里节 loaded: %s", festival_id)
        print(
            f"\nLinli is up.\n  residents: {base}/   organisers: {base}/console   scanner: {base}/scan\n"
            f"  GraphQL (GraphiQL in a browser): {base}/graphql\n"
            f"  health: {base}/healthz   readiness: {base}/readyz   metrics: {base}/metrics\n"
            + "".join(
                f"  {name} worker metrics: http://{settings.host}:{port}/metrics\n"
                for name, port in metrics_ports.items()
            )
            + "  a token: linli token --role organiser --community lingwu-shuofang\n"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        while not stopping():
            for child in children:
                assert child.process is not None
                code = child.process.poll()
                if code is not None and not stopping():
                    recent = [t for t in child.restarts if t > time.monotonic() - 60]
                    if len(recent) >= 5:
                        log.error("%s keeps failing (exit %s); stopping everything", child.name, code)
                        return 1
                    log.warning("%s exited with %s; restarting it", child.name, code)
                    child.restarts = [*recent, time.monotonic()]
                    child.start(env)
            time.sleep(0.2)
    finally:
        stop_children(children)
    return 0


def stop_children(children: list[Child], grace_s: float = 15) -> None:
    running = [c for c in children if c.process is not None and c.process.poll() is None]
    for child in running:
        assert child.process is not None
        child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for child in running:
        assert child.process is not None
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in time; killing it", child.name)
            child.process.kill()
            child.process.wait()
    log.info("all processes stopped")
