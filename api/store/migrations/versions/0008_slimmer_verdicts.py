"""Stored slim verdicts take today's slim form: everything static by id, what follows from the rest left out.

Every verdict in ``checks`` and ``check_revisions`` still in the first slim form (``api/documents/slim_v1.py``:
titles, question and condition texts in the check's language, ``not_assessed`` with rule ids and texts, the
trace with rule ids) is rewritten in today's (``api/documents/slim.py``, schemas/verdict-slim.schema.json) with
the rule base it was evaluated under, rebuilt from its stored snapshot. A verdict is rewritten only when the
new form expands back to exactly what the old one expanded to (the same full verdict); one whose rule base has
no snapshot, or that does not come back equal, is kept as it is -- every reader takes every form
(``slim.full``). No check is lost and none reads differently. The downgrade writes the first slim form again
where the rule base is stored.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_previous = importlib.import_module("biotoets.api.store.migrations.versions.0007_slim_verdicts")


def _to_current(verdict: dict[str, Any], base: Any) -> dict[str, Any] | None:
    from biotoets.api.documents import slim, slim_v1

    if not slim.is_slim(verdict) or "checked" not in verdict:  # full, or already in today's form
        return None
    try:
        full = slim_v1.expand(verdict, base)
        new = slim.slim(full, base)
        back = slim.expand(json.loads(json.dumps(new)), base)
    except (KeyError, ValueError, TypeError, IndexError):  # a shape this rule base cannot name
        return None
    return new if back == full else None


def _to_first(verdict: dict[str, Any], base: Any) -> dict[str, Any] | None:
    from biotoets.api.documents import slim, slim_v1

    if not slim.is_slim(verdict) or "checked" in verdict:
        return None
    return slim_v1.slim(slim.expand(verdict, base), base)


def upgrade() -> None:
    conn = op.get_bind()
    base_of = _previous._bases(conn)
    for table in _previous.TABLES:
        _previous._rewrite(conn, table, _to_current, base_of)


def downgrade() -> None:
    conn = op.get_bind()
    base_of = _previous._bases(conn)
    for table in _previous.TABLES:
        _previous._rewrite(conn, table, _to_first, base_of)
