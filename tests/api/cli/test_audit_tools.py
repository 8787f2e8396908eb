"""The audit tools' own answers: keygen, checkpoint, verify --checkpoint and db grant, each error a user can get.

The tamper matrix (tests/reliability/test_tamper.py) shows what they detect; this file pins what they say.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from biotoets.api.cli import main
from biotoets.api.settings import Settings
from biotoets.api.store import db as dbm
from biotoets.api.store import grants
from biotoets.api.store import keys as auth
from tests.databases import postgres_base_url, postgres_schema


@pytest.fixture
def url(tmp_path: Path) -> str:
    u = f"sqlite:///{tmp_path / 'a.db'}"
    db = dbm.open_database(Settings(database_url=u))
    try:
        auth.create_key(db, "applicant", "Lab A")
    finally:
        db.dispose()
    return u


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_keygen_checkpoint_verify(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "k"
    code, _, err = run(capsys, "audit", "keygen", str(key))
    assert code == 0 and "fingerprint" in err
    assert key.stat().st_mode & 0o077 == 0  # the signing key is its owner's alone
    code, out, err = run(capsys, "audit", "checkpoint", "--key", str(key), "--database-url", url)
    doc = json.loads(out)
    assert code == 0 and doc["seq"] == 1 and doc["format"] == "biotoets-audit-checkpoint/1"
    assert f"checkpoint of record 1 signed with key {doc['key']}" in err
    (tmp_path / "cp.json").write_text(out)
    code, out, _ = run(capsys, "audit", "verify", "--database-url", url, "--checkpoint", str(tmp_path / "cp.json"),
                       "--public-key", f"{key}.pub")
    assert code == 0
    assert "records 1-1 unchanged and present since" in out and "signed by the trusted key" in out
    code, out, _ = run(capsys, "audit", "verify", "--database-url", url, "--checkpoint", str(tmp_path / "cp.json"))
    assert code == 0 and f"key {doc['key']} (named in the file: compare it)" in out


def test_what_the_key_and_checkpoint_commands_refuse(url: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "k"
    assert run(capsys, "audit", "keygen", str(key))[0] == 0
    code, _, err = run(capsys, "audit", "keygen", str(key))
    assert code == 2 and "a signing key is never overwritten" in err
    code, _, err = run(capsys, "audit", "keygen", str(tmp_path / "no" / "dir" / "k"))
    assert code == 2 and "cannot create" in err
    (tmp_path / "junk.pem").write_text("not a key")
    code, _, err = run(capsys, "audit", "checkpoint", "--key", str(tmp_path / "junk.pem"), "--database-url", url)
    assert code == 2 and "is not an unencrypted PEM private key" in err
    code, _, err = run(capsys, "audit", "checkpoint", "--key", str(tmp_path / "absent"), "--database-url", url)
    assert code == 2 and "cannot read the signing key" in err
    out_file = tmp_path / "cp.json"
    assert run(capsys, "audit", "checkpoint", "--key", str(key), "--out", str(out_file), "--database-url", url)[0] == 0
    code, _, err = run(capsys, "audit", "checkpoint", "--key", str(key), "--out", str(out_file), "--database-url", url)
    assert code == 2 and "a checkpoint is never overwritten" in err


@pytest.mark.parametrize(("content", "message"), [
    ("{", "is not a checkpoint (not JSON)"),
    ('{"format": "other"}', "is not a checkpoint of this format"),
    ('{"format": "biotoets-audit-checkpoint/1", "seq": 1}', "lacks a field a checkpoint has"),
])
def test_verify_refuses_what_is_not_a_checkpoint(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 content: str, message: str) -> None:
    (tmp_path / "cp.json").write_text(content)
    code, _, err = run(capsys, "audit", "verify", "--database-url", url, "--checkpoint", str(tmp_path / "cp.json"))
    assert code == 2 and message in err


def test_a_checkpoint_signed_by_another_key_or_altered_is_not_relied_on(url: str, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("mine", "theirs"):
        assert run(capsys, "audit", "keygen", str(tmp_path / name))[0] == 0
    _, out, _ = run(capsys, "audit", "checkpoint", "--key", str(tmp_path / "theirs"), "--database-url", url)
    (tmp_path / "cp.json").write_text(out)
    code, out, _ = run(capsys, "audit", "verify", "--database-url", url, "--checkpoint", str(tmp_path / "cp.json"),
                       "--public-key", str(tmp_path / "mine.pub"))
    assert code == 1 and "is not signed by the trusted key: it cannot be relied on" in out
    doc = json.loads((tmp_path / "cp.json").read_text())
    doc["seq"] = 0  # altered after signing
    (tmp_path / "cp.json").write_text(json.dumps(doc))
    code, out, _ = run(capsys, "audit", "verify", "--database-url", url, "--checkpoint", str(tmp_path / "cp.json"))
    assert code == 1 and "is not signed by the key it names" in out


def test_public_key_file_errors(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "cp.json").write_text("{}")
    (tmp_path / "junk.pub").write_text("junk")
    code, _, err = run(capsys, "audit", "verify", "--database-url", url, "--checkpoint", str(tmp_path / "cp.json"),
                       "--public-key", str(tmp_path / "junk.pub"))
    assert code == 2 and "is not a PEM public key" in err


def test_db_grant_is_for_postgresql(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "db", "grant", "--role", "biotoets_app", "--database-url", url)
    assert code == 2 and "an SQLite file has no roles" in err


def test_db_grant_refuses_unsafe_roles(capsys: pytest.CaptureFixture[str]) -> None:
    with postgres_schema("biotoets_grant") as pg:
        code, _, err = run(capsys, "db", "grant", "--role", "Bad-Name", "--database-url", pg)
        assert code == 2 and "is not a role name this command makes" in err
        owner = make_url(postgres_base_url()).username
        code, _, err = run(capsys, "db", "grant", "--role", owner, "--database-url", pg)
        assert code == 2 and ("is a superuser" in err or "owns the tables" in err)
        role = "biotoets_app_" + secrets.token_hex(4)
        code, out, err = run(capsys, "db", "grant", "--role", role, "--database-url", pg, "--password", "p%:x'y")
        try:
            assert code == 0, err
            assert "GRANT SELECT, INSERT ON" in out and "audit_log" in out and "p%:x" not in out
            assert f"role {role} may use the tables and only add and read audit records" in err
            assert main(["db", "grant", "--role", role, "--database-url", pg]) == 0  # again: brought into line
            capsys.readouterr()
        finally:
            eng = create_engine(pg)
            with eng.begin() as conn:
                conn.execute(text(f'DROP OWNED BY "{role}"'))
                conn.execute(text(f'DROP ROLE "{role}"'))
            eng.dispose()


def test_db_grant_needs_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    with postgres_schema("biotoets_grant") as pg:
        db = dbm.Database(pg)
        try:
            with pytest.raises(grants.GrantError, match="there is no audit_log in schema"):
                grants.grant(db, "biotoets_app_x")
        finally:
            db.dispose()
