"""Messages to staff about their colleagues' accounts (events from identity). No I/O."""

from __future__ import annotations

from typing import Any

from services.notify.domain import Message, _when_en, _when_zh

KIND = "staff.log_in_burst"


def log_in_burst_messages(p: dict[str, Any]) -> list[Message]:
    """Each admin of the account's communities hears that its password is being guessed."""
    minutes = max(1, int(p["longest_delay_s"]) // 60)
    username = p["username"]
    body_zh = (
        f"员工账号「{username}」于{_when_zh(p['at'])}起连续输错密码{p['failures']}次以上，"
        f"系统已让每次再试逐步等待（最长{minutes}分钟），账号未被锁定。"
        "如非本人所为，请提醒其修改密码，必要时在社区信息中停用该账号。"
    )
    body_en = (
        f"Someone has entered a wrong password for the staff account “{username}” {p['failures']} "
        f"times or more since {_when_en(p['at'])}. Each further try now waits longer (up to "
        f"{minutes} minutes); the account is not locked. If it was not its owner, ask them to "
        "change their password."
    )
    return [
        Message(admin, KIND, "员工账号密码被连续猜测", body_zh, "A staff password is being guessed", body_en)
        for admin in p["recipients"]
    ]
