"""The rules for reaching people without a mobile and for shrinking a party, without I/O."""

from __future__ import annotations

import pytest

from services.activities.domain import cut_party
from services.common.errors import Refusal
from services.identity.domain import PhoneOf, check_contact, check_landline, contact_words


@pytest.mark.parametrize(
    "typed",
    ["0951-1234567", "0951 1234567", "(0951)1234567", "（0951）1234567", "09511234567", "+86 951 1234567"],
)
def test_a_landline_is_kept_in_one_spelling(typed: str) -> None:
    assert check_landline(typed) == "0951-1234567"


def test_beijing_and_eight_digit_numbers_are_landlines_too_but_not_a_bare_local_number() -> None:
    assert check_landline("010-62345678") == "010-62345678"
    assert check_landline("02112345678") == "021-12345678"
    assert check_landline("1234567") is None
    assert check_landline("13912345678") is None


def test_whose_phone_decides_whether_anything_is_texted() -> None:
    own = check_contact("139 1234 5678", PhoneOf.SELF)
    assert (own.kind, own.phone, own.gets_sms) == ("mobile", "13912345678", True)
    landline = check_contact("0951-1234567", PhoneOf.SELF)
    assert (landline.kind, landline.phone, landline.number, landline.gets_sms) == (
        "landline",
        None,
        "0951-1234567",
        False,
    )
    family = check_contact("13912345678", PhoneOf.FAMILY, " 女儿 ")
    assert (family.kind, family.phone, family.number, family.owner, family.gets_sms) == (
        "family",
        None,
        "13912345678",
        "女儿",
        False,
    )
    nobody = check_contact("whatever", PhoneOf.NONE)
    assert (nobody.kind, nobody.phone, nobody.number, nobody.gets_sms) == ("none", None, None, False)


def test_a_family_phone_needs_whose_it_is_and_a_number_needs_to_be_one() -> None:
    with pytest.raises(Refusal) as whose:
        check_contact("13912345678", PhoneOf.FAMILY, "")
    assert whose.value.details == {"field": "phoneOwner"}
    with pytest.raises(Refusal) as bad:
        check_contact("12345", PhoneOf.SELF)
    assert bad.value.code == "BAD_PHONE"


def test_contact_in_words() -> None:
    assert contact_words("landline", None, "0951-1234567", "", str) == (
        "固定电话 0951-1234567",
        "landline 0951-1234567",
    )
    assert contact_words("family", None, "13912345678", "女儿", str)[0] == "女儿的电话 13912345678"
    assert contact_words("none", None, None, "", str)[0] == "没有电话，请上门告知"


WIFE = {"id": "m1", "name": "王阿姨", "age_band": "ELDER"}
GRANDSON = {"id": "m2", "name": "小明", "age_band": "CHILD"}


def test_one_of_a_party_withdraws_and_the_rest_keep_the_sign_up() -> None:
    cut = cut_party([WIFE, GRANDSON], 3, ["m2"], False)
    assert (cut.attendees, cut.include_me, cut.party_size, cut.dropped, cut.dropped_me) == (
        (WIFE,),
        True,
        2,
        (GRANDSON,),
        False,
    )
    me_out = cut_party([WIFE], 2, [], True)
    assert (me_out.attendees, me_out.include_me, me_out.party_size) == ((WIFE,), False, 1)


@pytest.mark.parametrize(
    ("attendees", "size", "drop", "me", "code"),
    [
        ([WIFE], 2, ["m1"], True, "PARTY_WOULD_BE_EMPTY"),
        ([WIFE], 2, ["m9"], False, "NOT_IN_PARTY"),
        ([WIFE], 1, [], True, "NOT_IN_PARTY"),  # only the wife goes: the resident is not in it
        ([WIFE], 2, [], False, "BAD_USER_INPUT"),
        ([WIFE], 2, ["m1", "m1"], False, "BAD_USER_INPUT"),
    ],
)
def test_what_cannot_be_withdrawn(
    attendees: list[dict[str, str]], size: int, drop: list[str], me: bool, code: str
) -> None:
    with pytest.raises(Refusal) as refused:
        cut_party(attendees, size, drop, me)
    assert refused.value.code == code
