"""The privacy notice residents accept when they register (PIPL), and the consents it asks for.

Pure: the notice's version and words, which age bands need a guardian's consent, the refusals.
A new version of the notice is a new ``VERSION``: each resident accepts it at their next log-in.
"""

from __future__ import annotations

from services.common.errors import Refusal
from services.identity.domain import AgeBand

VERSION = "2026-12"

TEXT_ZH = (
    "邻里平台（社区、街道及其工作人员）为组织邻里节和驿家活动、志愿服务与微心愿，收集您的手机号、姓名、"
    "住址（楼栋、单元）和您登记的家人（姓名、关系、年龄段）。它们只用于报名、签到、通知和社区服务统计，"
    "不出售，不用于广告。未满14周岁儿童的信息属于敏感个人信息，须由监护人同意后登记。"
    "短信记录保存30天，通知和发送记录保存90至180天，操作审计的详细内容保存180天，之后自动删除。"
    "您可随时在“我的”中查看、下载您的全部数据，或注销账号：注销后您的姓名、电话、家人、收件箱和心愿内容"
    "被删除，报名人数、志愿服务时长和审计记录以化名保留。"
)
TEXT_EN = (
    "Linli (the communities, streets and their staff) collects your mobile number, name, address "
    "(building, unit) and the family members you add (name, relation, age band) to run festival and "
    "station activities, volunteering and small wishes. They are used only for sign-ups, check-ins, "
    "notifications and community statistics; never sold or used for advertising. A child under 14's "
    "details are sensitive personal information, added only with a guardian's consent. Texts are "
    "kept 30 days, messages and their deliveries 90 to 180 days, audit details 180 days, then "
    "deleted. Under 我的 you can see and "
    "download all your data at any time, or delete your account: your name, numbers, family, inbox "
    "and wishes' words are erased; sign-up counts, service hours and the audit log stay under a "
    "pseudonym."
)

# Under 14 is sensitive (PIPL art. 28, 31). TEEN spans 13 to 17, so it is asked for too.
NEEDS_GUARDIAN = frozenset({AgeBand.CHILD, AgeBand.TEEN})


def needs_guardian(age_band: AgeBand) -> bool:
    return age_band in NEEDS_GUARDIAN


def consent_required() -> Refusal:
    return Refusal(
        "PRIVACY_CONSENT_REQUIRED",
        "请先阅读并同意《隐私告知》再登录",
        "Read and accept the privacy notice to log in",
        {"version": VERSION},
    )


def consent_required_at_desk() -> Refusal:
    return Refusal(
        "PRIVACY_CONSENT_REQUIRED",
        "登记前请向居民说明《隐私告知》，征得同意后勾选“已说明并征得同意”",
        "Before registering, explain the privacy notice to the resident and tick that they agreed",
        {"version": VERSION, "field": "privacyNoticeExplained"},
    )


def notice_outdated() -> Refusal:
    return Refusal(
        "PRIVACY_NOTICE_OUTDATED",
        "《隐私告知》已更新，请阅读新版本后再同意",
        "The privacy notice has changed: read the new version before accepting it",
        {"version": VERSION},
    )


def guardian_consent_required() -> Refusal:
    return Refusal(
        "GUARDIAN_CONSENT_REQUIRED",
        "登记未成年家人须由监护人同意，请勾选“我是监护人并同意”",
        "A child's details are added only with a guardian's consent: tick “I am the guardian and consent”",
        {"field": "guardianConsent"},
    )


def check_version(version: str) -> str:
    """The version a resident accepted must be the one shown now."""
    if version.strip() != VERSION:
        raise notice_outdated()
    return VERSION
