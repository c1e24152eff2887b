"""Compact signed codes for QR symbols: keyed MACs, base32 text, and the rendered symbol. No I/O.

A code is a short prefix naming its kind, then upper-case base32 without padding of
(version, key id, payload, MAC), so a QR symbol holds it in alphanumeric mode. Keys are
derived from ``Settings.secret`` per purpose and key id: the secret can be rotated later by
adding a key id without changing the format. Volunteers' station codes and cards and
residents' tickets all use this.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import struct
from dataclasses import dataclass

import segno

from services.common.errors import Refusal

MAC_BYTES = 10  # 80 bits: forging one needs ~2^80 guesses against a rate-limited service
_HEAD = struct.Struct(">BB")  # version, key id


def invalid_code() -> Refusal:
    return Refusal("INVALID_CODE", "二维码无效", "This code is not valid")


def derive_key(secret: str, key_id: int, purpose: str) -> bytes:
    return hmac.new(secret.encode(), f"linli:{purpose}:{key_id}".encode(), hashlib.sha256).digest()


def mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).digest()[:MAC_BYTES]


def b32encode(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


def b32decode(text: str) -> bytes:
    """The bytes of base32 text; INVALID_CODE for anything that is not exactly one spelling."""
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError) as exc:
        raise invalid_code() from exc
    if b32encode(raw) != text:  # unused trailing bits set: one code, one spelling
        raise invalid_code()
    return raw


def seal(secret: str, purpose: str, prefix: str, payload: bytes, version: int = 1, key_id: int = 1) -> str:
    """``payload`` signed for ``purpose``, as prefix + base32(version, key id, payload, MAC)."""
    body = _HEAD.pack(version, key_id) + payload
    return prefix + b32encode(body + mac(derive_key(secret, key_id, purpose), body))


def unseal(secret: str, purpose: str, prefix: str, code: str, version: int = 1, key_id: int = 1) -> bytes:
    """The payload of a genuine code sealed by ``seal``; INVALID_CODE for anything else."""
    text = code.strip().upper()
    if not text.startswith(prefix):
        raise invalid_code()
    raw = b32decode(text[len(prefix) :])
    if len(raw) < _HEAD.size + MAC_BYTES:
        raise invalid_code()
    body, tag = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
    if _HEAD.unpack(body[: _HEAD.size]) != (version, key_id):
        raise invalid_code()
    if not hmac.compare_digest(mac(derive_key(secret, key_id, purpose), body), tag):
        raise invalid_code()
    return body[_HEAD.size :]


@dataclass(frozen=True)
class RenderedCode:
    text: str
    png_data_url: str
    svg: str


def render(text: str) -> RenderedCode:
    """The code as a QR symbol (alphanumeric mode, medium error correction), PNG and SVG."""
    qr = segno.make_qr(text, mode="alphanumeric", error="m", boost_error=False)
    svg = io.BytesIO()
    qr.save(svg, kind="svg", scale=4, border=4, xmldecl=False)
    return RenderedCode(
        text=text, png_data_url=qr.png_data_uri(scale=8, border=4), svg=svg.getvalue().decode()
    )
