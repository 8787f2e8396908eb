"""Settings of the HTTP service, read from the environment.

Every setting has a safe default, so ``biotoets serve`` works on a fresh
clone with no configuration at all: an SQLite file under ``./var/``, keys
required on every endpoint that evaluates or stores, a 1 MB body limit.

Worker processes started by uvicorn read the same environment, which is why
the CLI passes its options on as environment variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///./var/biotoets.db"
DEFAULT_MAX_BODY_BYTES = 1_000_000
SQLITE_SYNCHRONOUS = ("full", "normal")


class SettingsError(ValueError):
    """A setting in the environment has a value that cannot be used."""


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r}: use true or false")


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: not a whole number") from None
    if value < minimum:
        raise SettingsError(f"{name}={raw!r}: must be at least {minimum}")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value not in choices:
        raise SettingsError(f"{name}={raw!r}: use {' or '.join(choices)}")
    return value


def normalise_database_url(url: str) -> str:
    """Pick the drivers we ship: psycopg 3 for PostgreSQL, the stdlib module for SQLite."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@dataclass(frozen=True)
class Settings:
    """What one server process needs to know."""

    database_url: str = DEFAULT_DATABASE_URL
    # Let POST /v1/evaluations (evaluate, store nothing) be called without a key.
    open_evaluations: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # How long a verified API key stays trusted in a process without checking its hash again.
    key_cache_seconds: int = 60
    # How long a key's standing (revoked? which role?) read from the database holds; 0: read on every request.
    key_standing_seconds: int = 1
    # Run pending migrations when a process starts (``biotoets serve`` has already done so).
    migrate_on_start: bool = True
    rules_dir: Path | None = None
    # Failed authentications per client address and window before it gets 429 (api/ratelimit.py); 0: no limit.
    auth_failure_limit: int = 20
    auth_failure_window_seconds: int = 60
    # One JSON log line per request (biotoets.access); GET /metrics without an admin key.
    access_log: bool = False
    metrics_public: bool = False
    # Evaluations a worker process lets wait for its engine thread before it answers 503 (0: no limit).
    engine_queue_limit: int = 256
    # SQLite: "full" syncs the write-ahead log on every commit, so an acknowledged check survives a power loss
    # (the check writer's group commit shares one sync among the checks that arrive together); "normal" survives
    # a killed process but may lose the last commits when the machine loses power.
    sqlite_synchronous: str = "full"
    # Host names the server answers to (BIOTOETS_TRUSTED_HOSTS, comma-separated; loopback names are added);
    # empty: any (redirects never name a host either way, api/hardening.py).
    trusted_hosts: tuple[str, ...] = ()
    # Costly calls per key and window (api/quota.py): replays (counted in the audit log, so across servers) and
    # impact runs (per worker); past it, 429. 0: no quota.
    key_quota: int = 30
    key_quota_window_seconds: int = 60

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        rules = env.get("BIOTOETS_RULES_DIR") or None
        return cls(
            database_url=normalise_database_url(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL),
            open_evaluations=_flag(env, "BIOTOETS_OPEN_EVALUATIONS", False),
            max_body_bytes=_int(env, "BIOTOETS_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, 1024),
            key_cache_seconds=_int(env, "BIOTOETS_KEY_CACHE_SECONDS", 60, 0),
            key_standing_seconds=_int(env, "BIOTOETS_KEY_STANDING_SECONDS", 1, 0),
            migrate_on_start=_flag(env, "BIOTOETS_MIGRATE_ON_START", True),
            rules_dir=Path(rules) if rules else None,
            auth_failure_limit=_int(env, "BIOTOETS_AUTH_FAILURE_LIMIT", 20, 0),
            auth_failure_window_seconds=_int(env, "BIOTOETS_AUTH_FAILURE_WINDOW", 60, 1),
            access_log=_flag(env, "BIOTOETS_ACCESS_LOG", False),
            metrics_public=_flag(env, "BIOTOETS_METRICS_PUBLIC", False),
            engine_queue_limit=_int(env, "BIOTOETS_ENGINE_QUEUE_LIMIT", 256, 0),
            key_quota=_int(env, "BIOTOETS_KEY_QUOTA", 30, 0),
            trusted_hosts=tuple(h.strip().lower() for h in env.get("BIOTOETS_TRUSTED_HOSTS", "").split(",")
                                if h.strip()),
            key_quota_window_seconds=_int(env, "BIOTOETS_KEY_QUOTA_WINDOW", 60, 1),
            sqlite_synchronous=_choice(env, "BIOTOETS_SQLITE_SYNCHRONOUS", "full", SQLITE_SYNCHRONOUS),
        )

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
