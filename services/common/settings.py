"""The one settings object: every knob comes from the environment (``LINLI_`` prefix)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LINLI_", extra="ignore", populate_by_name=True)

    # Unset means "start an embedded server under data_dir" (see services.common.embedded).
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "LINLI_DATABASE_URL")
    )
    redis_url: str | None = Field(default=None, validation_alias=AliasChoices("REDIS_URL", "LINLI_REDIS_URL"))
    secret: str = Field(
        default="linli-development-secret-change-me",
        validation_alias=AliasChoices("LINLI_SECRET"),
    )
    env: str = "development"
    data_dir: Path = Path(".linli")
    host: str = "127.0.0.1"
    port: int = 8000
    # Every Redis key and queue name this deployment uses starts with this, so that two
    # deployments (or two test runs) can share one Redis without seeing each other's jobs.
    namespace: str = "linli"
    # How long a mutation waits for its command's answer before returning PENDING.
    reply_timeout_s: float = 5.0
    db_pool_min: int = 2
    db_pool_max: int = 20
    token_ttl_s: int = 7 * 24 * 3600
    outbox_poll_s: float = 1.0
    worker_max_jobs: int = 50

    @property
    def production(self) -> bool:
        return self.env == "production"

    def queue(self, service: str) -> str:
        """The arq queue name of one service."""
        return f"{self.namespace}:queue:{service}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
