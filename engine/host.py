"""The one durable_rules host of a process: a lean driver on its C extension.

durable_rules is not thread-safe, and its stock Python host starts timer
threads that race with callers (see shared/notes/durable-rules.md, sections 4
and 10). This driver talks to the C extension directly and keeps to the recipe
that was shown to be deterministic:

* no background threads at all;
* every call comes from the thread that created the host -- any other thread
  gets ``EngineThreadError`` before the C core is touched, so two threads can
  never be inside durable_rules at once;
* one live session at a time, always with the same sid, deleted in ``finally``;
* every ruleset has a catch-all guard rule and is warmed up once on creation;
* any error code from the C core fails the evaluation (never a partial result).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import durable_rules_engine as dre

SID = "e"


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
        if threading.get_ident() != self._owner:
            raise EngineThreadError(
                "durable_rules was called from a second thread; the engine is confined to its own thread"
            )
        if self._busy:
            raise EngineThreadError("durable_rules was re-entered during an evaluation")

    def register(self, name: str, definition_json: str, warm_up_fact: str) -> None:
        """Create a ruleset and run one warm-up evaluation on it."""
        self._check_thread()
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
        self._check_thread()
        handle = self._handles[name]
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
        self._check_thread()
        handle = self._handles.pop(name)
        dre.delete_ruleset(handle)

    def close(self) -> None:
        for name in list(self._handles):
            self.unregister(name)
