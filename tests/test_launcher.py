"""`linli up` as a user runs it: real child processes, a sign-up over HTTP, a clean stop."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from services.activities.contracts import id_for
from services.common.settings import Settings
from services.demo import DEMO_ACTOR
from tests.conftest import COMMUNITY, token_for

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def platform(settings: Settings) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    assert settings.database_url and settings.redis_url
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "LINLI_SECRET": settings.secret,
        "LINLI_NAMESPACE": f"{settings.namespace}-up",
        "LINLI_PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "up", "--demo"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, "linli up exited during start-up"
            time.sleep(0.2)
        else:
            pytest.fail("the gateway never became ready")
        yield base, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_linli_up_serves_the_demo_festival_and_stops_without_orphans(
    platform: tuple[str, subprocess.Popen[bytes]], settings: Settings
) -> None:
    base, process = platform
    children = psutil.Process(process.pid).children(recursive=True)
    assert len(children) >= 4  # gateway and three workers

    # The launcher loads the demo while the gateway is already serving: wait for all of it.
    demo_id = str(id_for("festival", DEMO_ACTOR.user_id, "demo-festival-4"))
    # Asked by id: the festivals list comes in pages, and other tests' festivals share this database.
    query = (
        f'{{ festival(id: "{demo_id}") {{ id name activities {{ title sessions {{ id seatsLeft }} }} }} }}'
    )
    demo_titles = {"剪纸书法", "漆扇体验", "义诊", "义剪", "清洁维修", "亲子手工"}
    activities: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body = httpx.post(f"{base}/graphql", json={"query": query}, timeout=10).json()
        demo = body["data"]["festival"]
        activities = demo["activities"] if demo else []
        if {a["title"] for a in activities} >= demo_titles:
            break
        time.sleep(0.2)
    assert {a["title"] for a in activities} >= demo_titles, "the demo festival was not loaded"

    session_id = activities[0]["sessions"][0]["id"]
    token = token_for(settings, f"resident-{uuid.uuid4().hex[:6]}", {"resident"}, {COMMUNITY})
    signup = httpx.post(
        f"{base}/graphql",
        json={
            "query": "mutation($i: SignUpInput!) { signUp(input: $i) { status } }",
            "variables": {"i": {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex}},
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    assert signup == {"data": {"signUp": {"status": "CONFIRMED"}}}

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]


def servers_under(data_dir: Path) -> list[psutil.Process]:
    """Embedded PostgreSQL and Valkey processes whose data lives under ``data_dir``."""
    found = []
    for process in psutil.process_iter(["name", "cmdline", "cwd"]):
        seen = " ".join([*(process.info["cmdline"] or []), process.info["cwd"] or ""])
        if str(data_dir) in seen and process.info["name"] in ("postgres", "valkey-server"):
            found.append(process)
    return found


@pytest.mark.parametrize("when", ["serving", "starting"])
def test_ctrl_c_stops_the_embedded_servers_linli_up_started(tmp_path: Path, when: str) -> None:
    """Once everything serves, or while Valkey has started and PostgreSQL and the rest are
    still coming up: either way nothing linli up started outlives it."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(LINLI_DATA_DIR=str(tmp_path / "data"), LINLI_PORT=str(port), LINLI_LOG_FORMAT="text")
    # Its own process group, as a terminal's foreground job: Ctrl-C signals the whole group.
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "up"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, "linli up exited during start-up"
            if when == "starting" and "valkey-server" in {p.info["name"] for p in servers_under(tmp_path)}:
                break
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    assert {p.info["name"] for p in servers_under(tmp_path)} == {"postgres", "valkey-server"}
                    break
            time.sleep(0.05)
        else:
            pytest.fail(f"linli up never reached '{when}'")

        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=60) == 0
        left = [p for p in servers_under(tmp_path) if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert not left, f"left running after Ctrl-C: {[(p.pid, p.info['name']) for p in left]}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        for stray in servers_under(tmp_path):
            stray.kill()
