"""The rules of wishes, without I/O: what a wish must say, when a claim lapses, who may help."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.common.actor import GRID_WORKER, ORGANISER, Actor
from services.common.errors import Refusal
from services.notify.domain import messages_for
from services.volunteers import wishes
from services.volunteers.wishes import ClaimantKind, WishDraft
from services.volunteers.worker import VOLUNTEERS_WORKER

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def test_a_wish_needs_a_known_category_and_a_short_description() -> None:
    good = WishDraft("lingwu-shuofang", "VISIT", " 想有人陪我聊聊天 ", "3号楼")
    assert wishes.check_draft(good).description == "想有人陪我聊聊天"
    with pytest.raises(Refusal) as refused:
        wishes.check_draft(WishDraft("lingwu-shuofang", "CAR", "买车", "3号楼"))
    assert refused.value.details == {"field": "category"}
    with pytest.raises(Refusal):
        wishes.check_draft(WishDraft("lingwu-shuofang", "VISIT", "长" * 201, "3号楼"))


def test_a_claim_lapses_only_if_nobody_started_it_in_time() -> None:
    expires = wishes.claim_expires_at(T0)
    assert expires == T0 + timedelta(days=3)
    assert not wishes.claim_lapsed("CLAIMED", None, expires, expires - timedelta(seconds=1))
    assert wishes.claim_lapsed("CLAIMED", None, expires, expires)
    assert not wishes.claim_lapsed("CLAIMED", T0 + timedelta(days=1), expires, expires + timedelta(days=9))
    assert not wishes.claim_lapsed("DONE", None, expires, expires + timedelta(days=9))


def test_a_claim_counts_for_the_registered_work_unit_or_a_partner_the_claimant_belongs_to() -> None:
    partners = [("朔方物业", "朔方物业"), ("Linli Bank", "linlibank")]
    assert wishes.claimed_for(ClaimantKind.VOLUNTEER, None, [], "whatever") is None
    assert wishes.claimed_for(ClaimantKind.PARTY_MEMBER, "市税务局", [], "别的单位") == "市税务局"
    assert wishes.claimed_for(ClaimantKind.PARTNER, None, partners, None) == "朔方物业"
    assert wishes.claimed_for(ClaimantKind.PARTNER, None, partners, " linli  BANK") == "Linli Bank"
    for kind, unit, named, code in (
        (ClaimantKind.PARTY_MEMBER, None, None, "NOT_A_PARTY_MEMBER"),
        (ClaimantKind.PARTNER, None, "另一家单位", "NOT_A_PARTNER_MEMBER"),
    ):
        with pytest.raises(Refusal) as refused:
            wishes.claimed_for(kind, unit, partners, named)
        assert refused.value.code == code


def test_grid_workers_act_only_in_their_own_community() -> None:
    grid = Actor("g1", frozenset({GRID_WORKER}), frozenset({"lingwu-shuofang"}))
    assert wishes.is_grid_worker_of(grid, "lingwu-shuofang")
    assert not wishes.is_grid_worker_of(grid, "lingwu-xiyuan")
    organiser = Actor("o1", frozenset({ORGANISER}), frozenset({"lingwu-shuofang"}))
    assert not wishes.is_grid_worker_of(organiser, "lingwu-shuofang")


def test_a_wish_a_grid_worker_posted_tells_the_resident_and_the_grid_worker() -> None:
    payload = {
        "wish_id": "w",
        "category": "REPAIR",
        "building": "3号楼",
        "resident_id": "r1",
        "posted_by": "g1",
    }
    told = messages_for("wish.posted", payload)
    assert [m.recipient_id for m in told] == ["r1", "g1"]
    assert "维修" in told[0].body_zh and "repair" in told[0].body_en
    claimed = messages_for("wish.claimed", {**payload, "posted_by": "r1", "claimant_id": "c1"})
    assert [m.recipient_id for m in claimed] == ["r1", "c1"]
    assert "r1" not in claimed[1].body_zh  # the claimant learns the building, not who


def test_the_volunteers_worker_sweeps_lapsed_claims_hourly() -> None:
    (sweep,) = [job for job in VOLUNTEERS_WORKER.cron_jobs if job.name == "expire_lapsed_wish_claims"]
    assert sweep.minute == 41
