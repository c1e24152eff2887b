"""The wheel as an operator gets it: built from the checkout, installed with the runtime lock file
into a virtualenv of its own outside it (as the image is, without the embedded servers), and
started from there, so nothing the deployed gateway needs lives only in git."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.common.settings import Settings
from tests.conftest import ROOT
from tests.test_launcher import free_port


def run(*argv: str | Path, cwd: Path) -> str:
    done = subprocess.run([str(arg) for arg in argv], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv, outside the checkout, holding the wheel built from it: its bin/."""
    where = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", where / "dist", ROOT, cwd=where)
    (wheel,) = (where / "dist").glob("linli-*.whl")
    run(getattr(sys, "_base_executable", sys.executable), "-m", "venv", where / "venv", cwd=where)
    bin_dir = where / "venv" / "bin"
    lock = ROOT / "requirements" / "runtime.lock"  # as the image installs: the lock, then the wheel
    run(bin_dir / "pip", "install", "--quiet", "--require-hashes", "-r", lock, cwd=where)
    run(bin_dir / "pip", "install", "--quiet", "--no-deps", wheel, cwd=where)
    return bin_dir


def started(argv: list[str | Path], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(arg) for arg in argv], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


@pytest.fixture
def environment(settings: Settings) -> dict[str, str]:
    assert settings.database_url and settings.redis_url
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "LINLI_SECRET": settings.secret,
        "LINLI_NAMESPACE": f"{settings.namespace}-wheel",
        "LINLI_NODE_MODULES": str(ROOT / "node_modules"),  # as the image's build stage provides
        "LINLI_LOG_FORMAT": "text",
    }


def wait_for(url: str, process: subprocess.Popen[bytes], within_s: float = 60) -> httpx.Response:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        assert process.poll() is None, (process.stderr.read() if process.stderr else b"").decode()[-3000:]
        try:
            answer = httpx.get(url, timeout=2)
            if answer.status_code == 200:
                return answer
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer 200 within {within_s} s")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    running: list[subprocess.Popen[bytes]] = []
    yield running
    for process in running:
        process.terminate()
    for process in running:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_the_wheel_holds_the_code_the_pages_and_the_migrations(installed: Path, tmp_path: Path) -> None:
    where = run(installed / "python", "-c", "import services; print(services.__file__)", cwd=tmp_path)
    assert not Path(where.strip()).is_relative_to(ROOT), f"imported from the checkout: {where}"
    listed = run(
        installed / "python",
        "-c",
        "from importlib import resources as r; g = r.files('services.gateway') / 'static';"
        "print(*sorted(p.name for p in g.iterdir()));"
        "print(*sorted(p.name for p in (r.files('services.activities') / 'migrations').iterdir()))",
        cwd=tmp_path,
    )
    pages, migrations = listed.splitlines()
    assert {"resident.html", "console.html", "scan.html", "common.js", "linli.css"} <= set(pages.split())
    assert "001_init.sql" in migrations.split()


def test_a_gateway_and_a_worker_start_from_the_installed_wheel(
    installed: Path, environment: dict[str, str], processes: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    port, metrics = free_port(), free_port()
    gateway = started([installed / "linli", "gateway"], {**environment, "LINLI_PORT": str(port)}, tmp_path)
    processes.append(gateway)
    worker_environment = {**environment, "LINLI_METRICS_PORT": str(metrics)}
    worker = started([installed / "linli", "worker", "activities"], worker_environment, tmp_path)
    processes.append(worker)
    base = f"http://127.0.0.1:{port}"

    assert wait_for(f"{base}/readyz", gateway).json()
    page = httpx.get(f"{base}/", timeout=5)
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert httpx.get(f"{base}/static/linli.css", timeout=5).status_code == 200
    decoder = httpx.get(f"{base}/vendor/jsqr.js", timeout=5)
    assert decoder.status_code == 200 and "jsQR" in decoder.text
    assert "linli_" in wait_for(f"http://127.0.0.1:{metrics}/metrics", worker).text
