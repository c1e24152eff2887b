"""Production refuses to start with a secret anyone could know: whoever holds LINLI_SECRET can sign
a platform admin's token, so the development default, a placeholder or a short one is refused."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from pydantic import ValidationError

from services.common.settings import DEVELOPMENT_SECRET, Settings
from tests.conftest import ROOT


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="public development secret"):
        Settings(env="production")
    with pytest.raises(ValidationError, match="LINLI_SECRET"):
        Settings(env="production", secret=DEVELOPMENT_SECRET)


@pytest.mark.parametrize(
    "secret",
    [
        "REPLACE-ME-with-a-long-random-string",
        "replace-me-with-a-long-random-secret",
        "please-change-me-before-going-live-0123456789",
        "placeholder-placeholder-placeholder-placeholder",
        "an-example-secret-that-is-long-enough-to-pass-32",
        secrets.token_urlsafe(16),  # random, but too short
        "a" * 64,
    ],
)
def test_production_refuses_placeholders_and_short_secrets(secret: str) -> None:
    with pytest.raises(ValidationError, match="LINLI_SECRET"):
        Settings(env="production", secret=secret)


SERVERS = {"database_url": "postgresql://linli@db/linli", "redis_url": "redis://redis:6379/0"}


def test_production_accepts_a_long_random_secret_and_development_keeps_its_default() -> None:
    secret = secrets.token_urlsafe(36)
    assert len(secret) == 48
    assert Settings(env="production", secret=secret, **SERVERS).secret == secret
    assert Settings().secret == DEVELOPMENT_SECRET and not Settings().production


@pytest.mark.parametrize("env", ["prod", "Production", "staging", ""])
def test_an_environment_name_linli_does_not_know_refuses_to_start(env: str) -> None:
    with pytest.raises(ValidationError, match="LINLI_ENV must be one of development, production"):
        Settings(env=env, secret=secrets.token_urlsafe(36), **SERVERS)


def test_the_development_secret_serves_only_this_machine() -> None:
    assert Settings(host="127.0.0.1").secret == DEVELOPMENT_SECRET
    with pytest.raises(ValidationError, match="only serves this machine"):
        Settings(host="0.0.0.0")
    assert Settings(host="0.0.0.0", secret=secrets.token_urlsafe(36)).host == "0.0.0.0"


def test_production_never_starts_embedded_servers() -> None:
    for missing in ("database_url", "redis_url"):
        servers = {**SERVERS, missing: None}  # None, not absent: the environment may hold a URL
        with pytest.raises(ValidationError, match="embedded servers are for development only"):
            Settings(env="production", secret=secrets.token_urlsafe(36), **servers)


@pytest.mark.parametrize("command", [["migrate"], ["worker", "notify"], ["gateway"], ["up"]])
def test_the_processes_refuse_to_start_and_say_why(command: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
    env |= {"LINLI_ENV": "production", "LINLI_SECRET": "replace-me-with-a-long-random-secret"}
    # Nothing listens here, so a process that did start would start no embedded servers either.
    env |= {"DATABASE_URL": "postgresql://linli@127.0.0.1:1/none", "REDIS_URL": "redis://127.0.0.1:1/0"}
    started = subprocess.run(
        [sys.executable, "-m", "services.cli", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert started.returncode != 0
    assert "refusing to start" in started.stderr and "LINLI_SECRET" in started.stderr
    assert "Traceback" not in started.stderr


def test_an_unknown_environment_name_stops_every_process_with_its_reason() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
    env |= {"LINLI_ENV": "prod", "LINLI_SECRET": secrets.token_urlsafe(36)}
    started = subprocess.run(
        [sys.executable, "-m", "services.cli", "up"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert started.returncode != 0
    assert "refusing to start" in started.stderr and "LINLI_ENV must be one of" in started.stderr
    assert "Traceback" not in started.stderr
