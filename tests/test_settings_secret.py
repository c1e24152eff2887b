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


def test_production_accepts_a_long_random_secret_and_development_keeps_its_default() -> None:
    secret = secrets.token_urlsafe(36)
    assert len(secret) == 48
    assert Settings(env="production", secret=secret).secret == secret
    assert Settings().secret == DEVELOPMENT_SECRET and not Settings().production


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
