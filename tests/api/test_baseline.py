"""The restructure changes no behaviour: /openapi.json and every command's help are byte-identical to the
copies taken before anything moved (tests/fixtures/baseline/, written by its snapshot.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.baseline.snapshot import help_texts, openapi_text

BASELINE = Path(__file__).resolve().parents[1] / "fixtures" / "baseline"


def test_openapi_document_is_unchanged() -> None:
    assert openapi_text() == (BASELINE / "openapi.json").read_text()


@pytest.fixture(scope="module")
def helps() -> Iterator[dict[str, str]]:
    before = os.environ.get("COLUMNS")  # help_texts() sets the width it was taken at
    try:
        yield help_texts()
    finally:
        if before is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = before


def test_every_command_is_still_there(helps: dict[str, str]) -> None:
    before = json.loads((BASELINE / "help.json").read_text())
    assert sorted(helps) == sorted(before)


@pytest.mark.parametrize("words", sorted(json.loads((BASELINE / "help.json").read_text())))
def test_help_is_unchanged(helps: dict[str, str], words: str) -> None:
    before = json.loads((BASELINE / "help.json").read_text())
    assert helps.get(words) == before[words]
