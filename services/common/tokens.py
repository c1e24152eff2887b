"""Signed bearer tokens: ``v1.<key id>.<payload>.<mac>``, HMAC-SHA256 over the first three parts.

The key id lets ``LINLI_SECRET`` be rotated later without breaking the format. Each token has
an id (``jti``, so it can be revoked) and a kind (``typ``): a short-lived access token is what
resolvers accept; a refresh token only buys a new pair. A token without ``jti`` or ``typ`` is
refused: it could be neither revoked nor told apart (issue 16: a forged platform-admin token
had neither).
Every pair a log-in and its refreshes issue shares a session id (``sid``): logging out, or a
refresh token used twice, revokes the session and so every token of it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from services.common.actor import Actor
from services.common.errors import Refusal

KEY_ID = "k1"
ACCESS = "access"
REFRESH = "refresh"


@dataclass(frozen=True)
class TokenClaims:
    actor: Actor
    token_id: str
    kind: str
    expires_at: float
    session_id: str = ""  # empty in tokens issued before sessions had ids


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, message: str) -> str:
    return _b64(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest())


def issue_token(
    actor: Actor,
    secret: str,
    ttl_s: int,
    now: float | None = None,
    kind: str = ACCESS,
    token_id: str | None = None,
    session_id: str | None = None,
) -> str:
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        **actor.as_payload(),
        "iat": issued,
        "exp": issued + ttl_s,
        "jti": token_id or uuid.uuid4().hex,
        "typ": kind,
    }
    if session_id:
        claims["sid"] = session_id
    body = f"v1.{KEY_ID}.{_b64(json.dumps(claims, separators=(',', ':')).encode())}"
    return f"{body}.{_mac(secret, body)}"


def invalid_token() -> Refusal:
    return Refusal("UNAUTHENTICATED", "登录凭证无效，请重新登录", "Invalid token, please log in again")


def read_token(token: str, secret: str, now: float | None = None) -> Actor:
    """The actor an access token names, or a Refusal when it is forged, malformed or expired."""
    return read_claims(token, secret, now).actor


def read_claims(token: str, secret: str, now: float | None = None, kind: str = ACCESS) -> TokenClaims:
    """What a token of ``kind`` says, or a Refusal when it is forged, malformed, expired or
    of another kind (a refresh token is no access token)."""
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
        token_id = claims["jti"]
        token_kind = claims["typ"]
        if not (isinstance(token_id, str) and token_id and isinstance(token_kind, str)):
            raise ValueError("no jti or typ")
        session_id = str(claims.get("sid", ""))
    except (ValueError, KeyError, TypeError) as exc:
        raise invalid_token() from exc
    if token_kind != kind:
        raise invalid_token()
    if expires < (now if now is not None else time.time()):
        raise Refusal("UNAUTHENTICATED", "登录已过期，请重新登录", "Session expired, please log in")
    return TokenClaims(actor, token_id, token_kind, expires, session_id)
