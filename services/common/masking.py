"""Personal data out of logs: masks for phone numbers and names, and a log filter that masks
every mainland mobile number in every record the process writes."""

from __future__ import annotations

import logging
import re
from typing import Any

# 11 digits starting 13-19, optionally after +86, not part of a longer run of digits.
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_phone(phone: str) -> str:
    """138****5678; anything shorter than a phone number is masked whole."""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_name(name: str) -> str:
    """张* for 张三, 欧** for 欧阳修: the family name's first character stays."""
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def mask_phones_in(text: str) -> str:
    return _MOBILE.sub(r"\1****\2", text)


# Removal errs the other way from masking: spaced or dashed mobiles, and landlines, go too.
_ANY_PHONE = re.compile(
    r"(?<!\d)(?:(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d){8}|0\d{2,3}[- ]?\d{7,8}(?:-\d{1,5})?)(?!\d)"
)


def remove_phones_in(text: str, replacement: str) -> str:
    """Every telephone number in ``text`` (mobile or landline, however written) replaced by
    ``replacement``."""
    return _ANY_PHONE.sub(replacement, text)


class PhoneMaskingFilter(logging.Filter):
    """Rewrites a record so no full mobile number survives in its message or traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_phones_in(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_phones_in(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_phones_in(record.stack_info)
        return True


_installed: dict[str, Any] = {}


def install_log_masking() -> None:
    """Mask every record as it is made, whichever logger or handler it goes to (idempotent).

    A filter on a logger misses records of its children and a filter on a handler misses
    handlers added later (pytest's among them), so the filter runs in the record factory.
    """
    if _installed:
        return
    make_record = logging.getLogRecordFactory()
    masking = PhoneMaskingFilter()

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        masking.filter(record)
        return record

    logging.setLogRecordFactory(masked_record)
    _installed["factory"] = masked_record
