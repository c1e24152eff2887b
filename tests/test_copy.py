"""The words people read: one full stop per sentence."""

from __future__ import annotations

from services.notify.templates import DEFAULT_TEMPLATES, render, tidy


def test_a_reason_that_ends_its_own_sentence_does_not_double_the_full_stop() -> None:
    assert (
        tidy("已取消，原因：天气原因。。您的报名已自动取消。")
        == "已取消，原因：天气原因。您的报名已自动取消。"
    )
    assert tidy("Reason: rain.. Your sign-up") == "Reason: rain. Your sign-up"
    assert tidy("Wait... and see") == "Wait... and see"


def test_a_cancellation_with_a_reason_in_a_whole_sentence_reads_once() -> None:
    values = {
        "activity": "义诊",
        "time": "12月5日 09:00",
        "venue": "朔方社区邻里驿家",
        "reason": "天气原因。",
    }
    kind = next(k for k in DEFAULT_TEMPLATES if "reason" in DEFAULT_TEMPLATES[k].body_zh)
    body = render(DEFAULT_TEMPLATES[kind], values, {**values, "reason": "rain."}).body_zh
    assert "。。" not in body and "天气原因。您的报名" in body
