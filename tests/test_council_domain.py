"""The rules of the 邻里议事会, without I/O: where a concern may go next, who pays what, one
household one vote, when an overdue task reminds its owner."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.common.errors import Refusal
from services.notify.domain import messages_for
from services.volunteers import council
from services.volunteers.council import ConcernStatus, Hand, Share, TaskStatus, Triage, Vote

D = date(2026, 12, 5)


def test_a_concern_is_triaged_once_then_follows_the_council_to_a_rating() -> None:
    status = council.triaged(ConcernStatus.RAISED, Triage.TO_COUNCIL)
    for step in (ConcernStatus.DECIDED, ConcernStatus.IN_PROGRESS, ConcernStatus.DONE, ConcernStatus.RATED):
        status = council.move(status, step)
    assert status is ConcernStatus.RATED
    assert council.triaged(ConcernStatus.RAISED, Triage.DUPLICATE) is ConcernStatus.DUPLICATE
    assert council.triaged(ConcernStatus.RAISED, Triage.HANDLED) is ConcernStatus.HANDLED
    for current, to in (
        (ConcernStatus.HANDLED, ConcernStatus.TO_COUNCIL),
        (ConcernStatus.RAISED, ConcernStatus.DECIDED),
        (ConcernStatus.TO_COUNCIL, ConcernStatus.DONE),
        (ConcernStatus.RATED, ConcernStatus.DONE),
    ):
        with pytest.raises(Refusal) as refused:
            council.move(current, to)
        assert refused.value.code == "CONCERN_WRONG_STATE"
        assert council.words_for(current)[0] in refused.value.zh


def test_every_state_is_told_in_words() -> None:
    for status in ConcernStatus:
        zh, en = council.words_for(status)
        assert zh and en and status.value not in zh


def test_shares_must_add_up_to_the_total_exactly() -> None:
    split = council.check_cost_split(120_000, council.halves(120_000, "物业公司", "居民"))
    assert [(s.party, s.fen) for s in split.shares] == [("物业公司", 60_000), ("居民", 60_000)]
    odd = council.halves(1001, "物业公司", "居民")
    assert odd[0].fen + odd[1].fen == 1001
    assert council.check_cost_split(0, []).shares == ()
    with pytest.raises(Refusal) as refused:
        council.check_cost_split(120_000, [Share("物业公司", 60_000), Share("居民", 50_000)])
    assert refused.value.code == "BAD_USER_INPUT"
    assert refused.value.details == {"field": "shares"}
    assert "1100.00元" in refused.value.zh and "1200.00" in refused.value.en
    for total, shares in (
        (-1, []),
        (100, []),
        (100, [Share("物业公司", 150), Share("居民", -50)]),
        (100, [Share("物业公司", 50), Share(" 物业公司 ", 50)]),
        (100, [Share("", 100)]),
    ):
        with pytest.raises(Refusal) as bad:
            council.check_cost_split(total, shares)
        assert bad.value.code == "BAD_USER_INPUT"


def test_one_household_one_vote() -> None:
    result = council.tally(
        [
            Hand("3号楼2单元301", Vote.FOR),
            Hand("3号楼 2单元 301", Vote.FOR),  # the same door, written again
            Hand("3号楼2单元３０２", Vote.AGAINST),
            Hand("3号楼2单元302", Vote.AGAINST),
            Hand("3号楼1单元101", Vote.ABSTAIN),
        ]
    )
    assert (result.votes_for, result.against, result.abstain) == (1, 1, 1)
    assert len(result.households) == 3
    assert not result.carried
    with pytest.raises(Refusal) as refused:
        council.tally([Hand("3号楼2单元301", Vote.FOR), Hand("3号楼2单元301", Vote.AGAINST)])
    assert refused.value.code == "BAD_USER_INPUT"
    assert "一户只能投一票" in refused.value.zh


def test_an_overdue_task_is_due_a_reminder_once_a_day() -> None:
    deadline = D
    assert not council.due_a_reminder(TaskStatus.OPEN, deadline, None, D)
    assert council.due_a_reminder(TaskStatus.OPEN, deadline, None, D + timedelta(days=1))
    assert not council.due_a_reminder(TaskStatus.OPEN, deadline, D + timedelta(days=1), D + timedelta(days=1))
    assert council.due_a_reminder(
        TaskStatus.IN_PROGRESS, deadline, D + timedelta(days=1), D + timedelta(days=2)
    )
    assert not council.due_a_reminder(TaskStatus.DONE, deadline, None, D + timedelta(days=9))


def test_ratings_are_one_to_five_by_residents_of_the_building() -> None:
    assert council.check_stars(5) == 5
    with pytest.raises(Refusal):
        council.check_stars(6)
    assert council.may_rate("c1", "3号楼", "c1", " 3号楼")
    assert not council.may_rate("c1", "4号楼", "c1", "3号楼")
    assert not council.may_rate("c2", "3号楼", "c1", "3号楼")
    with pytest.raises(Refusal):
        council.check_deadline(D - timedelta(days=1), D)


def test_messages_tell_each_invitee_the_organiser_each_reply_and_the_resident_in_words() -> None:
    invited = messages_for(
        "council.invited",
        {
            "title": "3号楼水管议事会",
            "starts_at": "2026-12-05T11:00:00+00:00",
            "place": "朔方社区邻里驿家（朔方路8号）",
            "role_zh": "物业公司",
            "role_en": "property company",
            "recipients": ["manager-1", "manager-2"],
        },
    )
    assert [m.recipient_id for m in invited] == ["manager-1", "manager-2"]
    assert "以物业公司身份参加「3号楼水管议事会」，时间：12月5日 19:00" in invited[0].body_zh
    replied = messages_for(
        "council.replied",
        {"title": "3号楼水管议事会", "name": "朔方物业", "reply": "DECLINE", "organiser_id": "org-1"},
    )
    assert [(m.recipient_id, m.body_zh) for m in replied] == [
        ("org-1", "朔方物业不能参加「3号楼水管议事会」。")
    ]
    changed = messages_for(
        "concern.changed",
        {
            "resident_id": "r-1",
            "raised_by": "gw-1",
            "building": "3号楼",
            "words_zh": "已提交邻里议事会商议",
            "words_en": "Sent to the neighbourhood council",
            "note": None,
        },
    )
    assert [m.recipient_id for m in changed] == ["r-1", "gw-1"]
    assert "TO_COUNCIL" not in changed[0].body_zh and "已提交邻里议事会商议" in changed[0].body_zh


def test_a_deleted_residents_concern_keeps_its_words_only_once_the_council_took_it_up() -> None:
    words = "赵淑兰反映：水管漏水，请打13912345678、+86 138-0000-0000、138 1111 2222或0951-4012345"
    needles = ("13912345678", "赵淑兰")
    kept = council.words_kept_after_erasure(ConcernStatus.DECIDED, words, needles, "已注销居民-1a2b3c4d")
    gone = council.PHONE_REMOVED
    assert kept == f"已注销居民-1a2b3c4d反映：水管漏水，请打已注销居民-1a2b3c4d、{gone}、{gone}或{gone}"
    door = "3号楼2单元301漏水"  # a door number is no telephone
    assert council.words_kept_after_erasure(ConcernStatus.RATED, door, (), "x") == door
    for status in (ConcernStatus.RAISED, ConcernStatus.HANDLED, ConcernStatus.DUPLICATE):
        assert council.words_kept_after_erasure(status, words, needles, "x") == council.ERASED_CONCERN


def test_news_of_a_concern_whose_author_deleted_her_account_reaches_only_the_grid_worker() -> None:
    news = {"building": "3号楼", "status": "HANDLED", "words_zh": "已处理", "words_en": "done", "note": None}
    assert messages_for("concern.changed", {**news, "resident_id": None, "raised_by": None}) == []
    told = messages_for("concern.changed", {**news, "resident_id": None, "raised_by": "grid-1"})
    assert [m.recipient_id for m in told] == ["grid-1"]
