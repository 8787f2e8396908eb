"""A real ``biotoets serve`` for the web tests: uvicorn in a subprocess on a free loopback port, a temporary
SQLite file, keys made with ``biotoets keys create`` -- and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page

from ..browser import chromium


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    base: str
    env: dict[str, str]
    cwd: Path
    applicant_key: str
    other_applicant_key: str
    assessor_key: str
    admin_key: str

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "biotoets.api.cli", *args], env=self.env, cwd=self.cwd,
                              capture_output=True, text=True, timeout=300)

    def post_check(self, proposal: dict[str, object], key: str | None = None) -> dict[str, object]:
        r = httpx.post(f"{self.base}/v1/checks", json=proposal, timeout=60,
                       headers={"Authorization": f"Bearer {key or self.applicant_key}"})
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    cwd = tmp_path_factory.mktemp("web-server")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{cwd / 'web.db'}", "BIOTOETS_KEY_CACHE_SECONDS": "0"}

    cli = [sys.executable, "-m", "biotoets.api.cli"]
    subprocess.run([*cli, "db", "upgrade"], env=env, cwd=cwd, capture_output=True, check=True)
    # The keys, made the way an operator makes them, side by side.
    makers = [subprocess.Popen([*cli, "keys", "create", "--role", role, "--name", name], env=env, cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
              for role, name in (("applicant", "Lab A (Leiden)"), ("applicant", "Lab B (Delft)"),
                                 ("assessor", "Permit office"), ("admin", "Operations"))]
    keys = [m.communicate(timeout=120)[0].strip() for m in makers]
    assert all(k.startswith("btk_") for k in keys), keys
    port = free_port()
    log = (cwd / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "biotoets.api.cli", "serve", "--port", str(port)], env=env,
                            cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("biotoets serve did not become ready:\n"
                            + (cwd / "server.log").read_text(errors="replace")[-3000:])
            time.sleep(0.25)
        yield Server(base, env, cwd, *keys)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) with a desktop-sized window."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        yield context.new_page()
    finally:
        context.close()
