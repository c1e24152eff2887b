"""志愿服务记录证明 and corrections of service records, as the 民政部《志愿服务记录与证明出具办法》
asks: rules only, no I/O.

A certificate is issued by the community that kept the records (on the volunteer's request or an
organiser's), for a period; it is numbered ``LW-<issuer code>-<year>-<serial>``, the serial
counting from 1 per issuer and year without gaps; it carries what it certifies (hours and each
activity) and the issuer's fields as they were on the day; it may be revoked with a reason.
A volunteer who finds a record wrong asks for a correction with a reason; the organiser accepts
it (a correction entry in the ledger) or declines it with a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum

from services.common.errors import Refusal, bad_input
from services.volunteers.domain import MAX_CORRECTION_MINUTES, check_text

NUMBER_PREFIX = "LW"  # 邻里
NUMBER_PATTERN = re.compile(r"^LW-[A-Z0-9]{1,12}-\d{4}-\d{6,}$")
MAX_ACTIVITY_LINES = 500


class CertificateStatus(Enum):
    VALID = "VALID"
    REVOKED = "REVOKED"


class CorrectionStatus(Enum):
    OPEN = "OPEN"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"


class CorrectionDecision(Enum):
    ACCEPT = "ACCEPT"
    DECLINE = "DECLINE"


@dataclass(frozen=True)
class Activity:
    """One line of what a certificate certifies: a shift's content (role), place and minutes."""

    content: str
    place: str
    on: date
    minutes: int

    def as_json(self) -> dict[str, object]:
        return {
            "content": self.content,
            "place": self.place,
            "on": self.on.isoformat(),
            "minutes": self.minutes,
        }


def issuer_code(community_id: str, certificate_code: str = "") -> str:
    """The issuer's part of a number: the directory's code (SF), else the id's last part
    (lingwu-shuofang → SHUOFANG), letters and digits only, 12 at most."""
    chosen = certificate_code or community_id.rsplit("-", 1)[-1]
    code = re.sub(r"[^A-Z0-9]", "", chosen.upper())[:12]
    return code or "X"


def certificate_number(code: str, year: int, serial: int) -> str:
    """LW-SF-2026-000123."""
    return f"{NUMBER_PREFIX}-{code}-{year}-{serial:06d}"


def check_number(number: str) -> str:
    cleaned = number.strip().upper()
    if not NUMBER_PATTERN.match(cleaned):
        raise certificate_not_found()  # a malformed number is simply not one of ours
    return cleaned


def total_minutes(activities: list[Activity]) -> int:
    return sum(activity.minutes for activity in activities)


def ensure_something_to_certify(activities: list[Activity]) -> None:
    if total_minutes(activities) <= 0:
        raise Refusal(
            "NO_SERVICE_IN_PERIOD",
            "该期间在本社区没有可证明的志愿服务时长",
            "No service hours with this community in that period to certify",
        )
    if len(activities) > MAX_ACTIVITY_LINES:
        raise Refusal(
            "REPORT_TOO_LARGE",
            "证明内容过多，请缩短证明期间",
            "Too much for one certificate: choose a shorter period",
        )


def check_revocation(status: CertificateStatus, reason: str) -> str:
    reason = check_text("reason", reason, 200)
    if status is CertificateStatus.REVOKED:
        raise Refusal("CERTIFICATE_REVOKED", "该证明已作废", "This certificate has already been revoked")
    return reason


def certificate_not_found() -> Refusal:
    return Refusal("CERTIFICATE_NOT_FOUND", "找不到该证明编号", "No certificate with that number")


# --- corrections -------------------------------------------------------------------------------


def check_correction_request(asked_minutes: int, credited: int, reason: str) -> tuple[int, str]:
    """A volunteer says a shift should credit ``asked_minutes`` instead of ``credited``."""
    reason = check_text("reason", reason, 500)
    if not 0 <= asked_minutes <= MAX_CORRECTION_MINUTES:
        raise bad_input("minutes", "服务分钟数须在0到1440之间", "Minutes are between 0 and 1440")
    if asked_minutes == credited:
        raise bad_input(
            "minutes", f"该记录已是{credited}分钟，无需更正", f"The record already says {credited} minutes"
        )
    return asked_minutes, reason


def correction_outcome(
    decision: CorrectionDecision, reason: str | None
) -> tuple[CorrectionStatus, str | None]:
    if decision is CorrectionDecision.ACCEPT:
        return CorrectionStatus.ACCEPTED, None
    if not (reason or "").strip():
        raise bad_input("reason", "不予更正须说明原因", "Say why the correction is declined")
    return CorrectionStatus.DECLINED, check_text("reason", reason or "", 200)


def correction_reason(request_reason: str) -> str:
    """What the ledger's correction entry says: whose request it carries out, and why."""
    return f"志愿者更正申请：{request_reason}"[:500]


def correction_not_found() -> Refusal:
    return Refusal("CORRECTION_NOT_FOUND", "找不到该更正申请", "No such correction request")


def correction_decided(status: str) -> Refusal:
    word = "已更正" if status == CorrectionStatus.ACCEPTED.value else "已不予更正"
    return Refusal(
        "CORRECTION_DECIDED", f"该更正申请已处理（{word}）", "This correction request was already decided"
    )


def correction_already_open() -> Refusal:
    return Refusal(
        "CORRECTION_ALREADY_OPEN",
        "该记录已有待处理的更正申请，请等待社区处理",
        "You already asked for a correction of this record: wait for the community",
    )


# --- records ------------------------------------------------------------------------------------


def record_locked(shift_ends_at: datetime, now: datetime, lock_days: int) -> bool:
    """A shift's records are confirmed within ``lock_days`` of its end, then locked."""
    return now >= shift_ends_at + timedelta(days=lock_days)


def record_locked_refusal(lock_days: int) -> Refusal:
    return Refusal(
        "RECORD_LOCKED",
        f"班次结束已超过{lock_days}天，记录已锁定，只能由志愿者提出更正申请后更正",
        f"Records lock {lock_days} days after the shift: "
        "they change only through a volunteer's correction request",
    )
