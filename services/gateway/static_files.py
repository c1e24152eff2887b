"""The pages' files served compressed and revalidated cheaply.

Each file is read once per version (its path, size and modification time), compressed once with
gzip and, where the ``brotli`` package is installed, brotli, and kept in memory: the pages are a
few hundred kilobytes in all. Every response names its representation with an ETag derived from
the file's content hash (``"<sha256 prefix>-br"``, ``-gz`` or bare), so a browser that has it
gets a 304 with no body; ``Cache-Control: no-cache`` makes it ask each time, because the pages
import their modules by fixed URLs (``/static/common.js``) and must never mix versions after a
deploy. ``Vary: Accept-Encoding`` keeps shared caches from handing gzip to a client that did
not ask for it.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
from dataclasses import dataclass
from email.utils import formatdate
from functools import lru_cache
from pathlib import Path
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

try:  # brotli is a dependency; a deployment without its wheel still serves gzip
    import brotli as _brotli  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover
    _brotli = None

CACHE_CONTROL = "no-cache"
MIN_COMPRESS_BYTES = 256
# Already compressed formats gain nothing from a second pass.
_INCOMPRESSIBLE = ("image/png", "image/jpeg", "image/gif", "image/webp", "font/woff", "font/woff2")


@dataclass(frozen=True)
class _Variants:
    media_type: str
    digest: str
    last_modified: str
    bodies: dict[str, bytes]  # "" (identity), "gzip", "br"


@lru_cache(maxsize=256)
def _variants(path: str, size: int, mtime_ns: int, media_type: str | None) -> _Variants:
    """The file's identity, gzip and brotli bodies; keyed by its version, so an edit is seen."""
    raw = Path(path).read_bytes()
    guessed = media_type or mimetypes.guess_type(path)[0] or "application/octet-stream"
    if guessed.startswith("text/") or guessed in ("application/javascript", "image/svg+xml"):
        guessed = guessed if "charset" in guessed else f"{guessed}; charset=utf-8"
    bodies = {"": raw}
    if len(raw) >= MIN_COMPRESS_BYTES and not guessed.startswith(_INCOMPRESSIBLE):
        squeezed = gzip.compress(raw, compresslevel=9, mtime=0)
        if len(squeezed) < len(raw):
            bodies["gzip"] = squeezed
        if _brotli is not None:
            packed: bytes = _brotli.compress(raw, quality=11)
            if len(packed) < len(raw):
                bodies["br"] = packed
    return _Variants(
        media_type=guessed,
        digest=hashlib.sha256(raw).hexdigest()[:20],
        last_modified=formatdate(mtime_ns / 1e9, usegmt=True),
        bodies=bodies,
    )


def accepted_encodings(header: str) -> set[str]:
    """The content codings a client accepts (``q=0`` means refused)."""
    accepted: set[str] = set()
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if name and quality > 0:
            accepted.add(name.strip().lower())
    return accepted


def file_response(
    path: Path | str,
    scope: Scope,
    media_type: str | None = None,
    headers: dict[str, str] | None = None,
    stat_result: os.stat_result | None = None,
) -> Response:
    """``path`` in the best encoding the request accepts, with its ETag; 304 when it already has it."""
    found = stat_result or os.stat(path)
    variants = _variants(str(path), found.st_size, found.st_mtime_ns, media_type)
    request = Headers(scope=scope)
    accepted = accepted_encodings(request.get("accept-encoding", ""))
    encoding = next((e for e in ("br", "gzip") if e in accepted and e in variants.bodies), "")
    suffix = {"br": "-br", "gzip": "-gz"}.get(encoding, "")
    etag = f'"{variants.digest}{suffix}"'
    out: dict[str, Any] = {
        **(headers or {}),
        "ETag": etag,
        "Last-Modified": variants.last_modified,
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept-Encoding",
    }
    if_none_match = request.get("if-none-match")
    if if_none_match and (
        if_none_match.strip() == "*"
        or etag in [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    ):
        return Response(status_code=304, headers=out)
    if encoding:
        out["Content-Encoding"] = encoding
    return Response(variants.bodies[encoding], media_type=variants.media_type, headers=out)


class CompressedStaticFiles(StaticFiles):
    """Starlette's static files (path checks, HEAD, 404s), answered by ``file_response``."""

    def file_response(
        self,
        full_path: os.PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        return file_response(os.fspath(full_path), scope, stat_result=stat_result)
