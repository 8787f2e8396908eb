"""Review workflow: reviews, earlier evaluations of a check, rule-base snapshots, web sessions.

- ``checks.open_norms``: how many open norms the verdict flags (the review queue filters on it);
  filled in for existing checks from their stored verdicts.
- ``checks.revision``: which evaluation of the check is current (1 = the one it was created with;
  each re-evaluation after the applicant answers an assessor's questions adds one).
- ``check_revisions``: the evaluations a check had before its current one, kept as they were.
- ``reviews``: every assessor decision (start, confirm, override, request information) and every
  applicant answer, with the automated verdict it was about; an override never touches the
  automated verdict, it records the new verdict and the reason next to it.
- ``ruleset_snapshots``: the exact rule files of every rule base a check was evaluated with, so a
  check can be replayed after the shipped rules have changed.
- ``web_sessions``: signed-in browsers (only a hash of the session token is stored).

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("checks") as batch:
        batch.add_column(sa.Column("open_norms", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))
    conn = op.get_bind()
    last = 0
    while True:  # in slices, so a large table is never read into memory at once
        rows = conn.execute(sa.text("SELECT seq, verdict_json FROM checks WHERE seq > :last ORDER BY seq LIMIT 500"),
                            {"last": last}).all()
        if not rows:
            break
        for seq, verdict_json in rows:
            norms = len(json.loads(verdict_json).get("open_norms") or [])
            if norms:
                conn.execute(sa.text("UPDATE checks SET open_norms = :n WHERE seq = :seq"), {"n": norms, "seq": seq})
        last = rows[-1][0]

    op.create_table(
        "check_revisions",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("check_id", sa.String(36), sa.ForeignKey("checks.id"), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("lang", sa.String(2), nullable=False),
        sa.Column("ruleset_hash", sa.String(64), nullable=False),
        sa.Column("engine_version", sa.String(32), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("proposal_json", sa.Text(), nullable=False),
        sa.Column("verdict_json", sa.Text(), nullable=False),
        sa.UniqueConstraint("check_id", "revision", name="uq_check_revisions_check_revision"),
    )
    op.create_table(
        "reviews",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("check_id", sa.String(36), sa.ForeignKey("checks.id"), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(32), sa.ForeignKey("api_keys.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(32), nullable=False),
        sa.Column("to_status", sa.String(32), nullable=False),
        sa.Column("automated_verdict", sa.String(16), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("questions_json", sa.Text(), nullable=True),
    )
    op.create_index("ix_reviews_check_seq", "reviews", ["check_id", "seq"])
    op.create_table(
        "ruleset_snapshots",
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("engine_version", sa.String(32), nullable=False),
        sa.Column("files_json", sa.Text(), nullable=False),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.String(32), sa.ForeignKey("api_keys.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("draft_json", sa.Text(), nullable=True),
    )
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_expires_at", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_table("ruleset_snapshots")
    op.drop_index("ix_reviews_check_seq", table_name="reviews")
    op.drop_table("reviews")
    op.drop_table("check_revisions")
    with op.batch_alter_table("checks") as batch:
        batch.drop_column("revision")
        batch.drop_column("open_norms")
