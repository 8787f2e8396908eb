"""Safe retries of POST /v1/checks: the client's Idempotency-Key and a hash of its request, unique per owner.

A client that lost the answer to a request (its connection dropped, the server was killed) sends it again with
the same key and gets the check that was stored -- or, if none was, the one made now: never two.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("checks", sa.Column("idempotency_key", sa.String(200), nullable=True))
    op.add_column("checks", sa.Column("idempotency_hash", sa.String(64), nullable=True))
    op.create_index("ix_checks_owner_idempotency_key", "checks", ["owner", "idempotency_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_checks_owner_idempotency_key", table_name="checks")
    with op.batch_alter_table("checks") as batch:
        batch.drop_column("idempotency_hash")
        batch.drop_column("idempotency_key")
