"""Questions in words people use: a question does not repeat its options (the page shows them), and every
question that turns on a legal distinction explains it, in Dutch and English, on the page that asks it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from biotoets.api.documents import answers as ans
from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth
from biotoets.api.web import form as webform

from .test_private_result import as_user

QUESTIONS = yaml.safe_load((Path(__file__).resolve().parents[3] / "rules" / "questions.yaml")
                           .read_text(encoding="utf-8"))["questions"]

# The questions that turn on a legal distinction, and what the help must explain.
DISTINCTIONS = {
    "human.embryo": "not a genetically modified organism",  # an edited human embryo is not a GMO
    "human.gametes": "Embryo Act",
    "human.subjects": "Medical Research Involving Human Subjects Act",
    "human.embryonic_cells": "iPS cells",
    "human.embryo_like_structures": "able to develop into a human being",
    "technique": "new mutagenesis",
    "gmo.use": "Contained use is work within physical barriers",  # contained use vs deliberate release
    "gmo.risk": "negligibly small",
    "medicine.medicinal_product": "Directive 2001/83/EC",  # what counts as a medicinal product
    "medicine.gene_therapy": "recombinant nucleic acid",
    "medicine.atmp": "tissue-engineered",
    "medicine.hospital_exemption": "non-routine basis",
    "animal.involved": "'no, unless'",
    "animal.vertebrate": "cephalopods",
    "transplant.source": "living animal material into or onto a human",
    "plant.ngt_category": "category 1",
    "knowledge.sensitive_technology": "guidance, not law",
    "export.items": "Annex I",
    "export.intangible_transfer": "electronically",
    "export.technology_public_domain": "public domain",
    "export.technology_basic_research": "not primarily directed towards a practical aim",
    "export.wmd_end_use": "catch-all",
}


@pytest.mark.parametrize("fact", sorted(DISTINCTIONS))
def test_every_question_on_a_legal_distinction_explains_it_in_both_languages(fact: str) -> None:
    q = QUESTIONS[fact]
    assert DISTINCTIONS[fact] in q["help_en"]
    assert q["help_nl"] and q["help_nl"] != q["help_en"]


def test_help_is_given_in_both_languages_or_not_at_all() -> None:
    for fact, q in QUESTIONS.items():
        assert ("help_nl" in q) == ("help_en" in q), fact


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_no_question_repeats_its_options(lang: str) -> None:
    """At most one of a choice question's options may be named in its text (the page lists them all)."""
    for fact, f in ans.facts().items():
        if f.kind != "enum" or fact not in QUESTIONS:
            continue
        text = QUESTIONS[fact][lang].lower()
        named = [v for v in f.values if webform.value_label(fact, v, lang).lower() in text]
        assert len(named) <= 1, (fact, named)
    assert "(" not in QUESTIONS["export.items"][lang]  # the items are checkboxes with words and codes


def test_the_pages_show_the_help_where_the_question_is_asked(site: tuple[TestClient, dbm.Database]) -> None:
    client, db = site
    token = as_user(client, auth.create_key(db, "applicant", "Lab").key)
    client.post("/apply", data={"csrf": token})
    about = client.get("/apply/about").text
    assert "<legend class=\"\">What will you do?</legend>" in about and "Basic research" in about
    assert "A clinical trial gives people an (investigational) medicinal product" in about
    involves = client.get("/apply/involves").text
    assert "Contained use is work within physical barriers" in involves
    assert "It is not a genetically modified organism (GMO) under the GMO rules" in involves
    client.cookies.set("biotoets_lang", "nl")
    assert "Ingeperkt gebruik is werk binnen fysieke grenzen" in client.get("/apply/involves").text
    assert "Wat gaat u doen?" in client.get("/apply/about").text
