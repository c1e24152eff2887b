"""The identity part of the GraphQL API: log-in (SMS code or password), tokens, my profile and
household, and staff accounts.

Log-in sets HttpOnly cookies (``linli_token``, ``linli_refresh``) on the response as well as
returning the tokens, so the phone mini-page needs no token handling in JavaScript; apps and
scripts use ``Authorization: Bearer``. The cookies are SameSite=Lax (and Secure in
production), which keeps cross-site POSTs from carrying them.
"""

from __future__ import annotations

import uuid
from enum import Enum
from typing import Annotated, Any

import asyncpg
import strawberry

from services.common.actor import Actor
from services.common.errors import bad_input, unauthenticated
from services.common.masking import mask_phone
from services.common.settings import Settings
from services.gateway.context import REFRESH_COOKIE, TOKEN_COOKIE, WECHAT_COOKIE, Context, Info
from services.gateway.marks import secret_argument
from services.gateway.names import community_name, community_names_of
from services.identity import domain, privacy_notice, queries
from services.identity.service import Identity, Tokens

strawberry.enum(domain.Relation, name="Relation")
strawberry.enum(domain.AgeBand, name="AgeBand")


@strawberry.enum
class StaffRole(Enum):
    ORGANISER = "organiser"
    COMMUNITY_ADMIN = "community_admin"
    SCANNER = "scanner"
    GRID_WORKER = "grid_worker"  # 网格员 / desk staff: sign up and post wishes for residents


def identity(info: Info) -> Identity:
    resources = info.context.resources
    return Identity(resources.pool, resources.redis, resources.settings, revoked=resources.revoked)


def resident_uuid(actor: Actor) -> uuid.UUID:
    """The account id of a resident (a development token names no account)."""
    account_id = _id(actor.user_id)
    if account_id is None:
        raise domain.unknown_account()
    return account_id


def _id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@strawberry.type
class HouseholdMember:
    id: strawberry.ID
    name: str
    relation: domain.Relation
    age_band: domain.AgeBand

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> HouseholdMember:
        return cls(
            id=strawberry.ID(str(row["id"])),
            name=row["name"],
            relation=domain.Relation(row["relation"]),
            age_band=domain.AgeBand(row["age_band"]),
        )


@strawberry.type(description="Who I am: a resident's profile, or a staff account.")
class Me:
    id: strawberry.ID
    roles: list[str]
    communities: list[str]
    phone: str | None = strawberry.field(default=None, description="Masked, e.g. 138****5678.")
    name: str = ""
    community_id: str | None = None
    building: str = ""
    unit: str = ""
    username: str | None = None

    @strawberry.field
    async def household_members(self, info: Info) -> list[HouseholdMember]:
        resident_id = _id(self.id)
        if resident_id is None:
            return []
        async with info.context.pool.acquire() as conn:
            rows = await queries.household_of(conn, resident_id)
        return [HouseholdMember.from_row(row) for row in rows]

    @strawberry.field(description="My community's name, e.g. 朔方社区; none until I say where I live.")
    async def community_name(self, info: Info) -> str | None:
        return await community_name(info, self.community_id) if self.community_id else None

    @strawberry.field(description="The names of my communities, in the order of communities.")
    async def community_names(self, info: Info) -> list[str]:
        return await community_names_of(info, self.communities)


def _me(actor: Actor, resident: Any = None, staff: Any = None) -> Me:
    me = Me(
        id=strawberry.ID(actor.user_id),
        roles=sorted(actor.roles),
        communities=sorted(actor.communities),
    )
    if resident is not None:
        me.phone = mask_phone(resident["phone"])
        me.name = resident["name"]
        me.community_id = resident["community_id"]
        me.building = resident["building"]
        me.unit = resident["unit"]
    if staff is not None:
        me.username = staff["username"]
        me.name = staff["display_name"]
    return me


async def _load_me(info: Info, actor: Actor) -> Me:
    account_id = _id(actor.user_id)
    if account_id is None:  # a development token names no account
        return _me(actor)
    async with info.context.pool.acquire() as conn:
        resident = await queries.resident(conn, account_id)
        staff = None if resident is not None else await queries.staff_account(conn, account_id)
    return _me(actor, resident, staff)


@strawberry.type
class LoginCodeSent:
    expires_in_s: int
    resend_after_s: int


@strawberry.type
class AuthTokens:
    access_token: str
    refresh_token: str
    expires_in_s: int = strawberry.field(description="Seconds the access token lives.")
    me: Me


def _set_cookies(context: Context, settings: Settings, tokens: Tokens) -> None:
    response = context.response
    if response is None or not hasattr(response, "set_cookie"):
        return
    set_login_cookies(response, settings, tokens)


def set_login_cookies(response: Any, settings: Settings, tokens: Tokens) -> None:
    """The session's cookies on a response (GraphQL's, or the redirect back from WeChat)."""
    common: dict[str, Any] = {"httponly": True, "samesite": "lax", "secure": settings.production}
    response.set_cookie(
        TOKEN_COOKIE, tokens.access_token, max_age=settings.access_token_ttl_s, path="/", **common
    )
    response.set_cookie(
        REFRESH_COOKIE, tokens.refresh_token, max_age=settings.refresh_token_ttl_s, path="/graphql", **common
    )


def clear_cookies(context: Context) -> None:
    response = context.response
    if response is None or not hasattr(response, "delete_cookie"):
        return
    response.delete_cookie(TOKEN_COOKIE, path="/")
    response.delete_cookie(REFRESH_COOKIE, path="/graphql")


async def _logged_in(info: Info, tokens: Tokens) -> AuthTokens:
    _set_cookies(info.context, info.context.resources.settings, tokens)
    return AuthTokens(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in_s=tokens.access_expires_in_s,
        me=await _load_me(info, tokens.actor),
    )


@strawberry.type
class StaffAccount:
    id: strawberry.ID
    username: str
    roles: list[str]
    communities: list[str]

    @classmethod
    def created(cls, row: Any, staff: Actor) -> StaffAccount:
        """The account just made (its row) with what its grants give it."""
        return cls(
            id=strawberry.ID(str(row["id"])),
            username=row["username"],
            roles=sorted(staff.roles),
            communities=sorted(staff.communities),
        )


@strawberry.type(description="What residents accept when registering: what is collected, why, how long.")
class PrivacyNotice:
    version: str
    text_zh: str
    text_en: str


@strawberry.type
class IdentityQuery:
    @strawberry.field(description="Whether residents may log in by WeChat authorisation (/auth/wechat) here.")
    def wechat_log_in_available(self, info: Info) -> bool:
        return bool(info.context.resources.settings.wechat_app_id)

    @strawberry.field(description="Who the token names; my profile and household if a resident.")
    async def me(self, info: Info) -> Me:
        return await _load_me(info, info.context.require_actor())

    @strawberry.field(description="The privacy notice in force, shown before a resident logs in.")
    def privacy_notice(self) -> PrivacyNotice:
        return PrivacyNotice(
            version=privacy_notice.VERSION, text_zh=privacy_notice.TEXT_ZH, text_en=privacy_notice.TEXT_EN
        )


@strawberry.type
class IdentityMutation:
    @strawberry.mutation(description="Text a 6-digit log-in code to a mainland mobile number.")
    async def request_login_code(self, info: Info, phone: str) -> LoginCodeSent:
        sent = await identity(info).request_login_code(phone, info.context.client_ip)
        return LoginCodeSent(expires_in_s=sent.expires_in_s, resend_after_s=sent.resend_after_s)

    @strawberry.mutation(
        description=(
            "Log in with the texted code; a first log-in makes the account. privacyNoticeVersion: "
            "the version of the privacy notice (privacyNotice) the resident accepted; needed until "
            "they have accepted the current one (else PRIVACY_CONSENT_REQUIRED, the code still valid)."
        )
    )
    async def log_in(
        self,
        info: Info,
        phone: str,
        code: Annotated[str, secret_argument()],
        privacy_notice_version: str | None = None,
    ) -> AuthTokens:
        # Back from WeChat the first time (a cookie of this browser): link that WeChat to her.
        wechat_ticket = (info.context.cookies or {}).get(WECHAT_COOKIE) or None
        tokens = await identity(info).log_in(
            phone, code, info.context.client_ip, wechat_ticket, privacy_notice_version
        )
        if wechat_ticket and info.context.response is not None:
            info.context.response.delete_cookie(WECHAT_COOKIE, path="/graphql")
        return await _logged_in(info, tokens)

    @strawberry.mutation(description="Log in to the organiser console or scanner page.")
    async def organiser_log_in(
        self, info: Info, username: str, password: Annotated[str, secret_argument()]
    ) -> AuthTokens:
        return await _logged_in(
            info, await identity(info).organiser_log_in(username, password, info.context.client_ip)
        )

    @strawberry.mutation(description="A new token pair for a refresh token (argument or cookie).")
    async def refresh_token(
        self, info: Info, refresh_token: Annotated[str | None, secret_argument()] = None
    ) -> AuthTokens:
        token = refresh_token or (info.context.cookies or {}).get(REFRESH_COOKIE, "")
        return await _logged_in(info, await identity(info).refresh(token, info.context.client_ip))

    @strawberry.mutation(
        description="Revoke the access token in use and the refresh token (argument or cookie)."
    )
    async def log_out(
        self, info: Info, refresh_token: Annotated[str | None, secret_argument()] = None
    ) -> bool:
        token = refresh_token or (info.context.cookies or {}).get(REFRESH_COOKIE)
        if info.context.claims is None and not token:
            info.context.require_actor()  # nothing to log out of: say why
        # An expired access token must not keep its owner from killing the refresh token.
        await identity(info).log_out(info.context.claims, token, info.context.client_ip)
        clear_cookies(info.context)
        return True

    @strawberry.mutation(
        description="End every session of mine (this device's and every other's): their tokens stop working."
    )
    async def log_out_everywhere(self, info: Info) -> bool:
        info.context.require_actor()
        claims = info.context.claims
        if claims is None:
            raise unauthenticated()
        await identity(info).log_out_everywhere(claims, info.context.client_ip)
        clear_cookies(info.context)
        return True

    @strawberry.mutation(description="Staff: change my password; my other sessions end, this one goes on.")
    async def change_my_password(
        self,
        info: Info,
        current_password: Annotated[str, secret_argument()],
        new_password: Annotated[str, secret_argument()],
    ) -> bool:
        info.context.require_actor()
        claims = info.context.claims
        if claims is None:
            raise unauthenticated()
        await identity(info).change_password(claims, current_password, new_password, info.context.client_ip)
        return True

    @strawberry.mutation
    async def update_my_profile(
        self, info: Info, community_id: str, building: str, unit: str, name: str
    ) -> Me:
        actor = info.context.require_actor()
        await identity(info).update_profile(actor, name, community_id, building, unit)
        return await _load_me(info, actor)

    @strawberry.mutation(
        description=(
            "Add a member to my household. A child (CHILD, TEEN) only with guardianConsent: I am "
            "their guardian and consent to their details being kept (else GUARDIAN_CONSENT_REQUIRED)."
        )
    )
    async def add_household_member(
        self,
        info: Info,
        name: str,
        relation: domain.Relation,
        age_band: domain.AgeBand,
        guardian_consent: bool = False,
    ) -> HouseholdMember:
        actor = info.context.require_actor()
        row = await identity(info).add_household_member(actor, name, relation, age_band, guardian_consent)
        return HouseholdMember.from_row(row)

    @strawberry.mutation
    async def remove_household_member(self, info: Info, id: strawberry.ID) -> bool:
        actor = info.context.require_actor()
        member_id = _id(id)
        if member_id is None:
            raise bad_input("id", "编号格式不正确", "Malformed id")
        await identity(info).remove_household_member(actor, member_id)
        return True

    @strawberry.mutation(description="Create a staff account (community admins, for their community).")
    async def create_organiser(
        self,
        info: Info,
        community_id: str,
        role: StaffRole,
        username: str,
        password: Annotated[str, secret_argument()],
        display_name: str = "",
    ) -> StaffAccount:
        actor = info.context.require_actor()
        row, staff = await identity(info).create_organiser(
            actor, community_id, role.value, username, password, display_name, info.context.client_ip
        )
        return StaffAccount.created(row, staff)
