"""Which databases the tests run on, and where PostgreSQL is (one place for the API fixtures and the real servers).

``BIOTOETS_TEST_DATABASES=sqlite`` leaves PostgreSQL out on a machine without it; otherwise a PostgreSQL that
cannot be reached fails the run (it is never skipped). ``BIOTOETS_TEST_POSTGRES_URL`` names another server.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_URLS = [
    os.environ.get("BIOTOETS_TEST_POSTGRES_URL", ""),
    "postgresql+psycopg://root@127.0.0.1:5432/test",
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
]
DATABASES = [d.strip() for d in os.environ.get("BIOTOETS_TEST_DATABASES", "sqlite,postgresql").split(",")
             if d.strip()]


def postgres_base_url() -> str:
    """The first PostgreSQL URL that answers (CI's server takes either user name)."""
    errors = []
    for url in [u for u in POSTGRES_URLS if u]:
        eng = create_engine(url)
        try:
            with eng.connect() as conn:
                conn.execute(text("SELECT 1"))
            return url
        except Exception as exc:  # noqa: BLE001 - try the next user name
            errors.append(f"{url}: {str(exc).splitlines()[0]}")
        finally:
            eng.dispose()
    pytest.fail("PostgreSQL is not reachable (start it with .ci/services.sh, or set "
                "BIOTOETS_TEST_DATABASES=sqlite to leave it out):\n" + "\n".join(errors))


@contextmanager
def postgres_schema(prefix: str) -> Iterator[str]:
    """A URL whose connections live in a fresh schema of the test database, dropped with all it holds after."""
    base = postgres_base_url()
    schema = f"{prefix}_{secrets.token_hex(6)}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
