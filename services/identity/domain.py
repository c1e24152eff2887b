"""Identity rules: phone numbers, login codes, profiles and staff accounts. No I/O."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from services.common.actor import (
    COMMUNITY_ADMIN,
    GRID_WORKER,
    ORGANISER,
    PLATFORM_ADMIN,
    RESIDENT,
    SCANNER,
    Actor,
)
from services.common.errors import Refusal, bad_input

_MOBILE = re.compile(r"1[3-9]\d{9}")
# A fixed line with its area code: 010 and 02x have 3 digits, the rest 4 (Yinchuan is 0951);
# the local number is 7 or 8 digits and does not start with 0.
_LANDLINE = re.compile(r"(010|02\d|0[3-9]\d{2})([1-9]\d{6,7})")
_LANDLINE_SEPARATORS = re.compile(r"[\s()（）-]")
_SEPARATORS = re.compile(r"[\s-]")
_COMMUNITY = re.compile(r"[a-z0-9][a-z0-9-]{1,63}")
_USERNAME = re.compile(r"[a-z0-9][a-z0-9_.-]{2,31}")

STAFF_ROLES = frozenset({ORGANISER, COMMUNITY_ADMIN, SCANNER, GRID_WORKER})
MIN_PASSWORD = 10
MAX_PASSWORD = 128
MAX_HOUSEHOLD = 10


# --- phone numbers and login codes -------------------------------------------------------


def check_phone(raw: str) -> str:
    """A mainland mobile number as 11 digits; spaces, dashes and a +86 prefix are forgiven."""
    phone = _SEPARATORS.sub("", raw or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not _MOBILE.fullmatch(phone):
        raise Refusal(
            "BAD_PHONE",
            "请输入正确的11位手机号码",
            "Please enter a valid 11-digit mainland mobile number",
            {"field": "phone"},
        )
    return phone


# --- how a resident without a smartphone is reached ---------------------------------------


class PhoneOf(Enum):
    """Whose the number a grid worker gives for a resident is."""

    SELF = "SELF"  # the resident's own (mobile or landline)
    FAMILY = "FAMILY"  # a family member's; ``owner`` says whose, e.g. 女儿
    NONE = "NONE"  # no phone at all: they are told in person


MOBILE, LANDLINE, FAMILY, NO_PHONE = "mobile", "landline", "family", "none"
MAX_OWNER = 10


@dataclass(frozen=True)
class Contact:
    """How a resident is reached. Only ``mobile`` has a log-in ``phone``, and only that is ever
    texted; the others are told by their grid worker (by a call to ``number``, or a visit)."""

    kind: str
    phone: str | None = None  # the resident's own mobile: log-in and SMS
    number: str | None = None  # a landline or a family member's phone, to call
    owner: str = ""  # whose ``number`` is, for a family member's phone

    @property
    def gets_sms(self) -> bool:
        return self.kind == MOBILE


def bad_phone_or_landline() -> Refusal:
    return Refusal(
        "BAD_PHONE",
        "请输入11位手机号码，或带区号的固定电话（例如 0951-1234567）",
        "Please enter an 11-digit mobile number, or a landline with its area code (e.g. 0951-1234567)",
        {"field": "phone"},
    )


def check_landline(raw: str) -> str | None:
    """A fixed-line number written as 0951-1234567, or None if ``raw`` is not one."""
    digits = _LANDLINE_SEPARATORS.sub("", raw or "")
    if digits.startswith("+86"):
        digits = "0" + digits[3:]
    match = _LANDLINE.fullmatch(digits)
    return f"{match[1]}-{match[2]}" if match else None


def check_contact(raw_phone: str, phone_of: PhoneOf, owner: str = "") -> Contact:
    """What a grid worker typed: a mobile of the resident's own (their log-in), their landline,
    a family member's number (mobile or landline, with whose it is), or nothing."""
    if phone_of is PhoneOf.NONE:
        return Contact(NO_PHONE)
    landline = check_landline(raw_phone)
    if phone_of is PhoneOf.FAMILY:
        whose = (owner or "").strip()
        if not 1 <= len(whose) <= MAX_OWNER:
            raise bad_input(
                "phoneOwner",
                f"请写明是谁的电话（例如：女儿），最多{MAX_OWNER}个字",
                f"Say whose phone it is (e.g. daughter), {MAX_OWNER} characters at most",
            )
        number = landline or _mobile_or_none(raw_phone)
        if number is None:
            raise bad_phone_or_landline()
        return Contact(FAMILY, number=number, owner=whose)
    if landline is not None:
        return Contact(LANDLINE, number=landline)
    mobile = _mobile_or_none(raw_phone)
    if mobile is None:
        raise bad_phone_or_landline()
    return Contact(MOBILE, phone=mobile)


def contact_words(
    kind: str, phone: str | None, number: str | None, owner: str, mask: Callable[[str], str]
) -> tuple[str, str]:
    """How to reach a resident, in words (Chinese, English), numbers shown through ``mask``."""
    if kind == LANDLINE and number:
        return f"固定电话 {mask(number)}", f"landline {mask(number)}"
    if kind == FAMILY and number:
        return f"{owner}的电话 {mask(number)}", f"{owner}'s phone {mask(number)}"
    if kind == NO_PHONE or not phone:
        return "没有电话，请上门告知", "no phone: tell them in person"
    return f"本人手机 {mask(phone)}", f"own mobile {mask(phone)}"


def _mobile_or_none(raw: str) -> str | None:
    try:
        return check_phone(raw)
    except Refusal:
        return None


def new_code() -> str:
    """Six random digits, from the operating system's CSPRNG."""
    return f"{secrets.randbelow(1_000_000):06d}"


def code_hash(secret: str, phone: str, code: str) -> str:
    """What is stored instead of the code; bound to the number, so hashes say nothing elsewhere."""
    message = f"login-code:{phone}:{code}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class LoginCode:
    code_hash: str
    expires_at: datetime
    attempts: int  # tries made on this code, the current one included


class CodeVerdict(Enum):
    ACCEPTED = "ACCEPTED"
    WRONG = "WRONG"
    LOCKED = "LOCKED"  # wrong, and that was the last try
    EXPIRED = "EXPIRED"
    CONSENT_NEEDED = "CONSENT_NEEDED"  # right, but the privacy notice is not accepted yet


def judge_code(code: LoginCode, submitted_hash: str, now: datetime, max_tries: int) -> CodeVerdict:
    if code.expires_at <= now:
        return CodeVerdict.EXPIRED
    if hmac.compare_digest(code.code_hash, submitted_hash):
        return CodeVerdict.ACCEPTED
    return CodeVerdict.LOCKED if code.attempts >= max_tries else CodeVerdict.WRONG


def check_code_format(raw: str) -> str:
    code = (raw or "").strip()
    if not re.fullmatch(r"\d{6}", code):
        raise bad_input("code", "验证码为6位数字", "The code is 6 digits")
    return code


def wrong_code(tries_left: int) -> Refusal:
    return Refusal(
        "WRONG_CODE",
        f"验证码错误，还可以尝试{tries_left}次",
        f"Wrong code; {tries_left} tries left",
        {"triesLeft": tries_left},
    )


def code_locked() -> Refusal:
    return Refusal(
        "CODE_LOCKED",
        "验证码错误次数过多，请重新获取验证码",
        "Too many wrong tries; please request a new code",
    )


def code_expired() -> Refusal:
    return Refusal(
        "CODE_EXPIRED",
        "验证码已失效，请重新获取",
        "The code has expired or was never sent; please request a new one",
    )


def rate_limited(retry_after_s: int) -> Refusal:
    seconds = max(1, retry_after_s)
    return Refusal(
        "RATE_LIMITED",
        f"操作过于频繁，请{seconds}秒后再试",
        f"Too many requests; try again in {seconds} seconds",
        {"retryAfterS": seconds},
    )


def password_delayed(retry_after_s: int) -> Refusal:
    """Too many wrong passwords for an account lately: not a lock, a wait of seconds or minutes."""
    seconds = max(1, retry_after_s)
    if seconds < 60:
        zh, en = f"{seconds}秒", f"{seconds} seconds"
    else:
        minutes = -(-seconds // 60)
        zh, en = f"{minutes}分钟", f"{minutes} minute{'s' if minutes > 1 else ''}"
    return Refusal(
        "RATE_LIMITED",
        f"密码错误次数较多，为保护账号，请{zh}后再试",
        f"Several wrong passwords; to protect the account, try again in {en}",
        {"retryAfterS": seconds},
    )


# --- residents ---------------------------------------------------------------------------


def resident_actor(resident_id: str, community_id: str | None) -> Actor:
    return Actor(resident_id, frozenset({RESIDENT}), frozenset({community_id} if community_id else ()))


class Relation(Enum):
    SPOUSE = "SPOUSE"
    CHILD = "CHILD"
    PARENT = "PARENT"
    GRANDPARENT = "GRANDPARENT"
    GRANDCHILD = "GRANDCHILD"
    SIBLING = "SIBLING"
    OTHER = "OTHER"


class AgeBand(Enum):
    CHILD = "CHILD"  # 0-12
    TEEN = "TEEN"  # 13-17
    ADULT = "ADULT"  # 18-59
    SENIOR = "SENIOR"  # 60-79
    ELDER = "ELDER"  # 80 and over


@dataclass(frozen=True)
class Profile:
    name: str
    community_id: str
    building: str
    unit: str


def check_text(field: str, zh_field: str, raw: str, longest: int) -> str:
    text = (raw or "").strip()
    if not 1 <= len(text) <= longest:
        raise bad_input(field, f"{zh_field}须为1到{longest}个字符", f"{field} must be 1 to {longest} chars")
    return text


def check_community(raw: str) -> str:
    community = (raw or "").strip()
    if not _COMMUNITY.fullmatch(community):
        raise bad_input("communityId", "社区编号格式不正确", "Malformed community id")
    return community


def check_profile(name: str, community_id: str, building: str, unit: str) -> Profile:
    return Profile(
        name=check_text("name", "姓名", name, 20),
        community_id=check_community(community_id),
        building=check_text("building", "楼栋", building, 20),
        unit=check_text("unit", "单元", unit, 20),
    )


def household_full() -> Refusal:
    return Refusal(
        "HOUSEHOLD_FULL",
        f"每户最多登记{MAX_HOUSEHOLD}位家庭成员",
        f"A household has at most {MAX_HOUSEHOLD} members",
    )


def unknown_account() -> Refusal:
    return Refusal("ACCOUNT_NOT_FOUND", "找不到该账号", "No such account")


def resident_not_found() -> Refusal:
    """A grid worker's look-up found nobody of their community. The same whether the number is
    unknown or belongs to a resident of another community: a look-up must not tell which."""
    return Refusal(
        "RESIDENT_NOT_FOUND",
        "本社区没有找到这位居民，可以登记为新居民",
        "No resident of this community was found: you can register them as new",
    )


# --- staff -------------------------------------------------------------------------------


def check_username(raw: str) -> str:
    username = (raw or "").strip().lower()
    if not _USERNAME.fullmatch(username):
        raise bad_input(
            "username",
            "用户名须为3到32位小写字母、数字或 _ . -",
            "Usernames are 3 to 32 lowercase letters, digits or _ . -",
        )
    return username


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password or "") <= MAX_PASSWORD:
        raise bad_input(
            "password",
            f"密码须为{MIN_PASSWORD}到{MAX_PASSWORD}个字符",
            f"Passwords are {MIN_PASSWORD} to {MAX_PASSWORD} characters",
        )
    return password


def check_staff_role(role: str) -> str:
    if role not in STAFF_ROLES:
        raise bad_input(
            "role",
            "角色须为组织者、社区管理员、扫码员或网格员",
            "Role must be organiser, community admin, scanner or grid worker",
        )
    return role


def may_appoint(actor: Actor, community_id: str) -> bool:
    """Community admins create staff for their own community; platform admins for any."""
    if PLATFORM_ADMIN in actor.roles:
        return True
    return COMMUNITY_ADMIN in actor.roles and community_id in actor.communities


def staff_actor(account_id: str, grants: list[tuple[str, str]]) -> Actor:
    """The actor of a staff account from its (role, community) grants.

    The Actor keeps roles and communities as two sets, so one account should hold grants of one
    kind; ``create_organiser`` only ever gives an account one grant.
    """
    return Actor(
        account_id,
        frozenset(role for role, _ in grants),
        frozenset(community for _, community in grants),
    )


def username_taken() -> Refusal:
    return Refusal("USERNAME_TAKEN", "该用户名已被使用", "That username is taken", {"field": "username"})


def bad_credentials() -> Refusal:
    return Refusal("BAD_CREDENTIALS", "用户名或密码错误", "Wrong username or password")


def wrong_current_password() -> Refusal:
    return Refusal(
        "BAD_CREDENTIALS",
        "当前密码不正确",
        "The current password is wrong",
        {"field": "currentPassword"},
    )


# --- the directory of places -------------------------------------------------------------

_DESK_PHONE = re.compile(r"\+?[0-9][0-9 -]{5,18}[0-9]")
_LIKE_SPECIAL = re.compile(r"([\\%_])")


def check_place_id(field: str, raw: str) -> str:
    """A street's or community's id: the same plain form community ids always had."""
    place_id = (raw or "").strip()
    if not _COMMUNITY.fullmatch(place_id):
        raise bad_input(
            field, "编号须为2到64位小写字母、数字或 -", "Ids are 2 to 64 lowercase letters, digits or -"
        )
    return place_id


def new_place_id(prefix: str) -> str:
    """An id for a street or community an admin added without naming one."""
    return f"{prefix}-{secrets.token_hex(4)}"


def check_certificate_code(raw: str) -> str:
    """The issuer's code in certificate numbers: 1 to 12 capital letters or digits (SF)."""
    code = (raw or "").strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{1,12}", code):
        raise bad_input(
            "numberCode",
            "证明编号代码须为1到12位字母或数字，如 SF",
            "The code is 1 to 12 letters or digits, e.g. SF",
        )
    return code


def check_desk_phone(raw: str) -> str:
    """A desk's phone: a landline (0951-4012345) or a mobile; empty means none yet."""
    phone = " ".join((raw or "").split())
    if phone and not _DESK_PHONE.fullmatch(phone):
        raise bad_input(
            "deskPhone", "请输入正确的电话号码，如 0951-4012345", "Enter a phone number, e.g. 0951-4012345"
        )
    return phone


def search_pattern(raw: str) -> str | None:
    """A LIKE pattern finding names that hold the typed characters in order ("朔方", "朔社"); None
    when nothing was typed. Spaces are ignored; LIKE's own wildcards match only themselves."""
    typed = [ch for ch in (raw or "") if not ch.isspace()][:20]
    if not typed:
        return None
    return "%" + "%".join(_LIKE_SPECIAL.sub(r"\\\1", ch) for ch in typed) + "%"


def may_manage_directory(actor: Actor) -> bool:
    """Streets and communities are added by platform admins."""
    return PLATFORM_ADMIN in actor.roles


def may_manage_community(actor: Actor, community_id: str) -> bool:
    """A community's stations, grids and desk phone: its admins (street admins included) or the platform."""
    return may_appoint(actor, community_id)


def name_from_id(community_id: str) -> str:
    """What a community not (yet) in the directory is called: its id, as the data knows it."""
    return community_id


def unknown_community() -> Refusal:
    return Refusal(
        "BAD_USER_INPUT",
        "找不到该社区，请输入社区名称中的字，再从列表中选择",
        "No such community: type part of its name, then choose it from the list",
        {"field": "communityId"},
    )


def unknown_street() -> Refusal:
    return Refusal("NOT_FOUND", "找不到该街道", "No such street", {"what": "street"})


def place_name_taken(zh_what: str, what: str) -> Refusal:
    return Refusal("NAME_TAKEN", f"该{zh_what}名称已存在", f"That {what} name is taken", {"field": "name"})
