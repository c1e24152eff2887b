"""Identifiers: time-ordered UUIDs, so rows and events sort roughly by creation."""

from __future__ import annotations

import os
import time
import uuid


def new_id() -> uuid.UUID:
    """A UUIDv7: 48 bits of milliseconds, then random bits."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80 | rand
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return uuid.UUID(int=value)


def derived_id(namespace: uuid.UUID, *parts: str) -> uuid.UUID:
    """A name-based UUID (v5) from parts that cannot run into each other.

    What a command creates is named this way from who asked and their idempotency key, so a
    retried command names the same thing and a PENDING answer can already carry its id.
    """
    return uuid.uuid5(namespace, "\x00".join(parts))
