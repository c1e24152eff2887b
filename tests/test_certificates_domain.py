"""The rules of certificates and corrections, without I/O."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.common.errors import Refusal
from services.volunteers import certificates as rules
from tests.dates import at


def test_a_number_names_the_issuer_the_year_and_a_six_digit_serial() -> None:
    assert rules.certificate_number("SF", 2030, 123) == "LW-SF-2030-000123"
    assert rules.certificate_number("SF", 2030, 1_234_567) == "LW-SF-2030-1234567"


def test_the_issuer_code_comes_from_the_directory_else_from_the_id() -> None:
    assert rules.issuer_code("lingwu-shuofang", "SF") == "SF"
    assert rules.issuer_code("lingwu-shuofang") == "SHUOFANG"
    assert rules.issuer_code("lingwu-yucaijie-2", "") == "2"
    assert rules.issuer_code("社区", "") == "X"
    assert rules.issuer_code("x", "a-b c") == "ABC"


def test_a_malformed_number_is_simply_not_found() -> None:
    assert rules.check_number(" lw-sf-2030-000001 ") == "LW-SF-2030-000001"
    for bad in ("", "LW-SF-30-000001", "LW--2030-000001", "<script>", "LW-SF-2030-1"):
        with pytest.raises(Refusal) as refused:
            rules.check_number(bad)
        assert refused.value.code == "CERTIFICATE_NOT_FOUND"


def test_nothing_to_certify_is_refused() -> None:
    with pytest.raises(Refusal) as refused:
        rules.ensure_something_to_certify([])
    assert refused.value.code == "NO_SERVICE_IN_PERIOD"
    line = rules.Activity("秩序维护", "广场", at(-1).date(), 30)
    rules.ensure_something_to_certify([line])
    with pytest.raises(Refusal):
        rules.ensure_something_to_certify([line, rules.Activity("秩序维护", "广场", at(-1).date(), -30)])


def test_a_revocation_needs_a_reason_and_happens_once() -> None:
    assert rules.check_revocation(rules.CertificateStatus.VALID, " 时长有误 ") == "时长有误"
    with pytest.raises(Refusal) as refused:
        rules.check_revocation(rules.CertificateStatus.VALID, "  ")
    assert refused.value.code == "BAD_USER_INPUT"
    with pytest.raises(Refusal) as refused:
        rules.check_revocation(rules.CertificateStatus.REVOKED, "again")
    assert refused.value.code == "CERTIFICATE_REVOKED"


def test_a_correction_asks_for_another_number_of_minutes_within_a_day() -> None:
    assert rules.check_correction_request(120, 90, "手机没电") == (120, "手机没电")
    assert rules.check_correction_request(0, 90, "没有去")[0] == 0
    for asked in (90, -1, 24 * 60 + 1):
        with pytest.raises(Refusal) as refused:
            rules.check_correction_request(asked, 90, "理由")
        assert refused.value.details["field"] == "minutes"


def test_declining_needs_a_reason_accepting_does_not() -> None:
    accept, decline = rules.CorrectionDecision.ACCEPT, rules.CorrectionDecision.DECLINE
    assert rules.correction_outcome(accept, None) == (rules.CorrectionStatus.ACCEPTED, None)
    assert rules.correction_outcome(decline, "记录无误") == (rules.CorrectionStatus.DECLINED, "记录无误")
    with pytest.raises(Refusal):
        rules.correction_outcome(decline, " ")


def test_records_lock_a_number_of_days_after_the_shift_ends() -> None:
    ended = at(-10, "11:00")
    assert not rules.record_locked(ended, ended + timedelta(days=7) - timedelta(seconds=1), 7)
    assert rules.record_locked(ended, ended + timedelta(days=7), 7)
