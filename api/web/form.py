"""The applicant's form: texts and labels, the widget for each fact, reading answers, the next question.

The form starts with a few questions that set the scene (``start`` in
``webtext.yaml``), then asks only what the engine's verdict lists as open
questions -- facts that are unknown and could change the verdict -- one at a
time, in the verdict's relevance order, until none is left or the applicant
has said "I don't know" to the rest. Each answer re-evaluates; an answer whose
question's gate has closed is removed (``drop_closed``).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote

import yaml

from biotoets.engine.activities import per_activity
from biotoets.engine.implications import apply_implications
from biotoets.engine.model import Gates

from ..documents import answers as ans
from ..documents import items as words
from ..vocab import EFFECTS

UNKNOWN = "unknown"
# Facts the form asks in other words: the Annex I codes of the items are asked as the items in words (the tool
# knows the codes; the rules read either).
ASKED_IN_WORDS = {"export.dual_use_items": "export.items"}


def asked_as(fact: str) -> str:
    """The fact whose question the form asks for ``fact``."""
    own = ans.asked_as(fact)
    return ASKED_IN_WORDS.get(own, own)


@dataclass(frozen=True)
class WebText:
    ui: dict[str, dict[str, Any]]
    values: dict[str, dict[str, dict[str, str]]]
    facts: dict[str, dict[str, str]]
    start: dict[str, Any]
    audit: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)

    def t(self, key: str, lang: str) -> Any:
        entry = self.ui.get(key)
        if entry is None:
            raise KeyError(f"no web text {key!r} in webtext.yaml")
        return entry[lang]


@cache
def texts() -> WebText:
    raw = yaml.safe_load(resources.files("biotoets.api.web").joinpath("webtext.yaml").read_text(encoding="utf-8"))
    values = dict(raw["values"])
    for fact, set_name in raw["fact_value_sets"].items():
        values[fact] = raw["value_sets"][set_name]
    return WebText(raw["ui"], values, raw["facts"], raw["start"], raw["audit"])


def fact_label(fact: str, lang: str) -> str:
    entry = texts().facts.get(fact)
    return entry[lang] if entry else fact


def value_label(fact: str, value: Any, lang: str) -> str:
    """A fact's value as a person reads it."""
    tx = texts()
    if value is None:
        return str(tx.t("dont_know", lang))
    if isinstance(value, bool):
        return str(tx.t("yes" if value else "no", lang))
    if isinstance(value, list) and fact in ans.MANY:  # several activities: each in words
        return ", ".join(value_label(fact, v, lang) for v in value)
    if isinstance(value, list):
        if fact == "export.items":
            return "; ".join(words.with_codes(v, lang) for v in value) if value else str(tx.t("none", lang))
        return ", ".join(str(v) for v in value) if value else str(tx.t("none", lang))
    labels = tx.values.get(fact, {})
    if isinstance(value, str) and value in labels:
        return labels[value][lang]
    return str(value)


# -- widgets ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Widget:
    fact: str
    kind: str  # bool | enum | several (tick every one that applies) | int | codes | items
    options: tuple[tuple[str, str], ...] = ()
    hints: tuple[str, ...] = ()  # items: the examples under each option
    minimum: int | None = None
    maximum: int | None = None
    codes: str = ""  # country | annex


def widget(fact: str, lang: str) -> Widget:
    f = ans.facts()[fact]
    if f.kind == "bool":
        return Widget(fact, "bool", (("yes", texts().t("yes", lang)), ("no", texts().t("no", lang))))
    if f.kind == "enum":
        return Widget(fact, "several" if fact in ans.MANY else "enum",
                      tuple((v, value_label(fact, v, lang)) for v in f.values))
    if f.kind == "int":
        return Widget(fact, "int", minimum=f.minimum, maximum=f.maximum)
    if fact == "export.items":
        entries = list(words.item_words().values())
        return Widget(fact, "items", tuple((e.item, words.with_codes(e.item, lang)) for e in entries),
                      hints=tuple(e.examples[lang] for e in entries))
    return Widget(fact, "codes", codes="annex" if fact == "export.dual_use_items" else "country")


def field_id(fact: str, suffix: str = "") -> str:
    """An HTML id for a fact's input (no dots, so it is also a plain CSS selector)."""
    base = "f-" + re.sub(r"[^a-z0-9]+", "-", fact.lower()).strip("-")
    return f"{base}-{suffix}" if suffix else base


@dataclass
class Read:
    """What a form said about one fact: known with a value, unknown, or an error to show."""

    fact: str
    known: bool = False
    value: Any = None
    error: str | None = None
    raw: dict[str, str] = field(default_factory=dict)


def read_answer(fact: str, form: Mapping[str, Sequence[str]], lang: str, prefix: str = "") -> Read:
    """Read the answer to one fact from posted form fields (``prefix`` separates facts on a shared page)."""
    tx = texts()

    def one(name: str) -> str:
        values = form.get(prefix + name) or [""]
        return values[0].strip()

    w = widget(fact, lang)
    choice = one("answer")
    raw = {"answer": choice}
    if choice == UNKNOWN and w.kind not in ("items", "several"):
        return Read(fact, known=False, raw=raw)
    if w.kind == "bool":
        if choice not in ("yes", "no"):
            return Read(fact, error=str(tx.t("select_answer", lang)), raw=raw)
        return Read(fact, True, choice == "yes", raw=raw)
    if w.kind == "enum":
        if choice not in {v for v, _ in w.options}:
            return Read(fact, error=str(tx.t("select_answer", lang)), raw=raw)
        return Read(fact, True, choice, raw=raw)
    if w.kind == "int":
        text = one("number")
        raw["number"] = text
        if choice != "number" and not text:
            return Read(fact, error=str(tx.t("number_invalid", lang)), raw=raw)
        try:
            number = int(text)
        except ValueError:
            return Read(fact, error=str(tx.t("number_invalid", lang)), raw=raw)
        if w.minimum is not None and number < w.minimum:
            return Read(fact, error=f"{tx.t('number_too_small', lang)} {w.minimum}", raw=raw)
        if w.maximum is not None and number > w.maximum:
            return Read(fact, error=f"{tx.t('number_too_large', lang)} {w.maximum}", raw=raw)
        return Read(fact, True, number, raw=raw)
    if w.kind == "several":  # one value, or the list of every one ticked
        ticked = [o for o, _ in w.options if o in set(form.get(prefix + "item") or [])]
        raw["items"] = ",".join(ticked)
        if ticked:  # ticked activities say more than a stray 'I don't know'
            return Read(fact, True, ticked[0] if len(ticked) == 1 else ticked, raw=raw)
        if choice == UNKNOWN:
            return Read(fact, known=False, raw=raw)
        if choice in {v for v, _ in w.options}:  # one value sent as an answer, as to a single choice
            return Read(fact, True, choice, raw={"items": choice})
        return Read(fact, error=str(tx.t("select_answer" if choice else "several_missing", lang)), raw=raw)
    if w.kind == "items":
        ticked = [v for v in form.get(prefix + "item") or [] if v in {o for o, _ in w.options}]
        raw["items"] = ",".join(ticked)
        if ticked:  # ticked items say more than a stray 'I don't know'
            return Read(fact, True, [o for o, _ in w.options if o in ticked], raw=raw)
        if choice == UNKNOWN:
            return Read(fact, known=False, raw=raw)
        return Read(fact, error=str(tx.t("items_missing", lang)), raw=raw)
    # codes
    text = one("codes")
    raw["codes"] = text
    if choice == "none":
        return Read(fact, True, [], raw=raw)
    if choice != "list" and not text:
        return Read(fact, error=str(tx.t("select_answer", lang)), raw=raw)
    codes = [c for c in re.split(r"[\s,;]+", text) if c]
    if not codes:
        return Read(fact, error=str(tx.t("codes_missing", lang)), raw=raw)
    if w.codes == "annex":
        codes = [c[:2].upper() + c[2:].lower() for c in codes]
        bad = [c for c in codes if not ans.ANNEX_CODE.match(c)]
        message = "codes_invalid_annex"
    else:
        codes = [c.upper() for c in codes]
        bad = [c for c in codes if not ans.COUNTRY.match(c)]
        message = "codes_invalid_country"
    if bad:
        return Read(fact, error=f"{tx.t(message, lang)} {', '.join(bad[:5])}", raw=raw)
    if len(codes) > 100:
        return Read(fact, error=str(tx.t("codes_missing", lang)), raw=raw)
    return Read(fact, True, sorted(set(codes)), raw=raw)


def raw_of(fact: str, known: Mapping[str, Any], unknown: Sequence[str]) -> dict[str, str]:
    """The form fields that show a stored answer again (for Change links and Back)."""
    if fact in unknown:
        return {"answer": UNKNOWN}
    if fact not in known:
        return {}
    value = known[fact]
    kind = ans.facts()[fact].kind
    if kind == "bool":
        return {"answer": "yes" if value else "no"}
    if kind == "enum" and fact in ans.MANY:
        return {"items": ",".join(value if isinstance(value, list) else [value])}
    if kind == "enum":
        return {"answer": str(value)}
    if kind == "int":
        return {"answer": "number", "number": str(value)}
    if fact == "export.items":
        return {"answer": "list", "items": ",".join(value)}
    return {"answer": "list" if value else "none", "codes": ", ".join(value)}


# -- the draft ------------------------------------------------------------------------------------
def read_answers(facts: Sequence[str], form: Mapping[str, Sequence[str]], lang: str) -> tuple[list[Read],
                                                                                           dict[str, str]]:
    """The answers to several facts asked on one page (fields named ``fact:...``) and the errors, by fact."""
    reads = [read_answer(fact, form, lang, prefix=f"{fact}:") for fact in facts]
    return reads, {r.fact: r.error for r in reads if r.error}


def new_draft() -> dict[str, Any]:
    # "id": the draft's own Idempotency-Key, so a form sent twice (a double click, a reload) stores one check.
    return {"proposal": {}, "unknown": [], "screening": {}, "asked": [], "started": False,
            "id": secrets.token_urlsafe(16)}


def set_answer(draft: dict[str, Any], fact: str, read: Read) -> None:
    """Write one answer into the draft: a value, or "I don't know" (the fact stays unknown)."""
    draft["proposal"] = ans.apply(draft["proposal"], {fact: read.value if read.known else None})
    unknown = [f for f in draft["unknown"] if f != fact]
    if not read.known:
        unknown.append(fact)
    draft["unknown"] = unknown


def set_screening(draft: dict[str, Any], name: str, choice: str) -> None:
    """A screening answer: "no" states its facts; "I don't know" answers them "I don't know" (their questions are
    the screening question in more detail, so they are not asked again); "yes" leaves them to later questions."""
    spec = texts().start["screening"][name]
    previous = draft["screening"].get(name)
    draft["screening"][name] = choice
    stated = spec["no"]
    draft["unknown"] = [f for f in draft["unknown"] if f not in stated]
    if choice == "no":
        draft["proposal"] = ans.apply(draft["proposal"], stated)
    elif previous == "no" or choice == UNKNOWN:  # what it stated, or a detail answered before, is open again
        draft["proposal"] = ans.apply(draft["proposal"], {f: None for f in stated})
    if choice == UNKNOWN:
        draft["unknown"] += list(stated)


def known(draft: Mapping[str, Any]) -> dict[str, Any]:
    return ans.known_facts(draft["proposal"])


def drop_closed(draft: dict[str, Any], gates: Gates) -> list[str]:
    """Remove the answers (and "I don't know"s) whose question's gate is now closed: they can no longer matter,
    and a stale answer must not stay in the proposal. Returns the facts removed; the draft keeps them under
    ``dropped`` so the check-your-answers page can say why they went."""
    dropped: list[str] = []
    kept: set[str] = set()  # closed, but the document cannot drop them alone (e.g. stated by a screening answer)
    while True:  # a removal may close further gates; every round removes or keeps at least one fact
        facts = known(draft)
        # Several activities: a question stays open while its gate is open for any of them.
        views = [apply_implications(gates, each)[0] for each in per_activity(facts)]
        closed = [f for f in facts if f not in kept and ans.answerable(f)
                  and all(gates.gate(f, have) is False for have in views)]
        if not closed:
            break
        draft["proposal"] = ans.apply(draft["proposal"], dict.fromkeys(closed))
        after = known(draft)
        dropped += [f for f in closed if f not in after]
        kept |= {f for f in closed if f in after}
    views = [apply_implications(gates, each)[0] for each in per_activity(known(draft))]
    gone = [f for f in draft["unknown"] if all(gates.gate(f, have) is False for have in views)]
    draft["unknown"] = [f for f in draft["unknown"] if f not in gone]
    dropped += gone
    if dropped:
        draft["dropped"] = sorted(set(draft.get("dropped", [])) | set(dropped))
    return dropped


def open_questions(verdict: Mapping[str, Any], draft: Mapping[str, Any]) -> list[str]:
    """The facts still to ask, in the verdict's relevance order (scope first, then what can decide a prohibition,
    then conditions, then the status of applications): open in the verdict, not answered "I don't know", and
    askable (a partner's flag needs the partners' countries first)."""
    skip = set(draft["unknown"])
    have = known(draft)
    out: dict[str, None] = {}
    for q in verdict["questions"]:
        fact = asked_as(q["fact"])
        if fact in skip or fact not in ans.facts() or fact in have:
            continue
        if fact in ans.PARTNER_FLAGS and not draft["proposal"].get("partners"):
            if "partners.countries" in skip or "partners.countries" in have:
                continue  # countries unknown or none: the flag cannot be stated
            fact = "partners.countries"
        out[fact] = None
    return list(out)


def sample_answers(fact: str) -> list[Any]:
    """Answers to try on a question to learn whether any of them opens another question (so that a page says it
    is the last one only when it is): every value of a yes/no or a choice; for numbers and lists, values at the
    usual thresholds (days, counts), a few countries, or each kind of item."""
    f = ans.facts()[fact]
    if f.kind == "bool":
        return [True, False]
    if f.kind == "enum":
        return list(f.values)
    if f.kind == "int":
        lo = f.minimum if f.minimum is not None else 0
        hi = f.maximum if f.maximum is not None else 1000
        return sorted({min(max(v, lo), hi) for v in (lo, 1, 2, 3, 7, 13, 14, 15, 28, 100, hi)})
    if fact == "export.dual_use_items":
        return [[], ["1C351"]]
    if f.values:  # a list of named kinds (the items abroad in words)
        return [[]] + [[v] for v in f.values]
    return [[], ["DE"], ["US"], ["CN"], ["RU"]]


def question_help(verdict: Mapping[str, Any], fact: str) -> dict[str, Any] | None:
    """Why a question is asked: the most severe verdict it could lead to and the rules it concerns."""
    lead = None
    rule_ids: list[str] = []
    for q in verdict["questions"]:
        if asked_as(q["fact"]) == fact:
            if lead is None or EFFECTS.index(q["could_lead_to"]) > EFFECTS.index(lead):
                lead = q["could_lead_to"]
            rule_ids += [r for r in q["rules"] if r not in rule_ids]
    if lead is None:
        return None
    grounds = {g["rule"]: g for g in verdict["possible_grounds"] + verdict["grounds"]}
    return {"could_lead_to": lead, "rules": [grounds[r] for r in rule_ids if r in grounds]}


def answer_rows(lang: str, proposal: Mapping[str, Any], unknown: Sequence[str], order: Sequence[str],
                editable: bool, hide_screened: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Every stated fact (and every 'I don't know'), in the questions' order, with a Change link."""
    known = ans.known_facts(proposal)
    rank = {f: i for i, f in enumerate(order)}
    implied: set[str] = set()  # what "no partners" / "nothing abroad" already says, not shown twice
    if proposal.get("partners") == []:
        implied |= {"partners.countries", *ans.PARTNER_FLAGS}
    if hide_screened:
        implied |= {f for name, spec in texts().start["screening"].items()
                    if hide_screened.get(name) in ("no", UNKNOWN) for f in spec["no"]}
    facts = [f for f in known if ans.answerable(f) and f not in implied] + [
        f for f in unknown if f not in known and f not in implied]
    rows = []
    for fact in sorted(dict.fromkeys(facts), key=lambda f: rank.get(f, len(rank))):
        if fact in texts().start["about"]:
            link = "/apply/about?return=check"
        elif fact in texts().start["involves"]:
            link = "/apply/involves?return=check"
        else:
            link = f"/apply/q/{quote(fact)}?return=check"
        rows.append({"fact": fact, "label": fact_label(fact, lang),
                     "value": value_label(fact, known.get(fact), lang), "known": fact in known,
                     "link": link if editable else None, "id": field_id(fact)})
    return rows
