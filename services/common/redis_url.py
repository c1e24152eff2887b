"""``REDIS_URL`` read once: one Redis server, or a master found through Redis Sentinel.

- ``redis://[[user]:password@]host[:port][/db]`` (``rediss://`` for TLS, ``unix://``): one server.
- ``redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/master[/db]
  [?sentinel_password=…&sentinel_username=…]``: ask the sentinels (port 26379 unless given)
  which server is the master named ``master`` (``mymaster`` when the path is empty), and ask
  again after a failover. The user and password are the master's (and its replicas'); the
  sentinels' own, if they have one, go in the query.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

SENTINEL_SCHEME = "redis+sentinel"
DIRECT_SCHEMES = ("redis", "rediss", "unix")
DEFAULT_SENTINEL_PORT = 26379
DEFAULT_MASTER = "mymaster"
_SENTINEL_QUERY = ("sentinel_password", "sentinel_username")


@dataclass(frozen=True)
class SentinelTarget:
    """A master known to a set of sentinels by name."""

    sentinels: tuple[tuple[str, int], ...]
    master: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_username: str | None = None
    sentinel_password: str | None = None


def parse_sentinel_url(url: str) -> SentinelTarget | None:
    """The sentinels and master named by a ``redis+sentinel://`` URL; None for a single server's
    URL (``redis://`` and the like, which arq reads itself). ValueError says what is wrong."""
    scheme, _, rest = url.partition("://")
    if scheme in DIRECT_SCHEMES and rest:
        return None
    if scheme != SENTINEL_SCHEME:
        schemes = ", ".join(f"{s}://" for s in (*DIRECT_SCHEMES, SENTINEL_SCHEME))
        raise ValueError(f"REDIS_URL must start with one of {schemes}")
    # urlsplit's netloc holds the whole comma-separated host list; only its port parsing fails.
    parts = urlsplit(url)
    credentials, _, hosts = parts.netloc.rpartition("@")
    username, _, password = credentials.partition(":") if credentials else ("", "", "")
    sentinels = tuple(_host_port(entry) for entry in hosts.split(",") if entry)
    if not sentinels:
        raise ValueError("a redis+sentinel:// URL names at least one sentinel: host:26379,host2:26379")
    master, _, db = parts.path.strip("/").partition("/")
    if db and not db.isdigit():
        raise ValueError(f"the database in a redis+sentinel:// URL is a number, not {db!r}")
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    unknown = sorted(set(query) - set(_SENTINEL_QUERY))
    if unknown:
        raise ValueError(f"a redis+sentinel:// URL takes only {', '.join(_SENTINEL_QUERY)}, not {unknown}")
    return SentinelTarget(
        sentinels=sentinels,
        master=unquote(master) or DEFAULT_MASTER,
        db=int(db or 0),
        username=unquote(username) or None,
        password=unquote(password) or None,
        sentinel_username=query.get("sentinel_username"),
        sentinel_password=query.get("sentinel_password"),
    )


def _host_port(entry: str) -> tuple[str, int]:
    if entry.startswith("["):  # [::1]:26379
        host, _, port = entry[1:].partition("]")
        port = port.removeprefix(":")
    else:
        host, _, port = entry.rpartition(":") if ":" in entry else (entry, "", "")
    if not host or (port and not port.isdigit()):
        raise ValueError(f"a sentinel is host:port, not {entry!r}")
    return host, int(port or DEFAULT_SENTINEL_PORT)
