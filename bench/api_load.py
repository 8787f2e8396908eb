"""A bounded HTTP load run on loopback: wrk against ``biotoets serve`` and a bare FastAPI endpoint.

Each target is started as its own server (2 uvicorn worker processes, uvloop +
httptools), warmed up, then loaded by ``wrk`` on 127.0.0.1 only, for a fixed
number of seconds with a fixed number of connections, and stopped. The request
bodies cycle through generated proposals. wrk runs on the same 2 cores as the
server, as a client on this machine would.

Server CPU per request: the user + system CPU time of the server's process
group (the uvicorn parent and its workers, read from ``/proc``) over the
measured run, divided by the requests wrk completed. The same is measured on a
bare endpoint of the same server (``GET /healthz``, which returns fixed bytes)
right after, so the ratio says how much of a stored check is the check itself.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
POSTGRES_URLS = [
    os.environ.get("BIOTOETS_BENCH_POSTGRES_URL", ""),
    "postgresql+psycopg://root@127.0.0.1:5432/test",
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
]


class LoadUnavailable(RuntimeError):
    """The load run cannot happen here (no wrk, no API, no database); says why."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    last = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - loopback only
                if r.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
            last = str(exc)
        except OSError as exc:
            last = str(exc)
        time.sleep(0.2)
    raise LoadUnavailable(f"server at {url} did not come up: {last}")


@contextmanager
def server(cmd: list[str], env: dict[str, str], health: str) -> Iterator[subprocess.Popen[bytes]]:
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True)
    try:
        try:
            _wait_http(health)
        except LoadUnavailable:
            log.seek(0)
            tail = log.read()[-1500:].decode(errors="replace")
            raise LoadUnavailable(f"{' '.join(cmd)} failed to start: {tail}") from None
        yield proc
    finally:
        # The server and its worker processes form their own process group, started here.
        try:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
        log.close()


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of the live processes of a process group (Linux ``/proc``)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        if int(fields[2]) == pgid:  # pgrp
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def run_wrk_cpu(pgid: int, url: str, script: str | None, connections: int, seconds: int) -> dict[str, Any]:
    """``run_wrk`` with the server's CPU per completed request (µs) added."""
    before = group_cpu_seconds(pgid)
    res = run_wrk(url, script, connections, seconds)
    used = group_cpu_seconds(pgid) - before
    res["server_cpu_s"] = used
    res["cpu_us_per_request"] = used / res["requests"] * 1e6 if res["requests"] else float("nan")
    return res


def lua_script(bodies: list[bytes], headers: dict[str, str]) -> str:
    items = ",\n".join("[==[" + b.decode() + "]==]" for b in bodies)
    hdrs = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
    return f"""wrk.method = "POST"
{hdrs}
local bodies = {{
{items}
}}
local i = 0
request = function()
  i = i + 1
  return wrk.format(nil, nil, nil, bodies[(i % #bodies) + 1])
end
"""


def _unit(value: str, unit: str) -> float:
    """wrk latency as ms."""
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url: str, script: str | None, connections: int, seconds: int, threads: int = 2) -> dict[str, Any]:
    """wrk against a URL: POST bodies from a Lua script, or plain GET without one."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script or "")
        path = f.name
    try:
        out = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency", "--timeout", "10s",
             *(["-s", path] if script else []), url], capture_output=True, text=True, timeout=seconds + 60,
            check=True).stdout
    finally:
        os.unlink(path)
    res: dict[str, Any] = {"raw": out}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else float("nan")
    for pct in ("50", "90", "99"):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        res[f"p{pct}_ms"] = _unit(m.group(1), m.group(2)) if m else float("nan")
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    res["errors"] = res["non2xx"] + res["socket_errors"]
    return res


def postgres_url() -> str:
    """A fresh schema in the local test database, for one run."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    errors = []
    for url in [u for u in POSTGRES_URLS if u]:
        eng = create_engine(url)
        try:
            schema = f"biotoets_bench_{secrets.token_hex(4)}"
            with eng.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
                hide_password=False)
        except Exception as exc:  # noqa: BLE001 - try the next user name
            errors.append(f"{url}: {str(exc).splitlines()[0]}")
        finally:
            eng.dispose()
    raise LoadUnavailable("PostgreSQL is not reachable (start it with .ci/services.sh): " + "; ".join(errors))


def drop_postgres_schema(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    u = make_url(url)
    schema = u.query["options"].split("=", 1)[1]
    eng = create_engine(u.difference_update_query(["options"]))
    try:
        with eng.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        eng.dispose()


def biotoets_cli() -> str:
    cli = BIN / "biotoets"
    if not cli.exists():
        raise LoadUnavailable(f"{cli} is missing: pip install -e .")
    help_text = subprocess.run([str(cli), "serve", "--help"], capture_output=True, text=True)
    if help_text.returncode != 0 or "--workers" not in help_text.stdout:
        raise LoadUnavailable("`biotoets serve --workers` is not available yet")
    return str(cli)


def load_biotoets(database_url: str, bodies: list[bytes], connections: int, seconds: int,
                  workers: int = 2) -> dict[str, Any]:
    """Start ``biotoets serve`` on a database, make an applicant key, load ``POST /v1/checks``."""
    if not shutil.which("wrk"):
        raise LoadUnavailable("wrk is not installed (apt-get install wrk)")
    cli = biotoets_cli()
    # /metrics open on this loopback server: the group commit's checks per transaction are read from it.
    env = dict(os.environ, DATABASE_URL=database_url, PYTHONUNBUFFERED="1", BIOTOETS_METRICS_PUBLIC="true")
    key = subprocess.run([cli, "keys", "create", "--role", "applicant", "--name", "bench"], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    port = free_port()
    cmd = [cli, "serve", "--workers", str(workers), "--port", str(port), "--log-level", "warning"]
    base = f"http://127.0.0.1:{port}"
    with server(cmd, env, base + "/healthz") as proc:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        answers = []
        for body in bodies[:16]:  # the answers' sizes, as an applicant gets them (default view)
            req = urllib.request.Request(base + "/v1/checks", data=body, headers=headers, method="POST")
            with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310 - loopback only
                answers.append(len(r.read()))
        warm = run_wrk(base + "/v1/checks", lua_script(bodies, headers), 8, 2)
        if warm["requests"] == 0 or warm["non2xx"] == warm["requests"]:
            raise LoadUnavailable(f"POST /v1/checks failed during warm-up:\n{warm['raw']}")
        before = commits(base)
        res = run_wrk_cpu(proc.pid, base + "/v1/checks", lua_script(bodies, headers), connections, seconds)
        after = commits(base)
        if before and after and after[1] > before[1]:
            res["checks_per_transaction"] = (after[0] - before[0]) / (after[1] - before[1])
        res["bare"] = run_wrk_cpu(proc.pid, base + "/healthz", None, connections, max(2, seconds // 2))
    res["answer_bytes"] = sum(answers) / len(answers)
    res["stored_bytes"] = stored_verdict_bytes(database_url)
    return res


def commits(base: str) -> tuple[float, float] | None:
    """(checks, transactions) the server's group commit has committed so far (``biotoets_check_commit_size`` in
    its /metrics); None when it does not report them."""
    try:
        with urllib.request.urlopen(base + "/metrics", timeout=10) as r:  # noqa: S310 - loopback only
            text = r.read().decode()
    except OSError:
        return None
    found = dict(re.findall(r"^biotoets_check_commit_size_(sum|count) ([0-9.e+]+)$", text, re.M))
    return (float(found["sum"]), float(found["count"])) if len(found) == 2 else None


def stored_verdict_bytes(database_url: str) -> float:
    """Mean size of the stored verdict documents (``checks.verdict_json``), NaN where it cannot be read."""
    from sqlalchemy import create_engine, text

    eng = create_engine(database_url)
    try:
        with eng.connect() as conn:
            value = conn.execute(text("SELECT avg(length(verdict_json)) FROM checks")).scalar()
        return float(value) if value is not None else float("nan")
    except Exception:  # noqa: BLE001 - a store laid out otherwise: reported as not measured
        return float("nan")
    finally:
        eng.dispose()


NOOP_APP = '''
from fastapi import FastAPI, Request, Response
app = FastAPI()

@app.get("/healthz")
async def health() -> dict:
    return {"status": "ok"}

@app.post("/v1/checks", status_code=201)
async def create(request: Request) -> Response:
    body = await request.body()
    return Response(b'{"id": "noop", "bytes": %d}' % len(body), status_code=201, media_type="application/json")
'''


def load_noop(bodies: list[bytes], connections: int, seconds: int, workers: int = 2) -> dict[str, Any]:
    """A bare FastAPI endpoint under the same server settings: the ceiling of the HTTP stack here."""
    if not shutil.which("wrk"):
        raise LoadUnavailable("wrk is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "bench_noop_app.py").write_text(NOOP_APP)
        port = free_port()
        env = dict(os.environ, PYTHONPATH=tmp)
        cmd = [str(BIN / "uvicorn"), "bench_noop_app:app", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
               "--log-level", "warning", "--backlog", "2048"]
        base = f"http://127.0.0.1:{port}"
        with server(cmd, env, base + "/healthz") as proc:
            script = lua_script(bodies, {"Content-Type": "application/json"})
            run_wrk(base + "/v1/checks", script, 8, 2)
            return run_wrk_cpu(proc.pid, base + "/v1/checks", script, connections, seconds)


def bodies_for(proposals: list[dict[str, Any]]) -> list[bytes]:
    return [json.dumps(p, ensure_ascii=False).encode() for p in proposals]
