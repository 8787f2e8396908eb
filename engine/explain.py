"""What would change the verdict: single-fact counterfactuals computed from the rule conditions.

For every known fact that the deciding rules (or more severe rules that do not
apply) read, try the other values that matter to the rules -- the literals
they compare with, one step either side of a number, an "other" enum value --
and re-evaluate only the rules that depend on that fact. A change is reported
when it moves the verdict, with the rules that would then decide it.

Precomputed when the rule base is loaded (``Explainer.__init__``), so that an
explanation costs little when it is asked for:

* per fact, its *boundary tests* (``boundaries.py``): every distinct
  (operator, literal) a rule compares it (or its count) with. Two values with
  the same outcomes (signature) give every rule the same status, so a value
  alike one already tried cannot move the verdict anywhere new and is skipped,
  a value alike the current one keeps the current verdict, and for any other
  only the rules whose leaves changed outcome (and the readers of derived
  facts that change with them) are evaluated again;
* per fact, the derived facts downstream of it in evaluation order and the
  rules to re-evaluate when it changes (each once);
* per date, the verdict rules in force by severity, so the verdict after a
  change looks again only at the rules the change can reach.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from datetime import date
from typing import Any

from . import reference
from .boundaries import Boundaries, DayRules, Signature, count_fact
from .conditions import Truth
from .model import EFFECTS, SEVERITY, VERDICT_WORDS, RuleBase, Text

MAX_CHANGES = 12
# verdict.applies, handed in by build_verdict: verdict.py refers to Explainer, so this module does not import it back
AppliesFn = Callable[[RuleBase, dict[str, Truth]], dict[str, Truth]]
_FORGET = object()  # "make this fact unknown", for probing which rules depend on it


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(map(str, v)) + "]"
    return str(v)


# Values to try for a fact: (value, its boundary signature or None, the rules it moves or None).
_Options = tuple[tuple[Any, "Signature | None", "frozenset[str] | None"], ...]


class Explainer:
    """Precomputed dependencies of a rule base, for cheap counterfactuals."""

    def __init__(self, base: RuleBase) -> None:
        self.base = base
        self.derived_rules = base.derived_facts()
        # fact -> derived facts that read it, transitively
        self.downstream: dict[str, set[str]] = {}
        for name in base.facts:
            self.downstream[name] = self._downstream(name, set())
        # fact -> ids of rules that read it or a derived fact downstream of it
        self.readers: dict[str, set[str]] = {}
        for rid, rule in base.rules.items():
            for f in rule.facts:
                self.readers.setdefault(f, set()).add(rid)
        self.bounds = Boundaries(base)  # per fact, its boundary tests and literals (see the module docstring)
        self.literals = self.bounds.literals
        # The reference evaluator's compiled conditions, derived-fact order and rules in force per date.
        self.compiled = reference.compiled(base)
        self.order = self.compiled.order
        self.checks = self.compiled.checks
        self.exceptions = {rid: r.exceptions for rid, r in base.rules.items()}
        self.parents: dict[str, set[str]] = {}
        for rid, r in base.rules.items():
            for e in r.exceptions:
                self.parents.setdefault(e, set()).add(rid)
        self._inputs_cache: dict[str, set[str]] = {}
        # Per fact: its count fact (a set's size, changed with it), the derived facts downstream of it in
        # evaluation order, and the rules that read it, its count or one of those (each once).
        self._plans: dict[str, tuple[str | None, tuple[str, ...], tuple[str, ...]]] = {}
        # Per fact: the rules that read it or its count; and those with the readers of derived facts downstream.
        self._direct: dict[str, frozenset[str]] = {}
        self._readers: dict[str, frozenset[str]] = {}
        self._derived_facts = frozenset(name for name, spec in base.facts.items() if spec.derived)
        for name in base.facts:
            count = count_fact(base, name)
            down = self.downstream.get(name, set())
            touched = [name] + ([count] if count else []) + sorted(down)
            readers = tuple(dict.fromkeys(rid for f in touched for rid in sorted(self.readers.get(f, ()))))
            self._plans[name] = (count, tuple(d for d in self.order if d in down), readers)
            self._readers[name] = frozenset(readers)
            self._direct[name] = frozenset(self.readers.get(name, set()) | self.readers.get(count or name, set()))
        self._days: dict[date, DayRules] = {}
        self._options_cache: dict[Any, tuple[Signature | None, _Options]] = {}
        self.derived_ids = self.compiled.derived_rules
        # Per rule: itself and the rules it may defeat as an exception, transitively (_verdict's "affected").
        self._up: dict[str, frozenset[str]] = {}
        for rid in base.rules:
            up: set[str] = set()
            todo = [rid]
            while todo:
                defeated = todo.pop()
                if defeated not in up:
                    up.add(defeated)
                    todo.extend(self.parents.get(defeated, ()))
            self._up[rid] = frozenset(up)
        for rid in base.rules:
            self._inputs(rid)  # every rule's inputs, kept (``changes`` reads the cache directly)
        # The facts with neither a count nor a derived fact downstream: changed in place, without _apply.
        self._alone = frozenset(name for name, (count, down, _) in self._plans.items() if not count and not down)
        # Per fact: the rules whose "applies" can change with it -- its readers (``_readers``) and, through
        # exceptions, the rules they may defeat, transitively.
        self._reach: dict[str, frozenset[str]] = {}
        for name, rules in self._readers.items():
            reach, todo = set(), list(rules)
            while todo:
                rid = todo.pop()
                if rid not in reach:
                    reach.add(rid)
                    todo.extend(self.parents.get(rid, ()))
            self._reach[name] = frozenset(reach)

    def _downstream(self, fact: str, seen: set[str]) -> set[str]:
        out: set[str] = set()
        for d, rules in self.derived_rules.items():
            if d in seen:
                continue
            if any(fact in r.facts for r in rules):
                out.add(d)
                out |= self._downstream(d, seen | {d})
        return out

    def _options(self, fact: str, value: Any) -> tuple[Signature | None, _Options]:
        """The current value's signature, and the values to try with their signatures and the rules each moves
        (kept per fact and value: the boundary values of a rule base never change)."""
        key = (fact, type(value), tuple(value) if isinstance(value, list) else value)
        got = self._options_cache.get(key)
        if got is None:
            bounds = self.bounds
            current = bounds.signature(fact, value)
            options = []
            for alt in self.alternatives(fact, value):
                sig = bounds.signature(fact, alt)
                moved = bounds.moved(fact, sig, current) if sig is not None and current is not None else None
                options.append((alt, sig, moved))
            if len(self._options_cache) > 4096:
                self._options_cache.clear()
            got = self._options_cache[key] = (current, tuple(options))
        return got

    def alternatives(self, fact: str, value: Any) -> list[Any]:
        """The values tried for a fact (``Boundaries.alternatives``)."""
        return self.bounds.alternatives(fact, value)

    def changes(self, facts: Mapping[str, Any], statuses: Mapping[str, Truth], on: date,
                verdict: str, applies_fn: AppliesFn) -> list[dict[str, Any]]:
        """Single-fact changes that move the verdict, lowering ones first (at most ``MAX_CHANGES``)."""
        base = self.base
        day = self._day(on)
        in_force = day.in_force
        current = applies_fn(base, statuses)  # type: ignore[arg-type]
        level = SEVERITY[verdict]
        # The verdict rules in force that apply now, most severe level first (for _verdict).
        applying = [rule for rule in day.rules if current[rule[0]] is True]
        deciding = [rid for rid, effect, _ in applying if effect == verdict]
        higher = [rid for rid in day.more_severe(level) if current[rid] is False]
        true_levels: dict[int, list[str]] = {}
        for rid, _, severity in applying:
            true_levels.setdefault(severity, []).append(rid)
        exceptions = [e for d in deciding + higher for e in base.rules[d].exceptions]
        relevant = set(deciding + higher + exceptions)
        inputs = self._inputs_cache
        candidates: set[str] = set().union(*[inputs[rid] for rid in relevant])
        known = dict(facts)
        derived_ids = self.derived_ids
        for d in self.order:  # the derived facts as they stand, from their rules' statuses (derived_value's way)
            now: Truth = False
            for rid in derived_ids[d]:
                if rid in in_force:
                    r = statuses[rid]
                    if r is True:
                        now = True
                        break
                    if r is None:
                        now = None
            if now is None:
                known.pop(d, None)
            else:
                known[d] = now
        levels = sorted(true_levels.items(), reverse=True)
        levels_at = dict(levels)
        # The verdict when no rule changes: what a value alike the current one gives, and _verdict's shortcut.
        unchanged = self._verdict(statuses, {}, current, day, levels, levels_at, None)
        out: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        # The relevant rules whose value is known now: only they can be made unknown by forgetting a fact.
        probed = {rid for rid in relevant if statuses[rid] is not None}
        plans, readers, reach = self._plans, self._readers, self._reach
        top = day.top
        lowers = level > 0  # the verdict falls only when every deciding rule stops applying
        for fact in sorted(candidates.intersection(facts).difference(self._derived_facts)):
            # Only the rules in reach of the fact can change whether they apply: the verdict moves when all
            # deciding rules are among them, or a more severe rule is.
            if not (lowers and reach[fact].issuperset(deciding)) and top(fact, reach[fact]) <= level:
                continue
            # Kleene logic is monotone: a rule that keeps its value with this fact unknown keeps it
            # whatever the fact is. Try values only for facts that some relevant rule depends on.
            probe = readers[fact] & probed
            if not probe or not self._depends(known, fact, in_force, probe):
                continue
            found = 0
            value = facts[fact]
            count = plans[fact][0]
            # Outcome of each boundary signature tried; None for the current value's (see the module docstring).
            # (A set whose count fact is not given as its size: its values are compared with each other only.)
            current_sig, options = self._options(fact, value)
            alike = current_sig is not None and (count is None or known.get(count) == len(value))
            tried: dict[Any, tuple[str, list[str]] | None] = {current_sig: None} if alike else {}
            for alt, sig, moved in options:
                if sig is not None and sig in tried:
                    outcome = tried[sig]
                    if outcome is not None:
                        continue  # alike a value already tried: the same verdict, already reported or not new
                    new_verdict, rules = tried[sig] = unchanged
                else:
                    delta = self._recompute(known, fact, alt, in_force,
                                            set(moved) if alike and moved is not None else plans[fact][2])
                    new_verdict, rules = self._verdict(statuses, delta, current, day, levels, levels_at, unchanged)
                    if sig is not None:
                        tried[sig] = (new_verdict, rules)
                if new_verdict == verdict or (fact, new_verdict) in seen:
                    continue
                found += 1
                seen.add((fact, new_verdict))
                out.append(self._change(fact, value, list(alt) if isinstance(alt, list) else alt, new_verdict,
                                        list(rules)))
                if found == 2:
                    break  # both other verdicts reached
        out.sort(key=lambda c: (SEVERITY[c["verdict"]] > SEVERITY[verdict], c["fact"], str(c["to"])))
        return out[:MAX_CHANGES]

    def _day(self, on: date) -> DayRules:
        got = self._days.get(on)
        if got is None:
            if len(self._days) > 64:
                self._days.clear()
            got = self._days[on] = DayRules(self.base, self.compiled.in_force(self.base, on))
        return got

    def _verdict(self, statuses: Mapping[str, Truth], delta: Mapping[str, Truth], current: Mapping[str, Truth],
                 day: DayRules, levels: list[tuple[int, list[str]]], levels_at: dict[int, list[str]],
                 unchanged: tuple[str, list[str]] | None) -> tuple[str, list[str]]:
        """The verdict after the status changes in ``delta``, with ``verdict.applies``' default logic (a rule
        applies when its condition definitely holds and none of its exceptions definitely applies). Only the
        changed rules and the rules they may defeat are evaluated again; ``current`` has the rest, and
        ``levels`` the verdict rules that apply now, by severity; ``unchanged`` is the answer when no rule
        changes."""
        up = self._up
        changed = [up[rid] for rid, v in delta.items() if v is not statuses[rid]]
        if not changed and unchanged is not None:
            return unchanged
        affected = changed[0] if len(changed) == 1 else frozenset().union(*changed)
        memo: dict[str, bool] = {}
        exceptions = self.exceptions

        def definitely(rid: str) -> bool:
            if rid not in affected:
                return current[rid] is True
            if rid not in memo:
                own = delta.get(rid, statuses[rid])
                memo[rid] = own is True and not any(definitely(e) for e in exceptions[rid])
            return memo[rid]

        # The most severe level at which a verdict rule definitely applies: an affected rule, or one that applies
        # now and is not affected.
        severity = day.severity
        best = -1
        for rid in affected:
            s = severity.get(rid, -1)
            if s > best and definitely(rid):
                best = s
        for s, ids in levels:
            if s <= best:
                break
            if not affected.issuperset(ids):
                best = s
                break
        if best < 0:
            return "allowed", []
        chosen = [rid for rid in levels_at.get(best, ()) if rid not in affected]
        chosen += [rid for rid in affected if severity.get(rid) == best and definitely(rid)]
        return EFFECTS[best], sorted(chosen)

    def _inputs(self, rid: str) -> set[str]:
        """The proposal facts behind a rule, through derived facts (cached: the rule base never changes)."""
        got = self._inputs_cache.get(rid)
        if got is not None:
            return got
        out: set[str] = set()
        for f in self.base.rules[rid].facts:
            if f in self.derived_rules:
                for r in self.derived_rules[f]:
                    out |= self._inputs(r.id)
            else:
                out.add(f)
        self._inputs_cache[rid] = out
        return out

    def _recompute(self, known: dict[str, Any], fact: str, value: Any, in_force: frozenset[str],
                   rules: tuple[str, ...] | set[str]) -> dict[str, Truth]:
        """New statuses of the rules that depend on one changed fact (the others keep theirs).

        ``rules`` are the rules to evaluate again: a tuple is taken as it is (every reader); a set holds the
        rules whose leaves on the fact changed outcome, and grows with the readers of each derived fact that
        changes with them (``_apply``).
        """
        checks = self.checks
        if fact in self._alone:
            old = known[fact]
            known[fact] = value
            delta: dict[str, Truth] = {rid: checks[rid](known) if rid in in_force else False for rid in rules}
            known[fact] = old
            return delta
        saved = self._apply(known, fact, value, in_force, rules)
        delta = {rid: checks[rid](known) if rid in in_force else False for rid in rules}
        self._restore(known, saved)
        return delta

    def _depends(self, known: dict[str, Any], fact: str, in_force: frozenset[str], probe: AbstractSet[str]) -> bool:
        """Whether forgetting the fact makes one of the ``probe`` rules (known now) unknown."""
        checks = self.checks
        if fact in self._alone:
            old = known.pop(fact)
            direct = self._direct[fact]
            found = any(checks[rid](known) is None for rid in probe if rid in direct and rid in in_force)
            known[fact] = old
            return found
        rules = set(self._direct[fact])
        saved = self._apply(known, fact, _FORGET, in_force, rules)
        found = any(checks[rid](known) is None for rid in probe if rid in rules and rid in in_force)
        self._restore(known, saved)
        return found

    def _apply(self, known: dict[str, Any], fact: str, value: Any, in_force: frozenset[str],
               rules: tuple[str, ...] | set[str]) -> dict[str, Any]:
        """Change a fact in ``known`` (in place, to save copying it for every value tried), with its count
        and the derived facts downstream, in evaluation order so each is settled before any rule reads it;
        with ``rules`` a set, only derived facts with a rule in it are computed again, and the readers of
        each that changes join it. Returns what ``_restore`` puts back."""
        saved: dict[str, Any] = {}
        derived_rules = self.derived_rules

        def put(name: str, v: Any) -> None:
            if name not in saved:
                saved[name] = known.get(name, _FORGET)
            if v is _FORGET or v is None and name in derived_rules:
                known.pop(name, None)
            else:
                known[name] = v

        count, down, _ = self._plans[fact]
        put(fact, value)
        if count:
            put(count, _FORGET if value is _FORGET else len(value))
        derived_value = self.compiled.derived_value
        if isinstance(rules, set):
            derived_ids, readers = self.derived_ids, self.readers
            for d in down:
                if not rules.isdisjoint(derived_ids[d]):
                    new = derived_value(d, known, in_force)
                    if new is not known.get(d):
                        put(d, new)
                        rules |= readers.get(d, set())
        else:
            for d in down:
                put(d, derived_value(d, known, in_force))
        return saved

    @staticmethod
    def _restore(known: dict[str, Any], saved: dict[str, Any]) -> None:
        for name, old in saved.items():
            if old is _FORGET:
                known.pop(name, None)
            else:
                known[name] = old

    @staticmethod
    def _change(fact: str, old: Any, new: Any, verdict: str, rules: list[str]) -> dict[str, Any]:
        tail = f" ({', '.join(rules)})" if rules else ""
        text = Text(
            f"Als {fact} {_show(new)} was in plaats van {_show(old)}: {VERDICT_WORDS[verdict].nl}{tail}",
            f"If {fact} were {_show(new)} instead of {_show(old)}: {verdict}{tail}",
        )
        return {"fact": fact, "from": old, "to": new, "verdict": verdict, "rules": rules, "text": text.as_dict()}
