"""Phone numbers and names are personal data: masked wherever they are shown or logged."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from services.common.masking import (
    PhoneMaskingFilter,
    install_log_masking,
    mask_name,
    mask_phone,
    mask_phones_in,
)
from tests.conftest import GraphQLClient
from tests.identity_steps import LOG_IN, REQUEST_CODE, new_phone, no_cookies, texted_code

__all__ = ["no_cookies"]  # fixture, used by name


def test_phones_and_names_are_masked_for_display() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳修") == "欧**"
    assert mask_name("") == ""


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("sent to 13812345678.", "sent to 138****5678."),
        ("+8613812345678 and 15900001111", "138****5678 and 159****1111"),
        ("tel:13812345678,13912345678", "tel:138****5678,139****5678"),
        ("order 913812345678 and id 12345678901", "order 913812345678 and id 12345678901"),
    ],
)
def test_only_whole_mainland_mobile_numbers_are_masked_in_text(text: str, masked: str) -> None:
    assert mask_phones_in(text) == masked


def test_the_filter_masks_arguments_and_tracebacks() -> None:
    try:
        raise ValueError("duplicate key (phone)=(13812345678)")
    except ValueError as error:
        record = logging.LogRecord(
            "linli.test",
            logging.ERROR,
            __file__,
            1,
            "login for %s failed",
            ("13812345678",),
            (type(error), error, error.__traceback__),
        )
    PhoneMaskingFilter().filter(record)
    assert record.getMessage() == "login for 138****5678 failed"
    assert record.exc_text and "13812345678" not in record.exc_text and "138****5678" in record.exc_text


async def test_no_full_phone_number_is_logged_while_a_resident_logs_in(
    gql: GraphQLClient, pool: Any, caplog: pytest.LogCaptureFixture
) -> None:
    install_log_masking()  # as the gateway and the command line do
    caplog.set_level(logging.DEBUG)
    phone = new_phone()

    await gql.ok(REQUEST_CODE, {"phone": phone})
    code = await texted_code(pool, phone)
    await gql.ok(LOG_IN, {"phone": phone, "code": code})
    logging.getLogger("linli.test").warning("a careless line mentioning %s", phone)

    logged = caplog.text + "\n".join(record.getMessage() for record in caplog.records)
    assert mask_phone(phone) in logged  # the story was logged...
    assert phone not in logged  # ...without the number
    assert code not in logged  # nor the code
    assert any(r.name == "arq.worker" and "send_sms" in r.getMessage() for r in caplog.records)
