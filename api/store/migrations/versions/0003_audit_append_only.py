"""The audit log is append-only in the database itself: UPDATE, DELETE (and on PostgreSQL TRUNCATE) of
``audit_log`` rows are refused by triggers.

The hash chain already shows any change (``biotoets audit verify``); the triggers stop one from happening through
any connection that has not first dropped them -- a slip in code, a hand-typed statement, a tool that "cleans up".
Someone who drops a trigger to alter a record still breaks the chain, and verification names the record.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MESSAGE = "audit_log is append-only: its records cannot be changed or removed"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event, name in (("UPDATE", "audit_log_no_update"), ("DELETE", "audit_log_no_delete")):
            op.execute(f"CREATE TRIGGER {name} BEFORE {event} ON audit_log "
                       f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")
        return
    op.execute("CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
               f"BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege'; END $$")
    op.execute("CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
               "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")
    op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
               "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
