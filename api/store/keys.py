"""API keys: creating them, storing them hashed, and recognising them on requests.

A key looks like ``btk_<id>_<secret>``. The id is not secret: it names the
key's row, so one argon2 verification suffices (argon2 is slow on purpose).
Only an argon2id hash of the secret is stored; the key itself is shown once.

A process remembers for ``key_cache_seconds`` that a key's secret matched
(and that a key was refused, so a stream of wrong keys cannot keep the CPU
busy with argon2), but it reads the key's row again whenever the last reading
is ``key_standing_seconds`` (1 s) old: a revoked key is refused, and a new role
applies, within a second in every process.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Row

from . import audit
from .db import ApiKey, Database, WebSession, as_utc, utcnow

PREFIX = "btk"
# OWASP's recommended minimum for argon2id (19 MiB, 2 passes, 1 lane): slow for guessing, quick enough once.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


class Role(StrEnum):
    applicant = "applicant"
    assessor = "assessor"
    admin = "admin"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id (the owner of the checks it creates), its name and role."""

    key_id: str
    name: str
    role: Role


@dataclass(frozen=True)
class NewKey:
    key: str
    principal: Principal


def _new_id() -> str:
    return base64.b32encode(secrets.token_bytes(10)).decode().lower()  # 16 chars, no '_'


def split_key(key: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed key, else None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or len(parts[2]) < 20 or len(key) > 200:
        return None
    return parts[1], parts[2]


def create_key(db: Database, role: Role | str, name: str, actor: str = "cli",
               expires_at: dt.datetime | None = None) -> NewKey:
    """Create and store a key; the returned ``key`` is the only time its secret exists in the clear."""
    role = Role(role)
    name = name.strip()
    if not name:
        raise ValueError("a key needs a name (who or what uses it)")
    if len(name) > 200:
        raise ValueError("a key name is at most 200 characters")
    key_id = _new_id()
    secret = secrets.token_urlsafe(32)
    with db.write() as conn:
        conn.execute(insert(ApiKey).values(
            id=key_id, name=name, role=role.value, secret_hash=_HASHER.hash(secret), created_at=utcnow(),
            expires_at=expires_at,
        ))
        audit.append(conn, actor=actor, action="key.created", subject=key_id,
                     data={"key": key_id, "role": role.value, "name": name,
                           "expires_at": expires_at.isoformat() if expires_at else None})
    return NewKey(f"{PREFIX}_{key_id}_{secret}", Principal(key_id, name, role))


def rotate_key(db: Database, key_id: str, actor: str = "cli") -> NewKey | None:
    """A new secret for an active key (same id, so its checks stay its own); the old secret stops working and
    the key's web sessions end. None if there is no active key with this id."""
    secret = secrets.token_urlsafe(32)
    with db.write() as conn:
        row = conn.execute(select(ApiKey.name, ApiKey.role)
                           .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))).one_or_none()
        if row is None:
            return None
        conn.execute(update(ApiKey).where(ApiKey.id == key_id).values(secret_hash=_HASHER.hash(secret)))
        ended = conn.execute(delete(WebSession).where(WebSession.key_id == key_id)).rowcount
        audit.append(conn, actor=actor, action="key.rotated", subject=key_id,
                     data={"key": key_id, "web_sessions_ended": ended})
    return NewKey(f"{PREFIX}_{key_id}_{secret}", Principal(key_id, row.name, Role(row.role)))


def revoke_key(db: Database, key_id: str, actor: str = "cli") -> bool:
    with db.write() as conn:
        done = conn.execute(
            update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None)).values(revoked_at=utcnow())
        ).rowcount
        if done:
            audit.append(conn, actor=actor, action="key.revoked", subject=key_id, data={"key": key_id})
    return bool(done)


def set_role(db: Database, key_id: str, role: Role | str, actor: str = "cli") -> str | None:
    """Give an active key another role (audited); returns the role it had, or None if there is no such key."""
    role = Role(role)
    with db.write() as conn:
        row = conn.execute(select(ApiKey.role).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))).first()
        if row is None:
            return None
        conn.execute(update(ApiKey).where(ApiKey.id == key_id).values(role=role.value))
        audit.append(conn, actor=actor, action="key.role_changed", subject=key_id,
                     data={"key": key_id, "from": row.role, "to": role.value})
    return str(row.role)


def list_keys(db: Database) -> list[Row[Any]]:
    """Every key (id, name, role, created_at, revoked_at, expires_at), oldest first; never the hash."""
    with db.read() as conn:
        return list(conn.execute(
            select(ApiKey.id, ApiKey.name, ApiKey.role, ApiKey.created_at, ApiKey.revoked_at, ApiKey.expires_at)
            .order_by(ApiKey.created_at, ApiKey.id)
        ))


def expired(expires_at: dt.datetime | None) -> bool:
    """Whether a key with this expiry moment has expired (None: it never does)."""
    return expires_at is not None and as_utc(expires_at) <= utcnow()


_DUMMY_HASH: list[str] = []


def _spend_a_verification(secret: str) -> None:
    """Verify ``secret`` against a hash no key has, so an unknown key id costs what a known one does."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(_HASHER.hash(secrets.token_urlsafe(32)))
    try:
        _HASHER.verify(_DUMMY_HASH[0], secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        pass


def verify_key(db: Database, key: str) -> Principal | None:
    """Look the key up by its id and check its secret against the stored hash (slow: argon2)."""
    verified = _verify(db, key)
    return verified[0] if verified else None


def _verify(db: Database, key: str) -> tuple[Principal, str] | None:
    """(principal, the stored hash the secret matched) of a valid key, else None."""
    parts = split_key(key)
    if parts is None:
        return None
    key_id, secret = parts
    with db.read() as conn:
        row = conn.execute(
            select(ApiKey.name, ApiKey.role, ApiKey.secret_hash, ApiKey.revoked_at, ApiKey.expires_at)
            .where(ApiKey.id == key_id)
        ).one_or_none()
    if row is None or row.revoked_at is not None or expired(row.expires_at):
        _spend_a_verification(secret)  # as long as a wrong secret takes: the answer's time says nothing
        return None
    try:
        _HASHER.verify(row.secret_hash, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return Principal(key_id, row.name, Role(row.role)), row.secret_hash


def current(db: Database, principal: Principal, verified_hash: str | None = None) -> Principal | None:
    """The key as it stands now (name and role), or None once it is revoked or gone -- or, given the hash its
    secret was verified against, once it has been rotated to a new secret: one indexed read, no argon2."""
    with db.read() as conn:
        row = conn.execute(
            select(ApiKey.name, ApiKey.role, ApiKey.secret_hash, ApiKey.expires_at)
            .where(ApiKey.id == principal.key_id, ApiKey.revoked_at.is_(None))
        ).one_or_none()
    if row is None or expired(row.expires_at) or (verified_hash is not None and row.secret_hash != verified_hash):
        return None
    if row.name == principal.name and row.role == principal.role.value:
        return principal
    return Principal(principal.key_id, row.name, Role(row.role))


class KeyCache:
    """Verified (and refused) keys of this process, for a short time, with one verification in flight per key."""

    def __init__(self, ttl_seconds: float, standing_seconds: float = 1.0, max_entries: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock  # seconds, for ages only (tests pass their own)
        self.ttl = ttl_seconds
        # How long a key's standing (revoked? which role?) read from the database holds in this process.
        self.standing_seconds = standing_seconds
        self.max_entries = max_entries
        # key fingerprint -> (until, principal or None if refused, the stored hash its secret matched)
        self._entries: OrderedDict[bytes, tuple[float, Principal | None, str | None]] = OrderedDict()
        self._standing: dict[tuple[str, str | None], tuple[float, Principal | None]] = {}
        self._pending: dict[bytes, asyncio.Future[tuple[Principal, str] | None]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _fingerprint(key: str) -> bytes:
        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()

    def get(self, key: str) -> tuple[bool, Principal | None]:
        found, principal, _ = self._get(key)
        return found, principal

    def _get(self, key: str) -> tuple[bool, Principal | None, str | None]:
        fp = self._fingerprint(key)
        with self._lock:
            hit = self._entries.get(fp)
            if hit is None:
                return False, None, None
            if hit[0] < self.clock():
                del self._entries[fp]
                return False, None, None
            return True, hit[1], hit[2]

    def put(self, key: str, principal: Principal | None, verified_hash: str | None = None) -> None:
        if self.ttl <= 0:
            return
        fp = self._fingerprint(key)
        with self._lock:
            self._entries[fp] = (self.clock() + self.ttl, principal, verified_hash)
            self._entries.move_to_end(fp)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._standing.clear()

    async def standing(self, principal: Principal, db: Database, verified_hash: str | None = None) -> Principal | None:
        """The key as it stands now: read from the database at most once per ``standing_seconds`` (0: always)."""
        now = self.clock()
        slot = (principal.key_id, verified_hash)  # (a rotated key's old and new secret stand apart)
        seen = self._standing.get(slot)
        if seen is not None and now - seen[0] < self.standing_seconds:
            return seen[1]
        fresh = await asyncio.to_thread(current, db, principal, verified_hash)
        if len(self._standing) >= self.max_entries:
            self._standing.clear()
        self._standing[slot] = (now, fresh)
        return fresh

    async def resolve(self, key: str, db: Database) -> Principal | None:
        """The key's principal: its secret checked from the cache or verified once in a worker thread, its
        standing (revoked, role) read from the database at most ``standing_seconds`` ago.

        The verification runs as its own task, shared by every request that
        presents the same key meanwhile; a request that goes away does not stop it.
        """
        found, principal, verified_hash = self._get(key)
        if found:
            if principal is None:
                return None
            now = await self.standing(principal, db, verified_hash)
            if now is None:  # revoked or rotated since it was verified
                self.put(key, None)
            return now
        fp = self._fingerprint(key)
        task = self._pending.get(fp)
        if task is None:
            task = asyncio.ensure_future(asyncio.to_thread(_verify, db, key))
            self._pending[fp] = task

            def _done(t: asyncio.Future[tuple[Principal, str] | None]) -> None:
                self._pending.pop(fp, None)
                if not t.cancelled() and t.exception() is None:
                    verified = t.result()
                    self.put(key, *(verified if verified else (None, None)))

            task.add_done_callback(_done)
        verified = await asyncio.shield(task)
        return verified[0] if verified else None


def key_name(db: Database, key_id: str) -> str | None:
    with db.read() as conn:
        row = conn.execute(select(ApiKey.name).where(ApiKey.id == key_id)).first()
    return row.name if row else None
