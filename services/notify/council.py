"""Messages about the 邻里议事会 (events from the volunteers service), Chinese and English. No I/O."""

from __future__ import annotations

from typing import Any

from services.notify.domain import Message, _when_en, _when_zh


def _resident_and_raiser(p: dict[str, Any]) -> list[str]:
    # Either may be gone: the author of a concern whose account was deleted is not kept.
    people = [p["resident_id"]] if p.get("resident_id") else []
    if p.get("raised_by") and p["raised_by"] != p.get("resident_id"):
        people.append(p["raised_by"])
    return people


def council_messages(event_type: str, p: dict[str, Any]) -> list[Message]:
    if event_type == "concern.changed":
        note_zh = f"说明：{p['note']}" if p.get("note") else ""
        note_en = f" Note: {p['note']}" if p.get("note") else ""
        return [
            Message(
                who,
                event_type,
                "您反映的事项有新进展",
                f"您反映的{p['building']}的事项：{p['words_zh']}。{note_zh}",
                "News about your concern",
                f"Your concern about {p['building']}: {p['words_en']}.{note_en}",
            )
            for who in _resident_and_raiser(p)
        ]
    if event_type == "council.invited":
        role_zh, role_en = p["role_zh"], p["role_en"]
        return [
            Message(
                who,
                event_type,
                "邻里议事会邀请",
                f"诚邀您以{role_zh}身份参加「{p['title']}」，时间：{_when_zh(p['starts_at'])}，"
                f"地点：{p['place']}。请在邀请中回复能否参加。",
                "Invitation to a neighbourhood council",
                f'You are invited as {role_en} to "{p["title"]}" on {_when_en(p["starts_at"])} at '
                f"{p['place']}. Please reply whether you can come.",
            )
            for who in p["recipients"]
        ]
    if event_type == "council.replied":
        coming = p["reply"] == "ACCEPT"
        return [
            Message(
                p["organiser_id"],
                event_type,
                "议事会邀请回复",
                f"{p['name']}{'将参加' if coming else '不能参加'}「{p['title']}」。",
                "A reply to your invitation",
                f'{p["name"]} {"will come to" if coming else "cannot come to"} "{p["title"]}".',
            )
        ]
    if event_type == "council.task_assigned":
        return [
            Message(
                who,
                event_type,
                "议事会交办事项",
                f"议事会请您办理{p['building']}的事项：{p['decision']}。办理期限：{p['deadline']}。",
                "A task from the neighbourhood council",
                f"The council asks you to carry out, for {p['building']}: {p['decision']}. "
                f"Deadline: {p['deadline']}.",
            )
            for who in p["recipients"]
        ]
    if event_type == "council.task_overdue":
        return [
            Message(
                who,
                event_type,
                "交办事项已逾期",
                f"{p['building']}的事项「{p['decision']}」已超过办理期限（{p['deadline']}），请尽快办理并更新进展。",
                "A council task is overdue",
                f'The task "{p["decision"]}" for {p["building"]} is past its deadline ({p["deadline"]}). '
                "Please carry it out and add a progress note.",
            )
            for who in p["recipients"]
        ]
    return []
