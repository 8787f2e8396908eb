"""Connection-level limits of ``biotoets serve``: what uvicorn's httptools protocol does not bound by itself.

uvicorn (0.55, httptools) reads a request head of any size into memory, waits for it forever, waits forever for
a body, and accepts connections until the process runs out of file descriptors. ``LimitedHttpToolsProtocol``
(given to uvicorn as ``http=``) adds, per connection:

* a request head (request line and header fields) of at most ``max_header_bytes`` bytes and ``max_headers``
  fields, else ``431`` -- counted as bytes arrive, so an endless head is cut before it is buffered;
* the whole head within ``header_timeout`` seconds of its first byte (or of the connection opening), else ``408``:
  slowloris heads and connections that never send anything are closed;
* the whole body within ``body_timeout`` seconds of the head, else ``408``: slow bodies are closed;
* at most ``max_connections`` open connections per worker process: the next one gets ``503`` at once and is
  closed, so it holds no descriptor.

uvicorn's own ``timeout_keep_alive`` closes idle keep-alive connections. ``raise_fd_limit`` lifts the soft limit
on open files towards the hard one at start. Worker processes read the limits from the environment (``serve``
sets ``BIOTOETS_*`` from its options), as they read their other settings.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

REASONS = {408: "Request Timeout", 431: "Request Header Fields Too Large", 503: "Service Unavailable"}


@dataclass(frozen=True)
class Limits:
    max_header_bytes: int = 32 * 1024  # request line + header fields; proxies (nginx) default to 8-32 KiB
    max_headers: int = 100  # header fields per request
    header_timeout: float = 10.0  # seconds for the whole request head
    body_timeout: float = 30.0  # seconds for the whole body after the head (1 MB at ~33 kB/s)
    keep_alive_timeout: int = 5  # seconds an idle keep-alive connection is kept
    max_connections: int = 1000  # open connections per worker process

    ENV = {"max_header_bytes": "BIOTOETS_MAX_HEADER_BYTES", "max_headers": "BIOTOETS_MAX_HEADERS",
           "header_timeout": "BIOTOETS_HEADER_TIMEOUT", "body_timeout": "BIOTOETS_BODY_TIMEOUT",
           "keep_alive_timeout": "BIOTOETS_KEEP_ALIVE_TIMEOUT", "max_connections": "BIOTOETS_MAX_CONNECTIONS"}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Limits:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(cls.ENV[f.name], "").strip()
            if raw:
                kind = float if isinstance(getattr(cls, f.name), float) else int
                try:
                    values[f.name] = kind(raw)
                except ValueError:
                    raise ValueError(f"{cls.ENV[f.name]}={raw!r}: not a number") from None
                if values[f.name] <= 0:
                    raise ValueError(f"{cls.ENV[f.name]}={raw!r}: must be more than 0")
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        return {self.ENV[f.name]: str(getattr(self, f.name)) for f in fields(self)}


_current: list[Limits] = []


def current() -> Limits:
    """This process's limits (read from the environment once)."""
    if not _current:
        _current.append(Limits.from_env())
    return _current[0]


def raise_fd_limit(wanted: int) -> tuple[int, int]:
    """Lift the soft limit on open files to ``wanted`` (or to the hard limit, if lower); returns (before, after)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            return soft, soft
        return soft, target
    return soft, soft


class _Refused(Exception):
    """Raised from a parser callback to stop parsing; the refusal to send is already recorded."""


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with bounded heads, head and body deadlines and a connection cap."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = current()
        self._head_bytes = 0
        self._header_count = 0
        self._in_body = False
        self._deadline: asyncio.TimerHandle | None = None
        self._refusal: tuple[int, str] | None = None

    # -- connection --------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self._refuse(503, "This server has too many open connections; try again shortly.", retry=True)
            return
        self._arm(self.limits.header_timeout, "The request head did not arrive in time.")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None:
            return
        if not self._in_body:
            if self._deadline is None:  # the first byte of a new request on a kept-alive connection
                self._arm(self.limits.header_timeout, "The request head did not arrive in time.")
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_header_bytes:
                self._refuse(431, f"The request head is larger than {self.limits.max_header_bytes} bytes.")
                return
        super().data_received(data)

    # -- parser callbacks --------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._header_count = 0
        super().on_message_begin()

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self.limits.max_headers:
            self._refusal = (431, f"The request has more than {self.limits.max_headers} header fields.")
            raise _Refused
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_body = True
        self._arm(self.limits.body_timeout, "The request body did not arrive in time.")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_body = False
        self._head_bytes = 0
        self._disarm()
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        if self._refusal is not None:  # a callback stopped the parser on purpose
            status, text = self._refusal
            self._refusal = None
            self._refuse(status, text)
            return
        super().send_400_response(msg)

    # -- refusing ----------------------------------------------------------------------------------
    def _arm(self, seconds: float, why: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired, why)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self, why: str) -> None:
        self._deadline = None
        if self.cycle is not None and not self.cycle.response_complete and not self._in_body:
            return  # a response is being written: the head of a pipelined request may wait for it
        self._refuse(408, why)

    def _refuse(self, status: int, text: str, retry: bool = False) -> None:
        """Answer ``status`` with a short text (if nothing has been answered on this request) and close."""
        self._refusal = (status, text)
        self._disarm()
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:  # never a second answer to one request
            body = text.encode()
            head = (f"HTTP/1.1 {status} {REASONS[status]}\r\ncontent-type: text/plain; charset=utf-8\r\n"
                    f"content-length: {len(body)}\r\nconnection: close\r\n"
                    + ("retry-after: 1\r\n" if retry else "") + "\r\n")
            self.transport.write(head.encode() + body)
        if self.cycle is not None:
            self.cycle.keep_alive = False
        self.transport.close()


# -- serve's options ---------------------------------------------------------------------------------
def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} must be more than 0")
        return value
    return parse


def add_options(p: argparse.ArgumentParser) -> None:
    """``serve``'s connection limits (README: "Connection limits")."""
    d = Limits()
    g = p.add_argument_group("connection limits (per worker process; see README)")
    g.add_argument("--max-header-bytes", type=_positive(int), default=d.max_header_bytes, metavar="BYTES",
                   help=f"largest request head, request line and header fields together; larger: 431 "
                        f"(default {d.max_header_bytes})")
    g.add_argument("--max-headers", type=_positive(int), default=d.max_headers, metavar="N",
                   help=f"most header fields in a request; more: 431 (default {d.max_headers})")
    g.add_argument("--header-timeout", type=_positive(float), default=d.header_timeout, metavar="SECONDS",
                   help=f"time for a whole request head, from its first byte or the connection opening; slower: "
                        f"408 and closed (default {d.header_timeout:g})")
    g.add_argument("--body-timeout", type=_positive(float), default=d.body_timeout, metavar="SECONDS",
                   help=f"time for a whole request body after its head; slower: 408 and closed "
                        f"(default {d.body_timeout:g})")
    g.add_argument("--keep-alive-timeout", type=_positive(int), default=d.keep_alive_timeout, metavar="SECONDS",
                   help=f"close a kept-alive connection idle this long (default {d.keep_alive_timeout})")
    g.add_argument("--max-connections", type=_positive(int), default=d.max_connections, metavar="N",
                   help=f"open connections per worker; the next gets 503 and is closed (default "
                        f"{d.max_connections})")


FD_RESERVE = 128  # descriptors a worker needs besides client connections: database pool, logs, pipes, files


def configure(args: argparse.Namespace) -> dict[str, Any]:
    """Put the limits where the workers read them, lift the open-files limit, and return uvicorn's settings."""
    limits = Limits(args.max_header_bytes, args.max_headers, args.header_timeout, args.body_timeout,
                    args.keep_alive_timeout, args.max_connections)
    before, after = raise_fd_limit(limits.max_connections + FD_RESERVE)
    if after < limits.max_connections + FD_RESERVE:
        fitted = max(after - FD_RESERVE, 1)
        print(f"biotoets: the open-files limit is {after} (ulimit -n) and cannot be raised; at most {fitted} "
              f"connections per worker instead of {limits.max_connections}", file=sys.stderr)
        limits = Limits(**{**{f.name: getattr(limits, f.name) for f in fields(limits)}, "max_connections": fitted})
    elif after > before:
        print(f"biotoets: open-files limit raised from {before} to {after}", file=sys.stderr)
    os.environ.update(limits.to_env())
    _current.clear()
    return {"http": LimitedHttpToolsProtocol, "timeout_keep_alive": limits.keep_alive_timeout}
