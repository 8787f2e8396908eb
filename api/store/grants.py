"""PostgreSQL: the role the servers connect as, with no more rights than serving needs.

A server that connects as a superuser (or as the tables' owner) can switch the audit triggers off --
``SET session_replication_role = replica``, ``ALTER TABLE audit_log DISABLE TRIGGER`` -- and then change or remove
records. The application role made here owns nothing and is no superuser: it may read and write the data
tables, only add and read audit records, and only move the chain head (which the triggers keep on the newest
record). Migrations keep running as the owner (``biotoets db upgrade`` with the owner's URL).
"""

from __future__ import annotations

import re

from sqlalchemy import text

from .db import Base, Database

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# What the application role may do per table; every other table of the schema: read and write.
RIGHTS = {"audit_log": "SELECT, INSERT", "audit_head": "SELECT, UPDATE", "alembic_version": "SELECT"}
DATA_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"


class GrantError(ValueError):
    """The role cannot be set up as asked; the message says why."""


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def plan(schema: str, role: str, exists: bool, password: str | None) -> list[str]:
    """The statements that give ``role`` exactly the application's rights on the tables of ``schema``."""
    login = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION"
    if password is not None:
        login += f" PASSWORD {_quote(password)}"
    tables = sorted({*Base.metadata.tables, "alembic_version"})
    out = [f'{"ALTER" if exists else "CREATE"} ROLE "{role}" {login}',
           f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"']
    for table in tables:
        out.append(f'REVOKE ALL ON "{schema}"."{table}" FROM "{role}"')
        out.append(f'GRANT {RIGHTS.get(table, DATA_RIGHTS)} ON "{schema}"."{table}" TO "{role}"')
    out.append(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"')
    return out


def grant(db: Database, role: str, password: str | None = None) -> list[str]:
    """Create (or bring back into line) the application role; returns the statements run."""
    if db.is_sqlite:
        raise GrantError("roles exist only on PostgreSQL")
    if not ROLE_NAME.match(role):
        raise GrantError(f"{role!r} is not a role name this command makes (lower-case letters, digits, _; "
                         "at most 63)")
    with db.write() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        row = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
        if row is not None and row.rolsuper:
            raise GrantError(f"role {role} is a superuser: it could switch the audit triggers off; choose another")
        owner = conn.execute(text("SELECT tableowner FROM pg_tables WHERE schemaname = :s AND tablename = "
                                  "'audit_log'"), {"s": schema}).scalar()
        if owner is None:
            raise GrantError(f"there is no audit_log in schema {schema}: run 'biotoets db upgrade' first")
        if owner == role:
            raise GrantError(f"role {role} owns the tables (it ran the migrations) and could switch the audit "
                             "triggers off; the servers need a role of their own")
        statements = plan(schema, role, row is not None, password)
        for s in statements:
            # Not text(): a password may hold ':name'; '%' is the driver's placeholder sign, written '%%'.
            conn.exec_driver_sql(s.replace("%", "%%"))
    return statements
