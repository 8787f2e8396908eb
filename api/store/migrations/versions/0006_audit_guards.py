"""The audit log grows only at its end, and its head can only point at its last record.

Migration 0003 refuses UPDATE and DELETE of records. Two ways round it remained: on SQLite ``INSERT OR REPLACE``
removes the record it collides with and writes a new one (the delete triggers do not fire for it), and the
``audit_head`` row could be moved anywhere, so deleting the last records and moving the head back passed
verification. Now an insert must carry the next number and the hash of the record before it (a replacement
collides with an earlier number and is refused), and the head may only move forward, onto the newest record, and
can be neither removed nor added twice. An index lets the replay quota count a key's recent replays.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
APPEND = "audit_log grows only at its end: a new record needs the next number and the hash of the record before it"
HEAD = "audit_head only moves forward, onto the newest audit record"

_SQLITE = [
    f"""CREATE TRIGGER audit_log_append_in_order BEFORE INSERT ON audit_log
        WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM audit_log)
          OR NEW.prev_hash IS NOT coalesce((SELECT hash FROM audit_log WHERE seq = NEW.seq - 1), '{GENESIS}')
        BEGIN SELECT RAISE(ABORT, '{APPEND}'); END""",
    f"""CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head
        WHEN NEW.id IS NOT OLD.id OR NEW.seq < OLD.seq
          OR NEW.seq IS NOT (SELECT coalesce(max(seq), 0) FROM audit_log)
          OR NEW.hash IS NOT coalesce((SELECT hash FROM audit_log WHERE seq = NEW.seq), '{GENESIS}')
        BEGIN SELECT RAISE(ABORT, '{HEAD}'); END""",
    f"CREATE TRIGGER audit_head_kept BEFORE DELETE ON audit_head BEGIN SELECT RAISE(ABORT, '{HEAD}'); END",
    f"""CREATE TRIGGER audit_head_single BEFORE INSERT ON audit_head WHEN EXISTS (SELECT 1 FROM audit_head)
        BEGIN SELECT RAISE(ABORT, '{HEAD}'); END""",
]

_POSTGRES = [
    f"""CREATE FUNCTION audit_log_append_in_order() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.seq IS DISTINCT FROM (SELECT coalesce(max(seq), 0) + 1 FROM audit_log)
             OR NEW.prev_hash IS DISTINCT FROM
                coalesce((SELECT hash FROM audit_log WHERE seq = NEW.seq - 1), '{GENESIS}') THEN
            RAISE EXCEPTION '{APPEND}' USING ERRCODE = 'insufficient_privilege';
          END IF;
          RETURN NEW;
        END $$""",
    """CREATE TRIGGER audit_log_append_in_order BEFORE INSERT ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_in_order()""",
    f"""CREATE FUNCTION audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' OR (TG_OP = 'INSERT' AND EXISTS (SELECT 1 FROM audit_head)) THEN
            RAISE EXCEPTION '{HEAD}' USING ERRCODE = 'insufficient_privilege';
          END IF;
          IF TG_OP = 'UPDATE' AND (NEW.id IS DISTINCT FROM OLD.id OR NEW.seq < OLD.seq
             OR NEW.seq IS DISTINCT FROM (SELECT coalesce(max(seq), 0) FROM audit_log)
             OR NEW.hash IS DISTINCT FROM coalesce((SELECT hash FROM audit_log WHERE seq = NEW.seq), '{GENESIS}'))
          THEN
            RAISE EXCEPTION '{HEAD}' USING ERRCODE = 'insufficient_privilege';
          END IF;
          RETURN NEW;
        END $$""",
    """CREATE TRIGGER audit_head_forward BEFORE INSERT OR UPDATE OR DELETE ON audit_head
        FOR EACH ROW EXECUTE FUNCTION audit_head_forward()""",
    """CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""",
]


def upgrade() -> None:
    # A key's recent replays are counted for its quota (api/quota.py).
    op.create_index("ix_audit_log_actor_action_at", "audit_log", ["actor", "action", "at"])
    for statement in _SQLITE if op.get_bind().dialect.name == "sqlite" else _POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_audit_log_actor_action_at", table_name="audit_log")
    if op.get_bind().dialect.name == "sqlite":
        for name in ("audit_log_append_in_order", "audit_head_forward", "audit_head_kept", "audit_head_single"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_head")
    op.execute("DROP TRIGGER IF EXISTS audit_head_forward ON audit_head")
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_in_order ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS audit_head_forward()")
    op.execute("DROP FUNCTION IF EXISTS audit_log_append_in_order()")
