"""Volunteer QR codes: rotating station codes and personal cards, signed, no I/O.

Both are upper-case base32 without padding behind a short prefix, so a QR code holds them
in alphanumeric mode. A station code is ``LS`` + base32(version, key id, place digest,
time step, MAC); it lives for its own 30-second step and one step of grace, so a photo of
the screen soon stops working. The place is the community *and* the venue: communities name
their venues as they like, so two may well both have a "邻里驿家", and a code shown at one
must not check anyone in at the other. The place digest is keyed (not a plain hash), so
nobody can search offline for a venue name whose digest matches another community's.

A personal card is ``LV`` + base32(version, key id, volunteer id, MAC) and never expires: it
names a person, and scanning it twice for the same shift is made harmless by the check-in
rules, not by the card.

Next to the QR the station shows six digits a person can type by hand: a truncation (as in
HOTP, RFC 4226) of a MAC over the same signed body (version, key id, place digest, step),
with a key of its own. They rotate with the QR, are accepted for the same steps, and are
checked against the place of the shift the volunteer chose, so they need no id. Six digits
are guessable one in a million per accepted step: wrong tries are rate-limited per volunteer
(the gateway counts them, see ``WRONG_DIGITS_LIMIT``).

Keys are derived from ``Settings.secret`` per key id, so the secret can be rotated later by
adding a key id without changing the format. Every function takes ``now`` (unix seconds)
so expiry is tested without waiting. Keys, MACs, base32 and rendering are shared with
residents' tickets (``services.common.signed_codes``).
"""

from __future__ import annotations

import hmac
import struct
import unicodedata

from services.common.errors import Refusal
from services.common.signed_codes import RenderedCode as RenderedCode
from services.common.signed_codes import b32decode as _unb32
from services.common.signed_codes import b32encode as _b32
from services.common.signed_codes import derive_key as _key
from services.common.signed_codes import invalid_code as invalid_code
from services.common.signed_codes import mac as _mac
from services.common.signed_codes import render as render

STATION_PREFIX = "LS"
CARD_PREFIX = "LV"
VERSION = 2  # 2: the place digest covers the community (1 covered the venue name only)
KEY_ID = 1
STEP_S = 30
# Accepted steps, relative to the verifier's current step: the current one, one step of
# grace for a code read just before it rotated, and one step ahead for a verifier whose
# clock runs slightly behind the one that minted the code.
GRACE_STEPS_BEHIND = 1
GRACE_STEPS_AHEAD = 1
_MAC_BYTES = 10  # 80 bits: forging one needs ~2^80 guesses against a rate-limited service
_PLACE_DIGEST_BYTES = 6
_STATION = struct.Struct(f">BB{_PLACE_DIGEST_BYTES}sI")
_CARD_HEAD = struct.Struct(">BB")
_MAX_VOLUNTEER_ID = 64


DIGITS = 6
# Wrong six-digit codes a volunteer may type in a window before typing is refused for its rest.
WRONG_DIGITS_LIMIT = 5
WRONG_DIGITS_WINDOW_S = 10 * 60


def expired_code() -> Refusal:
    return Refusal(
        "EXPIRED_CODE", "二维码已过期，请扫描现场最新的二维码", "This code has expired; scan the current one"
    )


def wrong_venue() -> Refusal:
    return Refusal(
        "WRONG_VENUE",
        "该二维码不属于本班次的服务地点",
        "This code belongs to another venue (or another community's venue of that name)",
    )


def wrong_digits() -> Refusal:
    return Refusal(
        "WRONG_STATION_DIGITS",
        "数字码不对或已过期，请看签到屏上现在显示的6位数字",
        "Those digits are wrong or out of date: type the six digits the station shows now",
    )


def too_many_wrong_digits(wait_s: int) -> Refusal:
    minutes = max(1, -(-wait_s // 60))
    return Refusal(
        "TOO_MANY_WRONG_DIGITS",
        f"数字码输错次数太多，请{minutes}分钟后再试，或用摄像头扫码",
        f"Too many wrong codes: try again in {minutes} minutes, or scan the QR with the camera",
    )


def venue_key(venue: str) -> str:
    """The form of a venue name that codes and shifts compare: normalised, case-folded."""
    return " ".join(unicodedata.normalize("NFKC", venue).casefold().split())


def place_digest(secret: str, key_id: int, community_id: str, venue: str) -> bytes:
    """The community and venue a station code is for, keyed with the secret, in 6 bytes."""
    place = f"{community_id}\n{venue_key(venue)}".encode()
    return _mac(_key(secret, key_id, "station-place"), place)[:_PLACE_DIGEST_BYTES]


def step_of(now: float) -> int:
    return int(now // STEP_S)


def mint_station_code(secret: str, community_id: str, venue: str, now: float) -> str:
    """The station code shown at ``community_id``'s ``venue`` during the step that contains ``now``."""
    body = _station_body(secret, community_id, venue, step_of(now))
    return STATION_PREFIX + _b32(body + _mac(_key(secret, KEY_ID, "station"), body))


def _station_body(secret: str, community_id: str, venue: str, step: int) -> bytes:
    return _STATION.pack(VERSION, KEY_ID, place_digest(secret, KEY_ID, community_id, venue), step)


def _digits_at(secret: str, body: bytes) -> str:
    full = hmac.new(_key(secret, KEY_ID, "station-digits"), body, "sha256").digest()
    offset = full[-1] & 0x0F
    value = int.from_bytes(full[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{value % 10**DIGITS:0{DIGITS}d}"


def station_digits(secret: str, community_id: str, venue: str, now: float) -> str:
    """The six digits shown beside the QR at ``community_id``'s ``venue`` during ``now``'s step."""
    return _digits_at(secret, _station_body(secret, community_id, venue, step_of(now)))


def is_station_digits(text: str) -> bool:
    typed = "".join(text.split())
    return len(typed) == DIGITS and typed.isascii() and typed.isdigit()


def verify_station_digits(secret: str, typed: str, community_id: str, venue: str, now: float) -> int:
    """The step whose digits ``typed`` are, for this place, among the accepted steps (the
    current one, one of grace behind, one ahead); else WRONG_STATION_DIGITS. Every accepted
    step is compared, so the time taken says nothing about which one matched."""
    digits = "".join(typed.split())
    current = step_of(now)
    found: int | None = None
    for step in range(current - GRACE_STEPS_BEHIND, current + GRACE_STEPS_AHEAD + 1):
        expected = _digits_at(secret, _station_body(secret, community_id, venue, step))
        if hmac.compare_digest(expected, digits) and found is None:
            found = step
    if found is None:
        raise wrong_digits()
    return found


def is_station_code(text: str) -> bool:
    return text.strip().upper().startswith(STATION_PREFIX)


def verify_station_code(secret: str, code: str, community_id: str, venue: str, now: float) -> int:
    """The step of a genuine, current station code for ``community_id``'s ``venue``; else a
    named Refusal.

    Forged or malformed -> INVALID_CODE; genuine but too old -> EXPIRED_CODE; genuine and
    current but minted for another venue, or another community's venue -> WRONG_VENUE.
    """
    text = code.strip().upper()
    if not text.startswith(STATION_PREFIX):
        raise invalid_code()
    raw = _unb32(text[len(STATION_PREFIX) :])
    if len(raw) != _STATION.size + _MAC_BYTES:
        raise invalid_code()
    body, mac = raw[: _STATION.size], raw[_STATION.size :]
    version, key_id, digest, step = _STATION.unpack(body)
    if version != VERSION or key_id != KEY_ID:
        raise invalid_code()
    if not hmac.compare_digest(_mac(_key(secret, key_id, "station"), body), mac):
        raise invalid_code()
    current = step_of(now)
    if step < current - GRACE_STEPS_BEHIND:
        raise expired_code()
    if step > current + GRACE_STEPS_AHEAD:
        raise invalid_code()  # from the future: not something we ever minted
    if not hmac.compare_digest(digest, place_digest(secret, key_id, community_id, venue)):
        raise wrong_venue()
    return int(step)


def issue_card(secret: str, volunteer_id: str) -> str:
    """A volunteer's personal card: their id, signed; it does not expire."""
    who = volunteer_id.encode()
    if not who or len(who) > _MAX_VOLUNTEER_ID:
        raise ValueError("volunteer ids are 1 to 64 bytes")
    body = _CARD_HEAD.pack(VERSION, KEY_ID) + who
    return CARD_PREFIX + _b32(body + _mac(_key(secret, KEY_ID, "card"), body))


def is_card(text: str) -> bool:
    return text.strip().upper().startswith(CARD_PREFIX)


def read_card(secret: str, card: str) -> str:
    """The volunteer a genuine card names; INVALID_CODE for anything else."""
    text = card.strip().upper()
    if not text.startswith(CARD_PREFIX):
        raise invalid_code()
    raw = _unb32(text[len(CARD_PREFIX) :])
    if len(raw) < _CARD_HEAD.size + 1 + _MAC_BYTES:
        raise invalid_code()
    body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    version, key_id = _CARD_HEAD.unpack(body[: _CARD_HEAD.size])
    if version != VERSION or key_id != KEY_ID:
        raise invalid_code()
    if not hmac.compare_digest(_mac(_key(secret, key_id, "card"), body), mac):
        raise invalid_code()
    try:
        return body[_CARD_HEAD.size :].decode()
    except UnicodeDecodeError as exc:
        raise invalid_code() from exc
