"""Load, validate and cross-check the rule base (rules, sources, lists, questions).

A bad file stops loading with its file, the rule id and the JSON path of the
first problem -- never a silent skip.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

from . import conditions as cond
from . import gates
from .facts import Fact, base_facts
from .model import (
    RESTRICTING,
    Article,
    Citation,
    ConditionToFulfil,
    GateError,
    NamedList,
    Rule,
    RuleBase,
    ScopeBasis,
    Source,
    Text,
)
from .model import (
    RuleLoadError as RuleLoadError,  # re-exported: the loader's callers catch it from here
)
from .yamlio import YamlError, load_yaml

SPECIAL_FILES = ("sources.yaml", "questions.yaml", "lists.yaml")
Fail = Callable[[str, str], NoReturn]  # reports a problem (reason, JSON path) by raising RuleLoadError


@cache
def _schemas() -> Registry:
    """Every shipped JSON Schema, so that one may refer to another by file name."""
    registry: Registry = Registry()
    for entry in resources.files("biotoets.schemas").iterdir():
        if entry.name.endswith(".json"):
            schema = json.loads(entry.read_text(encoding="utf-8"))
            registry = registry.with_resource(schema["$id"], Resource.from_contents(schema))
    return registry


@cache
def _validator(name: str) -> Draft202012Validator:
    text = resources.files("biotoets.schemas").joinpath(name).read_text(encoding="utf-8")
    return Draft202012Validator(json.loads(text), registry=_schemas())


def _pointer(parts: Iterable[Any]) -> str:
    return "/" + "/".join(str(p) for p in parts)


def validate_document(doc: Any, schema: str, file: str) -> None:
    """Validate against one of our JSON Schemas; raise on the first (deepest-path) problem."""
    errors = sorted(_validator(schema).iter_errors(doc), key=lambda e: (list(e.absolute_path), e.message))
    if not errors:
        return
    err: ValidationError = errors[0]
    # oneOf failures hide the useful message in their context: take the best sub-error.
    best = err
    while best.context:
        best = sorted(best.context, key=lambda e: (-len(e.absolute_path), e.message))[0]
    parts = list(best.absolute_path)
    rule_id = None
    if parts[:1] == ["rules"] and len(parts) > 1 and isinstance(doc, dict):
        try:
            rule_id = doc["rules"][parts[1]].get("id")
        except (IndexError, AttributeError, TypeError):
            rule_id = None
    raise RuleLoadError(file, best.message, rule_id, _pointer(parts))


def _text(raw: Mapping[str, str] | None) -> Text | None:
    return Text(raw["nl"], raw["en"]) if raw else None


def _read_bytes(path: Path, name: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise RuleLoadError(name, f"cannot read the file: {exc.strerror}") from None


def _parse(data: bytes, name: str) -> Any:
    try:
        return load_yaml(data)
    except YamlError as exc:
        raise RuleLoadError(name, f"invalid YAML: {exc}") from None


def _read(path: Path, name: str) -> tuple[Any, bytes]:
    data = _read_bytes(path, name)
    return _parse(data, name), data


def default_rules_dir() -> Path:
    return Path(str(resources.files("biotoets.rules")))


@dataclass
class Documents:
    """The parsed, schema-valid documents of a rule directory, before cross-checking."""

    sources: dict[str, Any]
    lists: dict[str, Any]
    questions: dict[str, Any]
    rules: list[tuple[str, Any]]  # (file name, rule document)
    files: dict[str, bytes]


def read_documents(directory: Path | None = None) -> Documents:
    """Read and schema-validate every file of a rule directory (default: the shipped rules)."""
    directory = directory or default_rules_dir()
    files: dict[str, bytes] = {}
    for name in SPECIAL_FILES:
        path = directory / name
        if not path.exists():
            raise RuleLoadError(name, "file is missing")
        files[name] = _read_bytes(path, name)
    for path in sorted(directory.glob("*.yaml")):
        if path.name not in SPECIAL_FILES:
            files[path.name] = _read_bytes(path, path.name)
    return documents_from_files(files, str(directory))


def documents_from_files(files: Mapping[str, bytes], where: str = "rule files") -> Documents:
    """Parse and schema-validate rule files given as bytes (e.g. a stored snapshot of a rule base)."""
    kept: dict[str, bytes] = {}

    def parse(name: str, schema: str) -> Any:
        if name not in files:
            raise RuleLoadError(name, "file is missing")
        kept[name] = files[name]
        doc = _parse(files[name], name)
        validate_document(doc, schema, name)
        return doc

    sources = parse("sources.yaml", "sources.schema.json")
    lists = parse("lists.yaml", "lists.schema.json")
    questions = parse("questions.yaml", "questions.schema.json")
    rule_docs: list[tuple[str, Any]] = []
    for name in sorted(files):
        if name in SPECIAL_FILES or "/" in name or not name.endswith(".yaml"):
            continue
        rule_docs.append((name, parse(name, "rule.schema.json")))
    if not rule_docs:
        raise RuleLoadError(where, "no rule files found")
    return Documents(sources, lists, questions, rule_docs, kept)


def build_from_documents(docs: Documents) -> RuleBase:
    """Cross-check schema-valid documents into a ``RuleBase``."""
    sources = _sources(docs.sources)
    lists = _lists(docs.lists, sources)
    questions = {k: Text(v["nl"], v["en"]) for k, v in docs.questions["questions"].items()}
    base = build_rule_base(docs.rules, sources, lists, questions, docs.files)
    try:
        base.gates = gates.build_gates(docs.questions, base)
    except GateError as exc:
        raise RuleLoadError("questions.yaml", exc.reason, exc.rule, exc.path, exc.check) from None
    return base


def load_rule_base(directory: Path | None = None) -> RuleBase:
    """Load every rule file in ``directory`` (default: the shipped rules)."""
    return build_from_documents(read_documents(directory))


def _sources(doc: Mapping[str, Any]) -> dict[str, Source]:
    out: dict[str, Source] = {}
    for i, s in enumerate(doc["sources"]):
        if s["id"] in out:
            raise RuleLoadError("sources.yaml", f"duplicate source id {s['id']!r}", path=f"/sources/{i}/id")
        arts = {
            k: Article(k, Text(**a["summary"]), a.get("url"), a.get("quote"), a.get("verified", True),
                       a.get("binding_effect"))
            for k, a in s["articles"].items()
        }
        out[s["id"]] = Source(
            s["id"], Text(**s["title"]), s["citation"], s.get("identifier"), s.get("url"), s["kind"],
            s["binding"], s["status"], s.get("valid_from"), s.get("valid_to"), s.get("verification"),
            arts, s.get("notes", ""),
        )
    return out


def _lists(doc: Mapping[str, Any], sources: Mapping[str, Source]) -> dict[str, NamedList]:
    out = {}
    for name, entry in doc["lists"].items():
        if entry["source"] not in sources:
            raise RuleLoadError("lists.yaml", f"unknown source {entry['source']!r}", path=f"/lists/{name}/source")
        out[name] = NamedList(name, Text(**entry["title"]), entry["source"], tuple(entry["values"]),
                              entry.get("open_norm", False))
    return out


def build_rule_base(
    rule_docs: list[tuple[str, Any]],
    sources: dict[str, Source],
    lists: dict[str, NamedList],
    questions: dict[str, Text],
    files: dict[str, bytes],
) -> RuleBase:
    """Turn validated rule documents into a cross-checked ``RuleBase``."""
    rules: dict[str, Rule] = {}
    domains: dict[str, Text] = {}
    list_values = {k: v.values for k, v in lists.items()}
    for fname, doc in rule_docs:
        domains[doc["domain"]] = Text(**doc["title"])
        for i, raw in enumerate(doc["rules"]):
            rid = raw["id"]
            where = f"/rules/{i}"
            if rid in rules:
                raise RuleLoadError(fname, f"duplicate rule id (also in {rules[rid].file})", rid, where + "/id")
            try:
                tree = cond.parse(raw["when"], list_values)
            except KeyError as exc:
                raise RuleLoadError(fname, f"unknown list {exc.args[0]!r}", rid, where + "/when") from None
            rules[rid] = _rule(raw, doc["domain"], fname, tree)
    facts = dict(base_facts())
    _check_derived(rules, facts)
    for _fname, doc in rule_docs:
        for i, raw in enumerate(doc["rules"]):
            _check_rule(rules[raw["id"]], raw, f"/rules/{i}", rules, sources, facts, questions, list_values)
    _check_exception_cycles(rules)
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name] + b"\0")
    return RuleBase(rules, sources, questions, lists, facts, domains, digest.hexdigest(), files)


def _citation(raw: Mapping[str, Any]) -> Citation:
    return Citation(raw["source"], raw["article"], raw.get("quote"))


def _rule(raw: Mapping[str, Any], domain: str, fname: str, tree: cond.Node) -> Rule:
    return Rule(
        id=raw["id"], domain=domain, file=fname, title=Text(**raw["title"]), effect=raw["effect"],
        derives=raw.get("derives"), when=tree, when_raw=raw["when"],
        citations=tuple(_citation(c) for c in raw.get("citations", [])),
        conditions=tuple(
            ConditionToFulfil(Text(**c["what"]), Text(**c["authority"]), _citation(c["citation"]))
            for c in raw.get("conditions", [])
        ),
        exceptions=tuple(raw.get("exceptions", [])),
        open_norm=_text(raw.get("open_norm")), explanation=_text(raw.get("explanation")),
        valid_from=raw["valid_from"], valid_to=raw.get("valid_to"),
        transitional=_text(raw.get("transitional")),
        severity_monotonic_in=tuple(raw.get("severity_monotonic_in", [])), notes=raw.get("notes", ""),
        scope_basis=tuple(ScopeBasis(b["fact"], tuple(b["values"]), b["source"], b["article"])
                          for b in raw.get("scope_basis", [])),
    )


def _check_derived(rules: Mapping[str, Rule], facts: dict[str, Fact]) -> None:
    """Register derived facts and refuse name clashes and cycles."""
    for r in rules.values():
        if r.derives:
            if r.derives in facts and not facts[r.derives].derived:
                raise RuleLoadError(r.file, f"derived fact {r.derives!r} clashes with a proposal fact", r.id,
                                    "/derives")
            facts[r.derives] = Fact(r.derives, "bool", derived=True, description=r.title.en)
    graph: dict[str, set[str]] = {}
    owner: dict[str, Rule] = {}
    for r in rules.values():
        if r.derives:
            graph.setdefault(r.derives, set()).update(f for f in r.facts if f in facts and facts[f].derived)
            owner.setdefault(r.derives, r)
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = " -> ".join(trail[trail.index(nxt):] + [nxt]) if nxt in trail else f"{node} -> {nxt}"
                r = owner[node]
                raise RuleLoadError(r.file, f"derived facts form a cycle: {cycle}", r.id, "/when")
            if state.get(nxt) is None:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if state.get(node) is None:
            visit(node, [node])


def _leaf_paths(raw: Any, path: str) -> Iterable[tuple[Mapping[str, Any], str]]:
    if "all" in raw or "any" in raw:
        key = "all" if "all" in raw else "any"
        for i, item in enumerate(raw[key]):
            yield from _leaf_paths(item, f"{path}/{key}/{i}")
    elif "not" in raw:
        yield from _leaf_paths(raw["not"], path + "/not")
    else:
        yield raw, path


def _check_rule(rule: Rule, raw: Mapping[str, Any], where: str, rules: Mapping[str, Rule],
                sources: Mapping[str, Source], facts: Mapping[str, Fact], questions: Mapping[str, Text],
                list_values: Mapping[str, tuple[str, ...]]) -> None:
    def fail(reason: str, path: str) -> NoReturn:
        raise RuleLoadError(rule.file, reason, rule.id, where + path)

    for j, c in enumerate(rule.citations):
        _check_citation(c, sources, fail, f"/citations/{j}")
    for j, to_fulfil in enumerate(rule.conditions):
        _check_citation(to_fulfil.citation, sources, fail, f"/conditions/{j}/citation")
    if rule.conditions and rule.effect != "conditional":
        fail("only a conditional rule lists conditions to fulfil", "/conditions")
    if rule.effect in RESTRICTING:
        binding = [c for c in rule.citations if sources[c.source].binding]
        if not binding and not any(sources[c.source].kind == "policy" for c in rule.citations):
            fail("a prohibiting or conditioning rule must cite an article of law, a treaty or policy",
                 "/citations")
    if rule.valid_to and rule.valid_to < rule.valid_from:
        fail("valid_to lies before valid_from", "/valid_to")
    for j, ex in enumerate(rule.exceptions):
        if ex not in rules:
            fail(f"exception {ex!r} is not a rule", f"/exceptions/{j}")
        if ex == rule.id:
            fail("a rule cannot be its own exception", f"/exceptions/{j}")
        if rules[ex].effect == "derive":
            fail(f"exception {ex!r} is a classification rule; point at a rule with a verdict effect",
                 f"/exceptions/{j}")
    for j, name in enumerate(rule.severity_monotonic_in):
        if name not in facts or facts[name].kind != "bool":
            fail(f"severity_monotonic_in names {name!r}, which is not a yes/no fact", f"/severity_monotonic_in/{j}")
    for leaf_raw, path in _leaf_paths(raw["when"], "/when"):
        name = leaf_raw["fact"]
        fact = facts.get(name)
        if fact is None:
            fail(f"unknown fact {name!r} (not in the proposal schema and derived by no rule)", path + "/fact")
        if not fact.derived and name not in questions:
            fail(f"fact {name!r} has no question text in questions.yaml", path + "/fact")
        (op,) = [k for k in leaf_raw if k != "fact"]
        value = leaf_raw[op]
        if isinstance(value, dict):
            value = list(list_values[value["list"]])
        _check_leaf(fact, op, value, fail, f"{path}/{op}")


def _check_leaf(fact: Fact, op: str, value: Any, fail: Fail, path: str) -> None:
    if op == "present":
        return
    if fact.kind == "set" and op not in ("contains_any", "contains_none"):
        fail(f"fact {fact.name!r} is a list: use contains_any / contains_none", path)
    if fact.kind != "set" and op in ("contains_any", "contains_none"):
        fail(f"{op} needs a list fact; {fact.name!r} holds one value", path)
    if op in cond.ORDER_OPS and fact.kind != "int":
        fail(f"{op} compares numbers; {fact.name!r} is not a number", path)
    literals = value if isinstance(value, list) else [value]
    for lit in literals:
        if not fact.accepts(lit):
            allowed = f" (one of: {', '.join(fact.values)})" if fact.values else ""
            fail(f"{lit!r} is not a possible value of {fact.name!r} ({fact.kind}){allowed}", path)


def _check_citation(c: Citation, sources: Mapping[str, Source], fail: Fail, path: str) -> None:
    src = sources.get(c.source)
    if src is None:
        fail(f"citation names unknown source {c.source!r}", path + "/source")
    if c.article not in src.articles:
        fail(f"source {c.source!r} has no article {c.article!r} in sources.yaml", path + "/article")


def _check_exception_cycles(rules: Mapping[str, Rule]) -> None:
    state: dict[str, int] = {}

    def visit(rid: str) -> None:
        state[rid] = 1
        for ex in rules[rid].exceptions:
            if state.get(ex) == 1:
                r = rules[rid]
                raise RuleLoadError(r.file, f"exceptions form a cycle through {ex!r}", r.id, "/exceptions")
            if state.get(ex) is None:
                visit(ex)
        state[rid] = 2

    for rid in sorted(rules):
        if state.get(rid) is None:
            visit(rid)
