"""Storage: the group-commit writer, check ids, settings from the environment."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from biotoets.api.settings import Settings, SettingsError
from biotoets.api.store import audit, checks
from biotoets.api.store.keys import Principal, Role

from ..conftest import Api


def test_the_writer_commits_a_burst_and_keeps_a_bad_check_from_sinking_the_rest(api: Api) -> None:
    key = api.key("applicant", "writer")
    owner = Principal(key.split("_")[1], "writer", Role.applicant)
    ghost = Principal("no-such-key", "ghost", Role.applicant)  # violates the owner foreign key
    verdict = api.client.post("/v1/evaluations", json={"activity": "production"}, headers=api.headers(key)).json()
    news = [checks.NewCheck(ghost if i == 3 else owner, "{}", "application/json", {"title": f"burst {i}"},
                            f"burst {i}", verdict, "en") for i in range(8)]

    sizes: list[int] = []

    async def burst() -> list[Any]:
        writer = checks.CheckWriter(api.db, max_batch=64, committed=sizes.append)
        try:
            jobs = [writer.create(new) for new in news]
            return await asyncio.gather(*jobs, return_exceptions=True)
        finally:
            await asyncio.to_thread(writer.close)

    results = asyncio.run(burst())
    failed = [r for r in results if isinstance(r, BaseException)]
    stored = [r for r in results if isinstance(r, checks.StoredCheck)]
    assert len(failed) == 1 and len(stored) == 7
    assert sum(sizes) == 7  # each stored check counted in the transaction that committed it, the failed one not
    with api.db.read() as conn:
        titles = {r.title for r in conn.execute(text("SELECT title FROM checks WHERE owner = :o"),
                                                {"o": owner.key_id})}
    assert titles == {f"burst {i}" for i in range(8) if i != 3}
    assert audit.verify(api.db).ok


def test_checks_that_arrive_together_share_one_transaction(api: Api) -> None:
    key = api.key("applicant", "together")
    owner = Principal(key.split("_")[1], "together", Role.applicant)
    verdict = api.client.post("/v1/evaluations", json={"activity": "production"}, headers=api.headers(key)).json()
    news = [checks.NewCheck(owner, "{}", "application/json", {"title": f"together {i}"}, f"together {i}", verdict,
                            "en") for i in range(8)]
    sizes: list[int] = []

    async def burst() -> list[checks.StoredCheck]:
        # The writer waits (up to the linger) for more checks after the first: all eight fill one transaction.
        writer = checks.CheckWriter(api.db, max_batch=8, linger=30.0, committed=sizes.append)
        try:
            return await asyncio.gather(*(writer.create(new) for new in news))
        finally:
            await asyncio.to_thread(writer.close)

    stored = asyncio.run(burst())
    assert sizes == [8]
    assert [c.title for c in stored] == [f"together {i}" for i in range(8)]
    assert len({c.seq for c in stored}) == 8


@pytest.mark.parametrize("api", ["sqlite"], indirect=True)
def test_checks_that_arrive_while_another_writer_commits_join_the_next_transaction(api: Api) -> None:
    key = api.key("applicant", "waiting")
    owner = Principal(key.split("_")[1], "waiting", Role.applicant)
    verdict = api.client.post("/v1/evaluations", json={"activity": "production"}, headers=api.headers(key)).json()
    news = [checks.NewCheck(owner, "{}", "application/json", {"title": f"waiting {i}"}, f"waiting {i}", verdict,
                            "en") for i in range(8)]
    sizes: list[int] = []

    async def burst() -> list[checks.StoredCheck]:
        # No linger: without the turn the first check would be written alone.
        writer = checks.CheckWriter(api.db, max_batch=64, linger=0.0, committed=sizes.append)
        try:
            with api.db.turn():  # another writer (here: this thread) holds the SQLite file's write turn
                jobs = [asyncio.ensure_future(writer.create(news[0]))]
                await asyncio.sleep(0)  # queued
                while not writer._queue.empty():  # the writer has taken the first check and waits for its turn
                    await asyncio.sleep(0.01)
                jobs += [asyncio.ensure_future(writer.create(new)) for new in news[1:]]
                await asyncio.sleep(0)  # the others are queued before the turn is given back
            return await asyncio.gather(*jobs)
        finally:
            await asyncio.to_thread(writer.close)

    stored = asyncio.run(burst())
    assert sizes == [8]
    assert [c.title for c in stored] == [f"waiting {i}" for i in range(8)]


def test_check_ids_are_time_ordered_uuids() -> None:
    ids = [checks.new_check_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 7 for i in ids)
    assert [i[:13] for i in ids] == sorted(i[:13] for i in ids)  # the millisecond prefix never goes back


def test_cursors_round_trip_and_refuse_forgeries() -> None:
    assert checks.decode_cursor(checks.encode_cursor(42)) == 42
    for bad in ("", "abc", checks.encode_cursor(42)[:-2] + "!!", "YzE6LTE"):  # last: "c1:-1"
        assert checks.decode_cursor(bad) is None


def test_settings_from_the_environment() -> None:
    s = Settings.from_env({"DATABASE_URL": "postgresql://u@h/db", "BIOTOETS_OPEN_EVALUATIONS": "yes",
                           "BIOTOETS_MAX_BODY_BYTES": "2048", "BIOTOETS_KEY_CACHE_SECONDS": "0"})
    assert s.database_url == "postgresql+psycopg://u@h/db" and not s.is_sqlite
    assert s.open_evaluations and s.max_body_bytes == 2048 and s.key_cache_seconds == 0
    assert Settings.from_env({}).database_url == "sqlite:///./var/biotoets.db"
    with pytest.raises(SettingsError, match="BIOTOETS_OPEN_EVALUATIONS"):
        Settings.from_env({"BIOTOETS_OPEN_EVALUATIONS": "sometimes"})
    with pytest.raises(SettingsError, match="at least"):
        Settings.from_env({"BIOTOETS_MAX_BODY_BYTES": "10"})
