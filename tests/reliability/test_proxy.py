"""Behind a reverse proxy: ``serve --trusted-proxy ADDRESS`` takes the client's address from X-Forwarded-For, but only
when the connection comes from that proxy. Without the option the header is ignored, so a client cannot dodge the
limit on failed authentication by naming a new address in every request.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from .server import HOST, database, serve

LIMIT = {"BIOTOETS_AUTH_FAILURE_LIMIT": "3"}


def wrong(i: int) -> dict[str, str]:
    return {"Authorization": f"Bearer btk_{'q' * 16}_{'w' * 30}{i}"}


def statuses(base: str, forwarded_for: list[str]) -> list[int]:
    with httpx.Client(base_url=base, timeout=60) as http:
        return [http.get("/v1/checks", headers={**wrong(i), "X-Forwarded-For": addr}).status_code
                for i, addr in enumerate(forwarded_for)]


def test_without_a_trusted_proxy_a_forged_forwarded_for_does_not_dodge_the_limit(tmp_path: Path) -> None:
    with database("sqlite", tmp_path) as url, serve(url, tmp_path, workers=1, env=LIMIT) as server:
        got = statuses(server.base, [f"10.9.0.{i}" for i in range(1, 6)])
    assert got == [401, 401, 401, 429, 429]


def test_a_trusted_proxy_names_the_client_and_the_limit_counts_per_client(tmp_path: Path) -> None:
    with database("sqlite", tmp_path) as url, \
            serve(url, tmp_path, workers=1, env=LIMIT, extra=["--trusted-proxy", HOST, "--access-log"]) as server:
        first = statuses(server.base, ["10.9.0.1"] * 4)
        other = statuses(server.base, ["10.9.0.2"])
        again = statuses(server.base, ["10.9.0.1"])
        server.stop()
        lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    assert first == [401, 401, 401, 429]
    assert other == [401]  # another client behind the same proxy is not refused
    assert again == [429]
    clients = {line.get("client") for line in lines if line.get("route") == "/v1/checks"}
    assert {"10.9.0.1", "10.9.0.2"} <= {str(c).rsplit(":", 1)[0] for c in clients if c}, clients


@pytest.mark.parametrize("value", ["proxy.example", "10.0.0.300", "*", ""])
def test_a_trusted_proxy_must_be_an_address_or_network(value: str) -> None:
    r = subprocess.run([sys.executable, "-m", "biotoets.api.cli", "serve", "--trusted-proxy", value],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "is not an IP address or network" in r.stderr and "Traceback" not in r.stderr
