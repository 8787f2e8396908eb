"""Shared fixtures: the shipped rule base, one engine per test session, and a copy of the rules to break."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from biotoets.engine.evaluate import Engine
from biotoets.engine.loader import default_rules_dir, load_rule_base
from biotoets.engine.model import RuleBase

TODAY = date(2026, 11, 28)


@pytest.fixture(scope="session")
def base() -> RuleBase:
    return load_rule_base()


@pytest.fixture(scope="session")
def engine(base: RuleBase) -> Engine:
    return Engine(base)


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped rules directory (top-level files only)."""
    dest = tmp_path / "rules"
    dest.mkdir()
    for f in default_rules_dir().glob("*.yaml"):
        shutil.copy(f, dest / f.name)
    return dest


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """The reliability figures (tests/figures.py): requests under load, checks after a kill, inputs tried."""
    from tests import figures

    figures.summary(terminalreporter)
