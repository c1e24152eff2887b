"""Station codes and personal cards: what a scanned code says can be trusted, and only briefly."""

from __future__ import annotations

import base64
import io

import PIL.Image
import pytest
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import Refusal
from services.volunteers import codes

SECRET = "s3cret"
HALL = "朔方社区邻里驿家"
HERE, THERE = "lingwu-shuofang", "lingwu-xiyuan"  # two communities
# 2026-12-05 09:00:00 +08:00, at the start of a 30-second step
T0 = 1_796_432_400.0
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
QR_ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def refused(fn: object, *args: object) -> str:
    with pytest.raises(Refusal) as caught:
        fn(*args)  # type: ignore[operator]
    return caught.value.code


def test_a_fresh_station_code_is_accepted_at_its_venue() -> None:
    code = codes.mint_station_code(SECRET, HERE, HALL, now=T0 + 3)
    assert codes.verify_station_code(SECRET, code, HERE, HALL, now=T0 + 10) == codes.step_of(T0)


def test_a_station_code_is_short_and_fits_qr_alphanumeric_mode() -> None:
    code = codes.mint_station_code(SECRET, HERE, HALL, now=T0)
    assert set(code) <= QR_ALPHANUMERIC
    assert len(code) <= 40


def test_a_code_read_just_after_it_rotated_still_works_for_one_step() -> None:
    code = codes.mint_station_code(SECRET, HERE, HALL, now=T0 + 29)
    assert codes.verify_station_code(SECRET, code, HERE, HALL, now=T0 + 30 + 29)


def test_a_photo_of_the_code_stops_working_two_steps_later() -> None:
    code = codes.mint_station_code(SECRET, HERE, HALL, now=T0 + 29)
    assert refused(codes.verify_station_code, SECRET, code, HERE, HALL, T0 + 60) == "EXPIRED_CODE"
    assert refused(codes.verify_station_code, SECRET, code, HERE, HALL, T0 + 86_400) == "EXPIRED_CODE"


def test_a_code_from_far_in_the_future_was_never_minted_by_us() -> None:
    code = codes.mint_station_code(SECRET, HERE, HALL, now=T0 + 90)
    assert codes.verify_station_code(SECRET, code, HERE, HALL, now=T0 + 60)  # one step ahead: skew
    assert refused(codes.verify_station_code, SECRET, code, HERE, HALL, T0) == "INVALID_CODE"


def test_a_code_for_another_venue_is_refused_as_the_wrong_venue() -> None:
    code = codes.mint_station_code(SECRET, HERE, "西苑社区广场", now=T0)
    assert refused(codes.verify_station_code, SECRET, code, HERE, HALL, T0) == "WRONG_VENUE"


def test_a_code_for_another_communitys_venue_of_the_same_name_is_refused_as_the_wrong_venue() -> None:
    theirs = codes.mint_station_code(SECRET, THERE, HALL, now=T0)
    assert refused(codes.verify_station_code, SECRET, theirs, HERE, HALL, T0) == "WRONG_VENUE"
    assert codes.verify_station_code(SECRET, theirs, THERE, HALL, now=T0) == codes.step_of(T0)


def test_a_code_of_the_old_format_naming_the_venue_only_is_invalid() -> None:
    body = bytearray(base64.b32decode(codes.mint_station_code(SECRET, HERE, HALL, now=T0)[2:] + "===="))
    body[0] = 1  # version 1 signed the venue without its community
    old = "LS" + base64.b32encode(bytes(body)).decode().rstrip("=")
    assert refused(codes.verify_station_code, SECRET, old, HERE, HALL, T0) == "INVALID_CODE"


def test_venue_names_compare_without_regard_to_spacing_width_or_case() -> None:
    code = codes.mint_station_code(SECRET, HERE, " Shuofang  Hall ", now=T0)
    assert codes.verify_station_code(SECRET, code, HERE, "shuofang hall", now=T0)
    assert codes.verify_station_code(SECRET, code.lower(), HERE, "ｓｈｕｏｆａｎｇ hall", now=T0)


def test_a_code_signed_with_another_secret_is_invalid() -> None:
    code = codes.mint_station_code("not-our-secret", HERE, HALL, now=T0)
    assert refused(codes.verify_station_code, SECRET, code, HERE, HALL, T0) == "INVALID_CODE"


def test_a_code_with_its_time_step_edited_is_invalid() -> None:
    code = codes.mint_station_code(SECRET, HERE, HALL, now=T0)
    raw = bytearray(base64.b32decode(code[2:] + "=" * (-len(code[2:]) % 8)))
    raw[11] ^= 1  # the last byte of the time step
    edited = "LS" + base64.b32encode(bytes(raw)).decode().rstrip("=")
    assert refused(codes.verify_station_code, SECRET, edited, HERE, HALL, T0) == "INVALID_CODE"


@pytest.mark.parametrize("garbage", ["", "LS", "LS0189", "LSAAAA", "hello", "LV" + "A" * 40, "LS!!!!"])
def test_garbage_is_an_invalid_code(garbage: str) -> None:
    assert refused(codes.verify_station_code, SECRET, garbage, HERE, HALL, T0) == "INVALID_CODE"
    assert refused(codes.read_card, SECRET, garbage) == "INVALID_CODE"


def test_a_personal_card_names_its_volunteer_and_does_not_expire() -> None:
    card = codes.issue_card(SECRET, "resident-0a1b2c3d")
    assert set(card) <= QR_ALPHANUMERIC
    assert codes.read_card(SECRET, card) == "resident-0a1b2c3d"
    assert codes.is_card(card) and not codes.is_station_code(card)


def test_a_card_is_not_a_station_code_and_a_station_code_is_not_a_card() -> None:
    card = codes.issue_card(SECRET, "resident-0a1b2c3d")
    station = codes.mint_station_code(SECRET, HERE, HALL, now=T0)
    assert refused(codes.verify_station_code, SECRET, card, HERE, HALL, T0) == "INVALID_CODE"
    assert refused(codes.read_card, SECRET, station) == "INVALID_CODE"


def test_a_forged_card_is_invalid() -> None:
    forged = codes.issue_card("not-our-secret", "organiser-boss")
    assert refused(codes.read_card, SECRET, forged) == "INVALID_CODE"


def test_the_rendered_station_code_scans_back_to_the_same_text() -> None:
    code = codes.mint_station_code(SECRET, HERE, HALL, now=T0)
    rendered = codes.render(code)
    png = base64.b64decode(rendered.png_data_url.split(",", 1)[1])
    found = zxingcpp.read_barcodes(PIL.Image.open(io.BytesIO(png)))
    assert [barcode.text for barcode in found] == [code]
    assert rendered.svg.startswith("<svg")


@given(st.data())
def test_any_one_character_edited_is_never_accepted(data: st.DataObject) -> None:
    code = codes.mint_station_code(SECRET, HERE, HALL, now=T0)
    at = data.draw(st.integers(min_value=0, max_value=len(code) - 1))
    other = data.draw(st.sampled_from(sorted(set(BASE32) - {code[at]})))
    edited = code[:at] + other + code[at + 1 :]
    assert refused(codes.verify_station_code, SECRET, edited, HERE, HALL, T0) == "INVALID_CODE"
    card = codes.issue_card(SECRET, "resident-0a1b2c3d")
    at = data.draw(st.integers(min_value=0, max_value=len(card) - 1))
    other = data.draw(st.sampled_from(sorted(set(BASE32) - {card[at]})))
    assert refused(codes.read_card, SECRET, card[:at] + other + card[at + 1 :]) == "INVALID_CODE"
