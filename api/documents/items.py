"""Items in words (the proposal's ``export.items``) and the Annex I codes of Regulation (EU) 2021/821 each maps to.

The mapping is law as data: ``item_words`` in ``rules/lists.yaml`` (validated by ``schemas/lists.schema.json``
when the rule base loads), with what each code was read in. A researcher names the organism, material or
equipment; the pages and the terminal show the codes beside the words. Which words count as an Annex I item for
the rules is the list ``dual_use_item_kinds_listed``; a test keeps the two and the proposal's enum in step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from biotoets.engine.loader import default_rules_dir


@dataclass(frozen=True)
class Code:
    code: str
    title: Mapping[str, str]
    verification: str
    read_in: str


@dataclass(frozen=True)
class ItemWords:
    item: str
    words: Mapping[str, str]
    examples: Mapping[str, str]
    codes: tuple[Code, ...]


@cache
def item_words() -> dict[str, ItemWords]:
    """Every item in words, in the order the form offers them."""
    doc: dict[str, Any] = yaml.safe_load((default_rules_dir() / "lists.yaml").read_text(encoding="utf-8"))
    return {name: ItemWords(name, e["words"], e["examples"],
                            tuple(Code(c["code"], c["title"], c["verification"], c["read_in"]) for c in e["codes"]))
            for name, e in doc["item_words"]["items"].items()}


def codes_of(items: Iterable[str]) -> list[str]:
    """The Annex I codes the items in words map to, each once, in the order of the list."""
    known = item_words()
    return list(dict.fromkeys(c.code for i in items if i in known for c in known[i].codes))


def words_of(item: str, lang: str) -> str:
    entry = item_words().get(item)
    return entry.words[lang] if entry else item


def with_codes(item: str, lang: str) -> str:
    """An item in words with its codes, e.g. 'A toxin on the list, or a subunit of one (1C351.d)'."""
    codes = codes_of([item])
    return f"{words_of(item, lang)} ({', '.join(codes)})" if codes else words_of(item, lang)
