"""The engine inside a server: one dedicated thread per process owns durable_rules.

durable_rules is not thread-safe (shared/notes/durable-rules.md, section 4),
and ``Engine`` refuses calls from any thread but the one that built it. So the
process has exactly one engine thread (a single-thread executor, shared by
every app instance in the process): the rule base is loaded and compiled on
it, and every evaluation is sent to it with ``loop.run_in_executor``. The
event loop and FastAPI's thread pool never touch the engine. More throughput
comes from more worker processes, each with its own engine thread.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

from biotoets.engine.evaluate import ENGINE_VERSION, Engine
from biotoets.engine.loader import load_rule_base
from biotoets.engine.model import RuleBase
from biotoets.engine.proposal import Proposal

from .. import observability as obs
from ..store import bases

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
# Compiled engines of this process, by rule directory and content hash; touched on the engine thread only.
_engines: dict[tuple[str | None, str], Engine] = {}


def engine_executor() -> ThreadPoolExecutor:
    """The process's engine thread (created on first use)."""
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="biotoets-engine")
        return _executor


class EngineNotReady(RuntimeError):
    """The engine has not finished compiling the rules (or failed to)."""


class EngineBusy(RuntimeError):
    """The engine queue of this process is full: the evaluation was not started."""

    def __init__(self, waiting: int) -> None:
        super().__init__(f"{waiting} evaluations are waiting")
        self.waiting = waiting


def _build(rules_dir: Path | None) -> Engine:
    """Load the rules and compile them -- or reuse the engine already compiled from identical files."""
    base = bases.remember(load_rule_base(rules_dir), evaluates=True)  # its verdicts are stored slim against it
    key = (str(rules_dir) if rules_dir else None, base.digest)
    engine = _engines.get(key)
    if engine is None:
        engine = _engines[key] = Engine(base)
    return engine


def _evaluate(engine: Engine, proposal: Proposal, on: dt.date, lang: str, explain: bool,
              view: Literal["full", "slim"]) -> dict[str, Any]:
    try:
        with obs.ENGINE_SECONDS.time():
            return engine.evaluate(proposal, on, lang=lang, explain=explain, view=view)
    finally:
        obs.report_engine_threads()


class EngineService:
    """The engine of one app: evaluations go to the process's engine thread."""

    def __init__(self, rules_dir: Path | None = None, queue_limit: int = 0) -> None:
        self.rules_dir = rules_dir
        self._engine: Engine | None = None
        self.engine_version = ENGINE_VERSION
        # At most this many evaluations waiting for or on the engine thread (0: no limit). Past it a request is
        # refused at once rather than queued behind work its client may have long given up on.
        self.queue_limit = queue_limit
        self.waiting = 0  # touched only on the event loop

    @property
    def ready(self) -> bool:
        return self._engine is not None

    @property
    def base(self) -> RuleBase | None:
        # A loaded rule base is immutable data: safe to read from any thread (the catalogue does).
        return self._engine.base if self._engine is not None else None

    async def start(self) -> None:
        """Load and compile the rules on the engine thread (the thread every evaluation will use)."""
        loop = asyncio.get_running_loop()
        self._engine = await loop.run_in_executor(engine_executor(), _build, self.rules_dir)

    async def evaluate(self, proposal: Proposal, on: dt.date, lang: str, explain: bool = False,
                       view: Literal["full", "slim"] = "full") -> dict[str, Any]:
        """The verdict document for one proposal, computed on the engine thread, in the full or the slim form.
        "What would change it" (``changes``) only with ``explain``: otherwise it is an empty list (computed on
        demand)."""
        engine = self._engine
        if engine is None:
            raise EngineNotReady("the rules are not compiled yet")
        if self.queue_limit and self.waiting >= self.queue_limit:
            obs.ENGINE_BUSY.inc()
            raise EngineBusy(self.waiting)
        loop = asyncio.get_running_loop()
        self.waiting += 1
        try:
            with obs.engine_job():
                verdict = await loop.run_in_executor(engine_executor(), _evaluate, engine, proposal, on, lang,
                                                     explain, view)
        finally:
            self.waiting -= 1
        obs.count_verdict(verdict["verdict"])
        return verdict

    async def stop(self) -> None:
        """Refuse new evaluations and wait until the engine thread has finished the ones it was given."""
        # The compiled engine stays with the process's engine thread, for the next app in this process.
        self._engine = None
        await asyncio.get_running_loop().run_in_executor(engine_executor(), lambda: None)
