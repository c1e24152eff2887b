"""Keys a Lua script touches together, named to share one Redis Cluster hash slot.

A cluster runs a script only when all its keys live in one of its 16384 slots. A key's slot is
the CRC16 of its hash tag, the text inside its first ``{...}``, or of the whole key without one:
so every key of one script starts with the same tag (``hash_tag``), or is the tag's anchor.
"""

from __future__ import annotations


def hash_tag(anchor: str) -> str:
    """``{anchor}``: a key starting with it lives in the slot of ``anchor`` as a key itself
    (when ``anchor`` has no braces), whatever follows it, braces in user input included."""
    if not anchor or "{" in anchor or "}" in anchor:
        raise ValueError(f"a hash tag's anchor must be non-empty and without braces: {anchor!r}")
    return "{" + anchor + "}"
