"""The pure rules behind 双报到 review, a claimant's visit time and giving a wish back, and
withdrawing from a shift (no I/O: the functions take their own ``now``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from services.common.errors import Refusal
from services.volunteers import domain, profiles, wishes
from services.volunteers.profiles import PartyMemberReview, PartyMemberStatus

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # a fixed instant: these rules take ``now``


def code_of(call: Callable[[], object]) -> str:
    with pytest.raises(Refusal) as refused:
        call()
    return refused.value.code


@pytest.mark.parametrize(
    ("themself", "before", "same", "after"),
    [
        (True, None, False, PartyMemberStatus.PENDING),  # a first registration waits
        (True, PartyMemberStatus.APPROVED, True, PartyMemberStatus.APPROVED),  # the same again
        (True, PartyMemberStatus.APPROVED, False, PartyMemberStatus.PENDING),  # a change waits
        (True, PartyMemberStatus.DECLINED, True, PartyMemberStatus.PENDING),  # asked again
        (False, None, False, PartyMemberStatus.APPROVED),  # the community's organiser made it
        (False, PartyMemberStatus.PENDING, False, PartyMemberStatus.APPROVED),
    ],
)
def test_a_members_own_registration_waits_for_review_and_an_organisers_does_not(
    themself: bool, before: PartyMemberStatus | None, same: bool, after: PartyMemberStatus
) -> None:
    assert profiles.status_after_registering(themself, before, same) is after


def test_a_decline_says_why_and_only_an_approved_registration_claims_as_a_party_member() -> None:
    assert profiles.review_outcome(PartyMemberReview.APPROVE, None) == (PartyMemberStatus.APPROVED, None)
    assert profiles.review_outcome(PartyMemberReview.DECLINE, " 请写全称 ") == (
        PartyMemberStatus.DECLINED,
        "请写全称",
    )
    assert code_of(lambda: profiles.review_outcome(PartyMemberReview.DECLINE, "  ")) == "BAD_USER_INPUT"
    assert profiles.approved_work_unit("APPROVED", "市税务局") == "市税务局"
    assert code_of(lambda: profiles.approved_work_unit(None, None)) == "NOT_A_PARTY_MEMBER"
    assert code_of(lambda: profiles.approved_work_unit("PENDING", "市税务局")) == "PARTY_MEMBER_PENDING"
    with pytest.raises(Refusal) as declined:
        profiles.approved_work_unit("DECLINED", "市税务局", "请写全称")
    assert declined.value.code == "PARTY_MEMBER_DECLINED"
    assert declined.value.zh.startswith("您的双报到登记未通过社区审核（原因：请写全称）")
    # Every refusal a party member meets speaks to them and names whom to ask.
    for refusal in (
        profiles.not_a_party_member(),
        profiles.registration_pending(),
        profiles.registration_declined(None),
    ):
        assert refusal.zh.startswith("您") and "社区工作人员" in refusal.zh


def test_a_visit_is_planned_ahead_within_sixty_days_and_a_give_back_needs_a_reason() -> None:
    assert wishes.check_planned_visit(None, NOW) is None
    assert wishes.check_planned_visit(NOW + timedelta(days=2), NOW) == NOW + timedelta(days=2)
    assert wishes.check_planned_visit(NOW - timedelta(minutes=5), NOW)  # a clock's slack
    for bad in (NOW - timedelta(hours=1), NOW + timedelta(days=61), datetime(2026, 6, 3, 9, 0)):
        assert code_of(lambda bad=bad: wishes.check_planned_visit(bad, NOW)) == "BAD_USER_INPUT"
    assert wishes.check_reason("  临时  出差 ") == "临时 出差"
    assert code_of(lambda: wishes.check_reason(" ")) == "BAD_USER_INPUT"
    assert code_of(lambda: wishes.check_reason("长" * 201)) == "BAD_USER_INPUT"
    assert wishes.may_give_back("CLAIMED")
    assert not any(wishes.may_give_back(s) for s in ("PUBLISHED", "DONE", "MET"))


def test_withdrawal_closes_at_the_cut_off_and_the_refusal_names_the_phone() -> None:
    shift = domain.Span(NOW + timedelta(hours=3), NOW + timedelta(hours=5))
    two_hours = timedelta(hours=2)
    assert domain.withdrawal_closes_at(shift, two_hours) == NOW + timedelta(hours=1)
    domain.ensure_may_withdraw(NOW, shift, two_hours, "0951-4012345")
    with pytest.raises(Refusal) as late:
        domain.ensure_may_withdraw(NOW + timedelta(hours=1), shift, two_hours, "0951-4012345")
    assert late.value.code == "WITHDRAWAL_CLOSED"
    assert late.value.details == {"contactPhone": "0951-4012345", "closesMinutesBefore": 120}
    assert "2小时" in late.value.zh and "0951-4012345" in late.value.zh
    with pytest.raises(Refusal) as no_phone:
        domain.ensure_may_withdraw(NOW + timedelta(hours=4), shift, timedelta(minutes=30), None)
    assert "30分钟" in no_phone.value.zh and "联系社区工作人员" in no_phone.value.zh


@pytest.mark.parametrize("phone", ["0951-4012345", "13912345678", "+86 139 1234 5678", "  "])
def test_a_shift_contact_phone_is_a_number_people_can_call(phone: str) -> None:
    checked = domain.check_phone("contactPhone", phone)
    assert checked == (" ".join(phone.split()) or None)


@pytest.mark.parametrize("phone", ["call the desk", "12345", "0951-4012345-0000000000"])
def test_a_contact_phone_that_is_not_a_number_is_refused(phone: str) -> None:
    assert code_of(lambda: domain.check_phone("contactPhone", phone)) == "BAD_USER_INPUT"
