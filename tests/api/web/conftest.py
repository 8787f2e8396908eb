"""A real ``biotoets serve`` for the web tests: uvicorn in a subprocess on a free loopback port, a temporary
SQLite file, keys made with ``biotoets keys create`` -- and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page

from biotoets.api.http.app import create_app
from biotoets.api.settings import Settings
from biotoets.api.store import db as dbm

from ...browser import chromium
from ...reliability.server import serve


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
    with serve(env["DATABASE_URL"], cwd, workers=1, env=env) as served:
        yield Server(served.base, env, cwd, *keys)


@pytest.fixture(scope="module")  # (Playwright's sync API keeps an event loop running in this thread while it is
def browser() -> Iterator[Browser]:  # open: it must close before any later test calls asyncio.run)
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


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dbm.Database]]:
    """An app on a SQLite file of the module's own, in process (pages tested without a browser)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('pages') / 'pages.db'}"
    with TestClient(create_app(Settings(database_url=url, key_cache_seconds=0)), follow_redirects=False) as client:
        db = dbm.Database(url)
        try:
            yield client, db
        finally:
            db.dispose()
