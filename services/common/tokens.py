"""Signed bearer tokens: ``v1.<key id>.<payload>.<mac>``, HMAC-SHA256 over the first three parts.

The key id lets ``LINLI_SECRET`` be rotated later without breaking the format.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from services.common.actor import Actor
from services.common.errors import Refusal

KEY_ID = "k1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, message: str) -> str:
    return _b64(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest())


def issue_token(actor: Actor, secret: str, ttl_s: int, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {**actor.as_payload(), "iat": issued, "exp": issued + ttl_s}
    body = f"v1.{KEY_ID}.{_b64(json.dumps(claims, separators=(',', ':')).encode())}"
    return f"{body}.{_mac(secret, body)}"


def invalid_token() -> Refusal:
    return Refusal("UNAUTHENTICATED", "登录凭证无效，请重新登录", "Invalid token, please log in again")


def read_token(token: str, secret: str, now: float | None = None) -> Actor:
    """The actor a token names, or a Refusal when it is forged, malformed or expired."""
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != "v1" or parts[1] != KEY_ID:
        raise invalid_token()
    body = ".".join(parts[:3])
    if not hmac.compare_digest(_mac(secret, body), parts[3]):
        raise invalid_token()
    try:
        claims = json.loads(_unb64(parts[2]))
        actor = Actor.from_payload(claims)
        expires = float(claims["exp"])
    except (ValueError, KeyError, TypeError) as exc:
        raise invalid_token() from exc
    if expires < (now if now is not None else time.time()):
        raise Refusal("UNAUTHENTICATED", "登录已过期，请重新登录", "Session expired, please log in")
    return actor
