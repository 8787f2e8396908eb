"""An acknowledged check survives a power loss: SQLite syncs its log on every commit unless told otherwise.

``synchronous=NORMAL`` in WAL mode keeps a committed transaction through a killed process, not through a machine
that loses power; ``FULL`` is the default, ``normal`` only an explicit choice (``--sqlite-synchronous normal`` or
``BIOTOETS_SQLITE_SYNCHRONOUS=normal``). The cost in checks per second is measured by ``python -m bench.durability``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from biotoets.api.cli import build_parser
from biotoets.api.http.app import create_app
from biotoets.api.settings import Settings, SettingsError
from biotoets.api.store import db as dbm

FULL, NORMAL = 2, 1  # what PRAGMA synchronous answers


def _mode(db: dbm.Database) -> int:
    with db.read() as conn:
        return int(conn.execute(text("PRAGMA synchronous")).scalar_one())


def test_a_database_syncs_every_commit_by_default(tmp_path: Path) -> None:
    db = dbm.open_database(Settings(database_url=f"sqlite:///{tmp_path / 'a.db'}"))
    try:
        assert _mode(db) == FULL
    finally:
        db.dispose()


def test_normal_is_there_when_asked_for(tmp_path: Path) -> None:
    settings = Settings.from_env({"DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}",
                                  "BIOTOETS_SQLITE_SYNCHRONOUS": "Normal"})
    assert settings.sqlite_synchronous == "normal"
    db = dbm.open_database(settings)
    try:
        assert _mode(db) == NORMAL
    finally:
        db.dispose()


def test_the_server_stores_with_full_sync(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'a.db'}"))
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        assert _mode(app.state.biotoets.db) == FULL
        assert _mode(app.state.biotoets.writer.db) == FULL


def test_an_unknown_mode_is_refused_with_the_choices() -> None:
    with pytest.raises(SettingsError, match=r"BIOTOETS_SQLITE_SYNCHRONOUS='off': use full or normal"):
        Settings.from_env({"BIOTOETS_SQLITE_SYNCHRONOUS": "off"})
    with pytest.raises(ValueError, match="SQLite synchronous mode 'off': use full or normal"):
        dbm.Database("sqlite://", "off")


def test_serve_takes_the_mode_as_an_option(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    assert parser.parse_args(["serve"]).sqlite_synchronous is None  # the setting's default (full) applies
    assert parser.parse_args(["serve", "--sqlite-synchronous", "normal"]).sqlite_synchronous == "normal"
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--sqlite-synchronous", "off"])
    assert "invalid choice: 'off'" in capsys.readouterr().err
