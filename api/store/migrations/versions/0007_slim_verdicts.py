"""Stored verdicts become slim: rules, sources and questions by id, their texts in the check's language.

Every verdict in ``checks`` and ``check_revisions`` is rewritten in the slim form (``api/documents/slim.py``,
schemas/verdict-slim.schema.json) with the rule base it was evaluated under, rebuilt from its stored snapshot
(``ruleset_snapshots``): the slim form is only ever read with that rule base. A verdict is rewritten only when
the slim form expands back to exactly the stored verdict; one whose rule base has no snapshot (checks from
before snapshots were kept), or that does not come back equal, is kept as it is -- every reader takes both
forms (``slim.full``). No check is lost and none reads differently. The downgrade expands every slim verdict
whose rule base is stored back into the full form.

This migration uses the application's slim/expand functions: they must read every slim form ever stored.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("checks", "check_revisions")


def _bases(conn: sa.Connection) -> Callable[[str], Any]:
    """The rule base of a ruleset hash (None if it is not stored), each built once."""
    from biotoets.engine.scenarios import rule_base_from_snapshot

    found: dict[str, Any] = {}

    def base_of(ruleset_hash: str) -> Any:
        if ruleset_hash not in found:
            row = conn.execute(sa.text("SELECT files_json FROM ruleset_snapshots WHERE hash = :h"),
                               {"h": ruleset_hash}).first()
            base = None
            if row is not None:
                files = {k: base64.b64decode(v) for k, v in json.loads(row[0]).items()}
                base = rule_base_from_snapshot(files)[0]
            found[ruleset_hash] = base if base is None or base.digest == ruleset_hash else None
        return found[ruleset_hash]

    return base_of


def _rewrite(conn: sa.Connection, table: str, change: Callable[[dict[str, Any], Any], dict[str, Any] | None],
             base_of: Callable[[str], Any]) -> None:
    last = 0
    while True:  # in slices, so a large table is never read into memory at once
        rows = conn.execute(sa.text(f"SELECT seq, verdict_json FROM {table} WHERE seq > :last ORDER BY seq LIMIT 500"),
                            {"last": last}).all()
        if not rows:
            break
        for seq, verdict_json in rows:
            verdict = json.loads(verdict_json)
            base = base_of(verdict["ruleset"]["hash"])
            new = change(verdict, base) if base is not None else None
            if new is not None:
                conn.execute(sa.text(f"UPDATE {table} SET verdict_json = :v WHERE seq = :seq"),
                             {"v": json.dumps(new, ensure_ascii=False, separators=(",", ":")), "seq": seq})
        last = rows[-1][0]


def _to_slim(verdict: dict[str, Any], base: Any) -> dict[str, Any] | None:
    from biotoets.api.documents import slim

    if slim.is_slim(verdict):
        return None
    try:
        thin = slim.slim(verdict, base)
        back = slim.expand(json.loads(json.dumps(thin)), base)
    except (KeyError, ValueError, TypeError, IndexError, StopIteration):  # a shape this rule base cannot name
        return None
    return thin if back == verdict else None


def _to_full(verdict: dict[str, Any], base: Any) -> dict[str, Any] | None:
    from biotoets.api.documents import slim

    return slim.expand(verdict, base) if slim.is_slim(verdict) else None


def upgrade() -> None:
    conn = op.get_bind()
    base_of = _bases(conn)
    for table in TABLES:
        _rewrite(conn, table, _to_slim, base_of)


def downgrade() -> None:
    conn = op.get_bind()
    base_of = _bases(conn)
    for table in TABLES:
        _rewrite(conn, table, _to_full, base_of)
