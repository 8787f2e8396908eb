"""The one durable_rules host of a process: a lean driver on its C extension.

durable_rules is not thread-safe, and its stock Python host starts timer
threads that race with callers (see shared/notes/durable-rules.md, sections 4
and 10). This driver talks to the C extension directly and keeps to the recipe
that was shown to be deterministic:

* no background threads at all;
* every call comes from the thread that created the host -- any other thread
  gets ``EngineThreadError`` before the C core is touched;
* the C core's tables are global to the process, so even two hosts (each on
  its own thread) must not be inside it together: entering is a non-blocking
  try on one process-wide lock, and a thread that finds it taken is refused
  with ``EngineThreadError`` -- two threads can never be inside durable_rules at once;
* one live session at a time, always with the same sid, deleted in ``finally``;
* every ruleset has a catch-all guard rule and is warmed up once on creation;
* any error code from the C core fails the evaluation (never a partial result).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import durable_rules_engine as dre

SID = "e"

# Held while any thread of this process is inside durable_rules (a try, never a wait: see the module docstring).
_inside = threading.Lock()
# Every thread that has entered durable_rules in this process (a server must show exactly one: /metrics),
# and how many calls were refused for coming from a wrong thread.
_entered_by: set[int] = set()
_refused = 0


def engine_threads() -> int:
    """How many different threads of this process have called into durable_rules so far."""
    return len(_entered_by)


def engine_refusals() -> int:
    """How many calls into durable_rules this process has refused (``EngineThreadError``)."""
    return _refused


def _after_fork_in_child() -> None:
    # A forked child has one thread, which is not inside durable_rules, whatever other threads of the parent were.
    global _inside, _refused
    _inside = threading.Lock()
    _entered_by.clear()
    _refused = 0


os.register_at_fork(after_in_child=_after_fork_in_child)


class EngineError(RuntimeError):
    """durable_rules failed; the evaluation has no result."""


class EngineThreadError(EngineError):
    """The host was called from a thread that does not own it."""


class DurableHost:
    """Owns durable_rules rulesets; confined to the thread that created it."""

    def __init__(self) -> None:
        self._owner = threading.get_ident()
        self._handles: dict[str, int] = {}
        self._busy = False

    def _check_thread(self) -> None:
        global _refused
        if threading.get_ident() != self._owner:
            _refused += 1
            raise EngineThreadError(
                "durable_rules was called from a second thread; the engine is confined to its own thread"
            )
        if self._busy:
            _refused += 1
            raise EngineThreadError("durable_rules was re-entered during an evaluation")

    @contextmanager
    def _inside_core(self) -> Iterator[None]:
        """Be the only thread of the process inside durable_rules, or be refused."""
        global _refused
        self._check_thread()
        if not _inside.acquire(blocking=False):
            _refused += 1
            raise EngineThreadError("durable_rules is in use by another thread of this process; "
                                    "the engine is confined to one thread per process")
        try:
            _entered_by.add(threading.get_ident())
            yield
        finally:
            _inside.release()

    def register(self, name: str, definition_json: str, warm_up_fact: str) -> None:
        """Create a ruleset and run one warm-up evaluation on it."""
        with self._inside_core():
            if name in self._handles:
                raise EngineError(f"ruleset {name} is already registered")
            try:
                handle = dre.create_ruleset(name, definition_json)
            except dre.error as exc:
                raise EngineError(f"durable_rules refused ruleset {name}: {exc}") from None
        self._handles[name] = handle
        fired = self.run(name, warm_up_fact)
        if "_guard" not in fired:
            raise EngineError(f"ruleset {name} failed its warm-up: the guard rule did not fire")

    def names(self) -> Iterable[str]:
        return self._handles.keys()

    def run(self, name: str, fact_json: str) -> list[str]:
        """Assert one fact in a fresh session; return the names of the rules that fired, in order."""
        with self._inside_core():
            return self._run(self._handles[name], name, fact_json)

    def _run(self, handle: int, name: str, fact_json: str) -> list[str]:
        self._busy = True
        fired: list[str] = []
        try:
            try:
                code, offset = dre.assert_fact(handle, fact_json)
                if code == 0:
                    result = dre.start_action_for_state(handle, offset)
                    guard = 0
                    while result:
                        messages = result[1] if isinstance(result, tuple) else result
                        # messages is '{"<rule>": {...}}': the rule name is the first key.
                        fired.append(messages[2 : messages.index('"', 2)])
                        guard += 1
                        if guard > 10000:
                            raise EngineError(f"ruleset {name} fired more than 10,000 actions; stopped")
                        result = dre.complete_and_start_action(handle, offset)
            finally:
                dre.delete_state(handle, SID)
        except dre.error as exc:
            raise EngineError(f"durable_rules failed in ruleset {name}: {exc}") from None
        finally:
            self._busy = False
        return fired

    def unregister(self, name: str) -> None:
        """Free a ruleset (between evaluations only)."""
        with self._inside_core():
            handle = self._handles.pop(name)
            dre.delete_ruleset(handle)

    def close(self) -> None:
        for name in list(self._handles):
            self.unregister(name)
