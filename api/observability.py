"""Operations: structured JSON logs with a request id, masking of secrets and personal data, Prometheus metrics.

* Every request gets an id: the caller's ``X-Request-ID`` if it is a plain
  token of at most 64 characters, else a new one. It is echoed in the response
  header and attached to every log line written while the request is handled.
* Log lines are JSON objects, one per line (``JsonFormatter``). Whatever a log
  line says passes through ``redact`` first: API keys and bearer tokens, the
  parameters SQLAlchemy puts into its error messages (they hold proposal
  bodies), pydantic's ``input_value`` and the personal fields of a proposal
  (title, partner names, ...) are replaced by ``[redacted]``. Request bodies
  are never logged in the first place; the access log (``--access-log``) has
  method, route (the template, not the path as sent), status, duration and
  client address only.
* ``/metrics`` serves Prometheus' text format: requests and their latencies
  by route, verdicts, the engine queue depth, the engine's threads, failed
  authentications. Under ``biotoets serve --workers N`` (N > 1) the worker
  processes share a directory of counters (``PROMETHEUS_MULTIPROC_DIR``, made
  and removed by ``serve``), so any worker answers for the whole server;
  a single process keeps them in memory.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from fastapi import Depends, FastAPI, Request
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prom_mp
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from biotoets.engine.host import engine_refusals, engine_threads

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
REQUEST_ID_HEADER = "x-request-id"
access_log = logging.getLogger("biotoets.access")

# -- request ids -------------------------------------------------------------------------------------
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("biotoets_request_id", default=None)
_REQUEST_ID_OK = re.compile(r"[A-Za-z0-9._:\-]{1,64}")


def new_request_id() -> str:
    return uuid.uuid4().hex


def accepted_request_id(raw: bytes | None) -> str:
    """The caller's request id if it is a plain token, else a fresh one (never an arbitrary string in our logs)."""
    if raw:
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            return new_request_id()
        if _REQUEST_ID_OK.fullmatch(text):
            return text
    return new_request_id()


# -- masking ----------------------------------------------------------------------------------------
REDACTED = "[redacted]"
# Fields of a proposal (and of reviews) that may name people, organisations or projects.
PERSONAL_FIELDS = ("title", "name", "institution_type", "start_date", "reason", "message", "proposal",
                   "proposal_raw", "proposal_json", "verdict_json", "answers")
_MASKS: list[tuple[re.Pattern[str], str]] = [
    # btk_<id>_<secret>: the id is not secret and helps an operator; the secret never appears.
    (re.compile(r"(btk_[A-Za-z0-9]{1,40}_)[A-Za-z0-9_\-]+"), r"\1" + REDACTED),
    (re.compile(r"(?i)\b(bearer\s+)[^\s\"',;]+"), r"\1" + REDACTED),
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)[^\"',\n]+"), r"\1" + REDACTED),
    # SQLAlchemy error messages list the statement's parameters: the proposal, the verdict, names.
    (re.compile(r"\[parameters: .*?(?=\n\(Background on this error|\Z)", re.S), "[parameters: " + REDACTED + "]"),
    # pydantic's error text quotes the value it refused.
    (re.compile(r"input_value=.*?(?=, input_type=|\Z)", re.S), "input_value=" + REDACTED),
    # "title": "...", 'name': '...', title=... in JSON, Python reprs and key=value text.
    (re.compile(r"""(["']?\b(?:""" + "|".join(PERSONAL_FIELDS)
                + r"""\b)["']?\s*[:=]\s*)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\[[^\]]*\]|\{[^}]*\})"""),
     r'\1"' + REDACTED + '"'),
]


def redact(text: str) -> str:
    """``text`` with secrets and personal data masked (for anything that goes into a log)."""
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, pid, and the access-log fields."""

    FIELDS = ("method", "route", "status", "duration_ms", "client", "correlation_id")

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid:
            doc["request_id"] = rid
        for name in self.FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                doc[name] = value
        doc["pid"] = record.process
        if record.exc_info:
            doc["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            doc["exception"] = redact(record.exc_text)
        return orjson.dumps(doc, default=str).decode()


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (for handlers that do not use ``JsonFormatter``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.get()
        return True


def log_config(level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn and the app: JSON lines on stderr."""
    lvl = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "biotoets.api.observability.RequestIdFilter"}},
        "formatters": {"json": {"()": "biotoets.api.observability.JsonFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"],
                                "stream": "ext://sys.stderr"}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": lvl, "propagate": False},
            "uvicorn.error": {"level": lvl},
            # Replaced by biotoets.access (JSON, with the request id and the route, without the query string).
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "biotoets": {"handlers": ["stderr"], "level": lvl, "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }


# -- metrics -----------------------------------------------------------------------------------------
REQUESTS = Counter("biotoets_http_requests", "HTTP requests answered, by method, route and status.",
                   ["method", "route", "status"])
LATENCY = Histogram("biotoets_http_request_duration_seconds", "Time to answer an HTTP request, by method and route.",
                    ["method", "route"],
                    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
IN_PROGRESS = Gauge("biotoets_http_requests_in_progress", "HTTP requests being handled now.",
                    multiprocess_mode="livesum")
VERDICTS = Counter("biotoets_verdicts", "Verdicts given, by verdict.", ["verdict"])
ENGINE_QUEUE = Gauge("biotoets_engine_queue_depth",
                     "Evaluations waiting for or running on the engine threads (one per worker process).",
                     multiprocess_mode="livesum")
ENGINE_SECONDS = Histogram("biotoets_engine_evaluation_seconds", "Time an evaluation takes on the engine thread.",
                           buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0))
ENGINE_THREADS = Gauge("biotoets_engine_threads",
                       "Threads that have called into durable_rules in a worker process (the most of any "
                       "worker): must be 1.", multiprocess_mode="livemax")
ENGINE_REFUSED = Gauge("biotoets_engine_thread_refusals",
                       "Calls into durable_rules refused because they came from a second thread, summed over the "
                       "worker processes (must stay 0).", multiprocess_mode="livesum")
ENGINE_BUSY = Counter("biotoets_engine_busy_refusals",
                      "Evaluations refused (503) because the worker's engine queue was full.")
CHECK_COMMIT_SIZE = Histogram("biotoets_check_commit_size",
                              "Checks stored per database transaction by the group commit (the check writer).",
                              buckets=(1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64))
AUTH_FAILURES = Counter("biotoets_auth_failures", "Requests refused because their API key was not valid.")
AUTH_LIMITED = Counter("biotoets_auth_rate_limited",
                       "Requests refused (429) because their address failed authentication too often.")


_engine_reported = (0, 0)


def report_engine_threads() -> None:
    """Publish which threads have been inside durable_rules in this process (engine/host.py keeps count)."""
    global _engine_reported
    now = (engine_threads(), engine_refusals())
    if now != _engine_reported:  # a gauge write only when something changed
        _engine_reported = now
        ENGINE_THREADS.set(now[0])
        ENGINE_REFUSED.set(now[1])


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def _forget_dead_workers(path: str) -> None:
    """Live gauges of worker processes that have died (a killed worker that uvicorn replaced) no longer count."""
    pids: set[int] = set()
    for f in Path(path).glob("gauge_live*_*.db"):
        try:
            pids.add(int(f.stem.rsplit("_", 1)[1]))
        except ValueError:
            continue
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            prom_mp.mark_process_dead(pid, path)
        except PermissionError:
            continue


def render_metrics() -> tuple[bytes, str]:
    """The Prometheus text exposition of this server (all its worker processes), and its content type."""
    report_engine_threads()
    path = multiprocess_dir()
    if path:
        _forget_dead_workers(path)
        registry = CollectorRegistry()
        prom_mp.MultiProcessCollector(registry, path=path)
        return generate_latest(registry), CONTENT_TYPE_PLAIN_0_0_4
    return generate_latest(REGISTRY), CONTENT_TYPE_PLAIN_0_0_4


# Labelled children, looked up once: prometheus_client's labels() costs as much as the increment itself.
_requests: dict[tuple[str, str, str], Any] = {}
_latencies: dict[tuple[str, str], Any] = {}
_verdicts: dict[str, Any] = {}


def count_request(method: str, route: str, status: str, seconds: float) -> None:
    counter = _requests.get((method, route, status))
    if counter is None:
        counter = _requests[(method, route, status)] = REQUESTS.labels(method, route, status)
    counter.inc()
    histogram = _latencies.get((method, route))
    if histogram is None:
        histogram = _latencies[(method, route)] = LATENCY.labels(method, route)
    histogram.observe(seconds)


def count_verdict(verdict: str) -> None:
    counter = _verdicts.get(verdict)
    if counter is None:
        counter = _verdicts[verdict] = VERDICTS.labels(verdict)
    counter.inc()


@contextmanager
def engine_job() -> Iterator[None]:
    """Count an evaluation in the engine queue while it waits and runs."""
    ENGINE_QUEUE.inc()
    try:
        yield
    finally:
        ENGINE_QUEUE.dec()


class Observe:
    """ASGI middleware: request id, metrics and (if enabled) a JSON access-log line for every HTTP request."""

    def __init__(self, app: ASGIApp, access: bool = False) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_id = None
        keyed = False
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id" and raw_id is None:
                raw_id = value
            elif name == b"authorization":
                keyed = True
        rid = accepted_request_id(raw_id)
        token = request_id.set(rid)
        status = 0  # no answer (yet): the client went away, or the server is failing
        extra = [(b"x-request-id", rid.encode("ascii")), (b"x-content-type-options", b"nosniff")]

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), *extra]
                # An answer to a request with a key may hold someone's proposal: no shared cache may keep it.
                if keyed and not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        started = time.perf_counter()
        IN_PROGRESS.inc()
        try:
            await self.app(scope, receive, observed_send)
        except Exception:
            status = status or 500
            raise
        finally:
            elapsed = time.perf_counter() - started
            IN_PROGRESS.dec()
            route_obj = scope.get("route")
            route = getattr(route_obj, "path", None) or "unmatched"
            method = scope.get("method", "")
            count_request(method, route, str(status) if status else "none", elapsed)
            if self.access:
                client = scope.get("client")
                # The route, not the path: a path is whatever the client wrote into it.
                access_log.info("%s %s %d", method, route, status, extra={
                    "method": method, "route": route, "status": status,
                    "duration_ms": round(elapsed * 1000, 2), "client": client[0] if client else None,
                })
            request_id.reset(token)


def add_metrics_route(app: FastAPI, guard: Callable[[Request], Awaitable[Any]] | None) -> None:
    """``GET /metrics``; ``guard`` is the dependency that admits the caller (None: public)."""
    from .http.openapi import SECURITY_SCHEME, problem_responses

    dependencies = [Depends(guard)] if guard is not None else []
    extra: dict[str, Any] = {"security": [{SECURITY_SCHEME: []}]} if guard is not None else {}
    problems = problem_responses(401, 403) if guard is not None else {}

    @app.get("/metrics", tags=["health"], summary="Metrics in Prometheus' text format", response_model=None,
             response_class=PlainTextResponse, dependencies=dependencies, openapi_extra=extra,
             responses={200: {"description": "Prometheus text exposition format 0.0.4: requests and latencies by "
                              "route, verdicts, engine queue depth, engine threads, failed authentications. "
                              "Summed over the server's worker processes.",
                              "content": {"text/plain": {"schema": {"type": "string"}}}}, **problems})
    async def metrics() -> Response:
        """The server's metrics (for Prometheus). Needs an admin key unless BIOTOETS_METRICS_PUBLIC is set."""
        body, content_type = render_metrics()
        return Response(body, media_type=content_type)
