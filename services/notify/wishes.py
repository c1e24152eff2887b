"""Messages about 微心愿 (events from the volunteers service), Chinese and English. No I/O."""

from __future__ import annotations

from typing import Any

from services.notify.domain import Message, _when_en, _when_zh

_CATEGORY = {
    "REPAIR": ("维修", "a repair"),
    "VISIT": ("探访陪伴", "a visit"),
    "SUPPLIES": ("物资", "supplies"),
    "HEALTH": ("健康", "health"),
    "ERRAND": ("跑腿代办", "an errand"),
    "OTHER": ("其他", "a wish"),
}


def _message(
    recipient: str,
    kind: str,
    title_zh: str,
    body_zh: str,
    title_en: str,
    body_en: str,
    params: dict[str, str],
    variant: str = "",
) -> Message:
    return Message(recipient, kind, title_zh, body_zh, title_en, body_en, params, variant)


def _resident_and_poster(payload: dict[str, Any]) -> list[str]:
    """The resident, and the grid worker who acted for them (if one did)."""
    people = [payload["resident_id"]]
    if payload.get("posted_by") and payload["posted_by"] != payload["resident_id"]:
        people.append(payload["posted_by"])
    return people


def wish_messages(event_type: str, p: dict[str, Any]) -> list[Message]:
    zh, en = _CATEGORY.get(p.get("category", ""), _CATEGORY["OTHER"])
    if event_type == "wish.posted":
        return [
            _message(
                who,
                event_type,
                "心愿已提交",
                f"「{zh}」心愿已提交，社区审核后将发布到心愿墙。",
                "Wish received",
                f"The wish for {en} was received; once the community reviews it, it goes on the wish wall.",
                {"category": zh},
            )
            for who in _resident_and_poster(p)
        ]
    if event_type == "wish.reviewed":
        params, variant = {"category": zh}, "merged"
        if p["outcome"] == "MERGED":
            body_zh = f"您的「{zh}」心愿与社区已有的相同心愿合并，将一并实现。"
            body_en = (
                f"Your wish for {en} was merged with the same wish already posted; they are met together."
            )
        else:
            body_zh = f"很抱歉，您的「{zh}」心愿未通过审核，原因：{p['reason']}。"
            body_en = f"Sorry, your wish for {en} was not accepted. Reason: {p['reason']}."
            params, variant = {"category": zh, "reason": str(p["reason"])}, "declined"
        return [
            _message(
                who, event_type, "心愿审核结果", body_zh, "Your wish was reviewed", body_en, params, variant
            )
            for who in _resident_and_poster(p)
        ]
    if event_type == "wish.published":
        return [
            _message(
                p["resident_id"],
                event_type,
                "心愿已上墙",
                f"您的「{zh}」心愿已发布到社区心愿墙，等待爱心人士认领。",
                "Your wish is on the wall",
                f"Your wish for {en} is on the community's wish wall, waiting for someone to take it on.",
                {"category": zh},
            )
        ]
    if event_type == "wish.claimed":
        by_zh = f"由{p['organisation']}的志愿者" if p.get("organisation") else "已有志愿者"
        by_en = f"A volunteer from {p['organisation']}" if p.get("organisation") else "A volunteer"
        planned = p.get("planned_visit_at")
        when_zh = f"，计划{_when_zh(planned)}上门" if planned else "，上门前会通过社区与您约时间"
        when_en = (
            f" and plans to come on {_when_en(planned)}"
            if planned
            else ", and will arrange a time through the community"
        )
        return [
            *(
                _message(
                    who,
                    event_type,
                    "心愿已被认领",
                    f"您的「{zh}」心愿{by_zh}认领{when_zh}。在「心愿」里可以看到是谁认领的。",
                    "Someone took on your wish",
                    f"{by_en} has taken on your wish for {en}{when_en}. See who in Wishes.",
                    {"category": zh, "time": _when_zh(planned) if planned else "待约定"},
                )
                for who in _resident_and_poster(p)
            ),
            _message(
                p["claimant_id"],
                event_type,
                "认领成功",
                f"您已认领{p['building']}的「{zh}」心愿，请在认领后及时开始，逾期未开始将退回心愿墙。",
                "Wish claimed",
                f"You took on a wish for {en} in {p['building']}. Start in time, or it returns to the wall.",
                {"building": str(p["building"]), "category": zh},
                "claimant",
            ),
        ]
    if event_type == "wish.done":
        return [
            _message(
                who,
                event_type,
                "心愿已完成，请确认",
                f"认领人已完成您的「{zh}」心愿：{p['note']}。请确认心愿已实现。",
                "Wish done: please confirm",
                f"Your wish for {en} is done: {p['note']}. Please confirm that it was met.",
                {"category": zh, "note": str(p["note"])},
            )
            for who in _resident_and_poster(p)
        ]
    if event_type == "wish.met":
        return [
            _message(
                p["claimant_id"],
                event_type,
                "心愿已实现，感谢您",
                f"{p['building']}的「{zh}」心愿已确认实现，感谢您的爱心！",
                "Wish met: thank you",
                f"The wish for {en} in {p['building']} was confirmed as met. Thank you!",
                {"building": str(p["building"]), "category": zh},
            )
        ]
    if event_type == "wish.given_back":
        return [
            _message(
                who,
                event_type,
                "心愿已回到心愿墙",
                f"认领人无法完成您的「{zh}」心愿，原因：{p['reason']}。心愿已回到心愿墙，等待其他爱心人士认领。",
                "Your wish is back on the wall",
                f"The helper cannot do your wish for {en} after all. Reason: {p['reason']}. "
                "It is back on the wish wall for someone else to take on.",
                {"category": zh, "reason": str(p["reason"])},
            )
            for who in _resident_and_poster(p)
        ]
    if event_type == "wish.visit_planned":
        return [
            _message(
                who,
                event_type,
                "上门时间",
                f"认领人计划于{_when_zh(p['planned_visit_at'])}上门办理您的「{zh}」心愿。",
                "When your helper comes",
                f"Your helper plans to come on {_when_en(p['planned_visit_at'])} about your wish for {en}.",
                {"category": zh, "time": _when_zh(p["planned_visit_at"])},
            )
            for who in _resident_and_poster(p)
        ]
    if event_type == "wish.claim_expired":
        return [
            _message(
                p["claimant_id"],
                event_type,
                "认领已过期",
                f"您认领的{p['building']}「{zh}」心愿未按时开始，已退回心愿墙。",
                "Your claim lapsed",
                f"The wish for {en} in {p['building']} was not started in time and is back on the wall.",
                {"building": str(p["building"]), "category": zh},
            )
        ]
    return []
