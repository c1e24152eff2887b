"""Identity operations: each loads, asks the domain, saves — called directly by the gateway."""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from arq.connections import ArqRedis

from services.common import tracing
from services.common.actor import RESIDENT, Actor
from services.common.clock import now as clock_now
from services.common.erasure import Erasure, erasure_of, scrub, scrub_outbox
from services.common.errors import Refusal, forbidden, not_found, unauthenticated
from services.common.masking import mask_phone, mask_phones_in
from services.common.outbox import record_event
from services.common.settings import Settings
from services.common.tokens import ACCESS, REFRESH, TokenClaims, issue_token, read_claims
from services.identity import contracts, domain, privacy_notice, revocations, throttle, wechat_login
from services.identity import repository as repo
from services.notify.sms import DEFAULT_SMS, LOGIN_CODE, SEND_SMS, LoginPhone, SmsRequest

log = logging.getLogger("linli.identity")

_hasher = PasswordHasher()
# Urgent texts are scored as if enqueued a day ago, so arq takes them before any backlog of
# events (its job log then calls them "delayed=86400s": that is this head start, not a delay).
_URGENT_HEAD_START = timedelta(days=1)
# A refresh token used again this soon after it was spent is two tabs (or two requests of one
# page) renewing at once, refused without ending the session; later, it is a stolen copy.
REFRESH_REUSE_GRACE_S = 10.0
# How long the way to WeChat and back may take, and a first-timer has to prove her phone.
_WECHAT_STEP_S = 600


@dataclass(frozen=True)
class LoginCodeSent:
    expires_in_s: int
    resend_after_s: int


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    access_expires_in_s: int
    actor: Actor


@dataclass(frozen=True)
class AuditRecord:
    """One line of the audit log: who did what to what, from where, in which community."""

    action: str
    subject: str
    actor_id: str | None
    client_ip: str | None
    details: dict[str, Any]
    community_id: str | None


@dataclass
class Identity:
    """The identity operations over the gateway's pool and Redis; ``clock`` is for tests."""

    pool: asyncpg.Pool
    redis: ArqRedis
    settings: Settings
    clock: Callable[[], datetime] = field(default=clock_now)
    # The gateway's mirror of revoked tokens, told of this gateway's own log-outs at once.
    revoked: revocations.RevokedTokens | None = None

    def _key(self, *parts: str) -> str:
        return ":".join((self.settings.namespace, "identity", *parts))

    # --- residents: log-in by SMS code -----------------------------------------------------

    async def request_login_code(self, raw_phone: str, client_ip: str | None) -> LoginCodeSent:
        phone = domain.check_phone(raw_phone)
        s = self.settings
        now = self.clock()
        # In turn, stopping at the first that says wait: a refused resend must not use up the
        # number's hourly allowance, nor restart its cool-down.
        wait = await throttle.count(
            self.redis, self._key("codes-ip", client_ip or "unknown"), s.login_codes_per_ip_per_hour, 3600
        )
        if wait is None:
            wait = await throttle.cool_down(
                self.redis, self._key("code-interval", phone), s.login_code_interval_s, now.timestamp()
            )
        if wait is None:
            wait = await throttle.count(
                self.redis, self._key("codes-phone", phone), s.login_codes_per_phone_per_hour, 3600
            )
        if wait is not None:
            log.info("login code for %s refused: rate limited for %ss", mask_phone(phone), wait)
            raise domain.rate_limited(wait)

        code = domain.new_code()
        expires_at = now + timedelta(seconds=s.login_code_ttl_s)
        async with self.pool.acquire() as conn:
            await repo.put_login_code(conn, phone, domain.code_hash(s.secret, phone, code), expires_at, now)
        params = {"code": code, "minutes": s.login_code_ttl_s // 60}
        request = SmsRequest(phone, LOGIN_CODE, params, tracing.current_traceparent())
        await self.redis.enqueue_job(
            SEND_SMS,
            request,
            _job_id=self._key("sms", uuid.uuid4().hex),
            _queue_name=s.queue("notify"),
            _defer_until=now - _URGENT_HEAD_START,
            # A text arriving after its code expired is no use; arq needs this with a past score.
            _expires=timedelta(seconds=s.login_code_ttl_s),
        )
        log.info("login code sent to %s", mask_phone(phone))
        return LoginCodeSent(s.login_code_ttl_s, s.login_code_interval_s)

    async def log_in(
        self,
        raw_phone: str,
        raw_code: str,
        client_ip: str | None = None,
        wechat_ticket: str | None = None,
        privacy_notice_version: str | None = None,
    ) -> Tokens:
        """A resident proves her phone with the texted code; the first log-in makes the account.
        Both need the current privacy notice accepted: given with this log-in (recorded), or
        before; if it is not, the code stays valid for the same log-in with the notice accepted.
        With ``wechat_ticket`` (she came back from WeChat's authorisation, her OpenID not yet
        linked) the OpenID is linked to her: next time WeChat alone logs her in."""
        phone = domain.check_phone(raw_phone)
        code = domain.check_code_format(raw_code)
        accepted = privacy_notice.check_version(privacy_notice_version) if privacy_notice_version else None
        s = self.settings
        openid = await self._openid_of(wechat_ticket) if wechat_ticket else None
        now = self.clock()
        submitted = domain.code_hash(s.secret, phone, code)
        async with self.pool.acquire() as conn:
            # The counted try must commit even when the code is wrong: decide, then raise outside.
            async with conn.transaction():
                row = await repo.count_try(conn, phone, s.login_code_tries)
                if row is None:
                    known = await repo.has_login_code(conn, phone)
                    verdict = domain.CodeVerdict.LOCKED if known else domain.CodeVerdict.EXPIRED
                    tries = s.login_code_tries
                else:
                    stored = domain.LoginCode(row["code_hash"], row["expires_at"], row["attempts"])
                    verdict = domain.judge_code(stored, submitted, now, s.login_code_tries)
                    tries = stored.attempts
                resident = None
                if verdict is domain.CodeVerdict.ACCEPTED and accepted is None:
                    if not await repo.accepted_notice(conn, phone, privacy_notice.VERSION):
                        verdict = domain.CodeVerdict.CONSENT_NEEDED
                if verdict is domain.CodeVerdict.ACCEPTED:
                    await repo.delete_login_code(conn, phone)
                    resident = await repo.resident_logged_in(conn, phone, now)
                    resident_id = str(resident["id"])
                    if accepted is not None and not await repo.accepted_notice(conn, phone, accepted):
                        await repo.record_consent(
                            conn, resident["id"], "PRIVACY_NOTICE", accepted, resident_id, now
                        )
                    details = {"phone": mask_phone(phone), "first": resident["created_at"] == now}
                    if openid is not None:
                        await repo.link_wechat(conn, s.wechat_app_id, openid, resident["id"], now)
                        details["wechat_linked"] = True
                    await repo.audit(
                        conn, now, "resident.logged_in", resident_id, resident_id, client_ip, details
                    )
                elif verdict is domain.CodeVerdict.LOCKED:
                    await repo.audit(conn, now, "login_code.locked", mask_phone(phone), None, client_ip)
        if verdict is domain.CodeVerdict.CONSENT_NEEDED:
            raise privacy_notice.consent_required()
        if verdict is domain.CodeVerdict.EXPIRED:
            raise domain.code_expired()
        if verdict is domain.CodeVerdict.LOCKED:
            raise domain.code_locked()
        if verdict is domain.CodeVerdict.WRONG:
            raise domain.wrong_code(s.login_code_tries - tries)
        assert resident is not None
        if wechat_ticket:
            await self.redis.delete(self._key("wechat-ticket", wechat_ticket))
        log.info("resident %s logged in with %s", resident["id"], mask_phone(phone))
        # SMS on by default for the number they log in with; notify keeps a choice already made.
        await self.redis.enqueue_job(
            DEFAULT_SMS,
            LoginPhone(str(resident["id"]), phone),
            _job_id=self._key("sms-default", str(resident["id"])),
            _queue_name=s.queue("notify"),
        )
        return await self._begin_session(domain.resident_actor(str(resident["id"]), resident["community_id"]))

    # --- residents: log-in by WeChat web authorisation ------------------------------------

    @property
    def wechat_log_in_available(self) -> bool:
        return bool(self.settings.wechat_app_id)

    async def wechat_authorize_url(self, redirect_uri: str) -> tuple[str, str]:
        """Where to send a resident who tapped 微信授权登录, and the state that must come back
        (once) to the browser that left."""
        state = secrets.token_urlsafe(16)
        await self.redis.set(self._key("wechat-state", state), "1", ex=_WECHAT_STEP_S)
        s = self.settings
        return wechat_login.authorize_url(
            s.wechat_oauth_endpoint, s.wechat_app_id, redirect_uri, state
        ), state

    async def wechat_back(self, code: str, state: str, client_ip: str | None = None) -> Tokens | str:
        """She is back from WeChat's authorisation: her tokens if her OpenID is linked, else a
        ticket that links it once she proves her phone (``log_in`` with ``wechat_ticket``)."""
        s = self.settings
        if not state or not await self.redis.delete(self._key("wechat-state", state)):
            raise wechat_login.authorisation_expired()  # not one we sent, or already used
        openid = await wechat_login.openid_for(
            s.wechat_api_endpoint, s.wechat_app_id, s.wechat_app_secret, code
        )
        now = self.clock()
        async with self.pool.acquire() as conn, conn.transaction():
            resident = await repo.resident_by_wechat(conn, s.wechat_app_id, openid)
            if resident is not None:
                await repo.touch_resident(conn, resident["id"], now)
                resident_id = str(resident["id"])
                details = {"via": "wechat"}
                await repo.audit(
                    conn, now, "resident.logged_in", resident_id, resident_id, client_ip, details
                )
        if resident is None:
            ticket = secrets.token_urlsafe(24)
            await self.redis.set(self._key("wechat-ticket", ticket), openid, ex=_WECHAT_STEP_S)
            return ticket
        log.info("resident %s logged in by WeChat", resident["id"])
        return await self._begin_session(domain.resident_actor(str(resident["id"]), resident["community_id"]))

    async def _openid_of(self, ticket: str) -> str | None:
        """The OpenID a ticket carries; None once it expired or was used (she logs in as usual,
        and links WeChat the next time she comes from there)."""
        if not self.wechat_log_in_available:
            return None
        openid = await self.redis.get(self._key("wechat-ticket", ticket))
        if not openid:
            log.info("a WeChat ticket expired or used before: log-in without linking")
            return None
        return openid.decode() if isinstance(openid, bytes) else str(openid)

    # --- tokens ----------------------------------------------------------------------------

    async def _begin_session(self, actor: Actor) -> Tokens:
        """The first pair of a new session (a log-in), noted for "log out everywhere"."""
        session_id = uuid.uuid4().hex
        ttl = max(self.settings.refresh_token_ttl_s, self.settings.access_token_ttl_s)
        await revocations.remember_session(self.redis, self.settings, actor.user_id, session_id, ttl)
        return self._issue(actor, session_id)

    def _issue(self, actor: Actor, session_id: str | None = None) -> Tokens:
        """A token pair of the session (a new one for a log-in)."""
        s = self.settings
        at = self.clock().timestamp()
        sid = session_id or uuid.uuid4().hex
        return Tokens(
            access_token=issue_token(
                actor, s.secret, s.access_token_ttl_s, now=at, kind=ACCESS, session_id=sid
            ),
            refresh_token=issue_token(
                actor, s.secret, s.refresh_token_ttl_s, now=at, kind=REFRESH, session_id=sid
            ),
            access_expires_in_s=s.access_token_ttl_s,
            actor=actor,
        )

    async def refresh(self, refresh_token: str, client_ip: str | None = None) -> Tokens:
        """A new pair of the same session for a live refresh token, which is spent; roles are
        read afresh. A refresh token spent before (more than a few seconds ago: two tabs may
        renew at once) is a stolen copy, or the thief got there first: either way the whole
        session ends, the thief's tokens and the owner's alike."""
        at = self.clock().timestamp()
        claims = read_claims(refresh_token, self.settings.secret, at, kind=REFRESH)
        if await revocations.session_ended(self.redis, self.settings, claims):
            raise unauthenticated()  # logged out, or a copy of a refresh token of it was used
        if not await revocations.spend(self.redis, self.settings, claims, at):
            spent = await revocations.spent_at(self.redis, self.settings, claims)
            if spent is not None and at - spent < REFRESH_REUSE_GRACE_S:
                raise unauthenticated()  # two tabs (or requests) renewing at once: not a theft
            await self._end_session(claims, at)
            async with self.pool.acquire() as conn:
                user_id = claims.actor.user_id
                details = {"session": claims.session_id}
                await repo.audit(
                    conn, self.clock(), "refresh_token.reused", user_id, user_id, client_ip, details
                )
            raise unauthenticated()
        actor = await self.current_actor(claims.actor.user_id)
        if actor is None:
            raise unauthenticated()
        return self._issue(actor, claims.session_id or None)

    async def log_out(
        self, access: TokenClaims | None, refresh_token: str | None, client_ip: str | None = None
    ) -> None:
        """End the session: the access token in use, and every token issued with it (by the
        log-in and its refreshes, before or after); the refresh token too if given and the same
        person's, and its session."""
        at = self.clock().timestamp()
        if access is not None:
            await self._revoke(access, at)
            await self._end_session(access, at)
            async with self.pool.acquire() as conn:
                user_id = access.actor.user_id
                await repo.audit(conn, self.clock(), "logged_out", user_id, user_id, client_ip)
        if refresh_token:
            try:
                claims = read_claims(refresh_token, self.settings.secret, at, kind=REFRESH)
            except Refusal:
                return  # a dead refresh token needs no revoking
            if access is None or claims.actor.user_id == access.actor.user_id:
                await self._revoke(claims, at)
                await self._end_session(claims, at)

    async def _revoke(self, claims: TokenClaims, at: float) -> None:
        if self.revoked is not None:
            await self.revoked.revoke(claims, at)
        else:
            await revocations.revoke(self.redis, self.settings, claims, at)

    async def log_out_everywhere(self, access: TokenClaims, client_ip: str | None = None) -> int:
        """End every session of the person (this one, their phone's, a forgotten computer's):
        how many were ended."""
        at = self.clock().timestamp()
        user_id = access.actor.user_id
        ended = set(await revocations.forget_sessions(self.redis, self.settings, user_id))
        ended |= {access.session_id} if access.session_id else set()
        await self._revoke(access, at)
        for session_id in sorted(ended):
            await self._end_session_id(session_id, at)
        async with self.pool.acquire() as conn:
            details = {"sessions": len(ended)}
            await repo.audit(
                conn, self.clock(), "logged_out_everywhere", user_id, user_id, client_ip, details
            )
        return len(ended)

    async def change_password(
        self, access: TokenClaims, current: str, new: str, client_ip: str | None = None
    ) -> None:
        """A staff member's new password, given the current one; every other session of theirs
        ends (whoever knew the old password is logged out), this one goes on. Wrong current
        passwords count against the account like wrong log-ins."""
        account_id = _uuid_or_none(access.actor.user_id)
        async with self.pool.acquire() as conn:
            account = await repo.staff_by_id(conn, account_id) if account_id else None
        if account is None:
            raise forbidden()  # residents log in by SMS code: they have no password
        new = domain.check_password(new)
        s = self.settings
        keys = self._gate_keys(account["username"], client_ip)
        wait, burst = await self._pass_gate(keys)
        if wait is not None:
            raise domain.password_delayed(wait)
        user_id = str(account["id"])
        if not await asyncio.to_thread(_verify, account["password_hash"], current or ""):
            async with self.pool.acquire() as conn:
                now = self.clock()
                await repo.audit(conn, now, "staff.password_change_failed", user_id, user_id, client_ip)
            if burst:
                await self._tell_of_burst(keys, account["id"], client_ip)
            raise domain.wrong_current_password()
        await throttle.password_passed(self.redis, keys, s.password_trusted_address_s)
        password_hash = await asyncio.to_thread(_hasher.hash, new)
        now = self.clock()
        async with self.pool.acquire() as conn, conn.transaction():
            await repo.set_staff_password(conn, account["id"], password_hash)
            await repo.audit(conn, now, "staff.password_changed", user_id, user_id, client_ip)
        at = now.timestamp()
        for session_id in await revocations.forget_sessions(self.redis, s, user_id):
            if session_id != access.session_id:
                await self._end_session_id(session_id, at)
        if access.session_id:
            ttl = max(s.refresh_token_ttl_s, s.access_token_ttl_s)
            await revocations.remember_session(self.redis, s, user_id, access.session_id, ttl)

    async def _end_session(self, claims: TokenClaims, at: float) -> None:
        """Revoke the session ``claims`` belong to, for as long as any token of it may live."""
        if claims.session_id:  # else issued before sessions had ids: revoked one by one
            await self._end_session_id(claims.session_id, at)

    async def _end_session_id(self, session_id: str, at: float) -> None:
        until = at + max(self.settings.refresh_token_ttl_s, self.settings.access_token_ttl_s)
        if self.revoked is not None:
            await self.revoked.revoke_session(session_id, until, at)
        else:
            await revocations.revoke_session(self.redis, self.settings, session_id, until, at)

    async def current_actor(self, user_id: str) -> Actor | None:
        """The actor a person is now, from their account (roles may have changed)."""
        account_id = _uuid_or_none(user_id)
        if account_id is None:
            return None
        async with self.pool.acquire() as conn:
            resident = await repo.get_resident(conn, account_id)
            if resident is not None:
                return domain.resident_actor(user_id, resident["community_id"])
            if await repo.staff_by_id(conn, account_id) is None:
                return None
            grants = await repo.staff_grants(conn, account_id)
        return domain.staff_actor(user_id, grants)

    # --- residents: profile and household --------------------------------------------------

    async def update_profile(
        self, actor: Actor, name: str, community_id: str, building: str, unit: str
    ) -> asyncpg.Record:
        """A resident's home. Her community is one of the directory's, given by id (the picker)
        or by its exact name or short name ("朔方社区", "朔方")."""
        resident_id = _resident_id(actor)
        typed = (community_id or "").strip()
        async with self.pool.acquire() as conn:
            found = await repo.find_community(conn, typed) if typed else None
            if found is None:
                raise domain.unknown_community()
            profile = domain.check_profile(name, found, building, unit)
            row = await repo.update_profile(conn, resident_id, profile, self.clock())
        if row is None:
            raise domain.unknown_account()
        return row

    async def add_household_member(
        self,
        actor: Actor,
        name: str,
        relation: domain.Relation,
        age_band: domain.AgeBand,
        guardian_consent: bool = False,
        recorded_by: str | None = None,
    ) -> asyncpg.Record:
        """A member of the resident's household. A child's details (sensitive under PIPL) only
        with the guardian's consent, recorded with the member; ``recorded_by`` the grid worker
        who took it in person, else the resident themself."""
        resident_id = _resident_id(actor)
        name = domain.check_text("name", "姓名", name, 20)
        child = privacy_notice.needs_guardian(age_band)
        if child and not guardian_consent:
            raise privacy_notice.guardian_consent_required()
        now = self.clock()
        async with self.pool.acquire() as conn, conn.transaction():
            if not await repo.lock_resident(conn, resident_id):
                raise domain.unknown_account()
            if await repo.count_household(conn, resident_id) >= domain.MAX_HOUSEHOLD:
                raise domain.household_full()
            member = await repo.insert_household_member(
                conn, resident_id, name, relation.value, age_band.value, now
            )
            if child:
                await repo.record_consent(
                    conn,
                    resident_id,
                    "GUARDIAN",
                    privacy_notice.VERSION,
                    recorded_by or actor.user_id,
                    now,
                    member["id"],
                )
            return member

    async def remove_household_member(self, actor: Actor, member_id: uuid.UUID) -> None:
        resident_id = _resident_id(actor)
        async with self.pool.acquire() as conn:
            if not await repo.delete_household_member(conn, resident_id, member_id):
                raise not_found("household member", "家庭成员")

    # --- residents: deleting the account (PIPL) --------------------------------------------

    async def erasure_for(self, actor: Actor) -> Erasure:
        """What every service must erase of the resident: their id, pseudonym, and each string
        that names or reaches them (name, numbers, household members' names)."""
        resident_id = _resident_id(actor)
        async with self.pool.acquire() as conn:
            resident = await repo.get_resident(conn, resident_id)
            if resident is None:
                raise domain.unknown_account()
            members = await repo.household_names(conn, resident_id)
        phones = [p for p in (resident["phone"], resident["contact_phone"]) if p]
        strings = [resident["name"], *phones, *(mask_phone(p) for p in phones), *members]
        return erasure_of(str(resident_id), strings)

    async def erase_account(
        self, actor: Actor, access: TokenClaims | None, erasure: Erasure, client_ip: str | None = None
    ) -> None:
        """Identity's part, last (the other services erased theirs first): the account keeps
        only its pseudonym and community, the audit log no longer names the resident, and every
        session of theirs ends."""
        resident_id = _resident_id(actor)
        if str(resident_id) != erasure.resident_id:
            raise forbidden()
        now = self.clock()
        needles = list(erasure.needles)
        async with self.pool.acquire() as conn, conn.transaction():
            resident = await repo.get_resident(conn, resident_id)
            if resident is None or not await repo.erase_resident(
                conn, resident_id, erasure.pseudonym, needles, now
            ):
                raise domain.unknown_account()
            await scrub(conn, "identity.audit_log", "details", needles, erasure.pseudonym, jsonb=True)
            await scrub(conn, "identity.audit_log", "subject", needles, erasure.pseudonym)
            await scrub_outbox(conn, contracts.SERVICE, erasure)
            details = {"pseudonym": erasure.pseudonym}
            await repo.audit(
                conn,
                now,
                "resident.erased",
                erasure.resident_id,
                erasure.resident_id,
                client_ip,
                details,
                resident["community_id"],
            )
        at = now.timestamp()
        for session_id in await revocations.forget_sessions(self.redis, self.settings, erasure.resident_id):
            await self._end_session_id(session_id, at)
        if access is not None:
            await self._revoke(access, at)
            await self._end_session(access, at)
        log.info("resident %s deleted their account", erasure.pseudonym)

    # --- grid workers: acting for residents who cannot use a phone ---------------------------

    async def find_or_create_resident(
        self,
        actor: Actor,
        name: str,
        raw_phone: str,
        community_id: str,
        building: str,
        unit: str,
        client_ip: str | None = None,
        phone_of: domain.PhoneOf = domain.PhoneOf.SELF,
        phone_owner: str = "",
        register: bool = False,
        notice_explained: bool = False,
    ) -> tuple[asyncpg.Record, bool]:
        """The resident of the grid worker's community with this number; made (never having
        logged in) if there is none and ``register`` asks for it. One without a mobile of their
        own (a landline, a family member's phone, none) is found by name and number, or name and
        address, in the community. A look-up answers the same (``RESIDENT_NOT_FOUND``) for an
        unknown number and one of another community's resident, who is not the grid worker's to
        act for; registering a number taken elsewhere is refused. Audited, look-ups that found
        nobody too. Registering needs ``notice_explained``: the grid worker explained the privacy
        notice and the resident agreed (recorded as their consent, taken by the grid worker);
        without it nobody is registered (PRIVACY_CONSENT_REQUIRED)."""
        profile = domain.check_profile(name, community_id, building, unit)
        contact = domain.check_contact(raw_phone, phone_of, phone_owner)
        if not actor.acts_for_residents_of(profile.community_id):
            raise forbidden()
        now = self.clock()
        created = False
        may_create = register and notice_explained
        async with self.pool.acquire() as conn, conn.transaction():
            if contact.phone is not None:
                row = None
                if may_create:
                    row = await repo.insert_resident_for(conn, contact.phone, profile, actor.user_id, now)
                    created = row is not None
                if row is None:
                    row = await repo.resident_by_phone(conn, contact.phone)
            else:
                await repo.lock_registration(conn, profile.community_id, profile.name)
                row = await repo.resident_without_mobile(conn, profile, contact.number)
                if row is None and may_create:
                    created = True
                    row = await repo.insert_resident_without_mobile(
                        conn, profile, contact.kind, contact.number, contact.owner, actor.user_id, now
                    )
            ours = row is not None and row["community_id"] == profile.community_id
            if ours:
                action = "resident.created_by_proxy" if created else "resident.found_by_proxy"
            else:
                action = "resident.not_found_by_proxy"
            details = {
                "phone": mask_phone(contact.phone or contact.number or ""),
                "contact": contact.kind,
                "community": profile.community_id,
            }
            subject = str(row["id"]) if ours and row is not None else details["phone"]
            await repo.audit(
                conn, now, action, subject, actor.user_id, client_ip, details, profile.community_id
            )
            if created and row is not None:
                await repo.record_consent(
                    conn, row["id"], "PRIVACY_NOTICE", privacy_notice.VERSION, actor.user_id, now
                )
        if row is None and register and not notice_explained:
            raise privacy_notice.consent_required_at_desk()
        if row is None or not ours:
            if register and row is not None:
                raise forbidden()  # the number is another community's resident's: not to be taken
            raise domain.resident_not_found()
        return row, created

    async def resident_for(self, actor: Actor, resident_id: uuid.UUID) -> asyncpg.Record:
        """A resident a grid worker may act for: one of their own community."""
        async with self.pool.acquire() as conn:
            row = await repo.get_resident(conn, resident_id)
        if row is None:
            raise domain.unknown_account()
        if not row["community_id"] or not actor.acts_for_residents_of(row["community_id"]):
            raise forbidden()
        return row

    async def record_proxy_action(
        self,
        actor: Actor,
        resident: asyncpg.Record,
        action: str,
        details: dict[str, object],
        client_ip: str | None = None,
    ) -> None:
        """The audit log's note that ``actor`` acted for the resident, filed under their community."""
        async with self.pool.acquire() as conn:
            await repo.audit(
                conn,
                self.clock(),
                action,
                str(resident["id"]),
                actor.user_id,
                client_ip,
                details,
                resident["community_id"],
            )

    async def record_staff_actions(self, entries: Sequence[AuditRecord]) -> None:
        """Staff's mutations that took effect, as the gateway saw them, in the audit log."""
        at = self.clock()
        async with self.pool.acquire() as conn:
            for entry in entries:
                await repo.audit(
                    conn,
                    at,
                    entry.action,
                    entry.subject,
                    entry.actor_id,
                    entry.client_ip,
                    entry.details,
                    entry.community_id,
                )

    # --- staff -----------------------------------------------------------------------------

    async def create_organiser(
        self,
        actor: Actor,
        community_id: str,
        role: str,
        username: str,
        password: str,
        display_name: str = "",
        client_ip: str | None = None,
    ) -> tuple[asyncpg.Record, Actor]:
        community_id = domain.check_community(community_id)
        if not domain.may_appoint(actor, community_id):
            raise forbidden()
        role = domain.check_staff_role(role)
        username = domain.check_username(username)
        password = domain.check_password(password)
        display_name = (display_name or "").strip()[:40]
        password_hash = await asyncio.to_thread(_hasher.hash, password)
        now = self.clock()
        async with self.pool.acquire() as conn, conn.transaction():
            # A community not in the directory yet gets an entry named after its id (see directory).
            await repo.ensure_community(conn, community_id, domain.name_from_id(community_id))
            row = await repo.insert_staff(
                conn, username, password_hash, display_name, role, community_id, actor.user_id, now
            )
            if row is not None:
                details = {"username": username, "role": role, "community": community_id}
                await repo.audit(
                    conn, now, "staff.created", str(row["id"]), actor.user_id, client_ip, details
                )
        if row is None:
            raise domain.username_taken()
        log.info("%s created %s account %s in %s", actor.user_id, role, username, community_id)
        return row, domain.staff_actor(str(row["id"]), [(role, community_id)])

    async def organiser_log_in(
        self, raw_username: str, password: str, client_ip: str | None = None
    ) -> Tokens:
        username = (raw_username or "").strip().lower()
        s = self.settings
        # Each attempt is counted before its password is checked, in one atomic step, so that
        # parallel guesses cannot all pass a check made before any of them was counted, and a
        # refused guess costs no argon2 hashing. A right password is given its count back.
        # One address has a hard limit; an account only delays (see throttle.password_gate).
        ip_key = self._key("password-attempts-ip", client_ip or "unknown")
        keys = self._gate_keys(username, client_ip)
        window = s.password_failures_window_s
        burst = False
        wait = await throttle.count(self.redis, ip_key, s.password_failures_per_ip_per_hour, window)
        if wait is None:
            wait, burst = await self._pass_gate(keys)
            if wait is not None:
                await throttle.refund(self.redis, ip_key)  # the account's delay, not a guess
                log.info("organiser log-in refused: delayed for %ss", wait)
                raise domain.password_delayed(wait)
        if wait is not None:
            log.info("organiser log-in refused: rate limited for %ss", wait)
            raise domain.rate_limited(wait)
        async with self.pool.acquire() as conn:
            account = await repo.staff_by_username(conn, username)
        if account is not None:
            stored_hash = account["password_hash"]
        else:
            stored_hash = await asyncio.to_thread(_dummy_hash)  # made once, also off the loop
        # Off the event loop: a slow hash must not hold up every other request of the gateway.
        ok = await asyncio.to_thread(_verify, stored_hash, password or "")
        if account is None or not ok:
            async with self.pool.acquire() as conn:
                subject = f"username:{mask_phones_in(username[:32])}"
                await repo.audit(conn, self.clock(), "staff.log_in_failed", subject, None, client_ip)
            if burst and account is not None:
                await self._tell_of_burst(keys, account["id"], client_ip)
            raise domain.bad_credentials()
        await throttle.password_passed(self.redis, keys, s.password_trusted_address_s)
        await throttle.refund(self.redis, ip_key)
        new_hash = None
        if _hasher.check_needs_rehash(stored_hash):
            new_hash = await asyncio.to_thread(_hasher.hash, password)
        now = self.clock()
        async with self.pool.acquire() as conn, conn.transaction():
            await repo.staff_logged_in(conn, account["id"], now, new_hash)
            grants = await repo.staff_grants(conn, account["id"])
            account_id = str(account["id"])
            await repo.audit(conn, now, "staff.logged_in", account_id, account_id, client_ip)
        return await self._begin_session(domain.staff_actor(str(account["id"]), grants))

    def _gate_keys(self, username: str, client_ip: str | None) -> throttle.GateKeys:
        name = username[:64]
        # The gate's script needs its keys in one hash slot, the account's: each key has this
        # hash tag right after a brace-free prefix, so its slot is the same whatever braces the
        # name holds (the tag ends at the first "}" of this same text in every key).
        account = "{account:" + name + "}"
        address = f"{account}|{client_ip or 'unknown'}"
        return throttle.GateKeys(
            account_count=self._key("password-failures", account),
            account_until=self._key("password-wait", account),
            address_count=self._key("password-failures-from", address),
            address_until=self._key("password-wait-from", address),
            trusted=self._key("password-trusted", address),
            told=self._key("password-burst-told", name),
        )

    async def _pass_gate(self, keys: throttle.GateKeys) -> tuple[int | None, bool]:
        """The account's delays for one attempt: (seconds to wait, whether in a burst)."""
        s = self.settings
        return await throttle.password_gate(
            self.redis,
            keys,
            self.clock().timestamp(),
            s.password_failures_before_delay,
            s.password_first_delay_s,
            s.password_longest_delay_s,
            s.password_failures_window_s,
        )

    async def _tell_of_burst(
        self, keys: throttle.GateKeys, account_id: uuid.UUID, client_ip: str | None
    ) -> None:
        """Tell the account's admins, once per burst, that its password is being guessed: a
        ``staff.log_in_burst`` row in the audit log of each community the account serves,
        which its community admins read (and the platform's, for an account with none), and in
        the same transaction the event that puts a message in each of those admins' inboxes."""
        s = self.settings
        if not await throttle.first_of_burst(self.redis, keys, s.password_failures_window_s):
            return
        details = {
            "failures": s.password_failures_before_delay,
            "longestDelayS": s.password_longest_delay_s,
        }
        now = self.clock()
        subject = str(account_id)
        async with self.pool.acquire() as conn, conn.transaction():
            grants = await repo.staff_grants(conn, account_id)
            communities: list[str | None] = [*sorted({community for _, community in grants})]
            for community in communities or [None]:
                await repo.audit(
                    conn, now, "staff.log_in_burst", subject, None, client_ip, details, community
                )
            served = [c for c in communities if c]
            admins = await repo.community_admins(conn, served)
            if admins:
                account = await repo.staff_by_id(conn, account_id)
                payload = {
                    "account_id": subject,
                    "username": account["username"] if account else "",
                    "community_ids": served,
                    "recipients": admins,
                    "failures": s.password_failures_before_delay,
                    "longest_delay_s": s.password_longest_delay_s,
                    "at": now.isoformat(),
                }
                await record_event(conn, contracts.SERVICE, contracts.STAFF_LOG_IN_BURST, payload)
        log.warning("staff account %s: a burst of wrong passwords, admins told", subject)


def hash_password(password: str) -> str:
    """A password's argon2 hash (slow: call it off the event loop)."""
    return _hasher.hash(password)


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so a miss costs as long as a wrong password."""
    return _hasher.hash("linli-no-such-account")


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _resident_id(actor: Actor) -> uuid.UUID:
    """The account id of a resident acting on their own profile."""
    if not actor.has_role(RESIDENT):
        raise forbidden()
    resident_id = _uuid_or_none(actor.user_id)
    if resident_id is None:
        raise domain.unknown_account()
    return resident_id
