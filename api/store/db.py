"""Storage: the tables (SQLAlchemy 2 models), database connections and migrations.

SQLite is the default (one file, zero set-up); ``DATABASE_URL`` switches to
PostgreSQL. The schema is owned by the Alembic migrations in
``biotoets.api.store.migrations``; the models here describe the same tables for
queries and must stay in step with the newest migration (a test compares them).

SQLite is used the way several writer processes need it: WAL journal,
``synchronous=FULL`` by default (a committed transaction survives a power loss;
``NORMAL``, on request, survives only a killed process), a busy timeout,
and ``BEGIN IMMEDIATE`` for write transactions so two processes never both
read-then-write and deadlock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ..settings import Settings
from .locks import WriteLock

# BIGINT on PostgreSQL; on SQLite only INTEGER PRIMARY KEY is the auto-incrementing rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class ApiKey(Base):
    """An API key. Only a hash of its secret is kept; ``id`` is the non-secret part of the key."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    secret_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Migration 0005: the key is refused from this moment on (None: it does not expire).
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Check(Base):
    """A stored pre-check: the proposal as received, its verdict and the rule base that gave it."""

    __tablename__ = "checks"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    owner: Mapped[str] = mapped_column(String(32), ForeignKey("api_keys.id"))
    # Review workflow (later): submitted -> in_review -> confirmed | overridden | information_requested.
    status: Mapped[str] = mapped_column(String(32), default="submitted")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    title: Mapped[str | None] = mapped_column(String(500), nullable=True)
    verdict: Mapped[str] = mapped_column(String(16))
    complete: Mapped[bool] = mapped_column(Boolean)
    could_become: Mapped[str] = mapped_column(String(16))
    could_fall_to: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[dt.date] = mapped_column(Date)
    lang: Mapped[str] = mapped_column(String(2))
    scenario: Mapped[str | None] = mapped_column(String(100), nullable=True)
    ruleset_hash: Mapped[str] = mapped_column(String(64))
    engine_version: Mapped[str] = mapped_column(String(32))
    # The request body exactly as received, its media type, and the parsed document (JSON).
    proposal_raw: Mapped[str] = mapped_column(Text)
    proposal_media_type: Mapped[str] = mapped_column(String(100))
    proposal_json: Mapped[str] = mapped_column(Text)
    # The verdict document as returned to the applicant (JSON).
    verdict_json: Mapped[str] = mapped_column(Text)
    # Review workflow (migration 0002): open norms the verdict flags; which evaluation is current.
    open_norms: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Safe retries (migration 0004): the client's Idempotency-Key, unique per owner, and the hash of the request
    # it came with (a second request with the key gets this check back, or 422 if it asks something else).
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    idempotency_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        Index("ix_checks_owner_seq", "owner", "seq"),
        Index("ix_checks_status_seq", "status", "seq"),
        Index("ix_checks_verdict_seq", "verdict", "seq"),
        Index("ix_checks_owner_idempotency_key", "owner", "idempotency_key", unique=True),
    )


class AuditRecord(Base):
    """One entry of the append-only, hash-chained audit log.

    ``hash = sha256(prev_hash + payload)``, where ``payload`` is the canonical
    JSON of the record (sequence number, time, actor, action, subject, data).
    """

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    # Migration 0006: the replay quota counts a key's recent replays (api/quota.py).
    __table_args__ = (Index("ix_audit_log_subject", "subject"),
                      Index("ix_audit_log_actor_action_at", "actor", "action", "at"))


class AuditHead(Base):
    """The chain's newest record (a single row); writers lock it to append in order."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigId)
    hash: Mapped[str] = mapped_column(String(64))


class CheckRevision(Base):
    """An evaluation a check had before it was re-evaluated, kept as it was."""

    __tablename__ = "check_revisions"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    check_id: Mapped[str] = mapped_column(String(36), ForeignKey("checks.id"))
    revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    replaced_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    as_of: Mapped[dt.date] = mapped_column(Date)
    lang: Mapped[str] = mapped_column(String(2))
    ruleset_hash: Mapped[str] = mapped_column(String(64))
    engine_version: Mapped[str] = mapped_column(String(32))
    verdict: Mapped[str] = mapped_column(String(16))
    proposal_json: Mapped[str] = mapped_column(Text)
    verdict_json: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("check_id", "revision", name="uq_check_revisions_check_revision"),)


class Review(Base):
    """One step of a check's review: an assessor's decision or the applicant's answers.

    The automated verdict it was about is kept beside it; an override records the new verdict and reason.
    """

    __tablename__ = "reviews"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    check_id: Mapped[str] = mapped_column(String(36), ForeignKey("checks.id"))
    revision: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(32), ForeignKey("api_keys.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decision: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    automated_verdict: Mapped[str] = mapped_column(String(16))
    verdict: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    questions_json: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_reviews_check_seq", "check_id", "seq"),)


class RulesetSnapshot(Base):
    """The exact rule files of a rule base that gave stored verdicts (for replay)."""

    __tablename__ = "ruleset_snapshots"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    engine_version: Mapped[str] = mapped_column(String(32))
    files_json: Mapped[str] = mapped_column(Text)


class WebSession(Base):
    """A signed-in browser. ``id`` is the SHA-256 of the session token; the token lives only in the cookie."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), ForeignKey("api_keys.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    csrf: Mapped[str] = mapped_column(String(64))
    draft_json: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_web_sessions_expires_at", "expires_at"),)


GENESIS_HASH = "0" * 64
# The largest sequence number either database stores (a signed 64-bit integer): a bigger one read from a
# request can name no record, and SQLite would refuse to bind it.
MAX_SEQ = 2**63 - 1


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# -- connections ------------------------------------------------------------------------------
def sqlite_path(url: str) -> Path | None:
    """The database file of an SQLite URL (None for in-memory databases)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _sqlite_engine(url: str, synchronous: str) -> Engine:
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30}, pool_size=8, max_overflow=32)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take over transaction control from the sqlite3 module (it would begin lazily and deferred).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


class Database:
    """The connections of one process: a writer handle and a reader handle on one pool."""

    def __init__(self, url: str, sqlite_synchronous: str = "full") -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine: Engine
        self.writer: Engine
        self.sqlite_synchronous = sqlite_synchronous
        if self.is_sqlite:
            if sqlite_synchronous not in ("full", "normal"):
                raise ValueError(f"SQLite synchronous mode {sqlite_synchronous!r}: use full or normal")
            self.engine = _sqlite_engine(url, sqlite_synchronous.upper())
            self.writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
            path = sqlite_path(url)
            if path is not None:
                self._write_lock = WriteLock(path.with_name(path.name + ".write-lock"))
        else:
            self.engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
            self.writer = self.engine
        self.reader = self.engine

    _write_lock: WriteLock | None = None

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed on leaving the block (rolled back on an error).

        On an SQLite file the writers of all processes take turns on a file lock first, so none of them sleeps
        in SQLite's busy retries (sleeps of 1-100 ms, which made the latency tail with two workers)."""
        if self._write_lock is None:
            with self.writer.begin() as conn:
                yield conn
            return
        with self._write_lock, self.writer.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """This thread's turn to write, across transactions (an SQLite file's lock, which ``write`` re-enters)."""
        if self._write_lock is None:
            yield
            return
        with self._write_lock:
            yield

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with self.reader.connect() as conn:
            yield conn

    def ping(self) -> None:
        with self.reader.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


# -- migrations -------------------------------------------------------------------------------
def _alembic_config(conn: Connection) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("biotoets.api.store.migrations")))
    cfg.attributes["connection"] = conn
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(None)  # type: ignore[arg-type]
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextlib.contextmanager
def _migration_lock(db: Database) -> Iterator[None]:
    """Let one process at a time migrate (several workers may start together)."""
    path = sqlite_path(db.url) if db.is_sqlite else None
    if db.is_sqlite:
        if path is None:
            yield
            return
        lock_path = path.with_name(path.name + ".migrate-lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        return
    with db.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(727274140)"))
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(727274140)"))
            conn.commit()


def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str]:
    """Bring the schema up to ``revision``; returns (revision before, revision after)."""
    from alembic import command

    with _migration_lock(db):
        before = current_revision(db)
        if before != head_revision() or revision != "head":
            with db.engine.begin() as conn:
                command.upgrade(_alembic_config(conn), revision)
        return before, current_revision(db) or ""


def open_database(settings: Settings, migrate: bool = True) -> Database:
    """Connect (creating an SQLite file and its folder if needed) and optionally migrate."""
    db = Database(settings.database_url, settings.sqlite_synchronous)
    if migrate:
        upgrade(db)
    return db
