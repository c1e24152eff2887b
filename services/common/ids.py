"""Identifiers: time-ordered UUIDs, so rows and events sort by creation."""

from __future__ import annotations

import os
import threading
import time
import uuid

_RANDOM_BITS = 74  # rand_a (12 bits) and rand_b (62 bits) of a UUIDv7
_lock = threading.Lock()
_last = (0, 0)  # (milliseconds, random part) of the previous id


def new_id() -> uuid.UUID:
    """A UUIDv7: 48 bits of milliseconds, then 74 random bits; strictly increasing in this process.

    Two ids made in the same millisecond would otherwise sort at random, and so would the
    events of one transaction (a claim lapsing and the next claim, say). Within a millisecond
    the random part counts up from the previous id instead (RFC 9562, section 6.2, method 2);
    across processes ids still sort by their millisecond.
    """
    global _last
    millis = (time.time_ns() // 1_000_000) & ((1 << 48) - 1)
    with _lock:
        last_millis, last_random = _last
        if millis > last_millis:
            # Leave the top bit clear, so a millisecond's worth of increments cannot overflow.
            random = int.from_bytes(os.urandom(10), "big") & ((1 << (_RANDOM_BITS - 1)) - 1)
        else:
            millis, random = last_millis, last_random + 1
        _last = (millis, random)
    rand_a, rand_b = random >> 62, random & ((1 << 62) - 1)
    value = millis << 80 | 0x7 << 76 | rand_a << 64 | 0x2 << 62 | rand_b
    return uuid.UUID(int=value)


def derived_id(namespace: uuid.UUID, *parts: str) -> uuid.UUID:
    """A name-based UUID (v5) from parts that cannot run into each other.

    What a command creates is named this way from who asked and their idempotency key, so a
    retried command names the same thing and a PENDING answer can already carry its id.
    """
    return uuid.uuid5(namespace, "\x00".join(parts))
