"""The rule bases this process knows by ruleset hash, so a verdict is stored slim and read back full.

A slim verdict refers to the rules, sources and questions of the rule base it was evaluated under
(``documents/slim.py``). Storing one needs that rule base; reading one back in full needs it again -- the same
one, found by the verdict's ``ruleset.hash``, never today's when the check is yesterday's. The rule bases a
process evaluates with are remembered here (the server's on start, replay's from their snapshots); older ones
are rebuilt from their stored snapshot (``receipts.rule_base``).
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

from biotoets.engine.model import RuleBase

from ..documents import slim as slim_form

SIZE = 8  # older rule bases kept (replay, old checks), the most recently used
_lock = threading.Lock()
_bases: OrderedDict[str, RuleBase] = OrderedDict()
_evaluating: dict[str, RuleBase] = {}  # the rule bases this process evaluates with: never forgotten


def remember(base: RuleBase, evaluates: bool = False) -> RuleBase:
    """Keep ``base`` as the rule base of its hash: for good if this process ``evaluates`` with it (its verdicts
    are stored slim against it), else among the most recently used."""
    with _lock:
        if evaluates:
            _evaluating[base.digest] = base
            return base
        _bases[base.digest] = base
        _bases.move_to_end(base.digest)
        while len(_bases) > SIZE:
            _bases.popitem(last=False)
    return base


def known(ruleset_hash: str) -> RuleBase | None:
    with _lock:
        base = _evaluating.get(ruleset_hash) or _bases.get(ruleset_hash)
        if ruleset_hash in _bases:
            _bases.move_to_end(ruleset_hash)
        return base


@contextlib.contextmanager
def forgotten() -> Iterator[None]:
    """For a while, know no rule base (as a process that has just started): tests and the bench use it."""
    with _lock:
        kept = (dict(_evaluating), OrderedDict(_bases))
        _evaluating.clear()
        _bases.clear()
    try:
        yield
    finally:
        with _lock:
            _evaluating.update(kept[0])
            _bases.update(kept[1])


def stored_form(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """The form a verdict is stored in: slim, with the rule base it was evaluated under (the engine builds it
    slim for the API; pages hand in the full form). A full verdict of a rule base this process does not know (a
    tool storing an engine's verdict directly), or one that would not expand back to itself, is stored as it is:
    every reader takes both forms (``slim.full``)."""
    if slim_form.is_slim(verdict):
        return dict(verdict)
    base = known(verdict["ruleset"]["hash"])
    thin = None if base is None else slim_form.exactly(verdict, base)
    return dict(verdict) if thin is None else thin
