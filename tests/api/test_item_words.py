"""Export items in words: the mapping of each item a researcher names onto the Annex I codes of Regulation (EU)
2021/821 (rules/lists.yaml, item_words) is complete, in step with the proposal's enum and the list the rules read,
says what each code was read in, and is what the terminal shows beside the words."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from biotoets.api.documents import answers as ans
from biotoets.api.documents import items
from biotoets.api.documents.render import _value
from biotoets.engine.loader import default_rules_dir
from biotoets.engine.proposal import ANNEX_CODE_PATTERN, DualUseItem

LISTS = yaml.safe_load((default_rules_dir() / "lists.yaml").read_text(encoding="utf-8"))


def test_every_item_of_the_proposal_has_words_and_examples_in_both_languages() -> None:
    assert list(items.item_words()) == [i.value for i in DualUseItem]
    for entry in items.item_words().values():
        for text in (entry.words, entry.examples):
            assert text["nl"] and text["en"] and text["nl"] != text["en"]


def test_the_items_the_rules_count_as_listed_are_those_with_codes() -> None:
    listed = set(LISTS["lists"]["dual_use_item_kinds_listed"]["values"])
    assert listed == {name for name, e in items.item_words().items() if e.codes}
    assert items.item_words()["other_unlisted"].codes == ()


def test_every_code_is_an_annex_i_code_of_a_biological_entry_with_where_it_was_read() -> None:
    entries = set(LISTS["lists"]["biotech_dual_use_codes"]["values"])
    for entry in items.item_words().values():
        for code in entry.codes:
            assert re.match(ANNEX_CODE_PATTERN, code.code), code
            assert code.code.split(".")[0] in entries, code
            assert code.read_in.strip(), code
            assert code.verification in ("primary", "official", "secondary", "unverified")
    # what no source confirmed says so
    vaccine = items.item_words()["vaccine_or_immunotoxin"].codes
    assert [c.verification for c in vaccine] == ["unverified"] and "NOT FOUND" in vaccine[0].read_in


def test_codes_of_items_in_words() -> None:
    assert items.codes_of(["toxin"]) == ["1C351.d"]
    assert items.codes_of(["human_animal_pathogen", "toxin"]) == ["1C351.a", "1C351.c", "1C351.e", "1C351.d"]
    assert items.codes_of(["listed_pathogen_genetic_elements", "gm_listed_pathogen"]) == ["1C353.a", "1C353.b"]
    assert "2B352.b" in items.codes_of(["biocontainment_or_fermenter_equipment"])
    assert items.codes_of(["other_unlisted"]) == []
    assert items.with_codes("toxin", "nl") == "Een toxine van de lijst, of een subeenheid ervan (1C351.d)"
    assert items.with_codes("other_unlisted", "en") == "Something other than the above"


def test_an_answer_in_words_is_kept_in_the_list_order_and_a_code_is_not_a_word() -> None:
    assert ans.coerce("export.items", ["toxin", "human_animal_pathogen", "toxin"]) == ["human_animal_pathogen",
                                                                                       "toxin"]
    with pytest.raises(ans.AnswerError, match="must be items in words .*; not: 1C351"):
        ans.coerce("export.items", ["1C351"])
    assert ans.coerce("export.dual_use_items", ["1C351"]) == ["1C351"]  # the API keeps accepting codes


def test_the_terminal_shows_the_codes_beside_the_words(tmp_path: Path) -> None:
    assert _value(["toxin", "other_unlisted"], "export.items") == "[toxin (1C351.d), other_unlisted]"
    proposal = {"title": "Toxin to a partner", "activity": "collaboration", "purpose": "biomedical_research",
                "technique": "none", "export": {"items": ["toxin"], "destination_countries": ["CN"],
                                                "physical_items": True}}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(proposal))
    out = subprocess.run([sys.executable, "-m", "biotoets.api.cli", "check", str(path)], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "export.items=[toxin (1C351.d)]" in out.stdout
    assert "CONDITIONAL" in out.stdout  # an Annex I item out of the Union: the export authorisation
