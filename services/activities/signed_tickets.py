"""Tickets a door device verifies without the server's secret: Ed25519-signed codes. No I/O.

A code is ``LT`` + base32(body, signature), 167 characters of QR alphanumeric mode (a version-9
symbol at medium error correction), where the 39-byte body is (version 2, key id, sign-up id,
session id, expiry in Unix seconds) and the 64-byte signature is Ed25519 over
``linli:ticket:v2:`` + body. Each community signs with its own key, named by a 16-bit key id
that is unique across communities; the public keys are published (``ticketKeys`` and
``prepareOfflineDoor`` in GraphQL, ``/.well-known/linli-ticket-keys.json``), the private ones are
kept by the server, wrapped (AES-GCM) with a key derived from ``LINLI_SECRET``.

A key signs until it is rotated; after that it stays valid until ``valid_until`` (the end of the
last session it may have signed for, plus the ticket grace), so no ticket already in a resident's
hands stops working. The rules here are the door's rules both online and offline: the scanner
page (``static/offline-door.js``) applies the same ones, in the same order, with the same codes.

The first tickets (version 1, HMAC under ``LINLI_SECRET``, ``tickets.issue``) are no longer
issued; a version-1 code still admits online until its session ends, as it always did.
"""

from __future__ import annotations

import os
import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from services.common.errors import Refusal
from services.common.signed_codes import b32decode, b32encode, derive_key, invalid_code

PREFIX = "LT"
VERSION = 2
LEGACY_VERSION = 1
DOMAIN = b"linli:ticket:v2:"
_BODY = struct.Struct(">BH16s16sI")  # version, key id, sign-up id, session id, expires (Unix s)
SIGNATURE_BYTES = 64
MAX_KEY_ID = 0xFFFF
# A ticket stays good this long after its session's end when it was issued: a session moved by
# up to a week keeps its tickets; moved further, residents' pages show a fresh code.
TICKET_GRACE = timedelta(days=7)
_WRAP_PURPOSE = "ticket-key-wrap"


@dataclass(frozen=True)
class TicketKey:
    """A community's public ticket key as the door knows it."""

    key_id: int
    community_id: str
    public_key: bytes  # raw 32 bytes
    valid_until: datetime | None  # None while it still signs


@dataclass(frozen=True)
class SignedTicket:
    key_id: int
    signup_id: uuid.UUID
    session_id: uuid.UUID
    expires_at: datetime


def version_of(code: str) -> int | None:
    """1 for an HMAC ticket, 2 for a signed one, None for anything that is not a ticket code."""
    text = code.strip().upper()
    if not text.startswith(PREFIX) or len(text) < 4:
        return None
    try:
        first = b32decode(text[len(PREFIX) : len(PREFIX) + 8])[0]
    except Refusal:
        return None
    return first if first in (LEGACY_VERSION, VERSION) else None


def new_private_key() -> bytes:
    """A fresh Ed25519 private key, as its 32-byte seed."""
    return Ed25519PrivateKey.generate().private_bytes_raw()


def public_key_of(seed: bytes) -> bytes:
    return (
        Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    )


def wrap(secret: str, key_id: int, seed: bytes) -> bytes:
    """The private key as stored: AES-GCM under a key derived from the secret, bound to its id."""
    nonce = os.urandom(12)
    aead = AESGCM(derive_key(secret, 1, _WRAP_PURPOSE))
    return nonce + aead.encrypt(nonce, seed, str(key_id).encode())


def unwrap(secret: str, key_id: int, stored: bytes) -> bytes:
    try:
        return AESGCM(derive_key(secret, 1, _WRAP_PURPOSE)).decrypt(
            stored[:12], stored[12:], str(key_id).encode()
        )
    except InvalidTag as exc:  # another secret: the server cannot sign with this key any more
        raise RuntimeError(f"ticket key {key_id} was wrapped under another LINLI_SECRET") from exc


def expiry_for(session_ends_at: datetime) -> datetime:
    return session_ends_at + TICKET_GRACE


def issue(seed: bytes, key_id: int, signup_id: uuid.UUID, session_id: uuid.UUID, expires_at: datetime) -> str:
    body = _BODY.pack(VERSION, key_id, signup_id.bytes, session_id.bytes, int(expires_at.timestamp()))
    signature = Ed25519PrivateKey.from_private_bytes(seed).sign(DOMAIN + body)
    return PREFIX + b32encode(body + signature)


def parse(code: str) -> tuple[SignedTicket, bytes, bytes]:
    """The ticket a version-2 code claims to be, with its signed body and signature (unchecked)."""
    text = code.strip().upper()
    if not text.startswith(PREFIX):
        raise invalid_code()
    raw = b32decode(text[len(PREFIX) :])
    if len(raw) != _BODY.size + SIGNATURE_BYTES:
        raise invalid_code()
    body, signature = raw[: _BODY.size], raw[_BODY.size :]
    version, key_id, signup, session, expires = _BODY.unpack(body)
    if version != VERSION:
        raise invalid_code()
    ticket = SignedTicket(
        key_id, uuid.UUID(bytes=signup), uuid.UUID(bytes=session), datetime.fromtimestamp(expires, UTC)
    )
    return ticket, body, signature


def verify(code: str, keys: dict[int, TicketKey], community_id: str, now: datetime) -> SignedTicket:
    """The ticket a genuine, current code names, for a session of ``community_id``; else why not.

    In order: the code's shape, a key this community publishes, the signature, the key still
    valid, the ticket not expired. (Revocations, the session and earlier scans come after, from
    the sign-up's state online and from the device's downloaded lists offline.)
    """
    ticket, body, signature = parse(code)
    key = keys.get(ticket.key_id)
    if key is None or key.community_id != community_id:
        raise unknown_key()
    try:
        Ed25519PublicKey.from_public_bytes(key.public_key).verify(signature, DOMAIN + body)
    except InvalidSignature as exc:
        raise invalid_code() from exc
    if key.valid_until is not None and now > key.valid_until:
        raise key_expired()
    if now > ticket.expires_at:
        raise ticket_expired()
    return ticket


def unknown_key() -> Refusal:
    return Refusal(
        "UNKNOWN_TICKET_KEY",
        "这张票不是本社区签发的（签名密钥不认识）",
        "This ticket was not signed by this community (unknown signing key)",
    )


def key_expired() -> Refusal:
    return Refusal(
        "TICKET_KEY_EXPIRED",
        "这张票的签名密钥已过期，请居民在手机上刷新入场码",
        "This ticket's signing key has expired; ask the resident to refresh the ticket",
    )


def ticket_expired() -> Refusal:
    return Refusal("TICKET_EXPIRED", "这张票已过期", "This ticket has expired")


def revoked(reason: str) -> Refusal:
    zh = {"SESSION_CANCELLED": "场次已取消", "CANCELLED": "报名已取消"}.get(reason, "票已作废")
    en = {"SESSION_CANCELLED": "the session was called off", "CANCELLED": "the sign-up was cancelled"}.get(
        reason, "the ticket was withdrawn"
    )
    return Refusal("TICKET_REVOKED", f"这张票已作废：{zh}", f"This ticket is void: {en}", {"reason": reason})
