"""The one settings object: every knob comes from the environment (``LINLI_`` prefix)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.redis_url import parse_sentinel_url

# The services that run a worker behind a queue of their own.
QUEUED_SERVICES = ("activities", "volunteers", "notify")

ENVIRONMENTS = ("development", "production")
SMS_PROVIDERS = ("aliyun", "tencent")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
DEVELOPMENT_SECRET = "linli-development-secret-change-me"
MIN_PRODUCTION_SECRET_LENGTH = 32
# Words that mark a secret copied from documentation rather than generated.
_PLACEHOLDER_WORDS = (
    "change-me changeme change_me replace-me replaceme replace_me placeholder example development "
    "your-secret secret-here"
).split()


def weak_secret_reason(secret: str) -> str | None:
    """Why ``secret`` must not sign a production deployment's tokens, or None if it may."""
    lowered = secret.lower()
    if secret == DEVELOPMENT_SECRET:
        return "it is the public development secret"
    if any(word in lowered for word in _PLACEHOLDER_WORDS):
        return "it is a placeholder copied from the documentation"
    if len(secret) < MIN_PRODUCTION_SECRET_LENGTH:
        return f"it is shorter than {MIN_PRODUCTION_SECRET_LENGTH} characters"
    if len(set(secret)) < 8:
        return "it repeats too few characters to be random"
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LINLI_", extra="ignore", populate_by_name=True)

    # Unset means "start an embedded server under data_dir" (see services.common.embedded).
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "LINLI_DATABASE_URL")
    )
    # redis://… for one server, redis+sentinel://host:26379,host2:26379/mymaster/0 for the master
    # a set of Redis Sentinels names (services/common/redis_url.py).
    redis_url: str | None = Field(default=None, validation_alias=AliasChoices("REDIS_URL", "LINLI_REDIS_URL"))
    # A direct connection to PostgreSQL when DATABASE_URL goes through a pooler (PgBouncer in
    # transaction mode): the migrations' advisory lock and the outbox relay's LISTEN need a
    # session of their own. Unset = DATABASE_URL.
    database_direct_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_DIRECT_URL", "LINLI_DATABASE_DIRECT_URL")
    )
    secret: str = Field(
        default=DEVELOPMENT_SECRET,
        validation_alias=AliasChoices("LINLI_SECRET"),
    )
    env: str = "development"  # or "production"; anything else refuses to start
    data_dir: Path = Path(".linli")
    # The pages' npm packages (`npm ci`), e.g. the scanner's QR decoder; unset = the checkout's
    # node_modules. The image installs them in a build stage and sets this.
    node_modules: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # Every Redis key and queue name this deployment uses starts with this, so that two
    # deployments (or two test runs) can share one Redis without seeing each other's jobs.
    namespace: str = "linli"
    # How long a mutation waits for its command's answer before returning PENDING.
    reply_timeout_s: float = 5.0
    db_pool_min: int = 2
    db_pool_max: int = 10
    dev_token_ttl_s: int = 7 * 24 * 3600  # tokens printed by `linli token` for development
    outbox_poll_s: float = 1.0
    # In a burst the relay gathers commits for up to this long before each batch
    # (services/common/outbox.py next_gather): what an urgent event may wait at most, in a burst.
    outbox_gather_max_s: float = 0.2
    # Redelivery (services/common/redelivery.py): an event relayed this long ago that a consumer
    # has no record of is sent again (Redis lost it: a failover, a kill -9), then after twice as
    # long, and so on, this many times at most.
    outbox_resend_after_s: float = 120.0
    outbox_resends: int = 5
    # A command a worker read but never answered (it died) is taken over after this long.
    command_claim_idle_s: float = 30.0
    # A worker serves Prometheus metrics on this port when set (the gateway serves /metrics).
    metrics_port: int | None = None
    log_format: str = "json"  # or "text"
    # OpenTelemetry (services/common/tracing.py): each process sends its spans over OTLP/HTTP to
    # this collector (e.g. http://otel-collector:4318, "/v1/traces" is added). Unset: tracing off.
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "LINLI_OTEL_EXPORTER_OTLP_ENDPOINT"),
    )
    # The share of traces started here (at the gateway) that are kept; the workers follow the
    # gateway's choice carried in each traceparent.
    otel_sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    worker_max_jobs: int = 50
    # Identity: residents log in with a code sent by SMS, staff with a password.
    access_token_ttl_s: int = 15 * 60
    refresh_token_ttl_s: int = 30 * 24 * 3600
    login_code_ttl_s: int = 5 * 60
    login_code_tries: int = 5
    login_code_interval_s: int = 60  # between two codes sent to one number
    login_codes_per_phone_per_hour: int = 5
    # Generous: many homes reach us through one carrier-grade NAT address.
    login_codes_per_ip_per_hour: int = 200
    # Staff password attempts, counted before the password is checked; a right one is given
    # back. Per client address: a hard limit over the window. Per account (and per address for
    # the account): no lock, but after this many failures each further attempt waits a delay
    # that doubles from the first to the longest; failures are forgotten after the window.
    # An address the account logged in from stays open to it for the trusted time (see
    # services/identity/throttle.password_gate), and the account's admins are told of a burst.
    password_failures_before_delay: int = 5
    password_first_delay_s: int = 5
    password_longest_delay_s: int = 300
    password_trusted_address_s: int = 30 * 24 * 3600
    password_failures_per_ip_per_hour: int = 50
    password_failures_window_s: int = 3600
    # Larger GraphQL request bodies are refused with 413 before they are parsed.
    max_request_bytes: int = 64 * 1024
    # Live updates (GraphQL subscriptions) one gateway serves at once.
    max_live_subscriptions: int = 2000
    # Notify's channel providers. An unset URL (or SMTP host) means the development channel:
    # the message is only recorded in notify.deliveries, where the console and tests read it.
    # SMS through a Chinese cloud provider: "aliyun" or "tencent" ("" = development channel).
    # Its AccessKey (Aliyun) or SecretId/SecretKey (Tencent), the registered signature (签名),
    # Tencent's SmsSdkAppId, and the table of approved templates per message kind:
    # {"signup.confirmed": {"code": "SMS_123", "params": {"activity": 20, "time": 12}}, ...}
    # (services/notify/sms_templates.py lists the kinds and their parameters). A kind missing
    # from the table is not texted. The endpoint and region default to the provider's.
    notify_sms_provider: str = ""
    notify_sms_endpoint: str | None = None
    notify_sms_region: str = ""
    notify_sms_access_key_id: str = ""
    notify_sms_access_key_secret: str = ""
    notify_sms_sign_name: str = ""
    notify_sms_sdk_app_id: str = ""
    notify_sms_templates: dict[str, Any] = Field(default_factory=dict)
    # The WeChat official account (公众号): its AppID and secret serve both its subscription
    # messages (订阅通知; the table maps each message kind to a template, its page and which
    # parameter fills each data field: {"signup.confirmed": {"template_id": "…", "page": "/",
    # "data": {"thing1": "activity", "time2": "time"}}}) and residents' log-in by web
    # authorisation. Unset AppID: no WeChat channel and no WeChat log-in.
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_api_endpoint: str = "https://api.weixin.qq.com"
    wechat_oauth_endpoint: str = "https://open.weixin.qq.com"  # the authorisation page
    notify_wechat_templates: dict[str, Any] = Field(default_factory=dict)
    notify_smtp_host: str | None = None
    notify_smtp_port: int = 25
    notify_smtp_sender: str = "linli@localhost"
    # One partner system that receives every message, signed with HMAC-SHA256.
    notify_webhook_url: str | None = None
    notify_webhook_secret: str = ""
    # Quiet hours (local time, Asia/Shanghai) for people who have not chosen their own.
    notify_quiet_start: str = "21:30"
    notify_quiet_end: str = "08:00"
    # A delivery failing this many times is a dead letter; retries back off from the base.
    notify_max_attempts: int = 6
    notify_retry_base_s: float = 30.0
    notify_rate_per_s: int = 20  # sends per second, per provider
    notify_reminder_leads_min: tuple[int, ...] = (24 * 60, 120)
    # Notifications out of the burst (services/notify/deferral.py says why these numbers): while
    # the activities and volunteers command streams hold at least this many commands, or take
    # them at least this fast, non-urgent events wait in notify.deferred_events (<= 0: that sign
    # is ignored; both: never); they are handled once the streams have been calm for the settle
    # time, or once one has waited the longest. The streams are looked at no more often than the
    # cache time, the waiting events once a tick.
    notify_defer_busy_backlog: int = 10
    notify_defer_busy_rate_per_s: float = 20.0
    notify_defer_settle_s: float = 3.0
    notify_defer_max_s: float = 120.0
    notify_defer_tick_s: float = 1.0
    notify_backlog_cache_s: float = 0.5
    # Retention (services/common/retention.py): pruned hourly by each worker, in days.
    retention_outbox_days: int = 7  # events relayed this long ago
    retention_processed_events_days: int = 30  # ids of events consumed this long ago
    retention_deliveries_days: int = 90  # notifications sent or given up this long ago
    retention_sms_outbox_days: int = 30  # texts recorded (development's SMS channel) this long ago
    retention_inbox_days: int = 180  # inbox messages written this long ago
    retention_audit_details_days: int = 180  # audit rows keep what and who; details, addresses go
    # Volunteers withdraw from a shift online until this many minutes before it starts; later
    # they are refused (WITHDRAWAL_CLOSED) and shown the shift's contact phone to call.
    volunteer_withdraw_cutoff_min: int = 120
    # Service records are confirmed within this many days after the shift ends; after that they
    # are locked and change only through a volunteer's correction request the organiser accepts.
    volunteer_record_lock_days: int = 30
    # Where certificates' short verification URLs (/v/<number>, printed with their QR) point,
    # e.g. https://linli.example.cn; unset = the address the certificate was downloaded from.
    public_url: str = ""

    @model_validator(mode="after")
    def _fail_closed(self) -> Settings:
        """Refuse what would run a deployment open: fix the setting named, then start again."""
        if self.env not in ENVIRONMENTS:  # "prod" or "Production" must not quietly mean development
            raise ValueError(f"LINLI_ENV must be one of {', '.join(ENVIRONMENTS)}, not {self.env!r}")
        # Anyone could sign a platform admin's token with a secret that is public or guessable.
        reason = weak_secret_reason(self.secret) if self.production else None
        if reason is not None:
            raise ValueError(
                f"LINLI_SECRET cannot be used with LINLI_ENV=production: {reason}. Set it to a long "
                "random value, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        if self.secret == DEVELOPMENT_SECRET and self.host not in LOOPBACK_HOSTS:
            raise ValueError(
                f"the public development LINLI_SECRET only serves this machine (LINLI_HOST=127.0.0.1), "
                f"not LINLI_HOST={self.host}: set LINLI_SECRET to a long random value"
            )
        if "{" in self.namespace or "}" in self.namespace:  # it would break keys' hash tags (slots.py)
            raise ValueError(f"LINLI_NAMESPACE cannot hold a brace: {self.namespace!r}")
        if self.redis_url:
            parse_sentinel_url(self.redis_url)  # a malformed REDIS_URL is refused here, and said why
        self._check_sms_provider()
        self._check_wechat()
        if self.production and not (self.database_url and self.redis_url):
            raise ValueError(
                "LINLI_ENV=production needs DATABASE_URL and REDIS_URL: the embedded servers are for "
                "development only"
            )
        return self

    def _check_sms_provider(self) -> None:
        """A provider named needs its credentials, signature and a template table that names
        only kinds and parameters Linli has (checked here, so a worker never starts with it)."""
        if not self.notify_sms_provider:
            return
        if self.notify_sms_provider not in SMS_PROVIDERS:
            raise ValueError(
                f"LINLI_NOTIFY_SMS_PROVIDER must be one of {', '.join(SMS_PROVIDERS)} (or empty), "
                f"not {self.notify_sms_provider!r}"
            )
        needed = ["access_key_id", "access_key_secret", "sign_name"]
        if self.notify_sms_provider == "tencent":
            needed.append("sdk_app_id")
        missing = [f"LINLI_NOTIFY_SMS_{n.upper()}" for n in needed if not getattr(self, f"notify_sms_{n}")]
        if missing:
            raise ValueError(
                f"LINLI_NOTIFY_SMS_PROVIDER={self.notify_sms_provider} needs {', '.join(missing)}"
            )
        from services.notify.sms_templates import SmsTemplateError, parse_templates

        try:
            parse_templates(self.notify_sms_templates, 1)
        except SmsTemplateError as exc:
            raise ValueError(f"LINLI_NOTIFY_SMS_TEMPLATES: {exc}") from exc
        if "login_code" not in self.notify_sms_templates:  # residents could not log in at all
            raise ValueError("LINLI_NOTIFY_SMS_TEMPLATES needs the log-in code's template (login_code)")

    def _check_wechat(self) -> None:
        if not self.wechat_app_id:
            return
        if not self.wechat_app_secret:
            raise ValueError("LINLI_WECHAT_APP_ID needs LINLI_WECHAT_APP_SECRET")
        from services.notify.wechat_templates import WeChatTemplateError, parse_templates

        try:
            parse_templates(self.notify_wechat_templates)
        except WeChatTemplateError as exc:
            raise ValueError(f"LINLI_NOTIFY_WECHAT_TEMPLATES: {exc}") from exc

    @property
    def direct_database_url(self) -> str:
        """Where session-level features (advisory locks, LISTEN) connect: never through a pooler."""
        url = self.database_direct_url or self.database_url
        assert url, "servers must be resolved first"
        return url

    @property
    def production(self) -> bool:
        return self.env == "production"

    def queue(self, service: str) -> str:
        """The arq queue name of one service."""
        return f"{self.namespace}:queue:{service}"
