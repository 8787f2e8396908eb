"""Receipts, rule-base snapshots and replay: a stored check is evaluated again under the exact rule files it
used -- over HTTP and with ``biotoets replay`` -- also after the rules have changed; and the audit chain that
records reviews is verified, and caught when a review record is tampered with."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from biotoets.api.cli import main
from biotoets.api.http.app import create_app
from biotoets.api.settings import Settings
from biotoets.api.store import bases, checks, receipts
from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth
from biotoets.engine.loader import default_rules_dir, load_rule_base

from ..conftest import Api
from ..helpers import GERMLINE, REPRODUCTIVE, problem


def test_every_stored_check_has_a_receipt(api: Api, applicant_key: str, assessor_key: str,
                                          other_applicant_key: str) -> None:
    check = api.client.post("/v1/checks", json=GERMLINE, headers=api.headers(applicant_key)).json()
    r = api.client.get(f"/v1/checks/{check['id']}/receipt", headers=api.headers(applicant_key))
    assert r.status_code == 200
    receipt = r.json()
    canonical = orjson.dumps(check["proposal"], option=orjson.OPT_SORT_KEYS)
    assert receipt["proposal_hash"] == hashlib.sha256(canonical).hexdigest()
    assert receipt["verdict"] == "conditional" and receipt["complete"] is False
    assert receipt["ruleset_hash"] == check["ruleset_hash"] == check["verdict"]["ruleset"]["hash"]
    assert receipt["engine_version"] == check["engine_version"] and receipt["as_of"] == check["as_of"]
    base = load_rule_base()
    assert receipt["rule_files"] == {name: hashlib.sha256(data).hexdigest() for name, data in base.files.items()}
    assert receipt["replayable"] is True
    assert "germline.embryo-research" in receipt["grounds"]
    with api.db.read() as conn:
        seq, digest = conn.execute(text("SELECT seq, hash FROM audit_log WHERE subject = :c AND action = "
                                        "'check.created'"), {"c": check["id"]}).one()
    assert receipt["audit_record"]["seq"] == seq and receipt["audit_record"]["hash"] == digest
    again = api.client.get(f"/v1/checks/{check['id']}/receipt", headers=api.headers(assessor_key)).json()
    assert again["receipt_hash"] == receipt["receipt_hash"] and receipt["reference"].startswith("BT-")
    problem(api.client.get(f"/v1/checks/{check['id']}/receipt", headers=api.headers(other_applicant_key)), 404)


def test_replay_over_http_finds_the_verdict_unchanged_and_is_audited(api: Api, applicant_key: str,
                                                                     assessor_key: str) -> None:
    check = api.client.post("/v1/checks?as_of=2024-06-01&lang=nl", json=REPRODUCTIVE,
                            headers=api.headers(applicant_key)).json()
    r = api.client.post(f"/v1/checks/{check['id']}/replay", headers=api.headers(assessor_key))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["verdict_unchanged"] is True and report["identical"] is True and report["differences"] == []
    assert report["stored"] == report["replayed"] == {"verdict": "prohibited", "complete": True,
                                                      "could_become": "prohibited", "could_fall_to": "prohibited"}
    assert report["as_of"] == "2024-06-01"
    with api.db.read() as conn:
        action, payload = conn.execute(text("SELECT action, payload FROM audit_log WHERE seq = :s"),
                                       {"s": report["audit_record"]}).one()
    assert action == "check.replayed" and orjson.loads(payload)["data"]["verdict_unchanged"] is True


def test_a_check_with_no_stored_rule_files_cannot_be_replayed(api: Api, applicant_key: str) -> None:
    check = api.client.post("/v1/checks", json=GERMLINE, headers=api.headers(applicant_key)).json()
    fake = "f" * 64
    with api.db.write() as conn:
        conn.execute(text("UPDATE checks SET ruleset_hash = :h WHERE id = :c"), {"h": fake, "c": check["id"]})
    body = problem(api.client.post(f"/v1/checks/{check['id']}/replay", headers=api.headers(applicant_key)), 409)
    assert "not stored" in body["detail"]
    receipt = api.client.get(f"/v1/checks/{check['id']}/receipt", headers=api.headers(applicant_key)).json()
    assert receipt["replayable"] is False and receipt["rule_files"] is None


@pytest.fixture
def changed_rules(tmp_path: Path) -> Path:
    """A copy of the shipped rules with one rule's wording changed: another ruleset hash, the same law."""
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    germline = rules / "germline.yaml"
    text_ = germline.read_text(encoding="utf-8")
    assert "Ban on reproductive germline modification" in text_
    germline.write_text(text_.replace("Ban on reproductive germline modification",
                                      "Ban on reproductive germline modification (old wording)"), encoding="utf-8")
    return rules


def test_replay_uses_the_stored_rule_files_after_the_rules_change(changed_rules: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'replay.db'}"
    with TestClient(create_app(Settings(database_url=url, rules_dir=changed_rules))) as client:
        db = dbm.Database(url)
        key = auth.create_key(db, "applicant", "replay").key
        check = client.post("/v1/checks", json=REPRODUCTIVE, headers={"Authorization": f"Bearer {key}"}).json()
        db.dispose()
    old_hash = check["ruleset_hash"]
    assert old_hash != load_rule_base().digest  # the shipped rules are now different
    # slim: the texts beside the verdict are its own rule base's, in the check's language
    assert check["verdict"]["texts"]["rules"][check["verdict"]["grounds"][0]["rule"]].endswith("(old wording)")

    # The CLI replays with the shipped rules installed, yet under the stored snapshot of the old files.
    assert main(["replay", check["id"], "--database-url", url, "--json"]) == 0
    report = orjson.loads(capsys.readouterr().out)
    assert report["ruleset_hash"] == old_hash
    assert report["verdict_unchanged"] is True and report["identical"] is True
    assert main(["replay", check["id"], "--database-url", url]) == 0
    out = capsys.readouterr().out
    assert "stored:   prohibited" in out and "the whole verdict document is identical" in out

    # A server with the shipped rules expands the check with the old rule base, from its snapshot.
    with bases.forgotten(), TestClient(create_app(Settings(database_url=url))) as client:
        full = client.get(f"/v1/checks/{check['id']}?view=full", headers={"Authorization": f"Bearer {key}"})
        default = client.get(f"/v1/checks/{check['id']}", headers={"Authorization": f"Bearer {key}"}).json()
    assert default["verdict"] == check["verdict"]  # its texts too: from the snapshot, not today's rules
    assert full.status_code == 200
    assert full.json()["verdict"]["grounds"][0]["title"]["en"].endswith("(old wording)")

    # A snapshot whose files no longer match their hash is refused, never used.
    db = dbm.Database(url)
    try:
        with db.write() as conn:
            files = orjson.loads(conn.execute(text("SELECT files_json FROM ruleset_snapshots WHERE hash = :h"),
                                              {"h": old_hash}).scalar_one())
            files["germline.yaml"] = files["xeno.yaml"]
            conn.execute(text("UPDATE ruleset_snapshots SET files_json = :f WHERE hash = :h"),
                         {"f": orjson.dumps(files).decode(), "h": old_hash})
        with pytest.raises(receipts.SnapshotError, match="do not match their hash"):
            receipts.load_snapshot(db, old_hash)
    finally:
        db.dispose()
    assert main(["replay", check["id"], "--database-url", url]) == 2
    assert "do not match their hash" in capsys.readouterr().err
    assert main(["replay", "no-such-check", "--database-url", url]) == 2
    assert "no check with id" in capsys.readouterr().err


def test_replay_reports_a_changed_verdict(api: Api, applicant_key: str) -> None:
    check = api.client.post("/v1/checks", json=GERMLINE, headers=api.headers(applicant_key)).json()
    stored = checks.load_check(api.db, check["id"])
    assert stored is not None
    base = receipts.rule_base(api.db, stored.ruleset_hash)
    assert base is not None
    tampered: dict[str, Any] = {**receipts.full_verdict(api.db, stored), "verdict": "allowed"}
    report = receipts.replay_report(stored, tampered, base)
    assert report["verdict_unchanged"] is False and report["differences"] == ["verdict"]


def test_audit_verify_passes_on_a_real_workflow_and_catches_a_tampered_review(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'audited.db'}"
    with TestClient(create_app(Settings(database_url=url))) as client:
        db = dbm.Database(url)
        applicant = auth.create_key(db, "applicant", "Lab").key
        assessor = auth.create_key(db, "assessor", "Office")
        auth.set_role(db, assessor.principal.key_id, "admin", actor="test")
        auth.set_role(db, assessor.principal.key_id, "assessor", actor="test")
        check = client.post("/v1/checks", json=GERMLINE, headers={"Authorization": f"Bearer {applicant}"}).json()
        r = client.post(f"/v1/checks/{check['id']}/reviews", headers={"Authorization": f"Bearer {assessor.key}"},
                        json={"decision": "override", "verdict": "prohibited", "reason": "Transfer is planned."})
        assert r.status_code == 201
        db.dispose()
    assert main(["audit", "verify", "--database-url", url]) == 0
    out = capsys.readouterr().out
    assert "6 record(s)" in out and "intact" in out
    db = dbm.Database(url)
    try:
        with db.read() as conn:
            actions = [r.action for r in conn.execute(text("SELECT action FROM audit_log ORDER BY seq"))]
        assert actions == ["key.created", "key.created", "key.role_changed", "key.role_changed", "check.created",
                           "review.overridden"]
        with db.write() as conn:  # someone with the owner's rights drops the guard and softens the recorded reason
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("UPDATE audit_log SET payload = replace(payload, 'Transfer is planned.', 'Fine.') "
                              "WHERE action = 'review.overridden'"))
    finally:
        db.dispose()
    assert main(["audit", "verify", "--database-url", url]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "record 6: its content does not match its hash"
    assert "problem(s)" in out
