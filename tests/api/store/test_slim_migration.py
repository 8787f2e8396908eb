"""Migration 0007 makes stored verdicts slim without losing any: every check and every earlier evaluation reads
back equal -- expanded with the rule base it was evaluated under (its snapshot), never today's -- and a verdict
whose rule base has no snapshot stays as it was."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from biotoets.api.documents import slim, slim_v1
from biotoets.api.store import bases, checks, receipts, reviews
from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth
from biotoets.engine.evaluate import Engine
from biotoets.engine.loader import default_rules_dir, load_rule_base
from biotoets.engine.proposal import Proposal

from ...databases import DATABASES, postgres_schema
from ..helpers import GERMLINE, PLAIN, REPRODUCTIVE


@pytest.fixture
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
    else:
        with postgres_schema("slim_migration") as found:
            yield found


@pytest.fixture
def old_wording(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    germline = rules / "germline.yaml"
    germline.write_text(germline.read_text(encoding="utf-8").replace(
        "Ban on reproductive germline modification", "Ban on reproductive germline modification (old wording)"),
        encoding="utf-8")
    return rules


@pytest.fixture
def nothing_known() -> Iterator[None]:
    """The store knows no rule base, so it keeps verdicts as given: in the full form, as before 0007."""
    with bases.forgotten():
        yield


def _rows(db: dbm.Database) -> dict[tuple[str, int], dict[str, Any]]:
    with db.read() as conn:
        return {(table, seq): orjson.loads(v) for table in ("checks", "check_revisions")
                for seq, v in conn.execute(text(f"SELECT seq, verdict_json FROM {table}")).all()}


@pytest.mark.parametrize("url", DATABASES, indirect=True)
def test_migration_0007_slims_stored_checks_and_reads_every_one_back_equal(
        url: str, old_wording: Path, nothing_known: None) -> None:
    db = dbm.Database(url)
    try:
        dbm.upgrade(db, "0006")
        today, old = load_rule_base(), load_rule_base(old_wording)
        engines = [Engine(today), Engine(old)]
        for base in (today, old):
            receipts.keep_snapshot(db, base)
        owner = auth.create_key(db, "applicant", "before 0007").principal
        made = []
        for engine in engines:
            for doc, lang, explain in ((GERMLINE, "en", False), (REPRODUCTIVE, "nl", True), (PLAIN, "en", False)):
                verdict = engine.evaluate(Proposal.model_validate(doc), date(2026, 6, 1), lang=lang, explain=explain)
                made.append(checks.create(db, checks.NewCheck(owner, orjson.dumps(doc).decode(), "application/json",
                                                               doc, None, verdict, lang, status="draft")))
        # An earlier evaluation kept in check_revisions, and a verdict whose rule base has no snapshot.
        answered = engines[0].evaluate(Proposal.model_validate(PLAIN), date(2026, 6, 1), lang="en")
        reviews.store_draft(db, made[0], owner, PLAIN, answered)
        lost = engines[0].evaluate(Proposal.model_validate(PLAIN), date(2026, 6, 1), lang="nl")
        lost["ruleset"]["hash"] = "e" * 64
        made.append(checks.create(db, checks.NewCheck(owner, "{}", "application/json", PLAIN, None, lost, "nl")))
        for engine in engines:
            engine.close()

        before = _rows(db)
        assert len(before) == 8 and not any(slim.is_slim(v) for v in before.values())
        receipts_before = {c.id: receipts.receipt(db, checks.load_check(db, c.id) or c) for c in made}

        dbm.upgrade(db)
        after = _rows(db)
        assert after.keys() == before.keys()
        for key, stored in after.items():
            if stored["ruleset"]["hash"] == "e" * 64:
                assert stored == before[key]  # no snapshot: kept in the full form, as it was
                continue
            assert slim.is_slim(stored), key
            assert len(orjson.dumps(stored)) < len(orjson.dumps(before[key]))
            assert receipts.rule_base(db, stored["ruleset"]["hash"]) is not None
            assert slim.full(stored, receipts.rule_base(db, stored["ruleset"]["hash"])) == before[key], key
        for c in made:  # every reader sees what it saw before: the verdict, its receipt
            check = checks.load_check(db, c.id)
            assert check is not None
            assert receipts.full_verdict(db, check) == before[("checks", check.seq)]
            assert receipts.receipt(db, check) == receipts_before[c.id]
        old_ground = next(v for v in after.values() if slim.is_slim(v) and v["ruleset"]["hash"] == old.digest
                          and v["verdict"] == "prohibited")
        expanded = slim.full(old_ground, receipts.rule_base(db, old.digest))  # its own rule base's words
        assert expanded["grounds"][0]["title"]["en"].endswith("(old wording)")

        from alembic import command

        with db.engine.begin() as conn:
            command.downgrade(dbm._alembic_config(conn), "0006")
        assert _rows(db) == before  # the downgrade expands them back
    finally:
        db.dispose()


@pytest.mark.parametrize("url", DATABASES, indirect=True)
def test_migration_0008_rewrites_the_first_slim_form_and_reads_every_check_back_equal(
        url: str, old_wording: Path, nothing_known: None) -> None:
    db = dbm.Database(url)
    try:
        dbm.upgrade(db, "0007")
        today, old = load_rule_base(), load_rule_base(old_wording)
        engines = [Engine(today), Engine(old)]
        for base in (today, old):
            receipts.keep_snapshot(db, base)
        owner = auth.create_key(db, "applicant", "before 0008").principal
        fulls: dict[str, dict[str, Any]] = {}
        for engine in engines:
            for doc, lang, explain in ((GERMLINE, "en", False), (REPRODUCTIVE, "nl", True), (PLAIN, "en", False),
                                       ({"title": "t", "activity": "basic_research"}, "nl", False)):
                verdict = engine.evaluate(Proposal.model_validate(doc), date(2026, 6, 1), lang=lang, explain=explain)
                made = checks.create(db, checks.NewCheck(owner, orjson.dumps(doc).decode(), "application/json", doc,
                                                         None, verdict, lang, status="draft"))
                fulls[made.id] = orjson.loads(orjson.dumps(verdict))
        plain = orjson.loads(orjson.dumps(engines[0].evaluate(PLAIN, date(2026, 6, 1), lang="nl")))
        made = checks.create(db, checks.NewCheck(owner, "{}", "application/json", PLAIN, None, plain, "nl"))
        for engine in engines:
            engine.close()
        # As 0007 stored them: the first slim form (one of them with a rule base that has no snapshot).
        with db.write() as conn:
            for check_id, full in fulls.items():
                first = slim_v1.slim(full, today if full["ruleset"]["hash"] == today.digest else old)
                conn.execute(text("UPDATE checks SET verdict_json = :v WHERE id = :c"),
                             {"v": orjson.dumps(first).decode(), "c": check_id})
            lost = slim_v1.slim(plain, today)
            lost["ruleset"]["hash"] = "e" * 64
            conn.execute(text("UPDATE checks SET verdict_json = :v WHERE id = :c"),
                         {"v": orjson.dumps(lost).decode(), "c": made.id})
        before = _rows(db)
        assert len(before) == 9 and all("checked" in v for v in before.values())
        receipts_before = {c: receipts.receipt(db, checks.load_check(db, c)) for c in fulls}  # type: ignore[arg-type]

        dbm.upgrade(db)
        after = _rows(db)
        assert after.keys() == before.keys()
        for key, stored in after.items():
            if stored["ruleset"]["hash"] == "e" * 64:
                assert stored == before[key]  # no snapshot: kept in the first slim form, as it was
                assert slim.full(stored, None) == slim_v1.readable(stored)
                continue
            assert slim.is_slim(stored) and "checked" not in stored, key
            assert len(orjson.dumps(stored)) < len(orjson.dumps(before[key]))
        for check_id, full in fulls.items():  # every reader sees what it saw before: the verdict, its receipt
            check = checks.load_check(db, check_id)
            assert check is not None
            assert receipts.full_verdict(db, check) == full
            assert receipts.receipt(db, check) == receipts_before[check_id]
        old_ground = next(v for v in after.values() if v["ruleset"]["hash"] == old.digest
                          and v["verdict"] == "prohibited")
        expanded = slim.full(old_ground, receipts.rule_base(db, old.digest))  # its own rule base's words
        assert expanded["grounds"][0]["title"]["en"].endswith("(old wording)")

        from alembic import command

        with db.engine.begin() as conn:
            command.downgrade(dbm._alembic_config(conn), "0007")
        assert _rows(db) == before  # the downgrade writes the first slim form again
    finally:
        db.dispose()
