"""Web sessions: a signed-in person's session (only a hash of its token is stored), its CSRF token and the
draft of the proposal form. A session ends when the person signs out, after ``SESSION_HOURS``, or at once when
the key is revoked."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, insert, select, update

from . import audit
from .db import ApiKey, Database, WebSession, as_utc, dumps, utcnow
from .keys import Principal, Role, expired

SESSION_HOURS = 12


@dataclass
class WebUser:
    principal: Principal
    session: str  # the hash of the token: the row's id
    csrf: str
    draft: dict[str, Any] | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_session(db: Database, principal: Principal) -> str:
    """A new session for a verified key; returns the token for the cookie (expired sessions are cleared)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with db.write() as conn:
        conn.execute(delete(WebSession).where(WebSession.expires_at < now))
        conn.execute(insert(WebSession).values(
            id=_digest(token), key_id=principal.key_id, created_at=now,
            expires_at=now + dt.timedelta(hours=SESSION_HOURS), csrf=secrets.token_urlsafe(32), draft_json=None))
        # Who signed in to the web pages, and when (never the token; failed attempts are counted, not chained).
        audit.append(conn, actor=principal.key_id, action="session.started", subject=principal.key_id,
                     data={"key": principal.key_id, "role": principal.role.value})
    return token


def load_session(db: Database, token: str) -> WebUser | None:
    """The signed-in person, if the token names a live session of a key that is not revoked."""
    if not token or len(token) > 200:
        return None
    with db.read() as conn:
        row = conn.execute(
            select(WebSession.id, WebSession.expires_at, WebSession.csrf, WebSession.draft_json, ApiKey.id.label("key"),
                   ApiKey.name, ApiKey.role, ApiKey.revoked_at, ApiKey.expires_at.label("key_expires_at"))
            .join(ApiKey, ApiKey.id == WebSession.key_id).where(WebSession.id == _digest(token))
        ).one_or_none()
    if row is None or row.revoked_at is not None or as_utc(row.expires_at) <= utcnow() or expired(row.key_expires_at):
        return None
    draft = orjson.loads(row.draft_json) if row.draft_json else None
    return WebUser(Principal(row.key, row.name, Role(row.role)), row.id, row.csrf, draft)


def save_draft(db: Database, session: str, draft: Mapping[str, Any] | None) -> None:
    with db.write() as conn:
        conn.execute(update(WebSession).where(WebSession.id == session)
                     .values(draft_json=dumps(draft) if draft is not None else None))


def end_session(db: Database, session: str, principal: Principal) -> None:
    with db.write() as conn:
        gone = conn.execute(delete(WebSession).where(WebSession.id == session)).rowcount
        if gone:
            audit.append(conn, actor=principal.key_id, action="session.ended", subject=principal.key_id,
                         data={"key": principal.key_id})
