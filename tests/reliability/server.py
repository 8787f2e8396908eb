"""``biotoets serve`` as a real process for the reliability tests: loopback only, a free port, its own database.

``Served`` starts the command in its own process group with its log in a file (a pipe nobody reads would
block the server once full), waits until ``/readyz`` answers, and always stops it again: SIGTERM, then
SIGKILL. Keys are made directly in the database, before the server starts.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from biotoets.api.settings import Settings
from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth
from tests.databases import postgres_schema

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    """A fresh, empty database for one test: an SQLite file, or a PostgreSQL schema of its own, dropped after."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'biotoets.db'}"
        return
    with postgres_schema("biotoets_rel") as url:
        yield url


def make_keys(url: str, *roles_and_names: tuple[str, str]) -> list[str]:
    """Migrate the database and create API keys in it (one per (role, name))."""
    db = dbm.open_database(Settings(database_url=url), migrate=True)
    try:
        return [auth.create_key(db, role, name).key for role, name in roles_and_names]
    finally:
        db.dispose()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@dataclass
class Served:
    """A running ``biotoets serve``."""

    url: str
    workers: int
    cwd: Path
    env: dict[str, str]
    extra: list[str] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None
    base: str = ""
    log_path: Path = Path()
    _log: object | None = None

    def start(self, timeout: float = 180) -> Served:
        port = free_port()
        self.base = f"http://{HOST}:{port}"
        self.log_path = self.cwd / f"serve-{port}.log"
        log = self.log_path.open("wb")
        self._log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "biotoets.api.cli", "serve", "--host", HOST, "--port", str(port),
             "--workers", str(self.workers), *self.extra],
            env={**self.env, "DATABASE_URL": self.url}, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.base}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"biotoets serve did not become ready:\n{self.log()[-4000:]}")
            time.sleep(0.25)
        return self

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def log_lines(self, message: str) -> int:
        """How many JSON log lines have exactly this message."""
        return len(re.findall(r'"message":"' + re.escape(message) + '"', self.log()))

    def signal(self, sig: signal.Signals, group: bool = False) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            if group:
                os.killpg(self.proc.pid, sig)
            else:
                self.proc.send_signal(sig)

    def wait(self, timeout: float = 60) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        """SIGTERM the whole group; SIGKILL what is left after 30 s."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        if self.proc is not None:
            try:  # workers of a killed server must not outlive the test
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._log is not None:
            self._log.close()  # type: ignore[attr-defined]
            self._log = None


@contextmanager
def serve(url: str, cwd: Path, workers: int = 2, extra: list[str] | None = None,
          env: dict[str, str] | None = None) -> Iterator[Served]:
    served = Served(url, workers, cwd, {**os.environ, **(env or {})}, list(extra or []))
    try:
        yield served.start()
    finally:
        served.stop()


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples (with these labels) in a Prometheus text exposition."""
    total = 0.0
    found = False
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        sample, _, label_text = head.partition("{")
        if sample != name:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', label_text))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(value)
            found = True
    assert found, f"no sample {name} {labels} in /metrics"
    return total
