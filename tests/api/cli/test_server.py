"""The server commands: keys on a fresh database, db upgrade/current, audit verify, and ``biotoets serve``
with two worker processes answering real HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from biotoets.api.cli import main
from biotoets.api.store import audit
from biotoets.api.store import db as dbm

from ...reliability.server import Served, serve
from ..conftest import Api
from ..helpers import GERMLINE, PLAIN, REPRODUCTIVE


@pytest.fixture
def fresh_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, with DATABASE_URL unset: the default ./var/biotoets.db applies."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return tmp_path / "var" / "biotoets.db"


def test_keys_create_on_a_fresh_database_prints_only_the_key(fresh_db: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert not fresh_db.exists()
    assert main(["keys", "create", "--role", "applicant", "--name", "Lab A"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("btk_") and out.endswith("\n")
    assert "shown only this once" in err and lines[0] not in err
    assert fresh_db.exists()
    db = dbm.Database(f"sqlite:///{fresh_db}")
    try:
        assert dbm.current_revision(db) == dbm.head_revision()
        with db.read() as conn:
            stored = conn.execute(text("SELECT id, role, name, secret_hash FROM api_keys")).one()
    finally:
        db.dispose()
    key_id, secret = lines[0].split("_", 2)[1:]
    assert stored.id == key_id and stored.role == "applicant" and stored.name == "Lab A"
    assert secret not in stored.secret_hash and stored.secret_hash.startswith("$argon2id$")


def test_keys_list_and_revoke(fresh_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["keys", "create", "--role", "assessor", "--name", "Permit office"])
    key = capsys.readouterr().out.strip()
    key_id = key.split("_")[1]
    assert main(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert key_id in listing and "assessor" in listing and "active" in listing and key not in listing
    assert main(["keys", "revoke", key_id]) == 0
    main(["keys", "list"])
    assert "revoked" in capsys.readouterr().out
    assert main(["keys", "revoke", key_id]) == 2
    assert "no active key" in capsys.readouterr().err


def test_keys_rotate_prints_the_new_key_once_and_refuses_a_revoked_or_unknown_key(
        fresh_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["keys", "create", "--role", "applicant", "--name", "Lab R"])
    old = capsys.readouterr().out.strip()
    key_id = old.split("_")[1]
    assert main(["keys", "rotate", old]) == 0  # (a whole key pasted: its id is used)
    out, err = capsys.readouterr()
    new = out.strip()
    assert new.startswith(f"btk_{key_id}_") and new != old and len(out.splitlines()) == 1
    assert "shown only this once" in err and "stops working within a second" in err and new not in err
    db = dbm.Database(f"sqlite:///{fresh_db}")
    try:
        from biotoets.api.store import keys as auth

        assert auth.verify_key(db, old) is None and auth.verify_key(db, new) is not None
        with db.read() as conn:
            actions = [r.action for r in conn.execute(text("SELECT action FROM audit_log WHERE subject = :k "
                                                           "ORDER BY seq"), {"k": key_id})]
        assert actions == ["key.created", "key.rotated"]
    finally:
        db.dispose()
    assert main(["keys", "revoke", key_id]) == 0
    capsys.readouterr()
    assert main(["keys", "rotate", key_id]) == 2
    assert "no active key" in capsys.readouterr().err
    assert main(["keys", "rotate", "nosuchkey"]) == 2
    assert "no active key with id 'nosuchkey'" in capsys.readouterr().err


def test_keys_set_role_by_id_or_whole_key_and_refuses_an_unknown_or_revoked_key(
        fresh_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["keys", "create", "--role", "applicant", "--name", "Changing desk"])
    key = capsys.readouterr().out.strip()
    key_id = key.split("_")[1]
    assert main(["keys", "set-role", key, "assessor"]) == 0  # (a whole key pasted: its id is used)
    assert f"key {key_id} now has role assessor (was applicant); servers apply it within a second" in \
        capsys.readouterr().err
    main(["keys", "list"])
    assert f"{key_id}  assessor" in capsys.readouterr().out
    assert main(["keys", "set-role", "nosuchkey", "admin"]) == 2
    assert "no active key with id 'nosuchkey'" in capsys.readouterr().err
    main(["keys", "revoke", key_id])
    capsys.readouterr()
    assert main(["keys", "set-role", key_id, "admin"]) == 2
    assert f"no active key with id '{key_id}'" in capsys.readouterr().err


def test_keys_can_expire(fresh_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "--role", "applicant", "--name", "Visiting lab", "--expires-in", "30"]) == 0
    out, err = capsys.readouterr()
    key_id = out.strip().split("_")[1]
    assert "valid until" in err and " UTC" in err
    main(["keys", "list"])
    listing = capsys.readouterr().out
    assert f"{key_id}  applicant  active to " in listing
    db = dbm.Database(f"sqlite:///{fresh_db}")
    try:
        with db.write() as conn:  # thirty days later
            conn.execute(text("UPDATE api_keys SET expires_at = :t WHERE id = :k"),
                         {"t": "2020-01-01 00:00:00.000000+00:00", "k": key_id})
        from biotoets.api.store import keys as auth

        assert auth.verify_key(db, out.strip()) is None
    finally:
        db.dispose()
    main(["keys", "list"])
    assert f"{key_id}  applicant  expired 2020-01-01" in capsys.readouterr().out


@pytest.mark.parametrize(("days", "message"), [("0", "use 1 to 3650 days"), ("3651", "use 1 to 3650 days"),
                                               ("soon", "'soon' is not a whole number of days")])
def test_keys_create_refuses_a_bad_expiry(fresh_db: Path, capsys: pytest.CaptureFixture[str], days: str,
                                          message: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["keys", "create", "--role", "applicant", "--name", "x", "--expires-in", days])
    assert exited.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["keys", "create", "--role", "applicant", "--name", "  "], "needs a name"),
    (["keys", "create", "--role", "applicant", "--name", "x" * 201], "at most 200"),
])
def test_keys_create_refuses_bad_names(fresh_db: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                       message: str) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and message in err


def test_keys_create_refuses_an_unknown_role(fresh_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["keys", "create", "--role", "superuser", "--name", "x"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_db_upgrade_and_current(fresh_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "current"]) == 1
    assert "run 'biotoets db upgrade'" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "upgraded from revision none" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["db", "current"]) == 0


def test_an_unreachable_database_is_a_clear_error(fresh_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://nobody:secret@127.0.0.1:1/none"
    assert main(["keys", "create", "--role", "admin", "--name", "x", "--database-url", url]) == 2
    err = capsys.readouterr().err
    assert "cannot open the database" in err and "secret" not in err


def test_audit_verify_finds_a_tampered_record(api: Api, applicant_key: str, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A copy of the chain in a database of its own, so tampering harms no other test.
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    main(["keys", "create", "--role", "applicant", "--name", "one"])
    main(["keys", "create", "--role", "assessor", "--name", "two"])
    capsys.readouterr()
    assert main(["audit", "verify"]) == 0
    assert "2 record(s)" in capsys.readouterr().out
    db = dbm.Database(url)
    try:
        with db.write() as conn:  # the guard dropped first (the owner's rights), as someone set on tampering would
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("UPDATE audit_log SET payload = replace(payload, 'one', 'One') WHERE seq = 1"))
    finally:
        db.dispose()
    assert main(["audit", "verify"]) == 1
    assert "record 1: its content does not match its hash" in capsys.readouterr().out


LAST = "(SELECT max(seq) FROM audit_log)"


@pytest.mark.parametrize("statement", [f"UPDATE audit_log SET payload = '{{}}' WHERE seq = {LAST}",
                                       f"DELETE FROM audit_log WHERE seq = {LAST}",
                                       "DELETE FROM audit_log", "TRUNCATE audit_log"])
def test_the_database_refuses_to_change_or_remove_audit_records(api: Api, statement: str) -> None:
    api.key("applicant", "leaves a record")  # the log is not empty
    if statement.startswith("TRUNCATE") and api.kind == "sqlite":
        statement = "DELETE FROM audit_log WHERE 1"  # SQLite has no TRUNCATE; this is its truncate optimisation
    with api.db.read() as conn:
        before = conn.execute(text("SELECT count(*) FROM audit_log")).scalar()
    with pytest.raises(DBAPIError) as refused:
        with api.db.write() as conn:
            conn.execute(text(statement))
    assert "audit_log is append-only" in str(refused.value)
    with api.db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() == before
    assert audit.verify(api.db).ok


def test_stored_checks_and_new_keys_are_in_the_audit_chain(api: Api) -> None:
    key = api.key("applicant", "audited")
    key_id = key.split("_")[1]
    check = api.client.post("/v1/checks", json=GERMLINE, headers=api.headers(key)).json()
    with api.db.read() as conn:
        rows = conn.execute(text("SELECT action, actor, subject, payload FROM audit_log WHERE subject IN (:k, :c) "
                                 "ORDER BY seq"), {"k": key_id, "c": check["id"]}).all()
    assert [(r.action, r.subject) for r in rows] == [("key.created", key_id), ("check.created", check["id"])]
    assert rows[1].actor == key_id and check["ruleset_hash"] in rows[1].payload
    from biotoets.api.store import audit

    report = audit.verify(api.db)
    assert report.ok, report.problems


def test_models_match_the_migrations(api: Api) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with api.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), dbm.Base.metadata)
    assert diff == []


# -- biotoets serve, for real ------------------------------------------------------------------------
@dataclass
class Running:
    base: str
    key: str
    env: dict[str, str]
    server: Served

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}


@pytest.fixture
def served(api: Api, tmp_path: Path) -> Iterator[Running]:
    """``biotoets serve --workers 2`` in its own process group, on this session's kind of database."""
    url = f"sqlite:///{tmp_path / 'var' / 'served.db'}" if api.kind == "sqlite" else api.settings.database_url
    env = {**os.environ, "DATABASE_URL": url}
    key = subprocess.run([sys.executable, "-m", "biotoets.api.cli", "keys", "create", "--role", "applicant",
                          "--name", "served"], env=env, cwd=tmp_path, capture_output=True, text=True, check=True)
    with serve(url, tmp_path, workers=2, env=env) as server:
        yield Running(server.base, key.stdout.strip(), env, server)


def test_serve_with_two_workers_stores_concurrent_checks_that_survive_a_kill(served: Running) -> None:
    proposals = [GERMLINE, PLAIN, REPRODUCTIVE] * 16

    def post(doc: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{served.base}/v1/checks", json=doc, headers=served.headers, timeout=60)

    with ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(post, proposals))
    assert [r.status_code for r in responses] == [201] * len(proposals)
    one_at_a_time = [httpx.post(f"{served.base}/v1/evaluations", json=doc, headers=served.headers,
                                timeout=60).json()["verdict"] for doc in (GERMLINE, PLAIN, REPRODUCTIVE)]
    assert one_at_a_time == ["conditional", "allowed", "prohibited"]
    assert [r.json()["verdict"]["verdict"] for r in responses] == one_at_a_time * 16
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == len(proposals)
    for r in responses[:3]:
        got = httpx.get(f"{served.base}{r.headers['location']}", headers=served.headers, timeout=10)
        assert got.status_code == 200 and got.json() == r.json()
    listed = httpx.get(f"{served.base}/v1/checks?limit=100", headers=served.headers, timeout=10).json()
    assert {c["id"] for c in listed["items"]} == ids
    verify = subprocess.run([sys.executable, "-m", "biotoets.api.cli", "audit", "verify"], env=served.env,
                            capture_output=True, text=True)
    assert verify.returncode == 0 and "intact" in verify.stdout, verify.stdout + verify.stderr

    # A killed server loses no acknowledged check: kill the server and both workers without warning.
    last = httpx.post(f"{served.base}/v1/checks", json=PLAIN, headers=served.headers, timeout=60)
    assert last.status_code == 201
    served.server.signal(signal.SIGKILL, group=True)
    served.server.wait(10)
    db = dbm.Database(served.env["DATABASE_URL"])
    try:
        with db.read() as conn:
            stored = {r.id for r in conn.execute(text("SELECT id FROM checks"))}
    finally:
        db.dispose()
    assert ids | {last.json()["id"]} <= stored


def test_db_backup_copies_a_database_in_use_and_checks_the_copy(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import threading

    from fastapi.testclient import TestClient

    from biotoets.api.http.app import create_app
    from biotoets.api.settings import Settings
    from biotoets.api.store import keys as auth

    url = f"sqlite:///{tmp_path / 'live.db'}"
    with TestClient(create_app(Settings(database_url=url))) as client:
        db = dbm.Database(url)
        key = auth.create_key(db, "applicant", "busy lab").key
        db.dispose()
        headers = {"Authorization": f"Bearer {key}"}
        for _ in range(5):
            assert client.post("/v1/checks", json=PLAIN, headers=headers).status_code == 201
        stop = threading.Event()

        def keep_writing() -> None:  # a server storing checks while the backup runs
            while not stop.is_set():
                assert client.post("/v1/checks", json=GERMLINE, headers=headers).status_code == 201

        writer = threading.Thread(target=keep_writing)
        writer.start()
        try:
            code = main(["db", "backup", str(tmp_path / "copy.db"), "--database-url", url])
        finally:
            stop.set()
            writer.join()
    out, _ = capsys.readouterr()
    assert code == 0 and out.startswith(f"backup {tmp_path / 'copy.db'}: ") and "intact" in out
    assert not (tmp_path / "copy.db.partial").exists()
    copy = dbm.Database(f"sqlite:///{tmp_path / 'copy.db'}")
    try:
        with copy.read() as conn:
            n = conn.execute(text("SELECT count(*) FROM checks")).scalar()
        assert n >= 5 and f"{n} check(s)" in out
        assert audit.verify(copy).ok
    finally:
        copy.dispose()
    # never overwrites; nothing to copy; PostgreSQL is pg_dump's
    assert main(["db", "backup", str(tmp_path / "copy.db"), "--database-url", url]) == 2
    assert "exists: choose a new file name" in capsys.readouterr().err
    assert main(["db", "backup", str(tmp_path / "x.db"), "--database-url", f"sqlite:///{tmp_path / 'none.db'}"]) == 2
    assert "there is no database at" in capsys.readouterr().err and not (tmp_path / "none.db").exists()
    assert main(["db", "backup", str(tmp_path / "y.db"), "--database-url", "postgresql://u@127.0.0.1/test"]) == 2
    assert "use pg_dump" in capsys.readouterr().err
    assert main(["db", "backup", str(tmp_path / "no" / "dir.db"), "--database-url", url]) == 2
    assert "is not a directory" in capsys.readouterr().err
