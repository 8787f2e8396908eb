"""Backups of a SQLite database while servers may be writing to it: one consistent copy (SQLite's online
backup), then checked (integrity, the checks it holds, the audit chain) before the caller keeps it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text

from . import audit
from .db import Database


def copy_sqlite(db: Database, target: Path) -> None:
    """Copy the database into ``target`` as one consistent snapshot."""
    raw = db.engine.raw_connection()
    try:
        copy = sqlite3.connect(target)
        try:
            assert raw.driver_connection is not None
            raw.driver_connection.backup(copy)
        finally:
            copy.close()
    finally:
        raw.close()


def check_copy(path: Path) -> tuple[str | None, int | None, audit.ChainReport]:
    """The copy's integrity ("ok" when sound), how many checks it holds, and its audit chain's verification."""
    kept = Database(f"sqlite:///{path}")
    try:
        with kept.read() as conn:
            integrity = conn.execute(text("PRAGMA integrity_check")).scalar()
            checks = conn.execute(text("SELECT count(*) FROM checks")).scalar()
        report = audit.verify(kept)
    finally:
        kept.dispose()
    return integrity, checks, report
