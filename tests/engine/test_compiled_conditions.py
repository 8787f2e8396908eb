"""``compile_condition`` (generated source) means what ``conditions.kleene`` means, on any tree: every operator,
"not" at any depth, presence tests, nested "all"/"any", literals written out as constants or passed in."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biotoets.engine import conditions as cond

# Per fact, the literals a leaf may compare it with (per kind of operator) and the values it may have.
FACTS = {
    "n": {"scalar": st.integers(-2, 3), "list": st.tuples(st.integers(-2, 3)), "value": st.integers(-2, 3)},
    "s": {"scalar": st.sampled_from(["a", "b"]), "list": st.tuples(st.sampled_from(["a", "b", "c"])),
          "value": st.sampled_from(["a", "b", "c"])},
    "b": {"scalar": st.booleans(), "list": st.tuples(st.booleans()), "value": st.booleans() | st.integers(0, 1)},
    "d": {"scalar": st.dates(date(2020, 1, 1), date(2020, 1, 3)),
          "list": st.tuples(st.dates(date(2020, 1, 1), date(2020, 1, 3))),
          "value": st.dates(date(2020, 1, 1), date(2020, 1, 3))},
    "set": {"list": st.tuples(st.sampled_from(["x", "y", "z"])),
            "value": st.lists(st.sampled_from(["x", "y", "z"]), unique=True)},
}
OPS = {"n": ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "present", "absent"),
       "s": ("eq", "ne", "in", "not_in", "present", "absent"),
       "b": ("eq", "ne", "in", "not_in", "present"),
       "d": ("eq", "ne", "in", "not_in", "gt", "lte"),
       "set": ("contains_any", "contains_none", "present", "absent")}


@st.composite
def leaves(draw: st.DrawFn) -> cond.Leaf:
    fact = draw(st.sampled_from(sorted(FACTS)))
    op = draw(st.sampled_from(OPS[fact]))
    if op in ("present", "absent"):
        return cond.Leaf(fact, op, None)
    kind = "list" if op in cond.LIST_OPS else "scalar"
    return cond.Leaf(fact, op, draw(FACTS[fact][kind]))


trees = st.recursive(
    leaves(),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=4).map(lambda xs: cond.All(tuple(xs))),
        st.lists(inner, min_size=1, max_size=4).map(lambda xs: cond.Any_(tuple(xs))),
        inner.map(cond.Not),
    ),
    max_leaves=12,
)


@st.composite
def known_facts(draw: st.DrawFn) -> dict[str, object]:
    return {name: draw(spec["value"]) for name, spec in FACTS.items() if draw(st.booleans())}


@settings(max_examples=600, deadline=None)
@given(trees, st.lists(known_facts(), min_size=1, max_size=6))
def test_a_compiled_tree_means_what_kleene_says(tree: cond.Node, cases: list[dict[str, object]]) -> None:
    check = cond.compile_condition(tree)
    for facts in cases:
        assert check(facts) == cond.kleene(tree, facts), (tree, facts)


@pytest.mark.parametrize("literal", [float("nan"), float("inf"), -float("inf"), 2.5, (1.5, float("nan")),
                                     date(2020, 1, 2)])
def test_literals_that_repr_cannot_write_out_keep_their_meaning(literal: object) -> None:
    op = "in" if isinstance(literal, tuple) else "gte"
    tree = cond.Any_((cond.Leaf("x", op, literal), cond.Not(cond.Leaf("x", "eq", literal))))
    check = cond.compile_condition(tree)
    for facts in ({}, {"x": 2.5}, {"x": float("inf")}, {"x": 1.5}):
        if isinstance(literal, date):
            facts = {"x": date(2020, 1, 1)} if facts else {}
        assert check(facts) == cond.kleene(tree, facts), facts


def test_an_unknown_operator_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown operator between"):
        cond.compile_condition(cond.All((cond.Leaf("n", "between", (1, 2)),)))


def test_a_literal_that_looks_like_source_is_only_a_literal() -> None:
    for text in ("{args}", "def {args}", "') or True or ('", "\\n    return True"):
        check = cond.compile_condition(cond.Leaf("x", "eq", text))
        assert check({"x": text}) is True
        assert check({"x": "other"}) is False
        assert check({}) is None
