"""``drop_closed`` on a draft that says "no partners": the partners' flags follow from the empty list (they are
no answer to remove), so the loop ends, and only real answers whose gate closed are dropped."""

from __future__ import annotations

from biotoets.api.web import form as webform
from biotoets.engine.loader import load_rule_base

ANSWERS = {"activity": "clinical_trial", "purpose": "medical_treatment", "technique": "viral_vector_gene_transfer",
           "human.embryo": False, "human.gametes": False, "human.somatic_cells": False, "human.subjects": True,
           "animal.involved": False, "plant.involved": False, "gmo.use": "release"}


def test_a_draft_without_partners_keeps_its_answers_and_drops_only_closed_ones() -> None:
    draft = webform.new_draft()
    for fact, value in ANSWERS.items():
        webform.set_answer(draft, fact, webform.Read(fact, True, value))
    webform.set_screening(draft, "partners", "no")
    webform.set_screening(draft, "abroad", "no")
    # purpose is asked only where animals are involved (its gate closed); the partners' flags are implied by
    # "no partners" and were never answered: they are not "removed"
    assert webform.drop_closed(draft, load_rule_base().gates) == ["purpose"]
    assert draft["proposal"]["partners"] == [] and draft["dropped"] == ["purpose"]
    assert webform.known(draft)["human.subjects"] is True
    assert webform.drop_closed(draft, load_rule_base().gates) == []  # nothing left to drop: stable
