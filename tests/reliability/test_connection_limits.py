"""Connection limits of a real ``biotoets serve``, tried with raw sockets on loopback.

One server (one worker, SQLite) runs with short limits so the test is quick: 2 s for a request head and for a
body, 1 s keep-alive, 40 connections. Each attack must be cut -- an endless header, too many header fields, a
slowloris head, a connection that sends nothing, an idle keep-alive connection, a slow body, connections past the
cap -- while a legitimate request on a fresh connection is still answered. Every wait is bounded. The figures
report how many attacking connections the server held at once and how many it refused or cut.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from biotoets.api.http.limits import Limits
from tests.figures import tally

from .server import HOST, Served, database, serve

LIMITS = ["--header-timeout", "2", "--body-timeout", "2", "--keep-alive-timeout", "1", "--max-connections", "40",
          "--max-header-bytes", "16384", "--max-headers", "50"]
WAIT = 10.0  # the longest any cut may take here (the limits are 1-2 s)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp: Path = tmp_path_factory.mktemp("limits")
    with database("sqlite", tmp) as url, serve(url, tmp, workers=1, extra=LIMITS) as served:
        yield served


def _connect(server: Served) -> socket.socket:
    port = int(server.base.rsplit(":", 1)[1])
    s = socket.create_connection((HOST, port), timeout=WAIT)
    return s


def _answer(s: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (bounded by WAIT)."""
    s.settimeout(WAIT)
    chunks = []
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _legit_request_served(server: Served) -> None:
    assert httpx.get(f"{server.base}/healthz", timeout=WAIT).status_code == 200


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_an_endless_header_is_refused_before_it_is_read(server: Served) -> None:
    assert server.proc is not None
    before = _rss_kb(server.proc.pid)
    s = _connect(server)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
    sent = 0
    chunk = b"a" * 65536
    try:
        while sent < 64 * 1024 * 1024:
            s.sendall(chunk)
            sent += len(chunk)
    except (ConnectionResetError, BrokenPipeError):
        pass
    answer = _answer(s)
    s.close()
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert sent < 64 * 1024 * 1024  # cut off long before the 64 MB were sent
    assert _rss_kb(server.proc.pid) - before < 32 * 1024  # and the worker did not grow by them
    tally("connections refused or cut (limits)")
    _legit_request_served(server)


def test_too_many_header_fields_are_refused(server: Served) -> None:
    s = _connect(server)
    fields = b"".join(b"X-F%d: v\r\n" % i for i in range(51))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
    answer = _answer(s)
    s.close()
    assert answer.startswith(b"HTTP/1.1 431 ") and b"more than 50 header fields" in answer
    tally("connections refused or cut (limits)")


def test_a_head_within_the_limits_is_answered(server: Served) -> None:
    s = _connect(server)
    fields = b"".join(b"X-F%d: %s\r\n" % (i, b"v" * 200) for i in range(48))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + fields + b"\r\n")
    answer = _answer(s)
    s.close()
    assert answer.startswith(b"HTTP/1.1 200 ")


def test_a_slowloris_head_is_cut(server: Served) -> None:
    s = _connect(server)
    started = time.monotonic()
    cut = False
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"s" * 200
    for i in range(len(head)):  # one byte every 0.2 s: the whole head would take 45 s
        try:
            s.sendall(head[i:i + 1])
        except (ConnectionResetError, BrokenPipeError):
            cut = True
            break
        s.settimeout(0.2)
        try:
            if s.recv(4096, socket.MSG_PEEK) is not None:
                cut = True
                break
        except TimeoutError:
            pass
        if time.monotonic() - started > WAIT:
            break
    answer = _answer(s)
    s.close()
    assert cut and answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert time.monotonic() - started < WAIT
    tally("connections refused or cut (limits)")


def test_a_connection_that_sends_nothing_is_closed(server: Served) -> None:
    s = _connect(server)
    answer = _answer(s)
    s.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    tally("connections refused or cut (limits)")


def test_an_idle_keep_alive_connection_is_closed(server: Served) -> None:
    s = _connect(server)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = _answer(s)  # the answer, then the close after the keep-alive timeout
    s.close()
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.count(b"HTTP/1.1 ") == 1
    tally("connections refused or cut (limits)")


def test_a_slow_body_is_cut(server: Served) -> None:
    s = _connect(server)
    s.sendall(b"POST /v1/evaluations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 1000\r\n\r\n{")
    started = time.monotonic()
    cut = False
    while time.monotonic() - started < WAIT:
        try:
            s.sendall(b" ")
        except (ConnectionResetError, BrokenPipeError):
            cut = True
            break
        s.settimeout(0.25)
        try:
            if s.recv(4096, socket.MSG_PEEK):
                cut = True
                break
        except TimeoutError:
            pass
    answer = _answer(s)
    s.close()
    # Without a key the app may answer 401 before reading the body; either way the connection is not held.
    assert cut, "the slow body was held"
    assert answer.startswith((b"HTTP/1.1 408 ", b"HTTP/1.1 401 ")), answer[:200]
    tally("connections refused or cut (limits)")


def test_connections_past_the_cap_get_503_and_legit_requests_are_served(server: Served) -> None:
    held: list[socket.socket] = []
    try:
        for _ in range(38):  # with the two below: the cap of 40
            held.append(_connect(server))
        legit = _connect(server)
        legit.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = _answer(legit)
        legit.close()
        assert answer.startswith(b"HTTP/1.1 200 ")  # a request within the cap is served
        held.append(_connect(server))
        held.append(_connect(server))
        refused = 0
        for _ in range(5):
            extra = _connect(server)
            extra.settimeout(WAIT)
            answer = _answer(extra)
            extra.close()
            if answer.startswith(b"HTTP/1.1 503 "):
                refused += 1
        tally("connections held at once (limits)", len(held))
        tally("connections refused or cut (limits)", refused)
        assert refused == 5
    finally:
        for s in held:
            s.close()
    deadline = time.monotonic() + WAIT
    while True:  # the held ones are gone (closed by us, or cut by the head deadline): served again
        try:
            _legit_request_served(server)
            break
        except (AssertionError, httpx.HTTPError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_limits_are_read_from_the_environment_and_checked() -> None:
    limits = Limits.from_env({"BIOTOETS_MAX_HEADER_BYTES": "4096", "BIOTOETS_HEADER_TIMEOUT": "2.5"})
    assert (limits.max_header_bytes, limits.header_timeout, limits.max_connections) == (4096, 2.5, 1000)
    assert Limits.from_env(limits.to_env()) == limits
    with pytest.raises(ValueError, match="BIOTOETS_MAX_HEADERS='many': not a number"):
        Limits.from_env({"BIOTOETS_MAX_HEADERS": "many"})
    with pytest.raises(ValueError, match="BIOTOETS_BODY_TIMEOUT='0': must be more than 0"):
        Limits.from_env({"BIOTOETS_BODY_TIMEOUT": "0"})


CHILD = """
import resource, sys, os
from biotoets.api.cli import build_parser
from biotoets.api.http import limits
resource.setrlimit(resource.RLIMIT_NOFILE, (%d, %d))
out = limits.configure(build_parser().parse_args(["serve", "--max-connections", "1000"]))
print(resource.getrlimit(resource.RLIMIT_NOFILE)[0], os.environ["BIOTOETS_MAX_CONNECTIONS"],
      out["http"].__name__, out["timeout_keep_alive"])
"""


@pytest.mark.parametrize(("soft", "hard", "message", "after"), [
    (256, 4096, "open-files limit raised from 256 to 1128", "1128 1000"),
    (256, 256, "the open-files limit is 256 (ulimit -n) and cannot be raised; at most 128 connections", "256 128"),
])
def test_serve_raises_the_open_files_limit_or_fits_the_cap_to_it(soft: int, hard: int, message: str,
                                                                  after: str) -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", CHILD % (soft, hard)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert message in proc.stderr
    assert proc.stdout.split() == [*after.split(), "LimitedHttpToolsProtocol", "5"]
