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
* one live session per ruleset, always with the same sid;
* every ruleset has a catch-all guard rule and is warmed up once on creation;
* every evaluation must fire the guard rule, or it has no result;
* any error code from the C core fails the evaluation (never a partial result).

Reused sessions (the default). Creating a session initialises state for every
rule of the ruleset (``createStateNode``: two 512-entry indexes per beta node,
pools per action), which was ~60 % of the C time of an evaluation. So each
ruleset keeps its one session, opened by the warm-up, and an evaluation is:
assert the proposal fact under the fixed id ``FACT_ID``; drain the actions
(``start_action_for_state`` / ``complete_and_start_action``), collecting the
fired rule names; retract the fact by its id (``{"sid", "id"}`` only: the C
core finds it by id and removes its matches). Why that is sound here:

* the compiler emits single-fact patterns only (no joins, no ``$not``) and
  actions never assert, so the proposal fact is the only fact of a session
  besides its state fact, and retracting it cannot make a rule match;
* after the retract the host checks that no action is pending, and every run
  must fire the guard: a fact left behind by a failed retract would make the
  next assert "observed" (no guard), which fails closed instead of reusing state;
* after any error the session is deleted and re-opened by a warm-up run (never
  a ``delete_state`` on a session in which no action ran, bug B4), and if that
  fails the ruleset refuses every later evaluation;
* every evaluation is still checked by the reference evaluator, and
  tests/engine/test_reused_sessions.py compares reused sessions with fresh
  ones (differential hypothesis test, and a soak in a subprocess: 100,000
  evaluations by default in CI with ``BIOTOETS_SOAK`` for more, RSS growth bounded).

``DurableHost(reuse_sessions=False)`` keeps the original recipe (a fresh
session per evaluation, deleted in ``finally``): the comparison path.

The results-only call. The project's build patches durable_rules' C binding
(patches/durable-rules-assert-fact-fired.patch, applied to the 2.0.28 sdist by
``make install``) with ``assert_fact_fired``: assert, run every action, retract
and check that nothing is pending, in one call that returns the fired rule
names -- no Python between the actions. It is used when the installed build has
it (detected at import); a stock build takes the step-by-step path above, which
``DurableHost(results_only=False)`` also forces, and the two are compared by a
differential test (tests/engine/test_reused_sessions.py).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import durable_rules_engine as dre

# Whether the installed durable_rules has the project's results-only call (its patched build; see the docstring).
HAS_ASSERT_FACT_FIRED = hasattr(dre, "assert_fact_fired")
MAX_ACTIONS = 10000

SID = "e"
# The id of the proposal fact in every evaluation: the reused session retracts it by this id.
FACT_ID = "p"
_FACT_ID_JSON = f'"id":"{FACT_ID}"'
_RETRACT = f'{{"sid":"{SID}",{_FACT_ID_JSON}}}'

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

    def __init__(self, reuse_sessions: bool = True, results_only: bool | None = None) -> None:
        if results_only and not HAS_ASSERT_FACT_FIRED:
            raise EngineError("this durable_rules build has no assert_fact_fired: install it with `make install`")
        self.results_only = HAS_ASSERT_FACT_FIRED if results_only is None else results_only
        self._owner = threading.get_ident()
        self._handles: dict[str, int] = {}
        self._warm: dict[str, str] = {}
        self._broken: set[str] = set()
        self._busy = False
        self.reuse_sessions = reuse_sessions

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
        """Create a ruleset and run one warm-up evaluation on it (which opens its session)."""
        with self._inside_core():
            if name in self._handles:
                raise EngineError(f"ruleset {name} is already registered")
            try:
                handle = dre.create_ruleset(name, definition_json)
            except dre.error as exc:
                raise EngineError(f"durable_rules refused ruleset {name}: {exc}") from None
        self._handles[name] = handle
        self._warm[name] = warm_up_fact
        self.run(name, warm_up_fact)

    def names(self) -> Iterable[str]:
        return self._handles.keys()

    def run(self, name: str, fact_json: str) -> list[str]:
        """Assert one fact; return the names of the rules that fired, in order (the guard included)."""
        # (``_inside_core`` written out: this is the hot path, and a generator-based context manager costs more
        # than the retract does.)
        global _refused
        if threading.get_ident() != self._owner or self._busy:
            self._check_thread()
        if not _inside.acquire(blocking=False):
            _refused += 1
            raise EngineThreadError("durable_rules is in use by another thread of this process; "
                                    "the engine is confined to one thread per process")
        try:
            _entered_by.add(self._owner)
            if name in self._broken:
                raise EngineError(f"ruleset {name} failed to re-open its session; it evaluates nothing")
            handle = self._handles[name]
            if not self.reuse_sessions:
                return self._run_fresh(handle, name, fact_json)
            self._busy = True
            try:
                return self._run_reused(handle, name, fact_json)
            except BaseException:
                self._reopen(handle, name)
                raise
            finally:
                self._busy = False
        finally:
            _inside.release()

    @staticmethod
    def _drain(handle: int, name: str, code: int, offset: int) -> list[str]:
        fired: list[str] = []
        if code != 0:
            raise EngineError(f"ruleset {name}: the guard rule did not fire (code {code}); no result")
        result = dre.start_action_for_state(handle, offset)
        append = fired.append
        complete = dre.complete_and_start_action
        while result:
            messages = result[1] if result.__class__ is tuple else result
            # messages is '{"<rule>": {...}}': the rule name is the first key.
            append(messages[2 : messages.index('"', 2)])
            if len(fired) > MAX_ACTIONS:
                raise EngineError(f"ruleset {name} fired more than 10,000 actions; stopped")
            result = complete(handle, offset)
        if "_guard" not in fired:
            raise EngineError(f"ruleset {name}: the guard rule did not fire; no result")
        return fired

    @staticmethod
    def _checked(name: str, code: int, fired: list[str] | None) -> list[str]:
        """What the results-only call returned, held to ``_drain``'s conditions."""
        if code != 0 or fired is None:
            raise EngineError(f"ruleset {name}: the guard rule did not fire (code {code}); no result")
        if "_guard" not in fired:
            raise EngineError(f"ruleset {name}: the guard rule did not fire; no result")
        return fired

    def _run_reused(self, handle: int, name: str, fact_json: str) -> list[str]:
        if _FACT_ID_JSON not in fact_json:  # (inside a JSON string value its quotes would be escaped)
            raise EngineError(f"ruleset {name}: the fact has no \"id\": \"{FACT_ID}\"; it could not be retracted")
        try:
            if self.results_only:
                code, names = dre.assert_fact_fired(handle, fact_json, _RETRACT, MAX_ACTIONS)
                return self._checked(name, code, names)
            code, offset = dre.assert_fact(handle, fact_json)
            fired = self._drain(handle, name, code, offset)
            code, offset = dre.retract_fact(handle, _RETRACT)
            if code != 0 or dre.start_action_for_state(handle, offset):
                raise EngineError(f"ruleset {name}: retracting the proposal left the session unclean")
        except dre.error as exc:
            raise EngineError(f"durable_rules failed in ruleset {name}: {exc}") from None
        return fired

    def _reopen(self, handle: int, name: str) -> None:
        """After a failure: delete the session and open a clean one with the warm-up fact (or refuse from now on)."""
        try:
            dre.delete_state(handle, SID)
            self._run_reused(handle, name, self._warm[name])
        except Exception:
            self._broken.add(name)

    def _run_fresh(self, handle: int, name: str, fact_json: str) -> list[str]:
        self._busy = True
        try:
            try:
                if self.results_only:
                    try:
                        code, names = dre.assert_fact_fired(handle, fact_json, None, MAX_ACTIONS)
                        return self._checked(name, code, names)
                    finally:
                        dre.delete_state(handle, SID)
                code, offset = dre.assert_fact(handle, fact_json)
                try:
                    return self._drain(handle, name, code, offset)
                finally:
                    dre.delete_state(handle, SID)
            except dre.error as exc:
                raise EngineError(f"durable_rules failed in ruleset {name}: {exc}") from None
        finally:
            self._busy = False

    def unregister(self, name: str) -> None:
        """Free a ruleset and its session (between evaluations only)."""
        with self._inside_core():
            handle = self._handles.pop(name)
            self._warm.pop(name, None)
            if self.reuse_sessions and name not in self._broken:
                dre.delete_state(handle, SID)
            self._broken.discard(name)
            dre.delete_ruleset(handle)

    def close(self) -> None:
        for name in list(self._handles):
            self.unregister(name)
